"""Wrong types everywhere on the custom field, list and contact endpoints: a 2xx, or a 4xx
in the flat envelope naming the field and storing nothing; never a 500."""
from __future__ import annotations

import pytest

from emulator.vendors.pushtech import model

from .conftest import LIST_ID, state

GARBAGE = [None, True, False, 0, -1.5, 10**30, "", " ", "x" * 5000, "\u0000", "é🙂", [], [None], [1, "a"],
           {}, {"$gt": ""}, [[[]]], {"a": {"b": [1, {"c": None}]}}]


def everything(client) -> dict:
    """Every stored collection of the account, but the journal-like bulk documents."""
    return state(client)


def check(client, resp, field: str, before: dict) -> None:
    assert resp.status_code < 500, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body, dict), resp.get_data(as_text=True)
    if resp.status_code >= 400:
        assert list(body) == ["error"] and isinstance(body["error"], str)
        assert field in body["error"] or body["error"] == model.IDENTITY_REQUIRED, (field, body)
        assert everything(client) == before


@pytest.mark.parametrize("field", model.CUSTOM_FIELD_PARAMETERS)
def test_garbage_in_every_custom_field_parameter(client, api, field):
    for value in GARBAGE:
        before = everything(client)
        body = {"name": f"f{len(before['custom_fields'])}", "label": "L", "type": "selectable_options", field: value}
        check(client, api.post("/custom_fields", body), field, before)


@pytest.mark.parametrize("field", (*model.CUSTOM_FIELD_PARAMETERS, "other"))
def test_garbage_in_every_custom_field_update(client, api, field):
    for kind in ("string", "selectable_options"):
        target = api.post("/custom_fields", {"name": f"target_{kind}", "label": "T", "type": kind}).get_json()
        for value in GARBAGE:
            before = everything(client)
            check(client, api.put(f"/custom_fields/{target['_id']}", {field: value}), field, before)


@pytest.mark.parametrize("field", (*model.AUDIENCE_LIST_PARAMETERS, "other"))
def test_garbage_in_every_list_parameter(client, api, field):
    for value in GARBAGE:
        before = everything(client)
        check(client, api.post("/lists", {"name": "L", field: value}), field, before)
        before = everything(client)
        check(client, api.put(f"/lists/{LIST_ID}", {field: value}), field, before)


@pytest.mark.parametrize("field", [*model.CONTACT_FIELDS, "email_validation", "favourite_colour", "score", "other"])
def test_garbage_in_every_contact_field_on_update(client, api, field):
    contact = api.create(email="g@example.com", phone="+447712345678")
    for value in GARBAGE:
        before = everything(client)
        check(client, api.put(f"/contact/{contact['id']}", {field: value}), field, before)


@pytest.mark.parametrize("value", GARBAGE + [[{"list_id": v} for v in GARBAGE], [{"list_id": LIST_ID, "subscribed": v}
                                                                                  for v in GARBAGE]])
def test_garbage_list_subscriptions_on_create_and_bulk(client, api, value):
    before = everything(client)
    check(client, api.post("/contact", {"email": "g@example.com", "list_subscriptions": value}),
          "list_subscriptions", before)
    before = everything(client)
    resp = api.post("/contact/bulk", {"contacts": [{"email": "g@example.com", "list_subscriptions": value}]})
    assert resp.status_code == 201


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_custom_values_are_stored_as_given(client, api, value):
    for name in ("favourite_colour", "score", "undeclared"):
        resp = api.post("/contact", {"email": "g@example.com", name: value})
        assert resp.status_code == 201 and resp.get_json()[name] == value


@pytest.mark.parametrize("path", ["/custom_fields", "/custom_fields/x", "/lists", f"/lists/{LIST_ID}"])
@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', "null", "[" * 100_000 + "]" * 100_000])
def test_unreadable_bodies_on_the_new_endpoints(client, api, path, raw):
    before = everything(client)
    for method in ("POST", "PUT"):
        resp = client.open(api.url(path), method=method, data=raw, content_type="application/json",
                           headers=api.headers)
        assert resp.status_code in (400, 404, 405), resp.get_data(as_text=True)  # null too: an object is required
        assert list(resp.get_json()) == ["error"]
    assert everything(client) == before


@pytest.mark.parametrize("resource", ["custom_fields", "lists"])
@pytest.mark.parametrize("raw_id", ["%00", "%F0%9F%99%82", "x" * 3000, "..%2F..%2Fcontact", "a%20b", "%25"])
def test_garbage_ids_are_404(client, api, resource, raw_id):
    before = everything(client)
    for method in ("GET", "PUT", "DELETE"):
        resp = api.call(method, f"/{resource}/{raw_id}", {"label": "x", "name": "x"} if method == "PUT" else None)
        assert resp.status_code in (404, 405) and list(resp.get_json()) == ["error"]
    assert everything(client) == before


def test_reads_survive_odd_stored_values(client, api):
    """What the API stored as given (custom values, odd visibility) never breaks a read."""
    api.post("/lists", {"name": "\u0000🙂", "visibility": "x" * 5000, "description": ""})
    api.post("/custom_fields", {"name": "\u0000", "label": "🙂", "type": "selectable_options",
                                "selectable_options": ["", "\u0000"]})
    api.create(email="g@example.com", odd={"a": [None, {"b": 10**30}]}, score=float("1e308"))
    for path in ("/lists", "/custom_fields", "/contact"):
        assert api.get(path).status_code == 200
    for url in ("/_emulator/state?vendor=pushtech", "/_emulator/?vendor=pushtech&account=demo&kind=lists",
                "/_emulator/?vendor=pushtech&account=demo&kind=custom_fields", "/_emulator/requests",
                "/_emulator/lint", "/_emulator/openapi.json"):
        assert client.get(url).status_code == 200, url
