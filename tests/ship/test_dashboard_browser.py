"""The dashboard in a real browser: find a contact created through a vendor API, reset, see it gone."""
from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest
import requests

from tests.core.sample_vendor import SAMPLE, sample_fixture

REPO = Path(__file__).resolve().parents[2]


def save_screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Write a full-page PNG under the test's tmp dir, and to ``screenshots/`` when EMULATOR_SCREENSHOTS=1."""
    path = tmp_path / name
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("EMULATOR_SCREENSHOTS") == "1":
        target = REPO / "screenshots"
        target.mkdir(exist_ok=True)
        shutil.copyfile(path, target / name)
    return path


def navigate(driver, action, timeout: float = 15) -> None:
    """Run ``action`` (a click or submit that loads a new page) and wait until the new page is loaded.

    Selenium's click and submit return before the browser has replaced the page, so a look-up
    straight after them can see the old page or none.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    old_page = driver.find_element(By.TAG_NAME, "html")
    action()
    wait = WebDriverWait(driver, timeout)
    wait.until(expected_conditions.staleness_of(old_page))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


@pytest.mark.browser
@pytest.mark.live
def test_dashboard_finds_a_contact_and_reset_removes_it(make_app, live, chromium, httpserver, tmp_path):
    from selenium.webdriver.common.by import By

    server = live(make_app(vendors=[SAMPLE], fixture=sample_fixture(contacts=12)))
    key = {"X-Key": "key-a"}
    created = requests.post(f"{server.url}/sample/contacts", headers=key, timeout=5,
                            json={"email": "Ada.Browser@Example.com", "name": "Ada <b>Browser</b>"})
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]
    # Something in every section of the page: a job, a delivered webhook, a journal note.
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    assert requests.post(f"{server.url}/sample/jobs", headers=key, json={"contacts": []}, timeout=5).status_code == 202
    assert requests.post(f"{server.url}/sample/hooks", headers=key, json={"url": httpserver.url_for("/hook")},
                         timeout=5).status_code == 202
    requests.get(f"{server.url}/_emulator/webhooks", timeout=10)  # waits for the attempt (the page does not)

    chromium.get(f"{server.url}/_emulator/")
    assert chromium.title.startswith("contact-api-emulator")
    assert "Ada <b>Browser</b>" in chromium.find_element(By.ID, "documents").text  # shown as text, escaped
    notes = chromium.find_element(By.ID, "requests").text
    assert 'email: "Ada.Browser@Example.com" → "ada.browser@example.com" (lower-cased)' in notes
    assert "delivered" in chromium.find_element(By.ID, "webhooks").text
    save_screenshot(chromium, tmp_path, "dashboard.png")

    search = chromium.find_element(By.NAME, "q")
    search.send_keys("ada.browser")
    navigate(chromium, search.submit)
    rows = chromium.find_elements(By.CSS_SELECTOR, "#documents tbody tr")
    assert len(rows) == 1
    assert "ada.browser@example.com" in rows[0].text and str(contact_id) in rows[0].text

    navigate(chromium, chromium.find_element(By.ID, "reset-all").click)
    assert "Reset every vendor" in chromium.find_element(By.CSS_SELECTOR, ".banner.ok").text
    assert "No contacts match “ada.browser”." in chromium.find_element(By.ID, "no-documents").text
    assert "ada.browser@example.com" not in chromium.find_element(By.TAG_NAME, "body").text
    save_screenshot(chromium, tmp_path, "dashboard-after-reset.png")

    state = requests.get(f"{server.url}/_emulator/state", params={"vendor": "sample", "account": "a"}, timeout=5)
    contacts = state.json()["vendors"]["sample"]["accounts"]["a"]["contacts"]
    assert len(contacts) == 12 and all(c["email"] != "ada.browser@example.com" for c in contacts)
