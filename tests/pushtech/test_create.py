"""POST /contact: identity rule, every documented field, custom fields, refusals and notes."""
from __future__ import annotations

import re

import pytest

from .conftest import LIST_ID, last_notes, stored_contacts

VENDOR_SAMPLE = {"name_first": "John", "name_last": "Doe", "email": "johndoe@example.com",
                 "phone_countrycode": "44", "phone_number": "7712345678", "tags": ["tag1", "tag2"]}

EVERY_FIELD = {
    "device_id": "dev-1", "name_first": "John", "name_last": "Doe", "email": "johndoe@example.com",
    "phone_countrycode": "44", "phone_number": "7712345678", "city": "London", "country": "GB",
    "region": "Greater London", "zip": "SW1A 1AA", "full_address": "10 Downing St",
    "born_date": "1990-01-01T00:00:00Z", "gender": "MALE", "language": "EN", "user_id": "u-42",
    "facebook_id": "fb-1", "facebook_friends": 120, "google_id": "g-1", "twitter_id": "tw-1",
    "twitter_followers": 7, "tags": ["vip"],
    "list_subscriptions": [{"list_id": LIST_ID, "subscribed": True}, {"list_id": LIST_ID, "subscribed": False}],
    "channel_subscriptions": [{"channel": "email", "blacklisted": False}, {"channel": "sms", "blacklisted": True}],
    "gdpr_accept_terms": True, "gdpr_marketing_consent": False, "gdpr_date": "2025-05-25T10:00:00Z",
    "gdpr_remote_ip": "203.0.113.7", "last_latitude": 27.994401, "last_longitude": -81.726896,
}


def test_the_vendor_sample_is_created_with_a_24_hex_id(client, api):
    resp = api.post("/contact", VENDOR_SAMPLE)
    assert resp.status_code == 201
    body = resp.get_json()
    assert re.fullmatch(r"[0-9a-f]{24}", body["id"])
    assert {k: body[k] for k in VENDOR_SAMPLE} == VENDOR_SAMPLE
    assert stored_contacts(client) == [body]
    assert last_notes(client) == []


def test_every_documented_field_is_stored_as_sent(client, api):
    body = api.create(**EVERY_FIELD)
    assert {k: body[k] for k in EVERY_FIELD} == EVERY_FIELD
    assert stored_contacts(client)[0] == body
    assert last_notes(client) == []


def test_custom_fields_are_kept_as_given_with_a_note_when_undeclared(client, api):
    body = api.create(email="a@example.com", favourite_colour="blue", loyalty={"tier": "gold", "points": [1, 2]})
    assert body["favourite_colour"] == "blue"
    assert body["loyalty"] == {"tier": "gold", "points": [1, 2]}
    notes = last_notes(client)
    assert [n["field"] for n in notes] == ["loyalty"]  # favourite_colour is declared for the account
    assert "custom field not declared" in notes[0]["rule"]


@pytest.mark.parametrize("identity", [
    {"email": "ann@example.com"},
    {"phone_countrycode": "44", "phone_number": "7712345678"},
    {"phone": "+447712345678"},
])
def test_identity_email_or_phone(api, identity):
    assert api.post("/contact", identity).status_code == 201


@pytest.mark.parametrize("payload", [
    {},
    {"name_first": "Ann"},
    {"phone_countrycode": "44"},
    {"phone_number": "7712345678"},
    {"email": None, "phone": None},
    {"email": "", "name_first": "Ann"},
    {"email": " ", "phone": "", "phone_countrycode": "", "phone_number": ""},
])
def test_without_identity_is_422_and_nothing_stored(client, api, payload):
    resp = api.post("/contact", payload)
    assert resp.status_code == 422
    assert resp.get_json() == {"error": "either email or phone (phone_countrycode and phone_number) is required"}
    assert stored_contacts(client) == []


def test_full_phone_is_split_with_phonenumbers(client, api):
    body = api.create(phone="+44 7712 345678")
    assert (body["phone_countrycode"], body["phone_number"]) == ("44", "7712345678")
    assert "phone" not in body
    assert any(n["field"] == "phone" and "split" in n["rule"] for n in last_notes(client))


@pytest.mark.parametrize("sent, parts", [
    ("0034612345678", ("34", "612345678")),
    ("33612345678", ("33", "612345678")),
    (447712345678, ("44", "7712345678")),
])
def test_full_phone_variants(api, sent, parts):
    body = api.create(phone=sent)
    assert (body["phone_countrycode"], body["phone_number"]) == parts


def test_phone_disagreeing_with_its_parts_is_refused(client, api):
    resp = api.post("/contact", {"phone": "+447712345678", "phone_countrycode": "34", "phone_number": "612345678"})
    assert resp.status_code == 422
    assert resp.get_json()["error"].startswith("phone: +447712345678 disagrees")
    assert stored_contacts(client) == []


BAD_VALUES = [
    ("gender", "male", "gender: must be MALE or FEMALE"),
    ("gender", 1, "gender: must be MALE or FEMALE"),
    ("born_date", "01/01/1990", "born_date: must be an ISO 8601 date-time such as 1990-01-01T00:00:00Z"),
    ("born_date", 19900101, "born_date: must be an ISO 8601 date-time"),
    ("gdpr_date", "yesterday", "gdpr_date: must be an ISO 8601 date-time"),
    ("language", "ESP", "language: must be an ISO 639-1 code of two letters, e.g. ES"),
    ("language", "1a", "language: must be an ISO 639-1 code of two letters"),
    ("facebook_friends", "many", "facebook_friends: must be a non-negative whole number"),
    ("twitter_followers", -3, "twitter_followers: must be a non-negative whole number"),
    ("twitter_followers", 2.5, "twitter_followers: must be a non-negative whole number"),
    ("facebook_friends", True, "facebook_friends: must be a non-negative whole number"),
    ("tags", "vip", "tags: must be an array of strings"),
    ("tags", ["ok", {"x": 1}], "tags[1]: must be an array of strings"),
    ("list_subscriptions", {"list_id": "L1"}, "list_subscriptions: must be an array of objects"),
    ("list_subscriptions", ["L1"], "list_subscriptions[0]: must be an object {list_id, subscribed}"),
    ("list_subscriptions", [{"subscribed": True}], "list_subscriptions[0].list_id: is required"),
    ("list_subscriptions", [{"list_id": "L1", "subscribed": "maybe"}],
     "list_subscriptions[0].subscribed: must be true or false"),
    ("channel_subscriptions", [{"channel": "fax"}], "channel_subscriptions[0].channel: must be one of email, sms, push"),
    ("channel_subscriptions", [{"channel": "sms", "blacklisted": 3}],
     "channel_subscriptions[0].blacklisted: must be true or false"),
    ("gdpr_accept_terms", "yes", "gdpr_accept_terms: must be true or false"),
    ("gdpr_marketing_consent", [], "gdpr_marketing_consent: must be true or false"),
    ("last_latitude", 91, "last_latitude: must be a number between -90 and 90"),
    ("last_longitude", "west", "last_longitude: must be a number between -180 and 180"),
    ("name_first", ["Ann"], "name_first: must be a string"),
    ("city", {"name": "Paris"}, "city: must be a string"),
    ("user_id", True, "user_id: must be a string"),
    ("phone_countrycode", "+4444", "phone_countrycode: must be a country calling code of 1 to 3 digits"),
    ("phone_number", "77-12ab", "phone_number: must be the number without country code"),
    ("email_validation", True, "email_validation: must be an object"),
    ("email_validation", {"validate": "sure"}, "email_validation.validate: must be true or false"),
]


@pytest.mark.parametrize("field, value, message", BAD_VALUES, ids=[f"{f}={v!r}" for f, v, _ in BAD_VALUES])
def test_invalid_values_are_422_naming_field_and_rule(client, api, field, value, message):
    resp = api.post("/contact", {"email": "ann@example.com", field: value})
    assert resp.status_code == 422
    body = resp.get_json()
    assert list(body) == ["error"]
    assert body["error"].startswith(message)
    assert stored_contacts(client) == []


@pytest.mark.parametrize("field, value, message", [
    ("email", "not-an-email", "email: must be an email address"),
    ("email", 42, "email: must be an email address"),
    ("phone", "+1", "phone: must be a full international number"),
    ("phone", ["+447712345678"], "phone: must be a string of digits"),
])
def test_invalid_identity_values_name_their_own_rule(client, api, field, value, message):
    resp = api.post("/contact", {field: value})
    assert resp.status_code == 422
    assert resp.get_json()["error"].startswith(message)
    assert stored_contacts(client) == []


def test_several_problems_in_one_sentence(client, api):
    resp = api.post("/contact", {"gender": "X", "language": "Spanish", "twitter_followers": "lots"})
    assert resp.status_code == 422
    assert resp.get_json()["error"] == (
        "gender: must be MALE or FEMALE; language: must be an ISO 639-1 code of two letters, e.g. ES; "
        "twitter_followers: must be a non-negative whole number; "
        "either email or phone (phone_countrycode and phone_number) is required")
    assert stored_contacts(client) == []


def test_read_only_keys_and_nulls_are_ignored_with_notes(client, api):
    body = api.create(email="a@example.com", id="ffffffffffffffffffffffff", created_at="1999-01-01",
                      email_valid=True, city=None)
    assert body["id"] != "ffffffffffffffffffffffff"
    assert "email_valid" not in body and "city" not in body
    rules = {n["field"]: n["rule"] for n in last_notes(client)}
    assert rules["id"] == rules["created_at"] == rules["email_valid"] == "ignored: read-only, set by the vendor"
    assert rules["city"] == "null ignored"


def test_single_create_always_creates_and_notes_the_duplicate_email(client, api):
    first = api.create(email="dup@example.com", name_first="One")
    second = api.create(email="DUP@example.com", name_first="Two")
    assert first["id"] != second["id"]
    assert [c["name_first"] for c in stored_contacts(client)] == ["One", "Two"]
    dup = [n for n in last_notes(client) if "already has this email" in n["rule"]]
    assert len(dup) == 1 and first["id"] in dup[0]["rule"]


def test_timestamps_come_from_the_emulator_clock(client, api):
    client.post("/_emulator/clock", json={"freeze": "2026-03-01T12:00:00Z"})
    body = api.create(email="a@example.com")
    assert body["created_at"] == body["updated_at"] == "2026-03-01T12:00:00.000Z"


def test_ids_are_deterministic_per_seed(make_app):
    from emulator.vendors.pushtech import VENDOR

    from .conftest import Api, pushtech_fixture

    def ids(seed):
        app = make_app(vendors=[VENDOR], fixture=pushtech_fixture(), seed=seed)
        api = Api(app.test_client())
        return [api.create(email=f"c{i}@example.com")["id"] for i in range(3)]

    assert ids(1) == ids(1)
    assert ids(1) != ids(2)
    assert len(set(ids(3))) == 3


GARBAGE = [None, True, 0, -1, 1.5, "", "x" * 300, [], [None], {}, {"$gt": ""}, [[[]]], {"a": {"b": [1, {"c": None}]}}]


def test_wrong_types_everywhere_are_never_a_500(client, api):
    from emulator.vendors.pushtech.model import CONTACT_FIELDS

    for field in [*CONTACT_FIELDS, "email_validation"]:
        for value in GARBAGE:
            resp = api.post("/contact", {"email": "g@example.com", field: value})
            assert resp.status_code in (201, 422), (field, value, resp.get_json())
            body = resp.get_json()
            if resp.status_code == 422:
                assert list(body) == ["error"], body
                assert body["error"].startswith(field) or (field == "email" and body["error"].startswith("either")), \
                    (field, value, body)
            else:
                assert "id" in body
