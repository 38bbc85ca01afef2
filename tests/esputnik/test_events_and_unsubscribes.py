"""Issue item 8, POST /event and POST /emails/unsubscribed/add|delete, over the test client and a
live server."""
from __future__ import annotations

import pytest

from .conftest import contact, email, error_of


def test_an_event_is_stored_and_touches_no_contact(api):
    api.admin("POST", "/_emulator/clock", {"freeze": "2026-04-01T00:00:00Z"})
    resp = api.post("/event", {"eventTypeKey": "cartAbandoned", "keyValue": "ann@example.com",
                               "params": [{"name": "EmailAddress", "value": "ann@example.com"},
                                          {"name": "total", "value": 19.5}, {"name": "vip", "value": True}]})
    assert resp.status_code == 200 and resp.data == b""
    assert api.notes() == []
    state = api.state()
    assert state["events"] == [{"type": "cartAbandoned", "key": "ann@example.com", "at": "2026-04-01T00:00:00.000Z",
                                "params": {"EmailAddress": "ann@example.com", "total": 19.5, "vip": True}}]
    assert state["contacts"] == []


@pytest.mark.parametrize("params, key", [
    ([{"name": "email", "value": "a@example.com"}, {"name": "contactId", "value": 42}], "42"),
    ([{"name": "phone", "value": "380501112233"}, {"name": "externalCustomerId", "value": "crm-1"}], "crm-1"),
    ([{"name": "pushToken", "value": "tok"}, {"name": "phone", "value": ""}], "tok"),
])
def test_without_key_value_the_first_key_parameter_is_the_key(api, params, key):
    assert api.post("/event", {"eventTypeKey": "viewed", "params": params}).status_code == 200
    assert api.state()["events"][0]["key"] == key


@pytest.mark.parametrize("body, words", [
    ({}, ["eventTypeKey is required"]),
    ({"eventTypeKey": ""}, ["eventTypeKey", "1 to 100"]),
    ({"eventTypeKey": "x" * 101, "keyValue": "k"}, ["eventTypeKey", "1 to 100"]),
    ({"eventTypeKey": "a,b", "keyValue": "k"}, ["eventTypeKey", "must not contain"]),
    ({"eventTypeKey": "ok", "keyValue": "k" * 301}, ["keyValue", "1 to 300"]),
    ({"eventTypeKey": "ok", "keyValue": "who?"}, ["keyValue", "must not contain"]),
    ({"eventTypeKey": "ok", "keyValue": {"a": 1}}, ["keyValue", "string"]),
    ({"eventTypeKey": "ok"}, ["keyValue is required unless params carry"]),
    ({"eventTypeKey": "ok", "params": [{"name": "city", "value": "Kyiv"}]}, ["keyValue is required"]),
    ({"eventTypeKey": "ok", "keyValue": "k", "params": {"name": "x"}}, ["params must be an array"]),
    ({"eventTypeKey": "ok", "keyValue": "k", "params": [{"value": 1}]}, ["params[0]", "name"]),
    ({"eventTypeKey": "ok", "keyValue": "k", "params": [{"name": "x", "value": {"deep": 1}}]}, ["params[0].value"]),
    ({"eventTypeKey": "ok", "keyValue": "k", "params": [{"name": "x", "value": "y" * 21000}]}, ["20 kB"]),
])
def test_bad_events_are_400_and_store_nothing(api, body, words):
    error_of(api.post("/event", body), 400, *words)
    assert api.state()["events"] == []


def unsubscribed(api) -> list[str]:
    return [doc["email"] for doc in api.state()["unsubscribed"]]


def test_unsubscribed_addresses_are_listed_and_removed(api):
    contact_id = api.add(contact(email("ann@example.com")))
    before = api.get(f"/contact/{contact_id}").json()
    resp = api.post("/emails/unsubscribed/add", {"emails": ["ann@example.com", "Nobody@Example.com"]})
    assert resp.status_code == 200 and resp.data == b""
    assert unsubscribed(api) == ["ann@example.com", "nobody@example.com"]  # an address with no contact is listed
    assert api.get(f"/contact/{contact_id}").json() == before               # the contact is unchanged
    assert api.post("/emails/unsubscribed/add", {"emails": ["ANN@example.com"]}).status_code == 200
    assert unsubscribed(api) == ["ann@example.com", "nobody@example.com"]   # compared case-insensitively
    assert api.post("/emails/unsubscribed/delete", {"emails": ["nobody@example.com", "never@example.com"]}
                    ).status_code == 200
    assert unsubscribed(api) == ["ann@example.com"]


def test_strings_that_are_not_addresses_are_ignored_with_a_note(api):
    assert api.post("/emails/unsubscribed/add", {"emails": ["ok@example.com", "not-an-email", ""]}).status_code == 200
    assert unsubscribed(api) == ["ok@example.com"]
    ignored = [n for n in api.notes() if n["rule"] == "not an email address: ignored"]
    assert [(n["field"], n["kind"]) for n in ignored] == [("emails[1]", "unverified"), ("emails[2]", "unverified")]


@pytest.mark.parametrize("path", ["/emails/unsubscribed/add", "/emails/unsubscribed/delete"])
@pytest.mark.parametrize("body", [{}, {"emails": "a@example.com"}, {"emails": [1]}, {"emails": [None]},
                                  {"emails": [["a@example.com"]]}])
def test_emails_not_a_list_of_strings_is_400(api, path, body):
    api.post("/emails/unsubscribed/add", {"emails": ["keep@example.com"]})
    error_of(api.post(path, body), 400, "emails")
    assert unsubscribed(api) == ["keep@example.com"]


def test_writing_a_contact_with_a_listed_address_notes_it_and_leaves_the_list(api):
    api.post("/emails/unsubscribed/add", {"emails": ["ann@example.com"]})
    api.add(contact(email("Ann@example.com")))
    assert any(n["kind"] == "unverified" and "unsubscribed list" in n["rule"] for n in api.notes())
    api.post("/contact/subscribe", {"contact": contact(email("ann@example.com"))})
    assert any("unsubscribed list" in n["rule"] for n in api.notes())
    resp = api.post("/contacts", {"contacts": [contact(email("ann@example.com"))]})
    assert any(n["field"] == "contacts[0].channels" and "unsubscribed list" in n["rule"] for n in api.notes())
    assert api.get(f"/importstatus/{resp.json()['asyncSessionId']}").json()["status"] == "FINISHED"
    assert unsubscribed(api) == ["ann@example.com"]
