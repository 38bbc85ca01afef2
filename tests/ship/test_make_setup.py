"""`make test`'s set-up step: Debian's Chromium and ChromeDriver are installed when missing.

The Makefile's browser paths point at a missing place and its installer (``APT_GET``) and
``SUDO`` at stand-ins that record how they were called; nothing is installed for real.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"  # the README's commands need make

APT_GET = """#!/bin/sh
echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> "{log}"
if [ "$2" = install ]; then mkdir -p "{root}"; touch "{root}/chromium" "{root}/chromedriver"; fi
"""
SUDO = """#!/bin/sh
echo "sudo $*" >> "{log}"
exec "$@"
"""


class StandIns:
    def __init__(self, tmp_path: Path):
        self.log = tmp_path / "calls.log"
        self.root = tmp_path / "usr-bin"  # where the stand-in "installs" the programs
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        self.apt_get, self.sudo = bin_dir / "apt-get", bin_dir / "sudo"
        for path, text in ((self.apt_get, APT_GET), (self.sudo, SUDO)):
            path.write_text(text.format(log=self.log, root=self.root))
            path.chmod(0o755)

    def make(self, target: str = "browser", *extra: str, dry_run: bool = False) -> subprocess.CompletedProcess:
        variables = [f"CHROMIUM={self.root / 'chromium'}", f"CHROMEDRIVER={self.root / 'chromedriver'}",
                     f"APT_GET={self.apt_get}", f"SUDO={self.sudo}", *extra]
        flags = ["-n"] if dry_run else ["-s"]
        return subprocess.run([MAKE, "--no-print-directory", *flags, "-C", str(REPO), target, *variables],
                              capture_output=True, text=True, timeout=60)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def stand_ins(tmp_path):
    return StandIns(tmp_path)


def test_as_root_it_runs_apt_get_install_for_both_packages(stand_ins):
    done = stand_ins.make("browser", "USER_ID=0")
    assert done.returncode == 0, done.stderr
    assert stand_ins.calls() == ["apt-get -qq update DEBIAN_FRONTEND=noninteractive",
                                 "apt-get -qq install -y chromium chromium-driver DEBIAN_FRONTEND=noninteractive"]


def test_without_root_it_goes_through_sudo(stand_ins):
    done = stand_ins.make("browser", "USER_ID=1000")
    assert done.returncode == 0, done.stderr
    calls = stand_ins.calls()
    assert calls[0].startswith("sudo sh -c ") and f"{stand_ins.apt_get} -qq install -y chromium chromium-driver" in calls[0]
    assert calls[1:] == ["apt-get -qq update DEBIAN_FRONTEND=noninteractive",
                         "apt-get -qq install -y chromium chromium-driver DEBIAN_FRONTEND=noninteractive"]


def test_without_root_and_without_sudo_it_stops_with_one_line_naming_the_command(stand_ins):
    done = stand_ins.make("browser", "USER_ID=1000", "SUDO=/nonexistent/sudo")
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "run `apt-get install -y chromium chromium-driver` as root, then `make test` again" in lines[0]
    assert "not root" in lines[0] and done.stdout == ""
    assert stand_ins.calls() == []  # nothing was attempted


def test_when_both_programs_exist_nothing_is_installed(stand_ins):
    stand_ins.root.mkdir()
    (stand_ins.root / "chromium").touch()
    (stand_ins.root / "chromedriver").touch()
    done = stand_ins.make("browser", "USER_ID=0")
    assert done.returncode == 0 and stand_ins.calls() == [], done.stdout + done.stderr


def test_without_apt_get_it_goes_on_and_says_the_browser_test_is_deselected(stand_ins):
    done = stand_ins.make("browser", "USER_ID=0", "APT_GET=/nonexistent/apt-get")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("no /nonexistent/apt-get here (not Debian): Chromium cannot be installed, "
                                   "the browser test is deselected")


def test_make_test_sets_up_the_browser_before_pytest_and_hands_it_the_paths(stand_ins):
    plan = stand_ins.make("test", "USER_ID=0", "PYTEST_ARGS=-q", dry_run=True)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    install = next(i for i, line in enumerate(lines) if "install -y chromium chromium-driver" in line)
    pytest_line = next(i for i, line in enumerate(lines) if "-m pytest -q" in line)
    assert install < pytest_line
    assert f"CHROMIUM={stand_ins.root / 'chromium'}" in lines[pytest_line]
    assert f"APT_GET={stand_ins.apt_get}" in lines[pytest_line]
    assert stand_ins.calls() == []  # a dry run


def test_ci_runs_just_make_test():
    script = (REPO / ".ci" / "run").read_text()
    commands = [line for line in script.splitlines() if line.strip() and not line.startswith("#")]
    assert commands[-1] == "make test" and not any("apt-get" in line for line in commands)
