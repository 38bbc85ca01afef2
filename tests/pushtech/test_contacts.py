"""GET/PUT/DELETE /contact/{id} and GET /contact (exact filters, limit, contact_id_from, order)."""
from __future__ import annotations

import pytest

from .conftest import last_notes, stored_contacts


def test_show_and_unknown_id(api):
    contact = api.create(email="ann@example.com", name_first="Ann")
    resp = api.get(f"/contact/{contact['id']}")
    assert resp.status_code == 200 and resp.get_json() == contact
    missing = api.get("/contact/ffffffffffffffffffffffff")
    assert missing.status_code == 404 and missing.get_json() == {"error": "contact not found"}


def test_update_changes_only_the_fields_sent(client, api):
    client.post("/_emulator/clock", json={"freeze": "2026-01-10T00:00:00Z"})
    contact = api.create(email="ann@example.com", name_first="Ann", city="Paris", tags=["a"])
    client.post("/_emulator/clock", json={"advance": 60})
    resp = api.put(f"/contact/{contact['id']}", {"name_first": "Anne", "tags": ["b"], "gender": "FEMALE"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body == {**contact, "name_first": "Anne", "tags": ["b"], "gender": "FEMALE",
                    "updated_at": "2026-01-10T00:01:00.000Z"}
    assert stored_contacts(client) == [body]


def test_update_null_removes_a_field(client, api):
    contact = api.create(email="ann@example.com", city="Paris")
    body = api.put(f"/contact/{contact['id']}", {"city": None}).get_json()
    assert "city" not in body and "city" not in stored_contacts(client)[0]


def test_update_never_creates(client, api):
    resp = api.put("/contact/ffffffffffffffffffffffff", {"email": "ann@example.com"})
    assert resp.status_code == 404 and resp.get_json() == {"error": "contact not found"}
    assert stored_contacts(client) == []


@pytest.mark.parametrize("payload, message", [
    ({"gender": "other"}, "gender: must be MALE or FEMALE"),
    ({"email": None}, "either email or phone (phone_countrycode and phone_number) is required"),
    ({"tags": {"a": 1}}, "tags: must be an array of strings"),
])
def test_a_refused_update_changes_nothing(client, api, payload, message):
    contact = api.create(email="ann@example.com", tags=["a"])
    resp = api.put(f"/contact/{contact['id']}", payload)
    assert resp.status_code == 422 and resp.get_json() == {"error": message}
    assert stored_contacts(client) == [contact]


def test_update_keeps_identity_through_the_phone(api):
    contact = api.create(email="ann@example.com", phone="+447712345678")
    body = api.put(f"/contact/{contact['id']}", {"email": None}).get_json()
    assert "email" not in body and body["phone_number"] == "7712345678"


def test_delete_answers_the_deleted_contact(client, api):
    keep = api.create(email="keep@example.com")
    gone = api.create(email="gone@example.com")
    resp = api.delete(f"/contact/{gone['id']}")
    assert resp.status_code == 200 and resp.get_json() == gone
    assert stored_contacts(client) == [keep]
    assert api.get(f"/contact/{gone['id']}").status_code == 404
    assert api.delete(f"/contact/{gone['id']}").status_code == 404
    assert api.get("/contact?email=gone@example.com").get_json() == {"contacts": []}


@pytest.fixture
def five(api):
    people = [
        {"email": "ann@example.com", "name_first": "Ann", "name_last": "Lee", "user_id": "u1", "device_id": "d1",
         "phone_countrycode": "44", "phone_number": "7700900001"},
        {"email": "bob@example.com", "name_first": "Bob", "name_last": "Lee", "user_id": "u2",
         "phone_countrycode": "44", "phone_number": "7700900002"},
        {"email": "cy@example.com", "name_first": "Cy", "name_last": "Diaz", "user_id": "u3", "device_id": "d1",
         "phone_countrycode": "34", "phone_number": "612345678"},
        {"email": "ann@example.com", "name_first": "Ann", "name_last": "Other", "user_id": "u4"},
        {"phone_countrycode": "44", "phone_number": "7700900001", "name_first": "Dee"},
    ]
    return [api.create(**p) for p in people]


def _names(resp):
    assert resp.status_code == 200, resp.get_json()
    return [(c["name_first"], c["name_last"] if "name_last" in c else None) for c in resp.get_json()["contacts"]]


@pytest.mark.parametrize("query, expected", [
    ("", [("Ann", "Lee"), ("Bob", "Lee"), ("Cy", "Diaz"), ("Ann", "Other"), ("Dee", None)]),
    ("user_id=u2", [("Bob", "Lee")]),
    ("email=ANN@example.com", [("Ann", "Lee"), ("Ann", "Other")]),
    ("device_id=d1", [("Ann", "Lee"), ("Cy", "Diaz")]),
    ("name_first=Ann", [("Ann", "Lee"), ("Ann", "Other")]),
    ("name_last=Lee", [("Ann", "Lee"), ("Bob", "Lee")]),
    ("name_first=Ann&name_last=Lee", [("Ann", "Lee")]),
    ("phone_countrycode=%2B44&phone_number=7700900001", [("Ann", "Lee"), ("Dee", None)]),
    ("phone_countrycode=34", [("Cy", "Diaz")]),
    ("phone_number=7700900002", [("Bob", "Lee")]),
    ("email=ann@example.com&user_id=u4", [("Ann", "Other")]),
    ("user_id=nobody", []),
    ("limit=2", [("Ann", "Lee"), ("Bob", "Lee")]),
    ("order=desc&limit=2", [("Dee", None), ("Ann", "Other")]),
    ("order=desc&name_last=Lee", [("Bob", "Lee"), ("Ann", "Lee")]),
])
def test_list_filters_order_and_limit(api, five, query, expected):
    assert _names(api.get(f"/contact?{query}")) == expected


def test_list_starts_at_contact_id_from(api, five):
    third = five[2]["id"]
    assert _names(api.get(f"/contact?contact_id_from={third}")) == [("Cy", "Diaz"), ("Ann", "Other"), ("Dee", None)]
    assert _names(api.get(f"/contact?contact_id_from={third}&order=desc")) == [
        ("Cy", "Diaz"), ("Bob", "Lee"), ("Ann", "Lee")]
    assert _names(api.get(f"/contact?contact_id_from={third}&name_last=Lee")) == []


def test_list_default_limit_is_200(client, api, pt_engine):
    backend = pt_engine.backend("pushtech", "demo")
    backend.contacts.write_many([backend.new_contact({"email": f"c{i}@example.com"}, "2026-01-01T00:00:00.000Z")
                                 for i in range(250)])
    listed = api.get("/contact").get_json()["contacts"]
    assert len(listed) == 200 and listed[0]["email"] == "c0@example.com"
    assert len(api.get("/contact?limit=1000").get_json()["contacts"]) == 250


@pytest.mark.parametrize("query, message", [
    ("limit=0", "limit: must be a whole number from 1 to 1000"),
    ("limit=abc", "limit: must be a whole number from 1 to 1000"),
    ("limit=1001", "limit: must be a whole number from 1 to 1000"),
    ("order=newest", "order: must be asc or desc"),
    ("contact_id_from=nope", "contact_id_from: no contact with id nope"),
    ("phone_countrycode=abcd", "phone_countrycode: must be a country calling code"),
])
def test_list_refuses_bad_parameters(api, five, query, message):
    resp = api.get(f"/contact?{query}")
    assert resp.status_code == 422
    assert resp.get_json()["error"].startswith(message)


def test_list_notes_unknown_parameters(client, api, five):
    assert len(api.get("/contact?page=2").get_json()["contacts"]) == 5
    assert [n["field"] for n in last_notes(client)] == ["page"]
