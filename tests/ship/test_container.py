"""The image's entry command, run as the image runs it, from a clean non-editable install.

No Docker daemon is needed: the test reads the Dockerfile, builds the build context the way
``docker build`` would (``.dockerignore``), copies what the build stage copies, installs it
with ``pip install`` into a fresh virtualenv, lays out the runtime stage's files (``/fixtures``)
under a temporary root, and starts the image's ENTRYPOINT + CMD with the image's ENV and
nothing else for configuration. The image's own HEALTHCHECK command is then run too.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from emulator.vendors import VENDOR_PACKAGES

from .dockerfile import build_context, parse_dockerfile

REPO = Path(__file__).resolve().parents[2]
STAGES = parse_dockerfile(REPO / "Dockerfile")
BUILD, IMAGE = STAGES[0], STAGES[-1]


@dataclass
class ImageRoot:
    venv: Path
    fs: Path
    """Stands for the container's ``/``: runtime-stage files copied from the context live here."""
    install_output: str = ""
    """What ``pip install`` printed (the build backend's warnings included)."""

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def workdir(self) -> Path:
        inst = IMAGE.last("WORKDIR")
        return self.fs / inst.args.lstrip("/") if inst else self.fs

    def env(self, **overrides: str) -> dict[str, str]:
        """The image's ENV (absolute paths mapped under :attr:`fs`), a PATH, then ``overrides``."""
        env = {"PATH": f"{self.bin}{os.pathsep}{os.defpath}", "HOME": str(self.workdir), "LANG": "C.UTF-8"}
        for key, value in IMAGE.env.items():
            env[key] = str(self.fs / value.lstrip("/")) if value.startswith("/") and value != "/" else value
        env.update(overrides)
        return env

    def resolve(self, argv: list[str]) -> list[str]:
        """``argv`` with its program found in the virtualenv, as the image's PATH finds it."""
        program = self.bin / argv[0]
        assert program.exists(), f"{argv[0]} is not installed by `pip install` (looked in {self.bin})"
        return [str(program), *argv[1:]]


def copy_from_context(sources: list[str], dest: str, root: Path, context: list[str]) -> None:
    """Do what ``COPY sources dest`` does, from the build context only, into ``root``."""
    target = root / dest.lstrip("/")
    for source in sources:
        folder = source.rstrip("/")
        inside = [p for p in context if p.startswith(folder + "/")]
        if inside:
            for path in inside:
                out = target / path[len(folder) + 1:]
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(REPO / path, out)
        else:
            assert source in context, f"COPY {source}: not in the build context (see .dockerignore)"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / source, target / Path(source).name)


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> ImageRoot:
    """A clean virtualenv holding ``pip install`` of what the image's build stage copies."""
    root = tmp_path_factory.mktemp("image")
    context = build_context(REPO)
    src = root / "src"
    for _flags, sources, dest in BUILD.copies():
        copy_from_context(sources, dest, src, context)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(src)],
                             capture_output=True, text=True, timeout=600, env=env, cwd=root)
    assert install.returncode == 0, install.stdout + install.stderr
    fs = root / "fs"
    for flags, sources, dest in IMAGE.copies():
        if "from" not in flags:  # the wheel copied from the build stage is the install above
            copy_from_context(sources, dest, fs, context)
    image = ImageRoot(venv=venv, fs=fs, install_output=install.stdout + install.stderr)
    image.workdir.mkdir(parents=True, exist_ok=True)
    return image


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_python(image: ImageRoot, code: str, env: dict) -> str:
    out = subprocess.run([str(image.bin / "python"), "-c", code], capture_output=True, text=True,
                         timeout=60, env=env, cwd=image.workdir)
    assert out.returncode == 0, out.stderr
    return out.stdout


def wait_for_banner(proc: subprocess.Popen) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if "/_emulator/health" in line:  # the banner's last line
            return "".join(lines)
    proc.kill()
    raise AssertionError("the entry command did not start:\n" + "".join(lines) + (proc.stdout.read() or ""))


def healthcheck(image: ImageRoot, env: dict) -> subprocess.CompletedProcess:
    _, command = IMAGE.healthcheck
    return subprocess.run(image.resolve(command), capture_output=True, text=True, timeout=30,
                          env=env, cwd=image.workdir)


def mounted_fixture() -> dict:
    """What a user mounts at the fixtures path: the demo accounts of every registered vendor."""
    default = json.loads((REPO / "fixtures" / "default.json").read_text())
    return {"description": "the demo accounts of the registered vendors",
            "vendors": {v: block for v, block in default["vendors"].items() if v in VENDOR_PACKAGES}}


@pytest.mark.live
def test_image_entry_command_serves_health_from_a_clean_install(image):
    port = free_port()
    fixtures_dir = Path(image.env()["EMULATOR_FIXTURES_DIR"])
    (fixtures_dir / "ci.json").write_text(json.dumps(mounted_fixture()))
    # Only env vars configure it. Loopback and a free port here: the image's 0.0.0.0:8080 is
    # the container's own interface, which this machine cannot isolate.
    env = image.env(EMULATOR_HOST="127.0.0.1", EMULATOR_PORT=str(port), EMULATOR_FIXTURE="ci")

    installed = run_python(image, "import emulator; print(emulator.__file__)", env).strip()
    assert Path(installed).is_relative_to(image.venv), f"emulator imported from {installed}, not the clean install"

    proc = subprocess.Popen(image.resolve(IMAGE.command), env=env, cwd=image.workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = wait_for_banner(proc)
        url = f"http://127.0.0.1:{port}"
        assert f"listening on {url} (fixture 'ci', seed 0)" in banner
        health = requests.get(f"{url}/_emulator/health", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.json()["vendors"] == sorted(VENDOR_PACKAGES)
        page = requests.get(f"{url}/_emulator/", timeout=5)  # the template ships in the wheel
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        check = healthcheck(image, env)
        assert check.returncode == 0, check.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0, out
    assert "contact-api-emulator stopped" in out
    assert healthcheck(image, env).returncode != 0  # the check fails once nothing answers


def test_the_clean_install_prints_no_packaging_warning(image):
    """The metadata is what setuptools asks for today (a PEP 639 ``license`` expression, ...)."""
    warnings = [line for line in image.install_output.splitlines()
                if re.search(r"BuildBackendWarning|Setuptools\w*Warning|deprecated", line)]
    assert warnings == [], image.install_output


def test_clean_install_ships_the_fixtures(image):
    """The wheel carries fixtures/*.json as emulator/fixtures; a mount over /fixtures hides none."""
    empty_mount = image.fs / "empty-mount"
    empty_mount.mkdir(exist_ok=True)
    code = ("import json; from pathlib import Path; import emulator; "
            "from emulator.core.accounts import load_fixture; "
            "shipped = Path(emulator.__file__).parent / 'fixtures'; "
            "print(json.dumps({'files': sorted(p.name for p in shipped.glob('*.json')), "
            "'default': load_fixture('default'), 'empty': load_fixture('empty')}))")
    for fixtures_dir in (None, str(empty_mount)):
        env = image.env()
        env.pop("EMULATOR_FIXTURES_DIR")
        if fixtures_dir:
            env["EMULATOR_FIXTURES_DIR"] = fixtures_dir
        found = json.loads(run_python(image, code, env))
        assert found["files"] == sorted(p.name for p in (REPO / "fixtures").glob("*.json"))
        for name in ("default", "empty"):
            assert found[name] == json.loads((REPO / "fixtures" / f"{name}.json").read_text())
