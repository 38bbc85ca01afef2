"""Which inputs give a journal note (and of which kind), which give none.

Pushtech's pages document none of the fix-ups the emulator makes (trimming, casting,
lower-casing, reformatting, dropping), so every Pushtech note is of kind ``unverified``.
Values in the form the vendor stores, documented inputs (``phone`` in E.164, ``+44``),
defaults filled in and the documented fallbacks (no credit, ``create_if_invalid``) give none.
"""
from __future__ import annotations

import pytest

from emulator.seeding import faker_for
from emulator.testing.pytest_plugin import make_fake_payload
from emulator.vendors.pushtech import VENDOR

from .conftest import LIST_ID, Api, last_notes, state, stored_contacts

BASE = {"email": "base@example.com"}

# (id, fields sent beside BASE, stored values expected, [(note field, kind)] expected)
CASES = [
    # values in the stored form: no note
    ("email as stored", {"email": "ann@example.com"}, {"email": "ann@example.com"}, []),
    ("countrycode digits", {"phone_countrycode": "44", "phone_number": "7712345678"},
     {"phone_countrycode": "44", "phone_number": "7712345678"}, []),
    ("countrycode with +", {"phone_countrycode": "+44", "phone_number": "7712345678"},
     {"phone_countrycode": "44"}, []),
    ("phone in E.164", {"phone": "+447712345678"}, {"phone_countrycode": "44", "phone_number": "7712345678"}, []),
    ("language", {"language": "ES"}, {"language": "ES"}, []),
    ("gender", {"gender": "FEMALE"}, {"gender": "FEMALE"}, []),
    ("born_date", {"born_date": "1990-01-01T00:00:00Z"}, {"born_date": "1990-01-01T00:00:00Z"}, []),
    ("gdpr_date with ms", {"gdpr_date": "2025-05-25T10:00:00.250Z"}, {"gdpr_date": "2025-05-25T10:00:00.250Z"}, []),
    ("counts", {"facebook_friends": 12, "twitter_followers": 0}, {"facebook_friends": 12}, []),
    ("coordinates", {"last_latitude": 40.5, "last_longitude": -3}, {"last_latitude": 40.5}, []),
    ("booleans", {"gdpr_accept_terms": True, "gdpr_marketing_consent": False}, {"gdpr_accept_terms": True}, []),
    ("tags", {"tags": ["vip", "web"]}, {"tags": ["vip", "web"]}, []),
    ("known list, subscribed given", {"list_subscriptions": [{"list_id": LIST_ID, "subscribed": False}]},
     {"list_subscriptions": [{"list_id": LIST_ID, "subscribed": False}]}, []),
    ("known list, default subscribed", {"list_subscriptions": [{"list_id": LIST_ID}]},
     {"list_subscriptions": [{"list_id": LIST_ID, "subscribed": True}]}, []),
    ("channel, default blacklisted", {"channel_subscriptions": [{"channel": "sms"}]},
     {"channel_subscriptions": [{"channel": "sms", "blacklisted": False}]}, []),
    ("declared custom field", {"favourite_colour": "blue"}, {"favourite_colour": "blue"}, []),
    ("declared number field", {"score": 7.5}, {"score": 7.5}, []),
    ("validation defaults", {"email_validation": {}}, {}, []),
    # fix-ups: one note each, of kind unverified
    ("email trimmed and lower-cased", {"email": " Ann@Example.COM"}, {"email": "ann@example.com"},
     [("email", "unverified")]),
    ("countrycode as a number", {"phone_countrycode": 44, "phone_number": "7712345678"},
     {"phone_countrycode": "44"}, [("phone_countrycode", "unverified")]),
    ("countrycode with 00", {"phone_countrycode": "0044", "phone_number": "7712345678"},
     {"phone_countrycode": "44"}, [("phone_countrycode", "unverified")]),
    ("phone_number with separators", {"phone_countrycode": "44", "phone_number": "7712 345-678"},
     {"phone_number": "7712345678"}, [("phone_number", "unverified")]),
    ("phone_number as a number", {"phone_countrycode": "44", "phone_number": 7712345678},
     {"phone_number": "7712345678"}, [("phone_number", "unverified")]),
    ("phone with spaces", {"phone": "+44 7712 345678"}, {"phone_number": "7712345678"}, [("phone", "unverified")]),
    ("phone with 00", {"phone": "00447712345678"}, {"phone_countrycode": "44"}, [("phone", "unverified")]),
    ("language lower-case", {"language": "es"}, {"language": "ES"}, [("language", "unverified")]),
    ("count as text", {"facebook_friends": "12"}, {"facebook_friends": 12}, [("facebook_friends", "unverified")]),
    ("count as float", {"twitter_followers": 12.0}, {"twitter_followers": 12}, [("twitter_followers", "unverified")]),
    ("coordinate as text", {"last_latitude": "40.5"}, {"last_latitude": 40.5}, [("last_latitude", "unverified")]),
    ("boolean as text", {"gdpr_accept_terms": "true"}, {"gdpr_accept_terms": True},
     [("gdpr_accept_terms", "unverified")]),
    ("user_id as a number", {"user_id": 42}, {"user_id": "42"}, [("user_id", "unverified")]),
    ("text trimmed", {"name_first": " Ann "}, {"name_first": "Ann"}, [("name_first", "unverified")]),
    ("date without zone", {"born_date": "1990-01-01"}, {"born_date": "1990-01-01T00:00:00Z"},
     [("born_date", "unverified")]),
    ("date in another zone", {"born_date": "1990-01-01T02:00:00+02:00"}, {"born_date": "1990-01-01T00:00:00Z"},
     [("born_date", "unverified")]),
    ("duplicate tag", {"tags": ["vip", "vip"]}, {"tags": ["vip"]}, [("tags[1]", "unverified")]),
    ("empty tag", {"tags": ["vip", ""]}, {"tags": ["vip"]}, [("tags[1]", "unverified")]),
    ("unknown list", {"list_subscriptions": [{"list_id": "nope"}]},
     {"list_subscriptions": [{"list_id": "nope", "subscribed": True}]}, [("list_subscriptions[0].list_id", "unverified")]),
    ("null subscribed", {"list_subscriptions": [{"list_id": LIST_ID, "subscribed": None}]}, {},
     [("list_subscriptions[0].subscribed", "unverified")]),
    ("list_id as a number", {"list_subscriptions": [{"list_id": 12}]},
     {"list_subscriptions": [{"list_id": "12", "subscribed": True}]},
     [("list_subscriptions[0].list_id", "unverified"), ("list_subscriptions[0].list_id", "unverified")]),
    ("unknown key in a subscription", {"list_subscriptions": [{"list_id": LIST_ID, "since": "2020"}]}, {},
     [("list_subscriptions[0].since", "unverified")]),
    ("channel given twice", {"channel_subscriptions": [{"channel": "sms"}, {"channel": "sms", "blacklisted": True}]},
     {"channel_subscriptions": [{"channel": "sms", "blacklisted": True}]}, [("channel_subscriptions[1]", "unverified")]),
    ("channel upper-case", {"channel_subscriptions": [{"channel": "SMS"}]},
     {"channel_subscriptions": [{"channel": "sms", "blacklisted": False}]},
     [("channel_subscriptions[0].channel", "unverified")]),
    ("undeclared custom field", {"loyalty": {"tier": "gold"}}, {"loyalty": {"tier": "gold"}}, [("loyalty", "unverified")]),
    ("custom value of another type", {"score": "high"}, {"score": "high"}, [("score", "unverified")]),
    ("read-only key", {"id": "ffffffffffffffffffffffff"}, {}, [("id", "unverified")]),
    ("null on create", {"city": None}, {}, [("city", "unverified")]),
    ("validate without email", {"email": None, "phone": "+447712345678", "email_validation": {"validate": True}}, {},
     [("email", "unverified"), ("email_validation.validate", "unverified")]),
]


@pytest.mark.parametrize("sent, stored, notes", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_which_inputs_note(client, api, sent, stored, notes):
    body = api.create(**{**BASE, **sent})
    assert {key: body[key] for key in stored} == stored
    assert stored_contacts(client) == [body]
    assert [(n["field"], n["kind"]) for n in last_notes(client)] == notes


def test_a_duplicate_email_is_an_unverified_note(client, api):
    api.create(email="dup@example.com")
    api.create(email="dup@example.com")
    assert [(n["field"], n["kind"]) for n in last_notes(client)] == [("email", "unverified")]


def test_documented_validation_fallbacks_give_no_note(client, api):
    """No credit with ``create_if_no_credit`` and an invalid email with ``create_if_invalid``
    are the vendor's documented outcomes: they show in state, not in the journal."""
    invalid = api.create(email="invalid@example.com", email_validation={"validate": True, "create_if_invalid": True})
    assert invalid["email_valid"] is False and last_notes(client) == []
    client.post("/_emulator/pushtech/credits", json={"account": "demo", "validation_credits": 0})
    unvalidated = api.create(email="late@example.com", email_validation={"validate": True, "create_if_no_credit": True})
    assert "email_valid" not in unvalidated and last_notes(client) == []
    api.bulk([{"email": "bulk@example.com"}], validate_emails=True)
    assert last_notes(client) == []
    assert state(client)["bulks"][0]["notes"] == []
    assert state(client)["bulks"][0]["emails_not_validated_no_credit"] == 1


def test_an_email_change_drops_the_validation_without_a_note(client, api):
    contact = api.create(email="a@example.com", email_validation={"validate": True})
    updated = api.put(f"/contact/{contact['id']}", {"email": "b@example.com"}).get_json()
    assert "email_valid" not in updated and "last_email_verified" not in updated
    assert last_notes(client) == []


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_every_fake_payload_gives_no_note(make_app, seed):
    """``fake_contact`` and every ``fake_payloads`` variant, sent as they come, over several seeds."""
    from .conftest import pushtech_fixture

    client = make_app(vendors=[VENDOR], fixture=pushtech_fixture(validation_credits=1000), seed=seed).test_client()
    api = Api(client)
    fake, specs = faker_for(seed, "pushtech", "notes"), {"pushtech": VENDOR}
    singles = [make_fake_payload(specs, fake, "pushtech"),
               make_fake_payload(specs, fake, "pushtech", "create"),
               make_fake_payload(specs, fake, "pushtech", "create", email_validation={"validate": True})]
    bulks = [make_fake_payload(specs, fake, "pushtech", "bulk", n=5),
             make_fake_payload(specs, fake, "pushtech", "default", n=3, match_contact_user_id=True),
             make_fake_payload(specs, fake, "pushtech", "bulk", validate_emails=True)]
    assert set(VENDOR.fake_payloads) == {"default", "bulk", "create"}  # a new variant belongs above
    for payload in singles:
        assert api.post("/contact", payload).status_code == 201
    for payload in bulks:
        assert api.post("/contact/bulk", payload).status_code == 201
    journal = client.get("/_emulator/requests?vendor=pushtech").get_json()["requests"]
    assert len(journal) == len(singles) + len(bulks)
    assert [n for entry in journal for n in entry["notes"]] == []
    assert all(b["status"] == "finished" and b["notes"] == [] for b in state(client)["bulks"])
    assert len(stored_contacts(client)) == 3 + 5 + 3 + 3


def test_the_fake_contact_fixture_gives_no_note(client, api, fake_contact):
    assert api.post("/contact", fake_contact("pushtech")).status_code == 201
    assert api.post("/contact/bulk", fake_contact("pushtech", "bulk", n=4)).status_code == 201
    journal = client.get("/_emulator/requests?vendor=pushtech").get_json()["requests"]
    assert [n for entry in journal for n in entry["notes"]] == []
