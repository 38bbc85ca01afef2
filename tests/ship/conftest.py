"""Browser tests: headless Chromium from Debian's packages, driven by Selenium.

A test marked ``browser`` runs whenever Chromium and ChromeDriver are installed
(``/usr/bin/chromium``, ``/usr/bin/chromedriver``, or ``CHROMIUM`` / ``CHROMEDRIVER``). On a
machine that has apt-get but not them, the test FAILS and says how to install them (``make
test`` does); ``EMULATOR_SKIP_BROWSER=1`` turns that into an explicit, reported skip. Where
they cannot be installed (no apt-get), :mod:`tests.machine` deselects the test and says why.
"""
from __future__ import annotations

import os

import pytest

from tests.machine import BROWSER_PACKAGES, browser_missing, chromedriver
from tests.machine import chromium as chromium_path

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1440,1000", "--hide-scrollbars",
)


@pytest.fixture(autouse=True)
def _require_browser(request):
    """A ``browser`` test fails (never skips silently) when Chromium is not installed."""
    if request.node.get_closest_marker("browser") is None:
        return
    missing = browser_missing()
    if not missing:
        return
    if os.environ.get("EMULATOR_SKIP_BROWSER") == "1":
        pytest.skip(f"EMULATOR_SKIP_BROWSER=1: browser test skipped on request ({', '.join(missing)} missing)")
    pytest.fail(f"browser test needs {', '.join(missing)}: `make test` installs them, or run "
                f"`apt-get install -y {BROWSER_PACKAGES}` as root; "
                "EMULATOR_SKIP_BROWSER=1 skips browser tests explicitly", pytrace=False)


@pytest.fixture
def chromium(tmp_path):
    """A Selenium driver for headless Chromium with a fresh profile (quit after the test)."""
    try:
        from selenium import webdriver
    except ImportError:
        pytest.fail("selenium is not installed: pip install -e '.[test]'", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium_path())
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(chromedriver())))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
