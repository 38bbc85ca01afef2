"""``--contact-emulator-record DIR --contact-emulator-upstream V=URL``: a user's existing tests,
run with the live fixture, produce the recording (a pytester run against a stand-in vendor)."""
from __future__ import annotations

import json

import emulator

from .conftest import PUSHTECH_BULK, PUSHTECH_BULK_QUEUED, PUSHTECH_SECRET

pytest_plugins = ["pytester"]

USER_TESTS = f'''
import requests

BULK = {PUSHTECH_BULK!r}


def test_bulk_import(contact_emulator):
    base = contact_emulator.base_url("pushtech")
    resp = requests.post(f"{{base}}/v2/account/acme/contact/bulk", json=BULK,
                         headers={{"Authorization": "Token token={PUSHTECH_SECRET}"}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["bulk"]["status"] == "queue"


def test_other_vendors_and_the_handle_stay_emulated(contact_emulator):
    base = contact_emulator.base_url("esputnik")
    resp = requests.post(f"{{base}}/api/v1/contact", json={{"channels": [{{"type": "email", "value": "a@b.co"}}]}},
                         auth=("demo", "esputnik-demo-key"))
    assert resp.status_code == 200, resp.text
    assert contact_emulator.contacts("esputnik")[-1]["channels"][0]["value"] == "a@b.co"
'''


def test_the_live_fixture_records_the_real_vendor_instead_of_emulating(pytester, httpserver, tmp_path):
    httpserver.expect_request("/v2/account/acme/contact/bulk", method="POST",
                              headers={"Authorization": f"Token token={PUSHTECH_SECRET}"}).respond_with_json(
        PUSHTECH_BULK_QUEUED, status=201)
    cassette = tmp_path / "recorded"
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("--contact-emulator-fixture", "empty", "-p", "no:cacheprovider",
                                           "--contact-emulator-record", str(cassette),
                                           "--contact-emulator-upstream", f"pushtech={httpserver.url_for('/')}")
    result.assert_outcomes(passed=2)
    assert len(httpserver.log) == 1  # the stand-in vendor answered the bulk, the emulator did not
    (file,) = sorted(cassette.glob("*.json"))
    data = json.loads(file.read_text())
    assert data["vendor"] == "pushtech" and data["request"]["path"] == "/v2/account/acme/contact/bulk"
    assert PUSHTECH_SECRET not in file.read_text()
    report = emulator.verify(cassette)
    assert report.ok, report.table()


def test_the_options_go_together_and_are_checked(pytester):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_inprocess("--contact-emulator-record", "somewhere")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--contact-emulator-record needs --contact-emulator-upstream VENDOR=URL*"])
    result = pytester.runpytest_inprocess("--contact-emulator-upstream", "pushtech=https://api.eu.cendyncrm.com")
    result.stderr.fnmatch_lines(["*--contact-emulator-upstream needs --contact-emulator-record DIR*"])
    result = pytester.runpytest_inprocess("--contact-emulator-record", "d", "--contact-emulator-upstream",
                                           "mailchimp=https://x")
    result.stderr.fnmatch_lines(["*unknown vendor 'mailchimp'*"])
    result = pytester.runpytest_inprocess("--contact-emulator-record", "d", "--contact-emulator-upstream",
                                           "pushtech")
    result.stderr.fnmatch_lines(["*expected VENDOR=URL*"])
