"""HTTP Basic auth (any user name, the password is the key), error shapes, routing, isolation."""
from __future__ import annotations

import base64

import pytest

from .conftest import API, AUTH, OTHER, assert_error, contact, email, stored


def basic(raw: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


@pytest.mark.parametrize("user", ["demo", "user", "", "someone@example.com"])
def test_any_user_name_passes_with_the_api_key(client, user):
    resp = client.post(f"{API}/contact", json=contact(email(f"u{len(user)}@example.com")),
                       headers=basic(f"{user}:esputnik-demo-key"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["id"] in [c["id"] for c in stored(client)]


@pytest.mark.parametrize("headers", [
    {},
    basic("demo:wrong-key"),
    basic("esputnik-demo-key:"),            # the key as user name, no password
    basic("demo"),                          # no colon at all
    {"Authorization": "Bearer esputnik-demo-key"},
    {"Authorization": "Basic !!!not-base64"},
    {"Authorization": "Basic"},
])
def test_missing_or_wrong_key_is_401_and_stores_nothing(client, headers):
    resp = client.post(f"{API}/contact", json=contact(email("x@example.com")), headers=headers)
    assert_error(resp, 401, "Unauthorized")
    assert resp.get_json() == {"status": 401, "message": "Unauthorized"}
    assert resp.headers["WWW-Authenticate"].startswith("Basic")
    assert stored(client) == []


def test_every_endpoint_asks_for_the_key(client):
    calls = [("post", "/contact/subscribe"), ("post", "/contacts"), ("get", "/contacts"), ("post", "/contact"),
             ("delete", "/contact?externalCustomerId=x"), ("get", "/contact/1"), ("put", "/contact/1"),
             ("delete", "/contact/1"), ("post", "/contacts/upload"), ("get", "/importstatus/x"),
             ("get", "/groups"), ("post", "/group/1/contacts/attach"), ("post", "/group/1/contacts/detach")]
    for method, path in calls:
        resp = getattr(client, method)(API + path, json={})
        assert_error(resp, 401, "Unauthorized")


def test_accounts_are_isolated(client):
    mine = client.post(f"{API}/contact", json=contact(email("ann@example.com")), auth=AUTH).get_json()["id"]
    assert stored(client, "other") == []
    assert client.get(f"{API}/contact/{mine}", auth=OTHER).status_code == 404
    theirs = client.post(f"{API}/contact", json=contact(email("ann@example.com")), auth=OTHER).get_json()["id"]
    assert theirs != mine
    assert [c["id"] for c in stored(client, "other")] == [theirs]
    assert [c["id"] for c in stored(client)] == [mine]
    entries = client.get("/_emulator/requests?vendor=esputnik").get_json()["requests"]
    assert [e["account"] for e in entries] == ["demo", "other", "other"]


def test_trailing_slash_is_answered_directly(client):
    resp = client.post(f"{API}/contact/", json=contact(email("slash@example.com")), auth=AUTH)
    assert resp.status_code == 200
    contact_id = resp.get_json()["id"]
    assert client.get(f"{API}/contact/{contact_id}/", auth=AUTH).status_code == 200
    assert client.get(f"{API}/groups/", auth=AUTH).status_code == 200


def test_json_content_type_on_a_get_with_no_body_is_fine(client):
    resp = client.get(f"{API}/groups", auth=AUTH, headers={"Content-Type": "application/json"})
    assert resp.status_code == 200
    resp = client.get(f"{API}/contacts", auth=AUTH, headers={"Content-Type": "application/json"})
    assert resp.status_code == 200 and resp.get_json() == []


@pytest.mark.parametrize("host", ["esputnik.com", "yespo.io", "www.esputnik.com"])
def test_real_hosts_reach_the_vendor_without_prefix(client, host):
    resp = client.post("/api/v1/contact", json=contact(email(f"host@{host}")), auth=AUTH,
                       base_url=f"https://{host}")
    assert resp.status_code == 200
    assert stored(client)[0]["channels"][0]["value"] == f"host@{host}"


def test_body_that_is_not_json_by_content_type_is_415(client):
    resp = client.post(f"{API}/contact", data="email=a@b.c", auth=AUTH,
                       content_type="application/x-www-form-urlencoded")
    assert_error(resp, 415, "Content-Type", "application/json")
    assert stored(client) == []


@pytest.mark.parametrize("data, words", [
    ("{not json", ["not valid JSON"]),
    ("[1, 2]", ["JSON object"]),
    ('"text"', ["JSON object"]),
    ("", ["required"]),
])
def test_malformed_bodies_are_400_in_the_vendor_shape(client, data, words):
    for path in ("/contact", "/contacts", "/contact/subscribe", "/contacts/upload"):
        resp = client.post(API + path, data=data, auth=AUTH, content_type="application/json")
        assert_error(resp, 400, *words)
    assert stored(client) == []


def test_unknown_route_and_wrong_method_use_the_vendor_shape(client):
    body = assert_error(client.get(f"{API}/contactz", auth=AUTH), 404, "no route")
    assert "closest known route" in body["message"]
    resp = client.patch(f"{API}/contacts", json={}, auth=AUTH)
    assert_error(resp, 405, "PATCH")
    assert "POST" in resp.headers["Allow"]


def test_oversized_body_is_413(make_app):
    from emulator.vendors.esputnik import VENDOR

    from .conftest import FIXTURE

    small = make_app(vendors=[VENDOR], fixture=FIXTURE, max_body_bytes=1000).test_client()
    resp = small.post(f"{API}/contacts", json={"contacts": [contact(email(f"{i}@example.com")) for i in range(100)]},
                      auth=AUTH)
    assert_error(resp, 413, "too large")


def test_credentials_are_not_in_the_journal(client):
    client.post(f"{API}/contact", json=contact(email("j@example.com")), auth=AUTH)
    entry = client.get("/_emulator/requests?vendor=esputnik").get_json()["requests"][-1]
    assert entry["headers"]["Authorization"] == "***"
    assert "esputnik-demo-key" not in str(entry)
    raw = base64.b64encode(b"demo:esputnik-demo-key").decode()
    assert raw not in str(entry)
