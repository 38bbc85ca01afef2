"""Auth bound to the account in the path, the flat error envelope, routing by real host."""
from __future__ import annotations

import json

import pytest

from .conftest import SECRETS, Api, state, stored_contacts

CONTACT = {"email": "ann@example.com", "name_first": "Ann"}


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer pushtech-demo-secret"},
    {"Authorization": "Token pushtech-demo-secret"},
    {"Authorization": "Token token=wrong-secret"},
    {"Authorization": f"Token token={SECRETS['other']}"},  # another account's secret
    {"Authorization": "Basic cHVzaHRlY2g6c2VjcmV0"},
], ids=["missing", "empty", "bearer", "no-token-key", "wrong", "other-account", "basic"])
def test_bad_credentials_get_401_with_the_vendor_body_and_store_nothing(client, headers):
    before = stored_contacts(client)
    resp = client.post("/pushtech/v2/account/demo/contact", json=CONTACT, headers=headers)
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "authorization failure for account: demo"}
    assert "WWW-Authenticate" not in resp.headers
    assert stored_contacts(client) == before


def test_unknown_account_gets_401_naming_it(client):
    resp = client.get("/pushtech/v2/account/nobody/contact", headers={"Authorization": "Token token=x"})
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "authorization failure for account: nobody"}


def test_quoted_token_is_accepted(client):
    resp = client.post("/pushtech/v2/account/demo/contact", json=CONTACT,
                       headers={"Authorization": 'Token token="pushtech-demo-secret"'})
    assert resp.status_code == 201


def test_auth_is_checked_before_the_body(client):
    resp = client.post("/pushtech/v2/account/demo/contact", data="{not json", content_type="application/json")
    assert resp.status_code == 401


def test_accounts_are_isolated(client):
    Api(client, "other").create(email="bob@example.com")
    Api(client).create(email="ann@example.com")
    assert [c["email"] for c in stored_contacts(client, "other")] == ["bob@example.com"]
    assert [c["email"] for c in stored_contacts(client, "demo")] == ["ann@example.com"]
    other_id = stored_contacts(client, "other")[0]["id"]
    assert Api(client).get(f"/contact/{other_id}").status_code == 404
    listed = Api(client).get("/contact").get_json()["contacts"]
    assert [c["email"] for c in listed] == ["ann@example.com"]


def test_unknown_route_gets_the_vendor_404(api):
    resp = api.get("/contacts")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "Route not found, please visit https://developers.cendyncrm.com/api/reference"}


def test_wrong_method_is_405_in_the_vendor_shape(api):
    resp = api.call("PATCH", "/contact")
    assert resp.status_code == 405
    body = resp.get_json()
    assert list(body) == ["error"] and "PATCH" in body["error"]


@pytest.mark.parametrize("raw, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('"text"', "must be a JSON object"),
    ("", "body is required"),
])
def test_unreadable_bodies_are_400_in_the_vendor_shape(client, api, raw, fragment):
    resp = client.post(api.url("/contact"), data=raw, content_type="application/json", headers=api.headers)
    assert resp.status_code == 400
    body = resp.get_json()
    assert list(body) == ["error"] and fragment in body["error"]
    assert stored_contacts(client) == []


def test_body_without_json_content_type_is_read_and_noted(client, api):
    resp = client.post(api.url("/contact"), data=json.dumps(CONTACT), content_type="text/plain",
                       headers=api.headers)
    assert resp.status_code == 201
    notes = client.get("/_emulator/requests?vendor=pushtech").get_json()["requests"][-1]["notes"]
    assert {"field": "Content-Type", "sent": "text/plain", "used": "application/json",
            "rule": "body read as JSON", "kind": "unverified"} in notes


@pytest.mark.parametrize("host, path", [
    ("api.eu.cendyncrm.com", "/v2/account/demo/contact"),
    ("api.us.cendyncrm.com", "/v2/account/demo/contact/"),
    ("www.pushtech.com", "/api/v2/account/demo/contact"),
])
def test_real_hosts_reach_pushtech_without_prefix(client, host, path):
    resp = client.post(path, json=CONTACT, headers={"Host": host, "Authorization": "Token token=pushtech-demo-secret"})
    assert resp.status_code == 201
    assert stored_contacts(client)[0]["email"] == "ann@example.com"


def test_trailing_slash_is_answered_directly(api):
    resp = api.post("/contact/", CONTACT)
    assert resp.status_code == 201
    assert api.get(f"/contact/{resp.get_json()['id']}/").status_code == 200


def test_secret_never_reaches_the_journal(client, api):
    api.create(**CONTACT)
    api.post("/contact", CONTACT, headers={"Authorization": "Token token=wrong"})
    journal = client.get("/_emulator/requests?vendor=pushtech").get_json()["requests"]
    text = json.dumps(journal)
    assert SECRETS["demo"] not in text and "Token token=wrong" not in text
    assert journal[0]["headers"]["Authorization"] == "***"
    assert journal[0]["account"] == "demo"


def test_a_fault_rule_answers_in_the_vendor_shape(client, api):
    resp = client.post("/_emulator/faults", json={"vendor": "pushtech", "path": "/v2/account/*/contact",
                                                   "method": "POST", "status": 503, "times": 1})
    assert resp.status_code in (200, 201)
    forced = api.post("/contact", CONTACT)
    assert forced.status_code == 503 and list(forced.get_json()) == ["error"]
    assert state(client)["contacts"] == []
    assert api.post("/contact", CONTACT).status_code == 201
