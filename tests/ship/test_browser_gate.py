"""The browser gate of tests/ship/conftest.py: a missing Chromium fails, unless skipping is asked for."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text(encoding="utf-8")
BROWSER_TEST = """
import pytest

@pytest.mark.browser
def test_needs_a_browser():
    pass

def test_needs_nothing():
    pass
"""


@pytest.fixture
def gated(pytester):
    missing = CONFTEST.replace('Path("/usr/bin/chromium")', 'Path("/nonexistent/chromium")')
    assert missing != CONFTEST
    pytester.makeconftest(missing)
    pytester.makeini("[pytest]\nmarkers =\n    browser: needs Chromium\n")
    pytester.makepyfile(test_gate=BROWSER_TEST)
    return pytester


def test_a_missing_chromium_fails_the_browser_test_with_the_install_hint(gated, monkeypatch):
    monkeypatch.delenv("EMULATOR_SKIP_BROWSER", raising=False)
    result = gated.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*browser test needs /nonexistent/chromium*apt-get install -y chromium "
                                 "chromium-driver*EMULATOR_SKIP_BROWSER=1*"])


def test_emulator_skip_browser_turns_it_into_a_reported_skip(gated, monkeypatch):
    monkeypatch.setenv("EMULATOR_SKIP_BROWSER", "1")
    result = gated.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*EMULATOR_SKIP_BROWSER=1: browser test skipped on request*"])
