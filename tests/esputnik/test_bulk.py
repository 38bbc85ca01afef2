"""POST /contacts: asynchronous sessions, dedupeOn, contactFields, groups, restoreDeleted, events."""
from __future__ import annotations

import pytest

from .conftest import (
    API,
    AUTH,
    account_state,
    assert_error,
    bulk,
    by_email,
    contact,
    email,
    events,
    run_bulk,
    sms,
    status,
    stored,
)


def add(client, body) -> int:
    resp = client.post(f"{API}/contact", json=body, auth=AUTH)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["id"]


def test_session_is_processing_until_the_clock_passes_the_delay(make_app):
    from emulator.vendors.esputnik import VENDOR

    from .conftest import esputnik_fixture

    client = make_app(vendors=[VENDOR], fixture=esputnik_fixture(processing_delay_s=30)).test_client()
    client.post("/_emulator/clock", json={"freeze": "2026-05-01T00:00:00Z"})
    resp, session = bulk(client, {"contacts": [contact(email("a@example.com")), contact(email("b@example.com"))]})
    assert resp.get_json() == {"id": 0, "asyncSessionId": session}
    assert status(client, session) == {"asyncSessionId": session, "status": "PROCESSING", "mapping": [],
                                       "failedContacts": []}
    assert stored(client) == []
    client.post("/_emulator/clock", json={"advance": 29})
    assert status(client, session)["status"] == "PROCESSING"
    client.post("/_emulator/clock", json={"advance": 1})
    done = status(client, session)
    assert done["status"] == "FINISHED"
    ids = {c["channels"][0]["value"]: c["id"] for c in stored(client)}
    assert done["mapping"] == [{"dedupeValue": "a@example.com", "contactId": ids["a@example.com"]},
                               {"dedupeValue": "b@example.com", "contactId": ids["b@example.com"]}]
    [session_doc] = account_state(client)["sessions"]
    assert (session_doc["status"], session_doc["created"], session_doc["finished"]) == (
        "FINISHED", "2026-05-01T00:00:00.000Z", "2026-05-01T00:00:30.000Z")


def test_default_delay_zero_finishes_before_the_next_request(client):
    _, session = bulk(client, {"contacts": [contact(email("now@example.com"))]})
    assert status(client, session)["status"] == "FINISHED"


def test_created_contacts_are_confirmed_and_log_no_subscribe_event(client):
    run_bulk(client, {"contacts": [contact(email("c@example.com"), firstName="Ann")]})
    assert by_email(client)["c@example.com"]["channels"][0]["confirmed"] is True
    assert events(client) == []


def test_unknown_session_is_404(client):
    assert_error(client.get(f"{API}/importstatus/nope", auth=AUTH), 404, "nope")


def test_sessions_belong_to_their_account(client):
    _, session = bulk(client, {"contacts": [contact(email("a@example.com"))]})
    assert client.get(f"{API}/importstatus/{session}", auth=("", "other-key")).status_code == 404


def test_dedupe_on_email_updates_instead_of_duplicating(client):
    first = add(client, contact(email("ann@example.com"), firstName="Ann", lastName="Lee"))
    result = run_bulk(client, {"contacts": [contact(email("ANN@example.com"), firstName="Anna"),
                                            contact(email("new@example.com"))]})
    docs = by_email(client)
    assert len(stored(client)) == 2
    assert (docs["ann@example.com"]["firstName"], docs["ann@example.com"]["lastName"]) == ("Anna", "Lee")
    assert [m["contactId"] for m in result["mapping"]] == [first, docs["new@example.com"]["id"]]


def test_the_same_contact_twice_in_one_call_is_one_contact(client):
    result = run_bulk(client, {"contacts": [contact(email("twice@example.com"), firstName="Ann"),
                                            contact(email("Twice@Example.com"), lastName="Lee")]})
    [doc] = stored(client)
    assert (doc["firstName"], doc["lastName"]) == ("Ann", "Lee")
    assert [m["contactId"] for m in result["mapping"]] == [doc["id"], doc["id"]]
    post = client.get("/_emulator/requests?vendor=esputnik&method=POST").get_json()["requests"][-1]
    assert {"field": "contacts[1]", "sent": "twice@example.com", "used": "contacts[0]",
            "rule": "the same contact twice in one request: merged into one, later values win", "kind": "unverified"} in post["notes"]


@pytest.mark.parametrize("dedupe, existing, incoming", [
    ("email", contact(email("m@example.com")), contact(email("m@example.com"), sms("380501112233"))),
    ("sms", contact(sms("380501112233")), contact(sms("+380501112233"), email("x@example.com"))),
    ("email_or_sms", contact(sms("380501112233")), contact(email("x@example.com"), sms("380501112233"))),
    ("email_or_sms", contact(email("m@example.com")), contact(email("m@example.com"), sms("380501112233"))),
    ("push", contact({"type": "mobilepush", "value": "tok"}), contact({"type": "mobilepush", "value": "tok"},
                                                                       email("x@example.com"))),
    ("webpush", contact({"type": "webpush", "value": "w"}), contact({"type": "webPush", "value": "w"},
                                                                     email("x@example.com"))),
    ("externalCustomerId", contact(email("m@example.com"), externalCustomerId="crm-1"),
     contact(email("x@example.com"), externalCustomerId="crm-1")),
])
def test_dedupe_on_each_key(client, dedupe, existing, incoming):
    first = add(client, existing)
    result = run_bulk(client, {"contacts": [{**incoming, "firstName": "Matched"}], "dedupeOn": dedupe})
    assert result["mapping"][0]["contactId"] == first
    [doc] = stored(client)
    assert doc["firstName"] == "Matched"


def test_email_or_sms_tries_the_phone_first(client):
    by_mail = add(client, contact(email("a@example.com")))
    by_phone = add(client, contact(sms("380501112233")))
    result = run_bulk(client, {"contacts": [contact(email("a@example.com"), sms("380501112233"), firstName="X")],
                               "dedupeOn": "email_or_sms"})
    assert result["mapping"][0]["contactId"] == by_phone != by_mail


def test_dedupe_on_sms_creates_when_only_the_email_is_known(client):
    add(client, contact(email("shared@example.com"), sms("380500000001")))
    run_bulk(client, {"contacts": [contact(email("shared@example.com"), sms("380500000002"))], "dedupeOn": "sms"})
    assert len(stored(client)) == 2  # the vendor keeps both: dedupe was on the phone


def test_dedupe_on_id(client):
    first = add(client, contact(email("id@example.com")))
    result = run_bulk(client, {"contacts": [{"id": first, "firstName": "ById"}, {"id": "999999", "firstName": "X"},
                                            {"firstName": "NoId"}], "dedupeOn": "id"})
    assert [m["contactId"] for m in result["mapping"]] == [first]
    assert [(f["index"], f["errorCode"]) for f in result["failedContacts"]] == [(1, "CONTACT_NOT_FOUND"),
                                                                                 (2, "NO_DEDUPE_KEY")]
    assert "no id to dedupe on" in result["failedContacts"][1]["message"]
    [doc] = stored(client)
    assert doc["firstName"] == "ById"


def test_dedupe_on_a_custom_field(client):
    first = add(client, contact(email("f@example.com"), fields=[{"id": 12345, "value": "C-1"}]))
    result = run_bulk(client, {"contacts": [contact(email("other@example.com"), fields=[{"id": 12345, "value": "C-1"}],
                                                    firstName="ByField"),
                                            contact(email("nofield@example.com"))],
                               "dedupeOn": "fieldId", "fieldId": 12345})
    assert result["mapping"][0]["contactId"] == first
    assert result["failedContacts"][0]["index"] == 1
    assert "no value for custom field 12345" in result["failedContacts"][0]["message"]
    doc = next(d for d in stored(client) if d["id"] == first)
    assert doc["firstName"] == "ByField"
    assert doc["channels"][0]["value"] == "other@example.com"


def test_dedupe_on_an_undeclared_custom_field_fails_every_record(client):
    result = run_bulk(client, {"contacts": [contact(email("a@example.com"), fields=[{"id": 12345, "value": "x"}])],
                               "dedupeOn": "fieldId", "fieldId": 777})
    assert result["mapping"] == []
    assert "custom field 777 is not declared" in result["failedContacts"][0]["message"]
    assert stored(client) == []


def test_external_id_has_priority_over_dedupe_on(client):
    by_ext = add(client, contact(email("ext@example.com"), externalCustomerId="crm-7"))
    by_mail = add(client, contact(email("mail@example.com")))
    result = run_bulk(client, {"contacts": [contact(email("mail@example.com"), externalCustomerId="crm-7",
                                                    firstName="Ext")], "dedupeOn": "email"})
    assert result["mapping"][0]["contactId"] == by_ext != by_mail
    # a new externalCustomerId creates, even though the email is known
    result = run_bulk(client, {"contacts": [contact(email("mail@example.com"), externalCustomerId="crm-8")]})
    assert result["mapping"][0]["contactId"] not in (by_ext, by_mail)
    assert len(stored(client)) == 3


def test_the_field_matched_on_is_not_updated(client):
    first = add(client, contact(email("m@example.com"), externalCustomerId="crm-1"))
    run_bulk(client, {"contacts": [contact(email("M@EXAMPLE.com"), firstName="X")]})
    [doc] = stored(client)
    assert doc["id"] == first and doc["channels"][0]["value"] == "m@example.com"


def test_contact_fields_limit_the_update_and_clear_listed_fields_not_sent(client):
    add(client, contact(email("cf@example.com"), sms("380501112233"), firstName="Ann", lastName="Lee",
                        address={"town": "London"}, fields=[{"id": 12345, "value": "Kyiv"}, {"id": 12346, "value": "1990"}]))
    run_bulk(client, {"contacts": [contact(email("cf@example.com"), firstName="Anna", lastName="Smith",
                                           fields=[{"id": 12345, "value": "Lviv"}, {"id": 12346, "value": "2000"}])],
                      "contactFields": ["firstName", "sms", "address"], "customFieldsIDs": [12346]})
    [doc] = stored(client)
    assert (doc["firstName"], doc["lastName"]) == ("Anna", "Lee")       # lastName not listed: kept
    assert doc["channels"] == [{"type": "email", "value": "cf@example.com", "confirmed": True}]  # sms listed: null
    assert doc["address"] is None
    assert doc["fields"] == [{"id": 12345, "value": "Kyiv"}, {"id": 12346, "value": "2000"}]


def test_an_external_id_cleared_and_taken_in_one_call(client):
    old = add(client, contact(email("x@example.com"), externalCustomerId="crm-a"))
    result = run_bulk(client, {"contacts": [contact(email("x@example.com")),
                                            contact(email("y@example.com"), externalCustomerId="crm-a")],
                               "contactFields": ["externalCustomerId"]})
    assert result["failedContacts"] == []
    docs = by_email(client)
    assert docs["x@example.com"]["id"] == old and docs["x@example.com"]["externalCustomerId"] is None
    assert docs["y@example.com"]["externalCustomerId"] == "crm-a"
    assert result["mapping"][1]["contactId"] == docs["y@example.com"]["id"] != old


def test_without_contact_fields_every_sent_field_is_written(client):
    add(client, contact(email("all@example.com"), firstName="Ann", lastName="Lee"))
    run_bulk(client, {"contacts": [contact(email("all@example.com"), firstName="Anna")]})
    [doc] = stored(client)
    assert (doc["firstName"], doc["lastName"]) == ("Anna", "Lee")


def test_group_names_add_and_exclude(client):
    first = add(client, contact(email("g@example.com")))
    client.post(f"{API}/contact/subscribe", json={"contact": contact(email("g@example.com")), "groups": ["Subscribers"]},
                auth=AUTH)
    run_bulk(client, {"contacts": [contact(email("g@example.com")), contact(email("h@example.com"))],
                      "groupNames": ["Customers", "Imported"], "groupNamesExclude": ["Subscribers"]})
    docs = by_email(client)
    assert docs["g@example.com"]["id"] == first
    assert [g["name"] for g in docs["g@example.com"]["groups"]] == ["Customers", "Imported"]
    assert [g["name"] for g in docs["h@example.com"]["groups"]] == ["Customers", "Imported"]
    assert "Imported" in [g["name"] for g in account_state(client)["groups"]]


@pytest.mark.parametrize("restore", [True, False])
def test_restore_deleted(client, restore):
    deleted = add(client, contact(email("del@example.com"), firstName="Old"))
    client.delete(f"{API}/contact/{deleted}", auth=AUTH)
    result = run_bulk(client, {"contacts": [contact(email("del@example.com"), firstName="New")],
                               "restoreDeleted": restore, "eventKeyForNewContacts": "newContact"})
    [doc] = stored(client)
    assert doc["id"] == deleted
    assert events(client) == []  # a restored contact is not a new one
    if restore:
        assert (doc["deleted"], doc["firstName"]) == (False, "New")
        assert result["mapping"][0]["contactId"] == deleted and result["failedContacts"] == []
    else:
        assert (doc["deleted"], doc["firstName"]) == (True, "Old")
        assert result["mapping"] == []
        assert result["failedContacts"] == [{"index": 0, "contact": contact(email("del@example.com"), firstName="New"),
                                             "errorCode": "CONTACT_DELETED",
                                             "message": f"contact {deleted} is deleted and restoreDeleted is false"}]


def test_event_per_new_contact(client, engine):
    engine.clock.freeze("2026-06-01T12:00:00Z")
    existing = add(client, contact(email("old@example.com")))
    run_bulk(client, {"contacts": [contact(email("old@example.com")), contact(email("new@example.com"),
                                                                              sms("380501112233")),
                                   contact(sms("380501112234"))], "eventKeyForNewContacts": "newContact",
                      "dedupeOn": "email_or_sms"})
    ids = {d["id"] for d in stored(client)} - {existing}
    got = events(client)
    assert [e["key"] for e in got] == ["new@example.com", "380501112234"]
    assert {e["params"]["contactId"] for e in got} == ids
    assert got[0] == {"type": "newContact", "key": "new@example.com",
                      "params": {"contactId": got[0]["params"]["contactId"], "EmailAddress": "new@example.com",
                                 "SMS": "380501112233"}, "at": "2026-06-01T12:00:00.000Z"}
    assert got[1]["params"]["EmailAddress"] == ""


@pytest.mark.parametrize("records, codes", [
    ([{"channels": []}], ["NO_DEDUPE_KEY"]),
    ([contact(sms("380501112233"))], ["NO_DEDUPE_KEY"]),
    (["not a contact"], ["INVALID_CONTACT"]),
    ([None], ["INVALID_CONTACT"]),
    ([contact(email("bad@"))], ["INVALID_EMAIL"]),
    ([contact(email("a@example.com"), firstName="123")], ["INVALID_NAME"]),
    ([contact(sms("abc"))], ["INVALID_PHONE"]),
    ([{"channels": "a@example.com"}], ["INVALID_CONTACT"]),
    ([contact(email("a@example.com"), address=[1])], ["INVALID_ADDRESS"]),
    ([{"externalCustomerId": "only-ext"}], ["NO_CHANNEL"]),
])
def test_records_that_cannot_be_imported_go_to_failed_contacts(client, records, codes):
    resp, session = bulk(client, {"contacts": records + [contact(email("good@example.com"))]})
    result = status(client, session)
    assert [f["errorCode"] for f in result["failedContacts"]] == codes
    assert [f["index"] for f in result["failedContacts"]] == [0]
    assert result["failedContacts"][0]["contact"] == records[0]
    assert result["mapping"] == [{"dedupeValue": "good@example.com",
                                  "contactId": by_email(client)["good@example.com"]["id"]}]
    assert list(by_email(client)) == ["good@example.com"]
    request_time = resp.get_json().get("failedContacts", [])
    assert all(f in result["failedContacts"] for f in request_time)


def test_failures_known_at_request_time_are_in_the_response(client):
    resp, session = bulk(client, {"contacts": [contact(email("a@example.com")), contact(email("x@"))]})
    assert resp.get_json()["failedContacts"][0]["index"] == 1
    assert "contacts[1].channels[0].value" in resp.get_json()["failedContacts"][0]["message"]
    assert status(client, session)["failedContacts"] == resp.get_json()["failedContacts"]


@pytest.mark.parametrize("body, words", [
    ({}, ["contacts is required"]),
    ({"contacts": None}, ["contacts is required"]),
    ({"contacts": "a@example.com"}, ["contacts is required", "str"]),
    ({"contacts": {"channels": []}}, ["contacts is required", "dict"]),
    ({"contacts": []}, ["1 to 3000", "got 0"]),
    ({"contacts": [contact(email(f"{i}@example.com")) for i in range(3001)]}, ["1 to 3000", "got 3001"]),
    ({"contacts": [contact(email("a@example.com"))], "dedupeOn": "phone"}, ["dedupeOn", "email_or_sms"]),
    ({"contacts": [contact(email("a@example.com"))], "dedupeOn": 1}, ["dedupeOn"]),
    ({"contacts": [contact(email("a@example.com"))], "dedupeOn": "fieldId"}, ["fieldId is required"]),
    ({"contacts": [contact(email("a@example.com"))], "dedupeOn": "fieldId", "fieldId": "x"}, ["fieldId", "integer"]),
    ({"contacts": [contact(email("a@example.com"))], "groupNames": "Customers"}, ["groupNames", "array"]),
    ({"contacts": [contact(email("a@example.com"))], "groupNames": [""]}, ["groupNames[0]"]),
    ({"contacts": [contact(email("a@example.com"))], "groupNamesExclude": [None]}, ["groupNamesExclude[0]"]),
    ({"contacts": [contact(email("a@example.com"))], "groupNames": ["Active"]}, ["groupNames", "Dynamic"]),
    ({"contacts": [contact(email("a@example.com"))], "restoreDeleted": "yes"}, ["restoreDeleted", "true or false"]),
    ({"contacts": [contact(email("a@example.com"))], "contactFields": "firstName"}, ["contactFields", "array"]),
    ({"contacts": [contact(email("a@example.com"))], "customFieldsIDs": ["x"]}, ["customFieldsIDs[0]", "integer"]),
    ({"contacts": [contact(email("a@example.com"))], "customFieldsIDs": 5}, ["customFieldsIDs", "array"]),
    ({"contacts": [contact(email("a@example.com"))], "eventKeyForNewContacts": "x" * 101}, ["eventKeyForNewContacts",
                                                                                           "1 to 100"]),
    ({"contacts": [contact(email("a@example.com"))], "eventKeyForNewContacts": ""}, ["eventKeyForNewContacts"]),
    ({"contacts": [contact(email("a@example.com"))], "eventKeyForNewContacts": 5}, ["eventKeyForNewContacts"]),
])
def test_bad_requests_are_400_and_start_no_session(client, body, words):
    before = account_state(client)
    assert_error(client.post(f"{API}/contacts", json=body, auth=AUTH), 400, *words)
    assert account_state(client) == before


@pytest.mark.parametrize("char", list("<;’\\/|\"`'^?!,>"))
def test_event_key_forbidden_characters(client, char):
    body = {"contacts": [contact(email("a@example.com"))], "eventKeyForNewContacts": f"new{char}Contact"}
    assert_error(client.post(f"{API}/contacts", json=body, auth=AUTH), 400, "eventKeyForNewContacts", "must not")
    assert account_state(client)["sessions"] == []


def test_three_thousand_contacts_in_one_call(client):
    result = run_bulk(client, {"contacts": [contact(email(f"u{i}@example.com")) for i in range(3000)]})
    assert len(result["mapping"]) == 3000 and len(stored(client)) == 3000
    assert len({m["contactId"] for m in result["mapping"]}) == 3000


def test_only_contacts_is_required_and_options_are_lenient_with_notes(client):
    _, session = bulk(client, {"contacts": [contact(email("a@example.com"))], "restoreDeleted": "true",
                               "contactFields": ["firstName", "nickname", "webPush"], "fieldId": 1,
                               "customFieldsIDs": ["12345"], "priority": "high"})
    notes = {(n["field"], n["rule"]) for n in
             client.get("/_emulator/requests?vendor=esputnik").get_json()["requests"][-1]["notes"]}
    assert ("restoreDeleted", "boolean sent as text read as a boolean") in notes
    assert ("priority", "unknown request key ignored") in notes
    assert ("fieldId", "ignored: dedupeOn is not fieldId") in notes
    assert ("customFieldsIDs[0]", "integer sent as text read as a number") in notes
    assert not any(f == "contactFields[2]" for f, _ in notes)  # webPush: the vendor's other spelling
    assert any(f == "contactFields[1]" and r.startswith("unknown standard field ignored") for f, r in notes)
    assert status(client, session)["status"] == "FINISHED"


def test_same_seed_and_requests_give_the_same_state(make_app):
    from emulator.vendors.esputnik import VENDOR

    from .conftest import FIXTURE

    def run():
        client = make_app(vendors=[VENDOR], fixture=FIXTURE).test_client()
        client.post("/_emulator/clock", json={"freeze": "2026-01-02T00:00:00Z"})
        client.post(f"{API}/contact/subscribe", json={"contact": contact(email("s@example.com")),
                                                      "groups": ["New"]}, auth=AUTH)
        bulk(client, {"contacts": [contact(email(f"{i}@example.com")) for i in range(5)],
                      "eventKeyForNewContacts": "imported", "groupNames": ["Customers"]})
        return client.get("/_emulator/state?vendor=esputnik").get_data()

    assert run() == run()
