"""Add one, update one, get, delete, search; the contact's field rules and journal notes."""
from __future__ import annotations

import pytest

from .conftest import (
    API,
    AUTH,
    LEGACY,
    account_state,
    assert_error,
    by_email,
    contact,
    email,
    events,
    last_notes,
    sms,
    stored,
)


def add(client, body, auth=AUTH) -> int:
    resp = client.post(f"{API}/contact", json=body, auth=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["id"]


def test_add_creates_a_confirmed_contact_and_no_event(client):
    contact_id = add(client, contact(email("ann@example.com"), sms("380501112233"), firstName="Ann",
                                     externalCustomerId="crm-1", languageCode="en", timeZone="Europe/Kiev"))
    [doc] = stored(client)
    assert doc["id"] == contact_id and isinstance(contact_id, int)
    assert doc["channels"][0] == {"type": "email", "value": "ann@example.com", "confirmed": True}
    assert (doc["externalCustomerId"], doc["languageCode"], doc["timeZone"]) == ("crm-1", "en", "Europe/Kiev")
    assert doc["deleted"] is False
    assert events(client) == []


@pytest.mark.parametrize("second", [
    contact(email("ANN@Example.com"), firstName="Anna"),
    contact(sms("+380 (50) 111-22-33"), firstName="Anna"),
])
def test_add_updates_the_contact_with_the_same_email_or_phone(client, second):
    first = add(client, contact(email("ann@example.com"), sms("380501112233"), firstName="Ann", lastName="Lee"))
    assert add(client, second) == first
    [doc] = stored(client)
    assert (doc["firstName"], doc["lastName"]) == ("Anna", "Lee")  # fields not sent stay


def test_add_with_email_and_phone_of_two_contacts_updates_the_email_one(client):
    by_mail = add(client, contact(email("a@example.com")))
    add(client, contact(sms("380501112233")))
    assert add(client, contact(email("a@example.com"), sms("380501112233"), firstName="Both")) == by_mail


def test_legacy_switch_makes_add_always_create(client):
    first = add(client, contact(email("dup@example.com")), auth=LEGACY)
    second = add(client, contact(email("dup@example.com")), auth=LEGACY)
    assert first != second
    assert len(stored(client, "legacy")) == 2
    # both are found by a search on the email
    found = client.get(f"{API}/contacts?email=dup@example.com", auth=LEGACY).get_json()
    assert [c["id"] for c in found] == [first, second]


def test_update_refuses_an_external_id_of_another_contact(client):
    add(client, contact(email("a@example.com"), externalCustomerId="crm-1"))
    other = add(client, contact(email("b@example.com")))
    before = account_state(client)
    resp = client.put(f"{API}/contact/{other}", json={"externalCustomerId": "crm-1"}, auth=AUTH)
    assert_error(resp, 400, "externalCustomerId", "crm-1", "already belongs")
    assert account_state(client) == before


def test_update_changes_the_contact_and_answers_text(client):
    contact_id = add(client, contact(email("u@example.com"), firstName="Ann", lastName="Lee"))
    resp = client.put(f"{API}/contact/{contact_id}", json=contact(email("new@example.com"), firstName="Anna"),
                      auth=AUTH)
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == f"Contact with id='{contact_id}' has been updated"
    assert resp.mimetype == "text/plain"
    [doc] = stored(client)
    assert (doc["firstName"], doc["lastName"]) == ("Anna", "Lee")
    assert doc["channels"] == [{"type": "email", "value": "new@example.com", "confirmed": True}]


@pytest.mark.parametrize("path", ["/contact/999999999", "/contact/abc", "/contact/-1"])
def test_update_never_creates(client, path):
    resp = client.put(API + path, json=contact(email("ghost@example.com")), auth=AUTH)
    assert_error(resp, 404, "not found")
    assert stored(client) == []


def test_get_answers_the_contact_shape(client):
    contact_id = add(client, contact(email("g@example.com"), firstName="Ann", fields=[{"id": 12345, "value": "Kyiv"}]))
    shown = client.get(f"{API}/contact/{contact_id}", auth=AUTH).get_json()
    assert shown == {"id": contact_id, "firstName": "Ann", "lastName": None,
                     "channels": [{"type": "email", "value": "g@example.com", "confirmed": True}],
                     "address": None, "fields": [{"id": 12345, "value": "Kyiv"}], "groups": [],
                     "externalCustomerId": None, "languageCode": None, "timeZone": None, "contactKey": None,
                     "addressBookId": 7200}
    assert_error(client.get(f"{API}/contact/12", auth=AUTH), 404, "id=12")


def test_delete_keeps_the_contact_as_deleted(client):
    contact_id = add(client, contact(email("d@example.com")))
    resp = client.delete(f"{API}/contact/{contact_id}", auth=AUTH)
    assert resp.get_data(as_text=True) == f"Contact with id='{contact_id}' has been deleted"
    assert stored(client)[0]["deleted"] is True
    assert client.get(f"{API}/contact/{contact_id}", auth=AUTH).status_code == 404
    assert client.get(f"{API}/contacts?email=d@example.com", auth=AUTH).get_json() == []
    assert client.delete(f"{API}/contact/{contact_id}", auth=AUTH).status_code == 404
    assert client.put(f"{API}/contact/{contact_id}", json={"firstName": "X"}, auth=AUTH).status_code == 404
    # adding the same email again restores it (no second contact)
    assert add(client, contact(email("d@example.com"))) == contact_id
    assert stored(client)[0]["deleted"] is False
    assert any("restored" in n["rule"] for n in last_notes(client))


def test_delete_by_external_id_keeps_or_erases(client):
    kept = add(client, contact(email("k@example.com"), externalCustomerId="crm-k"))
    add(client, contact(email("e@example.com"), externalCustomerId="crm-e"))
    resp = client.delete(f"{API}/contact?externalCustomerId=crm-k&erase=false", auth=AUTH)
    assert resp.status_code == 200 and "has been deleted" in resp.get_data(as_text=True)
    resp = client.delete(f"{API}/contact?externalCustomerId=crm-e&erase=true", auth=AUTH)
    assert resp.status_code == 200 and "has been erased" in resp.get_data(as_text=True)
    docs = stored(client)
    assert [(d["id"], d["deleted"]) for d in docs] == [(kept, True)]
    assert_error(client.delete(f"{API}/contact?externalCustomerId=crm-e", auth=AUTH), 404, "crm-e")
    assert_error(client.delete(f"{API}/contact", auth=AUTH), 400, "externalCustomerId is required")
    assert_error(client.delete(f"{API}/contact?externalCustomerId=crm-k&erase=maybe", auth=AUTH), 400, "erase")
    # a kept (deleted) contact can still be erased for good
    assert client.delete(f"{API}/contact?externalCustomerId=crm-k&erase=true", auth=AUTH).status_code == 200
    assert stored(client) == []


def test_search_filters_and_pages(client):
    ids = [add(client, contact(email(f"p{i}@example.com"), sms(f"38050000000{i}"), firstName="Ann" if i % 2 else "Bob",
                               lastName="Lee", externalCustomerId=f"crm-{i}")) for i in range(6)]

    def search(query):
        resp = client.get(f"{API}/contacts?{query}", auth=AUTH)
        assert resp.status_code == 200
        return [c["id"] for c in resp.get_json()], int(resp.headers["TotalCount"])

    assert search("") == (ids, 6)
    assert search("email=P3@Example.com") == ([ids[3]], 1)
    assert search("sms=%2B380-500-000-004") == ([ids[4]], 1)
    assert search("firstname=ann") == ([ids[1], ids[3], ids[5]], 3)
    assert search("firstname=ann&lastname=LEE&externalCustomerId=crm-3") == ([ids[3]], 1)
    assert search("firstname=bob&email=p1@example.com") == ([], 0)
    assert search("startindex=2&maxrows=2") == (ids[1:3], 6)
    assert search("startindex=7") == ([], 6)
    for bad, words in (("maxrows=501", ["maxrows", "1..500"]), ("maxrows=0", ["maxrows"]),
                       ("startindex=0", ["startindex"]), ("startindex=x", ["startindex", "integer"])):
        assert_error(client.get(f"{API}/contacts?{bad}", auth=AUTH), 400, *words)


@pytest.mark.parametrize("name", ["Ann", "Jean-Luc", "O'Neil", "Mary Ann", "Олена", "José", "张伟", "Louis 14",
                                  "Anna2000"[:7], "x" * 40, "  Ann  "])
def test_valid_names(client, name):
    add(client, contact(email("n@example.com"), firstName=name, lastName=name))
    assert stored(client)[0]["firstName"] == name.strip()


@pytest.mark.parametrize("name, words", [
    ("12345", ["only digits"]),
    ("!!!", ["not allowed"]),
    ("x" * 41, ["at most 40"]),
    ("Ann1234", ["at most 3 digits"]),
    ("-Ann", ["inside a word"]),
    ("Ann-", ["inside a word"]),
    ("Ann - Lee", ["inside a word"]),
    ("Anna.", ["dot", "at most 3 characters"]),
    ("<script>", ["not allowed"]),
    (["Ann"], ["must be a string"]),
    ({"first": "Ann"}, ["must be a string"]),
])
def test_invalid_names_are_400_and_store_nothing(client, name, words):
    resp = client.post(f"{API}/contact", json=contact(email("n@example.com"), firstName=name), auth=AUTH)
    assert_error(resp, 400, "firstName", *words)
    assert stored(client) == []


@pytest.mark.parametrize("body, words", [
    ({"firstName": "Ann"}, ["at least one channel"]),
    (contact(), ["at least one channel"]),
    ({"channels": "ann@example.com"}, ["channels must be an array"]),
    ({"channels": {"type": "email", "value": "a@example.com"}}, ["channels must be an array"]),
    ({"channels": ["ann@example.com"]}, ["channels[0]", "object"]),
    ({"channels": [None]}, ["channels[0]"]),
    ({"channels": [{"type": "fax", "value": "1"}]}, ["channels[0].type", "one of"]),
    ({"channels": [{"type": None, "value": "1"}]}, ["channels[0].type"]),
    ({"channels": [{"type": "email"}]}, ["channels[0].value is required"]),
    ({"channels": [{"type": "email", "value": ""}]}, ["at least one channel"]),  # an empty one is ignored
    ({"channels": [{"type": "email", "value": {"x": 1}}]}, ["channels[0].value", "string"]),
    ({"channels": [email("a b@example.com")]}, ["not a valid email"]),
    ({"channels": [email("a@example")]}, ["not a valid email"]),
    ({"channels": [sms("call me")]}, ["channels[0].value", "phone"]),
    ({"channels": [sms("123")]}, ["5 to 15 digits"]),
    ({"channels": [email("a@example.com"), email("b@example.com")]}, ["one 'email' channel"]),
    (contact(email("a@example.com"), address="London"), ["address must be an object"]),
    (contact(email("a@example.com"), address={"town": ["London"]}), ["address.town", "string"]),
    (contact(email("a@example.com"), fields={"12345": "x"}), ["fields must be an array"]),
    (contact(email("a@example.com"), fields=[12345]), ["fields[0]", "object"]),
    (contact(email("a@example.com"), fields=[{"value": "x"}]), ["fields[0]", "integer id"]),
    (contact(email("a@example.com"), fields=[{"id": "abc", "value": "x"}]), ["fields[0].id", "integer"]),
    (contact(email("a@example.com"), fields=[{"id": 12345, "value": {"a": 1}}]), ["fields[0].value"]),
    (contact(email("a@example.com"), externalCustomerId=["x"]), ["externalCustomerId", "string"]),
    (contact(email("a@example.com"), languageCode=True), ["languageCode", "string"]),
])
def test_wrong_types_are_400_never_500(client, body, words):
    resp = client.post(f"{API}/contact", json=body, auth=AUTH)
    assert_error(resp, 400, *words)
    assert stored(client) == []
    if "at least one channel" in words:
        return  # a rule of creation only: an update may leave the channels as they are
    contact_id = add(client, contact(email("keep@example.com")))
    before = account_state(client)
    assert_error(client.put(f"{API}/contact/{contact_id}", json=body, auth=AUTH), 400, *words)
    assert account_state(client) == before


def test_custom_field_value_null_clears_it(client):
    contact_id = add(client, contact(email("f@example.com"), fields=[{"id": 12345, "value": "Kyiv"},
                                                                        {"id": 12346, "value": "1990"}]))
    client.put(f"{API}/contact/{contact_id}", json={"fields": [{"id": 12345, "value": None}]}, auth=AUTH)
    assert by_email(client)["f@example.com"]["fields"] == [{"id": 12346, "value": "1990"}]
