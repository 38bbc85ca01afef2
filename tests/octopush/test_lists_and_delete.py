"""contact/delete, contact-list/create, contact-list/empty and contact-list/delete, with the
vendor's numbered codes (110 none sent, 117 none usable, 302 list exists, 303 no such list,
305 too many)."""
from __future__ import annotations

import pytest

from .conftest import (
    AUTH,
    CREATE,
    DELETE,
    LIST_CREATE,
    LIST_DELETE,
    LIST_EMPTY,
    account_state,
    contacts_by_phone,
    last_notes,
    names,
)

A, B, C = "+33612345601", "+33612345602", "+33612345603"


def seed_contacts(client):
    resp = client.post(CREATE, json={"list_names": ["L1", "L2"], "contacts": [{"phone_number": A}, {"phone_number": B}]},
                       headers=AUTH)
    assert resp.status_code == 201
    resp = client.post(CREATE, json={"list_name": "L2", "contacts": [{"phone_number": C}]}, headers=AUTH)
    assert resp.status_code == 201


# -- DELETE /v1/public/contact/delete ---------------------------------------------------
def test_delete_removes_contacts_from_the_account(client):
    seed_contacts(client)
    resp = client.delete(DELETE, json={"phone_numbers": [A, "06 12 34 56 02"]}, headers=AUTH)
    assert resp.status_code == 204
    assert resp.data == b""
    assert set(contacts_by_phone(client)) == {C}
    assert names(client, "lists") == ["Newsletter", "L1", "L2"]  # lists stay


def test_delete_with_list_name_only_detaches(client):
    seed_contacts(client)
    resp = client.delete(DELETE, json={"phone_numbers": [A, C], "list_name": "L1"}, headers=AUTH)
    assert resp.status_code == 204
    stored = contacts_by_phone(client)
    assert set(stored) == {A, B, C}
    assert stored[A]["lists"] == ["L2"]
    assert stored[B]["lists"] == ["L1", "L2"]
    assert stored[C]["lists"] == ["L2"]
    assert {"field": "phone_numbers", "sent": C, "used": None, "rule": "not in list 'L1': ignored", "kind": "ignored"} in last_notes(client)
    # the list index follows: emptying L1 now finds only B
    resp = client.post(LIST_EMPTY, json={"list_name": "L1"}, headers=AUTH)
    assert resp.get_json()["contacts_detached"] == 1


def test_delete_of_unknown_numbers_is_noted_not_refused(client):
    seed_contacts(client)
    resp = client.delete(DELETE, json={"phone_numbers": ["+33699999999"]}, headers=AUTH)
    assert resp.status_code == 204
    assert last_notes(client) == [{"field": "phone_numbers", "sent": "+33699999999", "used": None,
                                   "rule": "no such contact: ignored", "kind": "ignored"}]


def test_delete_from_a_list_that_does_not_exist_is_400_code_303(client):
    seed_contacts(client)
    before = account_state(client)
    resp = client.delete(DELETE, json={"phone_numbers": [A], "list_name": "Nope"}, headers=AUTH)
    assert resp.status_code == 400
    assert resp.get_json() == {"code": 303, "message": "The specified list does not exist: list_name 'Nope'"}
    assert account_state(client) == before


def test_delete_casts_like_create(client):
    seed_contacts(client)
    resp = client.delete(DELETE, json={"phone_numbers": f"{A}, abc", "extra": 1}, headers=AUTH)
    assert resp.status_code == 204
    assert set(contacts_by_phone(client)) == {B, C}
    rules = [n["rule"] for n in last_notes(client)]
    assert rules == ["comma-separated string split into an array", "not a phone number: element dropped",
                     "unknown parameter ignored"]


@pytest.mark.parametrize("body, code", [
    ({}, 110),
    ({"phone_numbers": []}, 110),
    ({"phone_numbers": None}, 110),
    ({"phone_numbers": {"a": 1}}, 110),
    ({"phone_numbers": ""}, 110),
    ({"list_name": "L1"}, 110),
    ({"phone_numbers": ["abc", None]}, 117),
    ({"phone_numbers": "abc"}, 117),
    ({"phone_numbers": [12]}, 117),
    ({"phone_numbers": [f"+336123{i:05d}" for i in range(201)]}, 305),
])
def test_delete_without_usable_numbers_or_too_many_is_refused(client, body, code):
    seed_contacts(client)
    before = account_state(client)
    resp = client.delete(DELETE, json=body, headers=AUTH)
    assert resp.status_code == 400
    assert resp.get_json()["code"] == code
    assert "phone_numbers" in resp.get_json()["message"]
    assert account_state(client) == before


def test_delete_of_200_numbers_is_accepted(client):
    numbers = [f"+336123{i:05d}" for i in range(200)]
    client.post(CREATE, json={"contacts": [{"phone_number": n} for n in numbers[:3]]}, headers=AUTH)
    resp = client.delete(DELETE, json={"phone_numbers": numbers}, headers=AUTH)
    assert resp.status_code == 204
    assert account_state(client)["contacts"] == []


# -- POST /v1/public/contact-list/create --------------------------------------------------
def test_list_create_is_201_and_an_existing_name_is_400_code_302(client, engine):
    engine.clock.freeze("2026-02-02T00:00:00Z")
    resp = client.post(LIST_CREATE, json={"list_name": "VIP"}, headers=AUTH)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["list_name"] == "VIP" and body["created"] is True and len(body["id"]) == 24
    before = account_state(client)
    again = client.post(LIST_CREATE, json={"list_name": "VIP"}, headers=AUTH)
    assert again.status_code == 400
    assert again.get_json() == {"code": 302, "message": "A list with the same name already exists: list_name 'VIP'"}
    assert account_state(client) == before
    lists = account_state(client)["lists"]
    assert [d["name"] for d in lists] == ["Newsletter", "VIP"]
    assert lists[1] == {"id": body["id"], "name": "VIP", "created_at": "2026-02-02T00:00:00.000Z"}
    # a list created on demand by contact/create exists too; names are case-sensitive
    client.post(CREATE, json={"list_name": "Leads", "contacts": [{"phone_number": A}]}, headers=AUTH)
    assert client.post(LIST_CREATE, json={"list_name": "Leads"}, headers=AUTH).get_json()["code"] == 302
    assert client.post(LIST_CREATE, json={"list_name": "vip"}, headers=AUTH).status_code == 201


def test_list_create_casts_and_cuts_the_name(client):
    resp = client.post(LIST_CREATE, json={"list_name": 12345678901234567890123456789012345}, headers=AUTH)
    assert resp.status_code == 201
    assert resp.get_json()["list_name"] == "123456789012345678901234567890"
    assert [n["rule"] for n in last_notes(client)] == ["number cast to string", "cut to 30 characters"]


@pytest.mark.parametrize("body", [{}, {"list_name": ""}, {"list_name": None}, {"list_name": {"a": 1}},
                                  {"name": "VIP"}])
def test_list_create_without_a_name_is_400_code_100(client, body):
    before = account_state(client)
    resp = client.post(LIST_CREATE, json=body, headers=AUTH)
    assert resp.status_code == 400
    assert resp.get_json()["code"] == 100
    assert "list_name" in resp.get_json()["message"]
    assert account_state(client) == before


# -- POST /v1/public/contact-list/empty ----------------------------------------------------
def test_list_empty_detaches_every_contact(client):
    seed_contacts(client)
    resp = client.post(LIST_EMPTY, json={"list_name": "L2"}, headers=AUTH)
    assert resp.status_code == 200
    assert resp.get_json() == {"list_name": "L2", "contacts_detached": 3, "contacts_deleted": 0}
    stored = contacts_by_phone(client)
    assert set(stored) == {A, B, C}
    assert (stored[A]["lists"], stored[B]["lists"], stored[C]["lists"]) == (["L1"], ["L1"], [])
    assert "L2" in names(client, "lists")  # the list itself stays, empty
    again = client.post(LIST_EMPTY, json={"list_name": "L2"}, headers=AUTH)
    assert again.get_json()["contacts_detached"] == 0


def test_list_empty_with_delete_contacts_deletes_them(client):
    seed_contacts(client)
    resp = client.post(LIST_EMPTY, json={"list_name": "L1", "delete_contacts": "true"}, headers=AUTH)
    assert resp.status_code == 200
    assert resp.get_json() == {"list_name": "L1", "contacts_detached": 2, "contacts_deleted": 2}
    assert set(contacts_by_phone(client)) == {C}
    assert last_notes(client) == [{"field": "delete_contacts", "sent": "true", "used": True,
                                   "rule": "text cast to boolean", "kind": "cast"}]


def test_list_empty_of_an_unknown_list_is_400_code_303(client):
    seed_contacts(client)
    before = account_state(client)
    resp = client.post(LIST_EMPTY, json={"list_name": "Nope", "delete_contacts": True}, headers=AUTH)
    assert resp.status_code == 400
    assert resp.get_json() == {"code": 303, "message": "The specified list does not exist: list_name 'Nope'"}
    assert account_state(client) == before


def test_list_empty_without_a_name_is_400_code_100(client):
    seed_contacts(client)
    before = account_state(client)
    resp = client.post(LIST_EMPTY, json={"delete_contacts": True}, headers=AUTH)
    assert resp.status_code == 400
    assert resp.get_json()["code"] == 100
    assert account_state(client) == before


# -- DELETE /v1/public/contact-list/delete ------------------------------------------------
def test_list_delete_removes_the_list_and_keeps_its_contacts_detached(client, engine):
    seed_contacts(client)
    engine.clock.freeze("2026-02-03T00:00:00Z")
    resp = client.delete(LIST_DELETE, json={"list_name": "L2"}, headers=AUTH)
    assert resp.status_code == 204 and resp.data == b""
    assert last_notes(client) == []
    assert names(client, "lists") == ["Newsletter", "L1"]
    stored = contacts_by_phone(client)
    assert set(stored) == {A, B, C}
    assert (stored[A]["lists"], stored[B]["lists"], stored[C]["lists"]) == (["L1"], ["L1"], [])
    assert stored[C]["updated_at"] == "2026-02-03T00:00:00.000Z"
    # the index follows: emptying L1 finds A and B; a new L2 is a new, empty list
    assert client.post(LIST_EMPTY, json={"list_name": "L1"}, headers=AUTH).get_json()["contacts_detached"] == 2
    assert client.post(LIST_CREATE, json={"list_name": "L2"}, headers=AUTH).status_code == 201
    assert client.post(LIST_EMPTY, json={"list_name": "L2"}, headers=AUTH).get_json()["contacts_detached"] == 0


def test_list_delete_of_an_empty_list_and_of_a_fixture_list(client):
    assert client.post(LIST_CREATE, json={"list_name": "Empty"}, headers=AUTH).status_code == 201
    assert client.delete(LIST_DELETE, json={"list_name": "Empty"}, headers=AUTH).status_code == 204
    assert client.delete(LIST_DELETE, json={"list_name": "Newsletter"}, headers=AUTH).status_code == 204
    assert names(client, "lists") == []


def test_list_delete_of_an_unknown_list_is_400_code_303_and_changes_nothing(client):
    seed_contacts(client)
    client.delete(LIST_DELETE, json={"list_name": "L1"}, headers=AUTH)
    before = account_state(client)
    for name in ("L1", "Nope", "l2"):
        resp = client.delete(LIST_DELETE, json={"list_name": name}, headers=AUTH)
        assert resp.status_code == 400
        assert resp.get_json() == {"code": 303, "message": f"The specified list does not exist: list_name {name!r}"}
    assert account_state(client) == before


@pytest.mark.parametrize("body", [{}, {"list_name": ""}, {"list_name": None}, {"list_name": ["L1"]},
                                  {"name": "L1"}])
def test_list_delete_without_a_name_is_400_code_100(client, body):
    seed_contacts(client)
    before = account_state(client)
    resp = client.delete(LIST_DELETE, json=body, headers=AUTH)
    assert resp.status_code == 400
    assert resp.get_json()["code"] == 100 and "list_name" in resp.get_json()["message"]
    assert account_state(client) == before


def test_list_delete_casts_like_the_other_endpoints(client):
    client.post(CREATE, json={"list_name": "2024", "contacts": [{"phone_number": A}]}, headers=AUTH)
    resp = client.delete(LIST_DELETE, json={"list_name": 2024, "delete_contacts": True}, headers=AUTH)
    assert resp.status_code == 204
    assert [(n["field"], n["rule"], n["kind"]) for n in last_notes(client)] == [
        ("list_name", "number cast to string", "cast"), ("delete_contacts", "unknown parameter ignored", "ignored")]
    assert contacts_by_phone(client)[A]["lists"] == []


def test_list_delete_needs_the_account_headers(client):
    seed_contacts(client)
    resp = client.delete(LIST_DELETE, json={"list_name": "L1"}, headers={"api-login": "demo@example.com"})
    assert resp.status_code == 401 and resp.get_json()["code"] == 108
    assert "L1" in names(client, "lists")
