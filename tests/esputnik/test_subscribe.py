"""Subscribe (double opt-in): unconfirmed email, events, groups; the confirm helper."""
from __future__ import annotations

import pytest

from emulator.testing.handle import AdminError, EmulatorHandle

from .conftest import API, AUTH, account_state, assert_error, by_email, contact, email, events, sms, stored

SUBSCRIBE = f"{API}/contact/subscribe"


def subscribe(client, body, auth=AUTH):
    resp = client.post(SUBSCRIBE, json=body, auth=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["id"]


def test_new_contact_has_an_unconfirmed_email_and_logs_subscribe_from_api(client, engine):
    engine.clock.freeze("2026-03-01T10:00:00Z")
    contact_id = subscribe(client, {"contact": contact(email("mail@example.com"), sms("380942583691"),
                                                       firstName="John", lastName="Smith",
                                                       address={"town": "London", "region": "West",
                                                                "address": "First str. 1", "postcode": "12345"},
                                                       fields=[{"id": "12345", "value": "Kyiv"}]),
                                    "groups": ["Subscribers"], "formType": "abc"})
    [doc] = stored(client)
    assert doc["id"] == contact_id
    assert doc["channels"] == [{"type": "email", "value": "mail@example.com", "confirmed": False},
                               {"type": "sms", "value": "380942583691"}]
    assert (doc["firstName"], doc["lastName"]) == ("John", "Smith")
    assert doc["address"] == {"region": "West", "town": "London", "address": "First str. 1", "postcode": "12345"}
    assert doc["fields"] == [{"id": 12345, "value": "Kyiv"}]
    assert [g["name"] for g in doc["groups"]] == ["Subscribers"]
    assert events(client) == [{"type": "subscribeFromApi-abc", "key": str(contact_id),
                               "params": {"ContactId": contact_id, "EmailAddress": "mail@example.com"},
                               "at": "2026-03-01T10:00:00.000Z"}]
    shown = client.get(f"{API}/contact/{contact_id}", auth=AUTH).get_json()
    assert shown["channels"][0] == {"type": "email", "value": "mail@example.com", "confirmed": False}


def test_existing_contact_is_updated_except_its_channels(client):
    first = subscribe(client, {"contact": contact(email("ann@example.com"), firstName="Ann")})
    again = subscribe(client, {"contact": contact(email("ANN@example.com"), sms("+380 94 258 3691"),
                                                  firstName="Anna", lastName="Lee"), "formType": "footer"})
    assert again == first
    [doc] = stored(client)
    assert (doc["firstName"], doc["lastName"]) == ("Anna", "Lee")
    # the existing email stays as it is; a channel of a new type is added
    assert doc["channels"] == [{"type": "email", "value": "ann@example.com", "confirmed": False},
                               {"type": "sms", "value": "380942583691"}]
    assert [e["type"] for e in events(client)] == ["subscribeFromApi", "subscribeUpdateFromApi-footer"]


def test_existing_channels_keep_their_values_and_confirmation(client):
    first = subscribe(client, {"contact": contact(email("bo@example.com"), sms("380000000001"))})
    client.post("/_emulator/esputnik/confirm", json={"account": "demo", "email": "bo@example.com"})
    # matched by phone: the sent email does not replace the stored one
    again = subscribe(client, {"contact": contact(email("other@example.com"), sms("380000000001"))})
    assert again == first
    [doc] = stored(client)
    assert doc["channels"] == [{"type": "email", "value": "bo@example.com", "confirmed": True},
                               {"type": "sms", "value": "380000000001"}]
    assert events(client)[-1]["params"] == {"ContactId": first, "EmailAddress": "bo@example.com"}


def test_phone_only_event_has_no_email_address(client):
    contact_id = subscribe(client, {"contact": contact(sms("380501112233"))})
    assert events(client) == [{"type": "subscribeFromApi", "key": str(contact_id),
                               "params": {"ContactId": contact_id}, "at": events(client)[0]["at"]}]


def test_groups_are_created_on_demand_as_static_segments(client):
    subscribe(client, {"contact": contact(email("g@example.com")), "groups": ["Subscribers", "Footer form"]})
    groups = {g["name"]: g for g in account_state(client)["groups"]}
    assert groups["Footer form"]["type"] == "Static"
    [doc] = stored(client)
    assert [g["name"] for g in doc["groups"]] == ["Subscribers", "Footer form"]
    listed = client.get(f"{API}/groups", auth=AUTH).get_json()
    assert {"id": groups["Footer form"]["id"], "name": "Footer form", "type": "Static"} in listed


@pytest.mark.parametrize("body, status, words", [
    ({"contact": contact(firstName="Ann")}, 400, ["email or an sms"]),
    ({"contact": {"channels": [{"type": "viber", "value": "x"}]}}, 400, ["email or an sms"]),
    ({}, 400, ["contact is required"]),
    ({"contact": None}, 400, ["contact is required"]),
    ({"contact": "ann@example.com"}, 400, ["contact must be a JSON object"]),
    ({"contact": [contact(email("a@example.com"))]}, 400, ["contact must be a JSON object"]),
    ({"contact": contact(email("a@example.com"), firstName="12345")}, 400, ["firstName", "only digits"]),
    ({"contact": contact(email("not-an-email"))}, 400, ["channels[0].value", "not a valid email"]),
    ({"contact": contact(email("a@example.com")), "groups": "Subscribers"}, 400, ["groups", "array"]),
    ({"contact": contact(email("a@example.com")), "groups": [1]}, 400, ["groups[0]"]),
    ({"contact": contact(email("a@example.com")), "groups": ["Active"]}, 400, ["Active", "Dynamic", "Static"]),
    ({"contact": contact(email("a@example.com")), "formType": 5}, 400, ["formType", "string"]),
])
def test_bad_subscribe_is_400_and_stores_nothing(client, body, status, words):
    before = account_state(client)
    resp = client.post(SUBSCRIBE, json=body, auth=AUTH)
    assert_error(resp, status, *words)
    assert account_state(client) == before


def test_a_refused_subscribe_creates_no_segment_and_uses_no_id(client, engine):
    client.post(f"{API}/contact", json=contact(email("owner@example.com"), externalCustomerId="crm-1"), auth=AUTH)
    before = account_state(client)
    counters = engine.store.snapshot()["_emulator:counters"]
    resp = client.post(SUBSCRIBE, json={"contact": contact(email("new@example.com"), externalCustomerId="crm-1"),
                                        "groups": ["Brand new"]}, auth=AUTH)
    assert_error(resp, 400, "externalCustomerId", "already belongs")
    assert account_state(client) == before
    assert engine.store.snapshot()["_emulator:counters"] == counters


def test_confirm_helper_flips_the_email_to_confirmed(client):
    contact_id = subscribe(client, {"contact": contact(email("Click@Example.com"))})
    resp = client.post("/_emulator/esputnik/confirm", json={"account": "demo", "email": "click@example.com"})
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "account": "demo", "email": "click@example.com",
                               "contactIds": [contact_id]}
    assert by_email(client)["click@example.com"]["channels"][0]["confirmed"] is True
    shown = client.get(f"{API}/contact/{contact_id}", auth=AUTH).get_json()
    assert shown["channels"][0]["confirmed"] is True


@pytest.mark.parametrize("body, status, words", [
    ({"account": "demo", "email": "nobody@example.com"}, 404, ["no esputnik contact"]),
    ({"account": "nope", "email": "a@example.com"}, 404, ["'account'"]),
    ({"email": "a@example.com"}, 404, ["'account'"]),   # several accounts: it must be named
    ({"account": "demo"}, 400, ["'email'"]),
    ({"account": "demo", "email": ["a@example.com"]}, 400, ["'email'"]),
])
def test_confirm_helper_errors(client, body, status, words):
    resp = client.post("/_emulator/esputnik/confirm", json=body)
    assert resp.status_code == status
    for word in words:
        assert word in resp.get_json()["error"]  # the emulator's own helper: its own shape


def test_the_handle_confirms_in_process(app, client):
    subscribe(client, {"contact": contact(email("handle@example.com"))})
    handle = EmulatorHandle(app)
    handle.confirm("handle@example.com", account="demo")
    assert handle.contacts("esputnik", "demo")[0]["channels"][0]["confirmed"] is True
    assert handle.events("esputnik", "demo")[0]["type"] == "subscribeFromApi"
    with pytest.raises(AdminError):
        handle.confirm("missing@example.com", account="demo")


def test_unknown_keys_are_ignored_with_notes(client):
    subscribe(client, {"contact": contact(email("n@example.com"), nickname="Nic"), "source": "footer"})
    rules = {(n["field"], n["rule"]) for n in client.get("/_emulator/requests?vendor=esputnik").get_json()[
        "requests"][-1]["notes"]}
    assert ("source", "unknown request key ignored") in rules
    assert ("contact.nickname", "unknown contact field ignored") in rules
