"""Pushtech test fixtures: an app with three accounts, an authenticated client, state readers."""
from __future__ import annotations

import pytest

from emulator.vendors.pushtech import VENDOR

SECRETS = {"demo": "pushtech-demo-secret", "other": "other-secret", "slow": "slow-secret"}


LIST_ID = "list-newsletter"
"""The id of ``demo``'s fixture-declared audience list."""


def pushtech_fixture(**demo_settings) -> dict:
    """``demo`` (5 credits, two declared custom fields, one audience list), ``other``
    (isolation), ``slow`` (60 s jobs)."""
    settings = {"validation_credits": 5,
                "custom_fields": ["favourite_colour", {"name": "score", "label": "Score", "type": "number"}],
                "lists": [{"id": LIST_ID, "name": "Newsletter", "visibility": "public"}], **demo_settings}
    return {"vendors": {"pushtech": {"accounts": {
        "demo": {"credentials": {"secret": SECRETS["demo"]}, "settings": settings},
        "other": {"credentials": {"secret": SECRETS["other"]}},
        "slow": {"credentials": {"secret": SECRETS["slow"]}, "settings": {"processing_delay_s": 60}},
    }}}}


class Api:
    """Calls ``/pushtech/v2/account/<account>/...`` with the account's token."""

    def __init__(self, client, account: str = "demo", secret: str | None = None):
        self.client, self.account = client, account
        self.headers = {"Authorization": f"Token token={secret or SECRETS.get(account, 'none')}"}

    def url(self, path: str) -> str:
        return f"/pushtech/v2/account/{self.account}{path}"

    def call(self, method: str, path: str, json=None, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(self.url(path), method=method, json=json, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.call("POST", path, json, **kwargs)

    def put(self, path: str, json=None, **kwargs):
        return self.call("PUT", path, json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def create(self, **fields):
        resp = self.post("/contact", fields)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def bulk(self, contacts, **options):
        resp = self.post("/contact/bulk", {"contacts": contacts, **options})
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["bulk"]


def state(client, account: str = "demo") -> dict:
    """The account's stored collections, read through the admin API."""
    resp = client.get(f"/_emulator/state?vendor=pushtech&account={account}&limit=100000")  # every document
    assert resp.status_code == 200
    return resp.get_json()["vendors"]["pushtech"]["accounts"][account]


def stored_contacts(client, account: str = "demo") -> list[dict]:
    return state(client, account)["contacts"]


def credits(client, account: str = "demo") -> int:
    return state(client, account)["balance"][0]["validation_credits"]


def last_notes(client) -> list[dict]:
    """Journal notes of the newest Pushtech request."""
    entries = client.get("/_emulator/requests?vendor=pushtech").get_json()["requests"]
    return entries[-1]["notes"]


@pytest.fixture
def pt_app(make_app):
    return make_app(vendors=[VENDOR], fixture=pushtech_fixture())


@pytest.fixture
def client(pt_app):
    return pt_app.test_client()


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def pt_engine(pt_app):
    return pt_app.extensions["emulator"]
