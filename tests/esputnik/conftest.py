"""eSputnik test apps: a fixture with several accounts, and helpers to call the API and read state."""
from __future__ import annotations

import copy

import pytest

from emulator.vendors.esputnik import VENDOR

API = "/esputnik/api/v1"
AUTH = ("demo", "esputnik-demo-key")
OTHER = ("", "other-key")
STRICT = ("user", "strict-key")
LEGACY = ("legacy", "legacy-key")
NO_LIMITS = {"duplicate_window_s": 0, "max_requests_per_second": 0}
FIELDS = [{"id": 12345, "name": "city"}, {"id": 12346, "name": "birthday"}]
GROUPS = ["Subscribers", "Customers", {"name": "Active", "type": "Dynamic"}]

FIXTURE = {"vendors": {"esputnik": {"accounts": {
    # limits off: tests of other rules send the same body twice freely
    "demo": {"credentials": {"user": "demo", "api_key": "esputnik-demo-key"},
             "settings": {**NO_LIMITS, "groups": GROUPS, "fields": FIELDS}},
    "other": {"credentials": {"user": "other", "api_key": "other-key"}, "settings": dict(NO_LIMITS)},
    # the vendor's limits, as shipped
    "strict": {"credentials": {"user": "strict", "api_key": "strict-key"}, "settings": {"fields": FIELDS}},
    "legacy": {"credentials": {"user": "legacy", "api_key": "legacy-key"},
               "settings": {**NO_LIMITS, "legacy_add_contact_duplicates": True}},
}}}}


def esputnik_fixture(**demo_settings) -> dict:
    fixture = copy.deepcopy(FIXTURE)
    fixture["vendors"]["esputnik"]["accounts"]["demo"]["settings"].update(demo_settings)
    return fixture


@pytest.fixture
def app(make_app):
    """Only eSputnik, with the accounts above (the shared ``client``/``engine`` use it)."""
    return make_app(vendors=[VENDOR], fixture=FIXTURE)


def email(value: str) -> dict:
    return {"type": "email", "value": value}


def sms(value: str) -> dict:
    return {"type": "sms", "value": value}


def contact(*channels, **fields) -> dict:
    return {"channels": list(channels), **fields}


def account_state(client, account: str = "demo") -> dict:
    resp = client.get(f"/_emulator/state?vendor=esputnik&account={account}")
    assert resp.status_code == 200
    return resp.get_json()["vendors"]["esputnik"]["accounts"][account]


def stored(client, account: str = "demo") -> list[dict]:
    return account_state(client, account)["contacts"]


def by_email(client, account: str = "demo") -> dict:
    out = {}
    for doc in stored(client, account):
        for ch in doc["channels"]:
            if ch["type"] == "email":
                out[ch["value"]] = doc
    return out


def events(client, account: str = "demo") -> list[dict]:
    return account_state(client, account)["events"]


def journal(client) -> list[dict]:
    return client.get("/_emulator/requests?vendor=esputnik").get_json()["requests"]


def last_notes(client) -> list[dict]:
    return journal(client)[-1]["notes"]


def notes_for(client, rule_part: str) -> list[dict]:
    return [n for n in last_notes(client) if rule_part in n["rule"]]


def assert_error(resp, status: int, *words: str) -> dict:
    """The vendor's error shape, with the words that name the field and the rule."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"status", "message"} and body["status"] == status, body
    for word in words:
        assert word in body["message"], (word, body["message"])
    return body


def bulk(client, body: dict, auth=AUTH):
    """POST /contacts; returns (response, session id)."""
    resp = client.post(f"{API}/contacts", json=body, auth=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp, resp.get_json()["asyncSessionId"]


def status(client, session: str, auth=AUTH) -> dict:
    resp = client.get(f"{API}/importstatus/{session}", auth=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def run_bulk(client, body: dict, auth=AUTH) -> dict:
    """POST /contacts and return the finished import status."""
    _, session = bulk(client, body, auth)
    result = status(client, session, auth)
    assert result["status"] == "FINISHED", result
    return result
