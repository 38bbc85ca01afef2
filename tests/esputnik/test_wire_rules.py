"""Issue items 1, 2, 3 and 6, over the test client and a live server: the error body, empty and
blank values, POST /contact's matching, and the contact's contactKey, addressBookId, device and
webPushSubscription."""
from __future__ import annotations

import pytest

from .conftest import AUTH, contact, email, error_of, sms

STRICT = ("user", "strict-key")


# -- 1. the error body ------------------------------------------------------------------------
@pytest.mark.parametrize("auth", [None, ("demo", "wrong-key"), ("", "")])
def test_401_is_status_and_message(api, auth):
    resp = api.post("/contact", contact(email("a@example.com")), auth=auth)
    assert error_of(resp, 401) == {"status": 401, "message": "Unauthorized"}
    assert resp.headers["WWW-Authenticate"].startswith("Basic")
    assert api.state()["contacts"] == []


def test_every_error_status_has_the_same_shape(api):
    error_of(api.post("/contact", {"channels": [email("bad@")]}), 400, "channels[0].value", "not a valid email")
    error_of(api.get("/contact/424242"), 404, "not found")
    error_of(api.get("/importstatus/nope"), 404, "nope")
    error_of(api.post("/contact", data="{}", headers={"Content-Type": "text/plain"}), 415, "Content-Type")
    error_of(api.post("/contact", data="{nope", headers={"Content-Type": "application/json"}), 400, "JSON")
    error_of(api.get("/no/such/route"), 404)
    assert api.state()["contacts"] == []


def test_409_message_still_says_duplicated_request(make_api):
    api = make_api(duplicate_window_s=60)
    body = contact(email("twice@example.com"))
    assert api.post("/contact", body).status_code == 200
    before = api.state()
    error_of(api.post("/contact", body), 409, "Duplicated request")
    assert api.state() == before


def test_429_has_the_shape_too(make_api):
    api = make_api(max_requests_per_second=2)
    api.admin("POST", "/_emulator/clock", {"freeze": "2026-03-01T00:00:00Z"})
    for _ in range(2):
        assert api.get("/groups").status_code == 200
    error_of(api.get("/groups"), 429, "Too many requests")


def test_a_basic_header_that_is_not_latin_text_is_401_not_500(api):
    resp = api.post("/contact", contact(email("a@example.com")), auth=None,
                    headers={"Authorization": "Basic é"})
    error_of(resp, 401, "Unauthorized")


# -- 2. empty and blank values ----------------------------------------------------------------
def test_a_channel_with_an_empty_value_is_ignored_with_an_unverified_note(api):
    contact_id = api.add({"channels": [email("ann@example.com"), sms("")], "firstName": "Ann"})
    [doc] = api.state()["contacts"]
    assert doc["id"] == contact_id
    assert doc["channels"] == [{"type": "email", "value": "ann@example.com", "confirmed": True}]
    assert {"field": "channels[1].value", "sent": "", "used": None, "kind": "unverified",
            "rule": "sms channel with an empty value ignored: not stored, not matched on"} in api.notes()


def test_an_empty_channel_is_not_matched_on_and_does_not_clear_the_stored_one(api):
    first = api.add(contact(email("a@example.com"), sms("380501112233")))
    other = api.add(contact(email("b@example.com")))
    # the empty sms matches nothing and leaves each contact's phone as it is
    assert api.add(contact(email("b@example.com"), sms(" "))) == other
    docs = {d["id"]: d for d in api.state()["contacts"]}
    assert docs[first]["channels"][1] == {"type": "sms", "value": "380501112233"}
    assert [c["type"] for c in docs[other]["channels"]] == ["email"]


def test_only_empty_channels_is_still_a_400(api):
    error_of(api.post("/contact", contact(email(""), sms(""))), 400, "at least one channel")
    assert api.state()["contacts"] == []


@pytest.mark.parametrize("blank", ["", " "])
def test_a_blank_name_is_not_sent(api, blank):
    contact_id = api.add(contact(email("ann@example.com"), firstName="Ann", lastName="Lee"))
    assert api.add(contact(email("ann@example.com"), firstName=blank, lastName=blank)) == contact_id
    [doc] = api.state()["contacts"]
    assert (doc["firstName"], doc["lastName"]) == ("Ann", "Lee")  # not sent: kept
    kinds = {(n["field"], n["kind"], n["rule"]) for n in api.notes()}
    assert ("firstName", "unverified", "empty value treated as not sent") in kinds
    assert ("lastName", "unverified", "empty value treated as not sent") in kinds
    # a new contact with a blank name has none
    api.add(contact(email("new@example.com"), firstName=blank))
    assert next(d for d in api.state()["contacts"] if d["id"] != contact_id)["firstName"] is None


def test_a_numeric_external_id_is_stored_as_its_decimal_text(api):
    contact_id = api.add(contact(email("w@example.com"), externalCustomerId=17))
    assert {"field": "externalCustomerId", "sent": 17, "used": "17", "kind": "unverified",
            "rule": "number stored as its decimal text"} in api.notes()
    assert api.get(f"/contact/{contact_id}").json()["externalCustomerId"] == "17"
    # and it is matched as that text
    assert api.add(contact(email("other@example.com"), externalCustomerId="17")) == contact_id


# -- 3. POST /contact matches on externalCustomerId, then email, then phone --------------------
def test_a_changed_email_is_an_update_by_external_id(api):
    contact_id = api.add(contact(email("old@example.com"), sms("380501112233"), externalCustomerId="crm-1",
                                 firstName="Ann"))
    assert api.add(contact(email("new@example.com"), externalCustomerId="crm-1")) == contact_id
    [doc] = api.state()["contacts"]
    assert doc["channels"] == [{"type": "email", "value": "new@example.com", "confirmed": True},
                               {"type": "sms", "value": "380501112233"}]  # a channel type not sent is kept
    assert doc["firstName"] == "Ann"
    assert api.get("/contacts?email=old@example.com").json() == []


def test_a_changed_phone_is_an_update_by_external_id(api):
    contact_id = api.add(contact(sms("380501112233"), externalCustomerId="crm-2"))
    assert api.add(contact(sms("+380509998877"), externalCustomerId="crm-2")) == contact_id
    [doc] = api.state()["contacts"]
    assert doc["channels"] == [{"type": "sms", "value": "380509998877"}]


def test_without_an_external_id_match_email_then_phone(api):
    by_mail = api.add(contact(email("a@example.com")))
    by_phone = api.add(contact(sms("380501112233")))
    # a new externalCustomerId: matched on the email, which gets the id
    assert api.add(contact(email("a@example.com"), sms("380501112233"), externalCustomerId="crm-9")) == by_mail
    assert api.get(f"/contact/{by_mail}").json()["externalCustomerId"] == "crm-9"
    assert api.add(contact(sms("380 50 111 22 33"), firstName="Phone")) == by_phone
    assert len(api.state()["contacts"]) == 2


def test_when_external_id_and_email_are_two_contacts_the_external_id_one_is_updated(api):
    by_ext = api.add(contact(email("ext@example.com"), externalCustomerId="crm-7"))
    by_mail = api.add(contact(email("mail@example.com"), firstName="Mail"))
    assert api.add(contact(email("mail@example.com"), externalCustomerId="crm-7", firstName="Ext")) == by_ext
    docs = {d["id"]: d for d in api.state()["contacts"]}
    assert docs[by_ext]["channels"][0]["value"] == "mail@example.com" and docs[by_ext]["firstName"] == "Ext"
    assert docs[by_mail]["channels"][0]["value"] == "mail@example.com" and docs[by_mail]["firstName"] == "Mail"
    [conflict] = [n for n in api.notes() if n["field"] == "externalCustomerId"]
    assert conflict["kind"] == "unverified" and f"contact {by_mail}" in conflict["rule"]
    # searching the shared email finds both, the older first
    assert [c["id"] for c in api.get("/contacts?email=mail@example.com").json()] == [by_ext, by_mail]


def test_a_deleted_match_is_restored(api):
    contact_id = api.add(contact(email("d@example.com"), externalCustomerId="crm-d"))
    assert api.delete(f"/contact/{contact_id}").status_code == 200
    assert api.add(contact(email("d2@example.com"), externalCustomerId="crm-d")) == contact_id
    assert api.get(f"/contact/{contact_id}").status_code == 200


# -- 6. contactKey, addressBookId, device, webPushSubscription ----------------------------------
DEVICE = {"appId": "app-1", "deviceModel": "Pixel 8", "os": "android", "locale": "uk", "clientVersion": "3.1",
          "appVersion": "1.2.0", "active": True}
SUBSCRIPTION = {"appId": "site-1", "userAgent": "Chrome", "userAgentVersion": "126", "userAgentLanguage": "uk-UA",
                "os": "Linux", "ip": "203.0.113.5", "subscriptionPage": "https://shop.example.com/",
                "swActiveVersion": "2"}


def test_contact_key_address_book_and_channel_members_are_stored_and_returned(api):
    body = {"channels": [email("m@example.com"), {"type": "mobilepush", "value": "fcm-token", "device": DEVICE},
                         {"type": "webpush", "value": "wp-token", "webPushSubscription": SUBSCRIPTION}],
            "contactKey": "key-1", "addressBookId": 7200}
    contact_id = api.add(body)
    assert api.notes() == []  # all of it is correct input
    shown = api.get(f"/contact/{contact_id}").json()
    assert shown["contactKey"] == "key-1" and shown["addressBookId"] == 7200
    assert shown["channels"] == [{"type": "email", "value": "m@example.com", "confirmed": True},
                                 {"type": "mobilepush", "value": "fcm-token", "device": DEVICE},
                                 {"type": "webpush", "value": "wp-token", "webPushSubscription": SUBSCRIPTION}]
    # a later write of the same token updates the device; the contact key is kept when not sent
    api.put(f"/contact/{contact_id}", {"channels": [{"type": "mobilepush", "value": "fcm-token",
                                                     "device": {**DEVICE, "active": False}}]})
    shown = api.get(f"/contact/{contact_id}").json()
    assert shown["channels"][1]["device"]["active"] is False and shown["contactKey"] == "key-1"


def test_another_address_book_id_is_ignored_with_a_note(api):
    contact_id = api.add(contact(email("b@example.com"), addressBookId=99))
    assert [(n["field"], n["kind"]) for n in api.notes()] == [("addressBookId", "unverified")]
    assert api.get(f"/contact/{contact_id}").json()["addressBookId"] == 7200


@pytest.mark.parametrize("body, words", [
    ({"channels": [{"type": "mobilepush", "value": "t", "device": "pixel"}]}, ["channels[0].device", "object"]),
    ({"channels": [{"type": "mobilepush", "value": "t", "device": {"os": ["a"]}}]}, ["channels[0].device.os"]),
    ({"channels": [{"type": "webpush", "value": "t", "webPushSubscription": [1]}]},
     ["channels[0].webPushSubscription"]),
    (contact(email("a@example.com"), contactKey={"a": 1}), ["contactKey", "string"]),
    (contact(email("a@example.com"), addressBookId="seven"), ["addressBookId", "integer"]),
])
def test_bad_new_members_are_400_and_store_nothing(api, body, words):
    error_of(api.post("/contact", body), 400, *words)
    assert api.state()["contacts"] == []


def test_strict_account_ships_the_vendor_limits(api):
    # the shipped limits are on for the "strict" account: a byte-identical add is refused
    body = contact(email("s@example.com"))
    assert api.post("/contact", body, auth=STRICT).status_code == 200
    assert api.post("/contact", body, auth=STRICT).status_code == 409
    assert api.post("/contact", body, auth=AUTH).status_code == 200  # another account, no window
