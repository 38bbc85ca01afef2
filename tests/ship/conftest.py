"""Browser tests: headless Chromium from Debian's packages, driven by Selenium.

A test marked ``browser`` runs whenever ``/usr/bin/chromium`` is installed. When it is not,
the test FAILS and says how to install it; ``EMULATOR_SKIP_BROWSER=1`` turns that into an
explicit, reported skip (for machines that cannot install Chromium).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1440,1000", "--hide-scrollbars",
)


def _browser_missing() -> list[str]:
    return [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]


@pytest.fixture(autouse=True)
def _require_browser(request):
    """A ``browser`` test fails (never skips silently) when Chromium is not installed."""
    if request.node.get_closest_marker("browser") is None:
        return
    missing = _browser_missing()
    if not missing:
        return
    if os.environ.get("EMULATOR_SKIP_BROWSER") == "1":
        pytest.skip(f"EMULATOR_SKIP_BROWSER=1: browser test skipped on request ({', '.join(missing)} missing)")
    pytest.fail(f"browser test needs {', '.join(missing)}: install Debian's packages with "
                "`apt-get install -y chromium chromium-driver` (.ci/run does), "
                "or set EMULATOR_SKIP_BROWSER=1 to skip browser tests explicitly", pytrace=False)


@pytest.fixture
def chromium(tmp_path):
    """A Selenium driver for headless Chromium with a fresh profile (quit after the test)."""
    try:
        from selenium import webdriver
    except ImportError:
        pytest.fail("selenium is not installed: pip install -e '.[test]'", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
