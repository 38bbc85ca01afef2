"""Octopush test apps: a fixture with several accounts, and helpers to read state and notes."""
from __future__ import annotations

import copy

import pytest

from emulator.vendors.octopush import VENDOR

BASE = "/octopush/v1/public"
CREATE = f"{BASE}/contact/create"
DELETE = f"{BASE}/contact/delete"
LIST_CREATE = f"{BASE}/contact-list/create"
LIST_EMPTY = f"{BASE}/contact-list/empty"
LIST_DELETE = f"{BASE}/contact-list/delete"

AUTH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
AUTH_UK = {"api-login": "uk@example.com", "api-key": "uk-key"}

FIXTURE = {"vendors": {"octopush": {"accounts": {
    "demo": {"credentials": {"api_login": "demo@example.com", "api_key": "octopush-demo-key"},
             "settings": {"default_country": "FR", "lists": ["Newsletter"], "blacklist": ["+33600000000"]}},
    "uk": {"credentials": {"api_login": "uk@example.com", "api_key": "uk-key"},
           "settings": {"default_country": "GB"}},
    "pending": {"credentials": {"api_login": "pending@example.com", "api_key": "pending-key"},
                "settings": {"validated": False}},
    "legacy": {"credentials": {"api_login": "legacy@example.com", "api_key": "legacy-key"},
               "settings": {"create_status": 200}},
}}}}


def octopush_fixture(**demo_settings) -> dict:
    fixture = copy.deepcopy(FIXTURE)
    fixture["vendors"]["octopush"]["accounts"]["demo"]["settings"].update(demo_settings)
    return fixture


@pytest.fixture
def app(make_app):
    """Only Octopush, with the accounts above (the shared ``client``/``engine`` use it)."""
    return make_app(vendors=[VENDOR], fixture=FIXTURE)


def account_state(client, account: str = "demo") -> dict:
    resp = client.get(f"/_emulator/state?vendor=octopush&account={account}&limit=100000")  # every document
    assert resp.status_code == 200
    return resp.get_json()["vendors"]["octopush"]["accounts"][account]


def contacts_by_phone(client, account: str = "demo") -> dict:
    return {c["phone_number"]: c for c in account_state(client, account)["contacts"]}


def names(client, kind: str, account: str = "demo") -> list[str]:
    return [doc["name"] for doc in account_state(client, account)[kind]]


def journal(client) -> list[dict]:
    return client.get("/_emulator/requests?vendor=octopush").get_json()["requests"]


def last_notes(client) -> list[dict]:
    return journal(client)[-1]["notes"]


def contact(phone="+33612345678", **fields) -> dict:
    return {"phone_number": phone, **fields}
