"""POST /contact/bulk: the queued job on the emulator clock, matching on user_id, validation credits."""
from __future__ import annotations

import re

import pytest

from emulator.core.store import Collection

from .conftest import Api, credits, state, stored_contacts

SAMPLE = [
    {"name_first": "John", "name_last": "Doe", "email": "johndoe@example.com",
     "phone_countrycode": "44", "phone_number": "7712345678"},
    {"name_first": "John", "name_last": "Doe", "email": "johndoe@example.com",
     "phone_countrycode": "44", "phone_number": "7712345678"},
]


def test_the_vendor_sample_answers_201_queue(client, api):
    resp = api.post("/contact/bulk", {"webhook_url": "https://requestb.in/qxvaw0qx", "match_contact_user_id": False,
                                      "validate_emails": False, "contacts_webhook_extra_fields": ["name_first"],
                                      "contacts": SAMPLE})
    assert resp.status_code == 201
    bulk = resp.get_json()["bulk"]
    assert re.fullmatch(r"[0-9a-f]{24}", bulk["_id"])
    assert bulk == {"_id": bulk["_id"], "number_of_contacts": 2, "match_contact_user_id": False,
                    "validate_emails": False, "contacts_webhook_extra_fields": ["name_first"],
                    "webhook_url": "https://requestb.in/qxvaw0qx", "status": "queue"}


def test_with_delay_0_the_job_is_finished_before_the_next_request(client, api):
    bulk = api.bulk(SAMPLE)
    shown = api.get(f"/contact/bulk/{bulk['_id']}")
    assert shown.status_code == 200
    assert shown.get_json()["bulk"] == {**bulk, "status": "finished", "contacts_valid_count": 2,
                                        "contacts_failed_count": 0}
    contacts = stored_contacts(client)
    assert len(contacts) == 2 and contacts[0]["id"] != contacts[1]["id"]  # no dedupe without matching


def test_queue_processing_finished_on_the_emulator_clock(client):
    slow = Api(client, "slow")
    client.post("/_emulator/clock", json={"freeze": "2026-04-01T00:00:00Z"})
    bulk = slow.bulk([{"email": "a@example.com"}])

    def status():
        return slow.get(f"/contact/bulk/{bulk['_id']}").get_json()["bulk"]["status"]

    assert status() == "queue"
    client.post("/_emulator/clock", json={"advance": 29})
    assert status() == "queue"
    client.post("/_emulator/clock", json={"advance": 1})
    assert status() == "processing"
    assert stored_contacts(client, "slow") == []
    client.post("/_emulator/clock", json={"advance": 30})
    assert status() == "finished"
    stored = state(client, "slow")
    assert [c["email"] for c in stored["contacts"]] == ["a@example.com"]
    assert stored["contacts"][0]["created_at"] == "2026-04-01T00:01:00.000Z"
    assert stored["bulks"][0]["started_at"] == "2026-04-01T00:00:30.000Z"
    assert stored["bulks"][0]["finished_at"] == "2026-04-01T00:01:00.000Z"


def test_an_invalid_contact_fails_alone(client, api):
    bulk = api.bulk([{"email": "ok@example.com"}, {"name_first": "nobody"}, {"email": "x@example.com", "gender": "?"},
                     "not a contact", {"phone": "+33612345678"}])
    shown = api.get(f"/contact/bulk/{bulk['_id']}").get_json()["bulk"]
    assert (shown["contacts_valid_count"], shown["contacts_failed_count"]) == (2, 3)
    assert sorted(c.get("email", "-") for c in stored_contacts(client)) == ["-", "ok@example.com"]
    failed = state(client)["bulks"][0]["failed_contacts"]
    assert failed == [
        {"contact": {"name_first": "nobody"},
         "errors": ["either email or phone (phone_countrycode and phone_number) is required"]},
        {"contact": {"email": "x@example.com", "gender": "?"}, "errors": ["gender: must be MALE or FEMALE"]},
        {"contact": "not a contact", "errors": ["contact: must be an object, got a string"]},
    ]


def test_match_contact_user_id_updates_the_contact_with_that_user_id(client, api):
    existing = api.create(email="old@example.com", user_id="u1", city="Paris")
    bulk = api.bulk([{"user_id": "u1", "email": "new@example.com", "name_first": "Ann"},
                     {"user_id": "u2", "email": "two@example.com"},
                     {"user_id": "u2", "name_last": "Twice", "phone": "+447712345678"},
                     {"email": "no-user@example.com"}], match_contact_user_id=True)
    assert api.get(f"/contact/bulk/{bulk['_id']}").get_json()["bulk"]["contacts_valid_count"] == 4
    contacts = stored_contacts(client)
    assert len(contacts) == 3
    updated = contacts[0]
    assert updated["id"] == existing["id"]
    assert (updated["email"], updated["city"], updated["name_first"]) == ("new@example.com", "Paris", "Ann")
    assert {k: contacts[1][k] for k in ("user_id", "email", "name_last", "phone_number")} == {
        "user_id": "u2", "email": "two@example.com", "name_last": "Twice", "phone_number": "7712345678"}
    bulk_doc = state(client)["bulks"][0]
    assert (bulk_doc["contacts_created"], bulk_doc["contacts_updated"]) == (2, 1)


def test_each_contact_of_a_matching_bulk_still_needs_an_identity(client, api):
    api.create(email="old@example.com", user_id="u1")
    bulk = api.bulk([{"user_id": "u1", "city": "Rome"}], match_contact_user_id=True)
    shown = api.get(f"/contact/bulk/{bulk['_id']}").get_json()["bulk"]
    assert (shown["contacts_valid_count"], shown["contacts_failed_count"]) == (0, 1)
    assert "city" not in stored_contacts(client)[0]


def test_without_matching_the_same_user_id_creates_a_new_contact(client, api):
    api.create(email="old@example.com", user_id="u1")
    api.bulk([{"user_id": "u1", "email": "new@example.com"}])
    api.get("/balance/current")
    assert [c["email"] for c in stored_contacts(client)] == ["old@example.com", "new@example.com"]


def test_match_uses_the_user_id_index_not_a_scan(client, api, monkeypatch):
    api.create(email="old@example.com", user_id="u1")
    scanned = []
    for method in ("scan", "all"):
        original = getattr(Collection, method)

        def spy(self, _original=original):
            if self.name.endswith(":contacts"):
                scanned.append(self.name)
            return _original(self)

        monkeypatch.setattr(Collection, method, spy)
    bulk = api.bulk([{"user_id": "u1", "name_first": "Ann", "email": "old@example.com"}, {"email": "old@example.com"}],
                    match_contact_user_id=True)
    assert api.get(f"/contact/bulk/{bulk['_id']}").get_json()["bulk"]["status"] == "finished"
    assert scanned == []
    monkeypatch.undo()
    assert len(stored_contacts(client)) == 2


def test_the_job_writes_its_contacts_with_one_write_many(client, api, monkeypatch):
    calls = []
    original = Collection.write_many

    def spy(self, inserts=(), replaces=None):
        inserts = list(inserts)
        calls.append((self.name, len(inserts), len(replaces or {})))
        return original(self, inserts, replaces)

    api.create(email="a@example.com", user_id="u1")
    monkeypatch.setattr(Collection, "write_many", spy)
    api.bulk([{"email": f"c{i}@example.com"} for i in range(50)] + [{"user_id": "u1", "city": "Rome", "email": "a@example.com"}],
             match_contact_user_id=True)
    api.get("/balance/current")
    assert calls == [("pushtech:demo:contacts", 50, 1)]


def test_validate_emails_spends_credits_and_goes_on_without_them(client, api):
    contacts = [{"email": f"c{i}@example.com"} for i in range(4)]
    contacts.insert(1, {"email": "invalid@example.com"})
    contacts.append({"phone": "+447712345678"})
    contacts += [{"email": f"late{i}@example.com"} for i in range(2)]  # beyond the 5 credits
    bulk = api.bulk(contacts, validate_emails=True)
    shown = api.get(f"/contact/bulk/{bulk['_id']}").get_json()["bulk"]
    assert (shown["contacts_valid_count"], shown["contacts_failed_count"]) == (7, 1)
    assert credits(client) == 0
    stored = {c.get("email"): c for c in stored_contacts(client)}
    assert all(stored[f"c{i}@example.com"]["email_valid"] is True for i in range(4))
    assert "email_valid" not in stored["late0@example.com"] and "email_valid" not in stored["late1@example.com"]
    bulk_doc = state(client)["bulks"][0]
    assert bulk_doc["failed_contacts"] == [{"contact": {"email": "invalid@example.com"},
                                            "errors": ["email not valid: invalid@example.com"]}]
    assert (bulk_doc["emails_validated"], bulk_doc["emails_not_validated_no_credit"]) == (5, 2)
    assert bulk_doc["notes"] == []  # the documented fallback: state, not a note


def test_bulk_notes_go_to_the_request_journal(client, api):
    api.bulk([{"email": " Ann@Example.com ", "language": "es"}], unknown_option=1)
    notes = client.get("/_emulator/requests?vendor=pushtech&method=POST").get_json()["requests"][-1]["notes"]
    fields = [n["field"] for n in notes]
    assert fields == ["unknown_option", "contacts[0].email", "contacts[0].language"]


def test_duplicate_emails_in_a_bulk_are_created_and_noted(client, api):
    api.create(email="dup@example.com")
    api.bulk([{"email": "dup@example.com"}, {"email": "new@example.com"}, {"email": "new@example.com"}])
    api.get("/balance/current")
    assert len(stored_contacts(client)) == 4
    notes = state(client)["bulks"][0]["notes"]
    assert [n["field"] for n in notes] == ["contacts[0].email", "contacts[2].email"]


BAD_BULKS = [
    ({}, "contacts: must be an array of 1 to 5000 contacts, got null"),
    ({"contacts": []}, "contacts: must be an array of 1 to 5000 contacts, got 0 contacts"),
    ({"contacts": [{"email": "a@example.com"}] * 5001}, "contacts: must be an array of 1 to 5000 contacts, got 5001"),
    ({"contacts": {"email": "a@example.com"}}, "contacts: must be an array of 1 to 5000 contacts, got an object"),
    ({"contacts": "a@example.com"}, "contacts: must be an array of 1 to 5000 contacts, got a string"),
    ({"contacts": [{"email": "a@example.com"}], "match_contact_user_id": "sometimes"},
     "match_contact_user_id: must be true or false"),
    ({"contacts": [{"email": "a@example.com"}], "validate_emails": 1}, "validate_emails: must be true or false"),
    ({"contacts": [{"email": "a@example.com"}], "webhook_url": "ftp://x.example.com"},
     "webhook_url: must be an http or https URL"),
    ({"contacts": [{"email": "a@example.com"}], "webhook_url": ["http://x"]}, "webhook_url: must be an http or https URL"),
    ({"contacts": [{"email": "a@example.com"}], "webhook_url": "http://[::1/hook"},
     "webhook_url: must be an http or https URL"),
    ({"contacts": [{"email": "a@example.com"}], "webhook_url": "https://"}, "webhook_url: must be an http or https URL"),
    ({"contacts": [{"email": "a@example.com"}], "contacts_webhook_extra_fields": "name_first"},
     "contacts_webhook_extra_fields: must be an array of field names"),
    ({"contacts": [{"email": "a@example.com"}], "contacts_webhook_extra_fields": [1]},
     "contacts_webhook_extra_fields: must be an array of field names"),
]


@pytest.mark.parametrize("body, message", BAD_BULKS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_BULKS)])
def test_bad_bulk_requests_are_422_and_queue_nothing(client, api, pt_engine, body, message):
    resp = api.post("/contact/bulk", body)
    assert resp.status_code == 422
    assert resp.get_json()["error"].startswith(message)
    assert state(client)["bulks"] == [] and stored_contacts(client) == []
    assert pt_engine.jobs.pending() == 0


def test_unknown_bulk_is_404(api):
    resp = api.get("/contact/bulk/ffffffffffffffffffffffff")
    assert resp.status_code == 404 and resp.get_json() == {"error": "bulk not found"}


def test_bulks_are_per_account(client, api):
    bulk = api.bulk([{"email": "a@example.com"}])
    assert Api(client, "other").get(f"/contact/bulk/{bulk['_id']}").status_code == 404


def test_a_5000_contact_bulk_completes(client, api):
    contacts = [{"email": f"c{i}@example.com", "user_id": f"u{i}", "name_first": "N", "tags": ["t"],
                 "phone_countrycode": "44", "phone_number": f"7700{i:06d}"} for i in range(5000)]
    bulk = api.bulk(contacts, match_contact_user_id=True)
    shown = api.get(f"/contact/bulk/{bulk['_id']}").get_json()["bulk"]
    assert (shown["status"], shown["contacts_valid_count"], shown["contacts_failed_count"]) == ("finished", 5000, 0)
    assert len(stored_contacts(client)) == 5000
    assert api.get("/contact?user_id=u4999").get_json()["contacts"][0]["email"] == "c4999@example.com"


def test_bulk_parameters_with_wrong_types_are_never_a_500(api):
    garbage = [None, True, 0, "", "x", [], [None], {}, {"a": [1]}, [[{}]]]
    for key in ("contacts", "match_contact_user_id", "validate_emails", "webhook_url", "contacts_webhook_extra_fields"):
        for value in garbage:
            body = {"contacts": [{"email": "a@example.com"}], key: value}
            resp = api.post("/contact/bulk", body)
            assert resp.status_code in (201, 422), (key, value, resp.get_json())
    for value in garbage:
        resp = api.post("/contact/bulk", {"contacts": [{"email": "a@example.com", "tags": value, "gender": value}]})
        assert resp.status_code == 201
    assert api.get("/balance/current").status_code == 200
