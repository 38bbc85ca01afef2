"""POST /v1/public/contact/create: contacts keyed by phone, lists and tags, flags, response."""
from __future__ import annotations

import pytest

from .conftest import (
    AUTH,
    AUTH_UK,
    CREATE,
    account_state,
    contact,
    contacts_by_phone,
    journal,
    last_notes,
    names,
)

PUBLIC_CALLER = {  # what the public workflow components send, byte for byte in shape
    "list_name": "Leads",
    "contacts": [{"phone_number": "+33612345678", "first_name": "Ann", "last_name": "Lee"}],
    "tag_name": "web",
}


def create(client, body, headers=AUTH):
    return client.post(CREATE, json=body, headers=headers)


def test_public_caller_wire_shape_twice_leaves_one_contact(client, engine):
    engine.clock.freeze("2026-03-01T10:00:00Z")
    first = create(client, PUBLIC_CALLER)
    assert first.status_code == 201
    assert first.get_json() == {"contacts_created": 1, "contacts_updated": 0, "contacts_ignored": 0,
                                "lists": ["Leads"], "tags": ["web"], "ignored": []}
    engine.clock.advance(60)
    second = create(client, PUBLIC_CALLER)
    assert second.status_code == 201
    assert second.get_json()["contacts_created"] == 0
    assert second.get_json()["contacts_updated"] == 1
    state = account_state(client)
    assert state["contacts"] == [{
        "phone_number": "+33612345678", "first_name": "Ann", "last_name": "Lee",
        "param1": None, "param2": None, "param3": None, "param4": None, "param5": None,
        "lists": ["Leads"], "tags": ["web"], "blacklisted": False,
        "created_at": "2026-03-01T10:00:00.000Z", "updated_at": "2026-03-01T10:01:00.000Z"}]
    assert [doc["name"] for doc in state["lists"]] == ["Newsletter", "Leads"]
    assert [doc["name"] for doc in state["tags"]] == ["web"]
    assert last_notes(client) == []  # the public caller's shape needs no fix-up


def test_counts_created_updated_and_all_fields_stored(client):
    create(client, {"contacts": [contact("+33612345678", first_name="Ann")]})
    resp = create(client, {"contacts": [
        contact("+33612345678", last_name="Lee", param1="a"),
        contact("+33612345679", first_name="Bob", last_name="Ray", param1="1", param2="2", param3="3",
                param4="4", param5="5"),
    ]})
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["contacts_created"], body["contacts_updated"], body["contacts_ignored"]) == (1, 1, 0)
    stored = contacts_by_phone(client)
    ann = stored["+33612345678"]
    assert (ann["first_name"], ann["last_name"], ann["param1"]) == ("Ann", "Lee", "a")  # unsent fields kept
    bob = stored["+33612345679"]
    assert [bob[f"param{i}"] for i in range(1, 6)] == ["1", "2", "3", "4", "5"]


def test_lists_and_tags_created_on_demand_from_both_spellings(client):
    resp = create(client, {"list_name": "A", "list_names": ["B", "A", "C"], "tag_name": "t1",
                           "tag_names": ["t2", "t1"], "contacts": [contact()]})
    assert resp.get_json()["lists"] == ["A", "B", "C"]
    assert resp.get_json()["tags"] == ["t1", "t2"]
    assert names(client, "lists") == ["Newsletter", "A", "B", "C"]
    assert names(client, "tags") == ["t1", "t2"]
    stored = contacts_by_phone(client)["+33612345678"]
    assert (stored["lists"], stored["tags"]) == (["A", "B", "C"], ["t1", "t2"])
    lists = account_state(client)["lists"]
    assert all(len(doc["id"]) == 24 for doc in lists)
    assert len({doc["id"] for doc in lists}) == len(lists)


def test_attaching_more_lists_keeps_the_old_ones(client):
    create(client, {"list_name": "A", "tag_name": "x", "contacts": [contact()]})
    create(client, {"list_name": "B", "tag_name": "y", "contacts": [contact()]})
    stored = contacts_by_phone(client)["+33612345678"]
    assert (stored["lists"], stored["tags"]) == (["A", "B"], ["x", "y"])


def test_un_list_detaches_every_list_of_the_given_contacts_first(client):
    create(client, {"list_names": ["A", "B"], "tag_name": "x", "contacts": [contact(), contact("+33612345679")]})
    create(client, {"list_name": "C", "un_list": True, "contacts": [contact()]})
    stored = contacts_by_phone(client)
    assert stored["+33612345678"]["lists"] == ["C"]
    assert stored["+33612345678"]["tags"] == ["x"]  # un_list leaves tags alone
    assert stored["+33612345679"]["lists"] == ["A", "B"]  # not in the call: untouched
    assert names(client, "lists") == ["Newsletter", "A", "B", "C"]  # lists themselves stay
    create(client, {"un_list": True, "contacts": [contact()]})
    assert contacts_by_phone(client)["+33612345678"]["lists"] == []


def test_un_tag_detaches_every_tag_of_the_given_contacts_first(client):
    create(client, {"tag_names": ["x", "y"], "list_name": "A", "contacts": [contact()]})
    create(client, {"tag_name": "z", "un_tag": True, "contacts": [contact()]})
    stored = contacts_by_phone(client)["+33612345678"]
    assert stored["tags"] == ["z"]
    assert stored["lists"] == ["A"]


def test_do_not_overwrite_skips_existing_numbers_entirely(client):
    create(client, {"list_name": "A", "tag_name": "x", "contacts": [contact(first_name="Ann")]})
    before = contacts_by_phone(client)["+33612345678"]
    resp = create(client, {"do_not_overwrite": True, "list_name": "B", "un_tag": True, "contacts": [
        contact(first_name="Changed"), contact("+33612345679", first_name="New")]})
    body = resp.get_json()
    assert (body["contacts_created"], body["contacts_updated"], body["contacts_ignored"]) == (1, 0, 1)
    assert body["ignored"] == [{"index": 0, "phone_number": "+33612345678",
                                "reason": "already exists (do_not_overwrite)"}]
    stored = contacts_by_phone(client)
    assert stored["+33612345678"] == before
    assert stored["+33612345679"]["first_name"] == "New"
    assert stored["+33612345679"]["lists"] == ["B"]


def test_without_do_not_overwrite_later_values_win(client):
    create(client, {"contacts": [contact(first_name="Ann", last_name="Lee")]})
    create(client, {"do_not_overwrite": False, "contacts": [contact(first_name="Anne")]})
    stored = contacts_by_phone(client)["+33612345678"]
    assert (stored["first_name"], stored["last_name"]) == ("Anne", "Lee")


def test_same_number_twice_in_one_call_is_one_contact_later_values_win(client):
    resp = create(client, {"contacts": [contact("0612345678", first_name="Ann", last_name="Lee"),
                                        contact("+33 6 12 34 56 78", first_name="Anne")]})
    body = resp.get_json()
    assert (body["contacts_created"], body["contacts_updated"], body["contacts_ignored"]) == (1, 0, 0)
    stored = account_state(client)["contacts"]
    assert len(stored) == 1
    assert (stored[0]["first_name"], stored[0]["last_name"]) == ("Anne", "Lee")
    assert {"field": "contacts[0]", "sent": "+33612345678", "used": None,
            "rule": "same number again at contacts[1]: one contact, later values win", "kind": "ignored"} in last_notes(client)


def test_same_number_twice_with_do_not_overwrite_keeps_the_first(client):
    resp = create(client, {"do_not_overwrite": "yes", "contacts": [contact(first_name="Ann"),
                                                                   contact(first_name="Anne")]})
    body = resp.get_json()
    assert body["ignored"] == [{"index": 1, "phone_number": "+33612345678",
                                "reason": "already in this call (do_not_overwrite)"}]
    assert contacts_by_phone(client)["+33612345678"]["first_name"] == "Ann"


def test_blacklisted_number_is_stored_and_flagged_without_the_flag(client):
    resp = create(client, {"list_name": "A", "contacts": [contact("+33600000000"), contact()]})
    assert resp.get_json()["contacts_created"] == 2
    stored = contacts_by_phone(client)
    assert stored["+33600000000"]["blacklisted"] is True
    assert stored["+33612345678"]["blacklisted"] is False


@pytest.mark.parametrize("flag", ["auto_remove_blacklisted_numbers", "auto_delete_optout_contacts"])
def test_blacklisted_numbers_are_left_out_with_either_flag_name(client, flag):
    resp = create(client, {flag: True, "list_name": "A",
                           "contacts": [contact("06 00 00 00 00"), contact()]})
    body = resp.get_json()
    assert resp.status_code == 201
    assert (body["contacts_created"], body["contacts_ignored"]) == (1, 1)
    assert body["ignored"] == [{"index": 0, "phone_number": "+33600000000", "reason": "blacklisted"}]
    assert set(contacts_by_phone(client)) == {"+33612345678"}


def test_only_blacklisted_numbers_with_the_flag_is_still_accepted(client):
    resp = create(client, {"auto_delete_optout_contacts": "true", "contacts": [contact("+33600000000")]})
    assert resp.status_code == 201
    assert resp.get_json()["contacts_ignored"] == 1
    assert account_state(client)["contacts"] == []


def test_invalid_contacts_are_skipped_and_reported(client):
    resp = create(client, {"contacts": [contact("abc"), "not an object", {"first_name": "No phone"},
                                        contact(), contact("+33612"), contact({"nested": 1})]})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["contacts_created"] == 1
    assert body["contacts_ignored"] == 5
    assert body["ignored"] == [
        {"index": 0, "phone_number": "abc", "reason": "not a phone number"},
        {"index": 1, "phone_number": None, "reason": "not a contact object"},
        {"index": 2, "phone_number": None, "reason": "phone_number missing"},
        {"index": 4, "phone_number": "+33612", "reason": "not a valid phone number"},
        {"index": 5, "phone_number": {"nested": 1}, "reason": "not a phone number"},
    ]
    assert set(contacts_by_phone(client)) == {"+33612345678"}


@pytest.mark.parametrize("body", [
    {},
    {"list_name": "Leads"},
    {"contacts": []},
    {"contacts": None},
    {"contacts": "+33612345678"},
    {"contacts": 42},
    {"contacts": True},
])
def test_no_contacts_at_all_is_400_code_110_and_nothing_stored(client, body):
    before = account_state(client)
    resp = create(client, body)
    assert resp.status_code == 400
    assert resp.get_json()["code"] == 110
    assert "contacts" in resp.get_json()["message"]
    assert account_state(client) == before


@pytest.mark.parametrize("contacts", [
    [contact("abc")],
    [{"first_name": "Ann"}],
    ["+33612345678", 42],
    [contact("12")],
])
def test_no_usable_phone_number_is_400_code_117_and_nothing_stored(client, contacts):
    before = account_state(client)
    resp = create(client, {"list_name": "NotCreated", "tag_name": "nope", "contacts": contacts})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["code"] == 117
    assert "phone_number" in body["message"]
    assert account_state(client) == before


def test_more_than_500_contacts_is_refused_with_code_305(client):
    before = account_state(client)
    resp = create(client, {"contacts": [contact(f"+336123{i:05d}") for i in range(501)]})
    assert resp.status_code == 400
    assert resp.get_json() == {"code": 305, "message": "There are too many contacts in the query: contacts: "
                                                      "at most 500 per call, got 501"}
    assert account_state(client) == before
    resp = create(client, {"contacts": [contact(f"+336123{i:05d}") for i in range(500)]})
    assert resp.status_code == 201
    assert len(account_state(client)["contacts"]) == 500


def test_fixture_switch_answers_200(client):
    resp = create(client, PUBLIC_CALLER, headers={"api-login": "legacy@example.com", "api-key": "legacy-key"})
    assert resp.status_code == 200
    assert resp.get_json()["contacts_created"] == 1


def test_accounts_are_isolated_and_use_their_own_default_country(client):
    create(client, {"list_name": "A", "contacts": [contact("0612345678")]})
    resp = create(client, {"contacts": [contact("07400 123456")]}, headers=AUTH_UK)
    assert resp.status_code == 201
    assert set(contacts_by_phone(client, "uk")) == {"+447400123456"}
    assert set(contacts_by_phone(client, "demo")) == {"+33612345678"}
    assert account_state(client, "uk")["lists"] == []
    # a French national number is not valid in GB: the UK account cannot read it
    resp = create(client, {"contacts": [contact("0612345678")]}, headers=AUTH_UK)
    assert resp.status_code == 400
    assert resp.get_json()["code"] == 117
    assert "in GB" in resp.get_json()["message"]


def test_journal_records_the_request_and_its_response(client):
    create(client, PUBLIC_CALLER)
    entry = journal(client)[-1]
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/v1/public/contact/create", 201)
    assert entry["body"] == PUBLIC_CALLER
    assert entry["response"]["contacts_created"] == 1
