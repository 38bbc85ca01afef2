"""The test-harness promises, over the real vendors: code with a hard-coded vendor URL under
``emulated_vendors``, faults through a vendor in both modes, lint notes and assert_clean."""
from __future__ import annotations

import socket
import time

import pytest
import requests

from emulator.testing.handle import EmulatorHandle

OCTOPUSH = "https://api.octopush.com/v1/public/contact/create"
OCTOPUSH_AUTH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}


def sign_up(phone: str, first_name: str = "Ann") -> requests.Response:
    """Code under test: a hard-coded real vendor URL and a plain module-level requests.post."""
    return requests.post(OCTOPUSH, json={"list_name": "Leads", "tag_name": "web",
                                         "contacts": [{"phone_number": phone, "first_name": first_name,
                                                       "last_name": "Lee"}]},
                         headers=OCTOPUSH_AUTH, timeout=5)


def test_hard_coded_vendor_url_runs_in_process_without_opening_a_port(emulated_vendors, monkeypatch):
    opened = []
    for name in ("bind", "listen", "connect"):
        real = getattr(socket.socket, name)
        monkeypatch.setattr(socket.socket, name, lambda s, *a, _n=name, _r=real: (opened.append(_n), _r(s, *a))[1])
    assert sign_up("+33612345678").status_code == 201
    monkeypatch.undo()
    assert opened == []
    (contact,) = [c for c in emulated_vendors.contacts("octopush") if c["phone_number"] == "+33612345678"]
    assert contact["first_name"] == "Ann"
    assert emulated_vendors.base_url("octopush") == "https://api.octopush.com"


def test_emulated_vendors_is_reset_for_each_test(emulated_vendors):
    assert all(c["phone_number"] != "+33612345678" for c in emulated_vendors.contacts("octopush"))


@pytest.fixture(params=["live", "in-process"])
def octopush(request, contact_emulator, emulated_vendors_app):
    """(handle, create URL) against the live server and in-process."""
    if request.param == "live":
        yield contact_emulator, f"{contact_emulator.url}/octopush/v1/public/contact/create"
    else:
        from emulator import intercept

        with intercept(emulated_vendors_app) as handle:
            handle.reset()
            yield handle, OCTOPUSH


def create(url, phone="+33611111111", **kw):
    return requests.post(url, json={"contacts": [{"phone_number": phone}]}, headers=OCTOPUSH_AUTH, **kw)


def test_faults_through_a_vendor_in_both_modes(octopush):
    handle, url = octopush
    handle.faults.add(vendor="octopush", method="POST", path="/v1/public/contact/*", status=503, times=1)
    first = create(url)
    assert first.status_code == 503 and first.json()["message"]  # the vendor's own error shape
    assert create(url).status_code == 201  # a retrying client succeeds on its second try
    handle.faults.add(vendor="octopush", path="/v1/public/contact/create", status=429)
    assert [create(url).status_code for _ in range(3)] == [429, 429, 429]
    handle.faults.clear()
    handle.faults.add(vendor="octopush", path="/v1/public/contact/create", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        create(url)
    handle.faults.add(vendor="octopush", path="/v1/public/contact/create", delay_ms=300, times=1)
    started = time.perf_counter()
    assert create(url).status_code == 201
    assert time.perf_counter() - started >= 0.3
    assert [e["fault"]["effect"] for e in handle.requests(vendor="octopush") if "fault" in e] == [
        "status", "status", "status", "status", "drop", "delay"]


def test_lint_names_casts_and_ignored_keys_and_passes_clean_requests(emulated_vendors):
    assert sign_up("+33622222222").status_code == 201
    emulated_vendors.assert_clean()  # a clean request passes
    # Octopush casts: a number where a string is expected, "yes" for a boolean, a spaced phone number
    requests.post(OCTOPUSH, headers=OCTOPUSH_AUTH, timeout=5,
                  json={"un_list": "yes", "contacts": [{"phone_number": "06 12 34 56 78", "first_name": 42}]})
    # D·engage: a key that is not in the columns list is ignored
    token = requests.post("https://api.dengage.com/rest/login", timeout=5,
                          json={"userkey": "demo", "password": "dengage-demo-password"}).json()["access_token"]
    emulated_vendors.clock.freeze()
    resp = requests.post("https://api.dengage.com/rest/bulk/contacts", headers={"Authorization": f"Bearer {token}"},
                         timeout=5, json={"columns": ["contact_key", "name"], "insertIfNotExists": True,
                                          "contactDatas": [{"contact_key": "K-1", "name": "Ann", "colour": "red"}]})
    assert resp.status_code == 200, resp.text
    with pytest.raises(AssertionError) as failure:
        emulated_vendors.assert_clean()
    message = str(failure.value)
    assert "octopush POST /v1/public/contact/create: contacts[0].first_name sent 42, used '42'" in message
    assert "contacts[0].phone_number sent '06 12 34 56 78', used '+33612345678'" in message
    assert "un_list sent 'yes', used True" in message
    assert "dengage POST /rest/bulk/contacts: contactDatas[0].colour sent 'red'" in message
    summary = emulated_vendors.lint()
    assert summary["vendors"]["octopush"]["POST /v1/public/contact/create"]["contacts[0].first_name"]["count"] == 1
    assert "contactDatas[0].colour" in summary["vendors"]["dengage"]["POST /rest/bulk/contacts"]
    emulated_vendors.assert_clean(allow=["octopush:contacts[0].first_name", "octopush:contacts[0].phone_number",
                                         "octopush:un_list", "dengage:contactDatas[0].colour"])


def test_live_and_in_process_handles_offer_the_same_api(contact_emulator, emulated_vendors):
    assert type(contact_emulator) is type(emulated_vendors) is EmulatorHandle
    for name in ("base_url", "credentials", "contacts", "events", "requests", "clock", "faults", "reset", "seed",
                 "lint", "assert_clean", "assert_called", "webhooks"):
        assert hasattr(contact_emulator, name) and hasattr(emulated_vendors, name), name
    assert contact_emulator.credentials("pushtech") == emulated_vendors.credentials("pushtech") == {
        "secret": "pushtech-demo-secret"}
    assert contact_emulator.url.startswith("http://127.0.0.1:") and emulated_vendors.url is None
