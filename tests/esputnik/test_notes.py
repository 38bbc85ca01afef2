"""Which inputs give a journal note, of which kind, and which give none (correct input never
does); every fake payload eSputnik offers is correct input."""
from __future__ import annotations

import pytest

from emulator.seeding import faker_for
from emulator.testing.handle import EmulatorHandle
from emulator.testing.pytest_plugin import make_fake_payload
from emulator.vendors.esputnik import VENDOR

from .conftest import contact, email, sms

CLEAN = set()
ORDER = {"externalOrderId": "o-1", "externalCustomerId": "c-1", "totalCost": 25.5, "status": "INITIALIZED",
         "date": "2026-05-01T10:00:00.000000+00:00", "currency": "UAH", "email": "buyer@example.com",
         "phone": "380501112233", "firstName": "Ann", "lastName": "Lee", "shipping": 0, "discount": 1.5, "taxes": 0,
         "deliveryAddress": "Kyiv", "additionalInfo": {"comment": "ring twice"},
         "items": [{"externalItemId": "SKU-1", "name": "Mug", "category": "Kitchen", "quantity": 1, "cost": 25.5,
                    "url": "https://shop.example.com/p/1", "imageUrl": "https://shop.example.com/i/1.jpg",
                    "description": "A mug"}]}

CASES = [
    # -- correct input: no note ----------------------------------------------------------
    ("/contact", contact(email("ann@example.com"), sms("+380501112233")), CLEAN),
    ("/contact", contact(email("ann@example.com"), sms("380501112233")), CLEAN),
    ("/contact", contact({"type": "webPush", "value": "wp-1"}), CLEAN),
    ("/contact", contact(email("ann@example.com"), firstName="Jean-Luc", lastName="O'Neil", contactKey="k-1",
                         addressBookId=7200, languageCode="uk", timeZone="Europe/Kyiv", externalCustomerId="crm-1",
                         address={"region": "West", "town": "Lviv", "address": "Rynok 1", "postcode": "79000"},
                         fields=[{"id": 12345, "value": "Lviv"}, {"id": 12346, "value": None}]), CLEAN),
    ("/contact", contact({"type": "mobilepush", "value": "fcm", "device": {"appId": "a", "os": "ios",
                                                                            "active": True}}), CLEAN),
    ("/contact/subscribe", {"contact": contact(email("sub@example.com")), "groups": ["Subscribers"],
                            "formType": "footer"}, CLEAN),
    ("/contacts", {"contacts": [contact(email("a@example.com"))], "dedupeOn": "email", "restoreDeleted": False,
                   "contactFields": ["firstName", "town", "webPush"], "customFieldsIDs": [12345],
                   "groupNames": ["Customers"], "eventKeyForNewContacts": "newContact"}, CLEAN),
    ("/orders", {"orders": [ORDER]}, CLEAN),
    ("/event", {"eventTypeKey": "viewed", "keyValue": "k", "params": [{"name": "a", "value": 1}]}, CLEAN),
    ("/emails/unsubscribed/add", {"emails": ["gone@example.com"]}, CLEAN),
    # -- fix-ups the vendor documents: cast ---------------------------------------------
    ("/contact", contact(email("Ann@Example.com")), {("channels[0].value", "cast")}),
    ("/contact", contact(sms("+380 (50) 111-22-33")), {("channels[0].value", "cast")}),
    ("/emails/unsubscribed/add", {"emails": ["Gone@Example.com"]}, {("emails[0]", "cast")}),
    # -- values left out: ignored ---------------------------------------------------------
    ("/contact", {**contact(email("a@example.com")), "nickname": "x"}, {("nickname", "ignored")}),
    ("/contact", {**contact(email("a@example.com")), "id": 5, "groups": []}, {("id", "ignored"), ("groups", "ignored")}),
    ("/contact", contact({"type": "email", "value": "a@example.com", "extra": 1}), {("channels[0].extra", "ignored")}),
    ("/contact", contact({"type": "mobilepush", "value": "t", "device": {"brand": "x"}}),
     {("channels[0].device.brand", "ignored")}),
    ("/contact", contact(email("a@example.com"), address={"town": "Lviv", "country": "UA"}),
     {("address.country", "ignored")}),
    ("/contacts", {"contacts": [contact(email("a@example.com"))], "fieldId": 12345, "priority": 1,
                   "contactFields": ["nickname"]},
     {("fieldId", "ignored"), ("priority", "ignored"), ("contactFields[0]", "ignored")}),
    ("/orders", {"orders": [{**ORDER, "coupon": "X"}]}, {("orders[0].coupon", "ignored")}),
    ("/event", {"eventTypeKey": "viewed", "keyValue": "k", "source": "web"}, {("source", "ignored")}),
    # -- the emulator's choices where the vendor is silent: unverified -------------------
    ("/contact", contact(email("a@example.com"), sms("")), {("channels[1].value", "unverified")}),
    ("/contact", contact(email("a@example.com"), firstName=" ", lastName=""),
     {("firstName", "unverified"), ("lastName", "unverified")}),
    ("/contact", contact(email("a@example.com"), externalCustomerId=17), {("externalCustomerId", "unverified")}),
    ("/contact", contact(email(" a@example.com ")), {("channels[0].value", "unverified")}),
    ("/contact", contact(email("a@example.com"), address={"city": "Lviv", "postalCode": "79000"}),
     {("address.city", "unverified"), ("address.postalCode", "unverified")}),
    ("/contact", contact(email("a@example.com"), address={"region": "", "town": "", "address": "", "postcode": ""}),
     {("address.region", "unverified"), ("address.town", "unverified"), ("address.address", "unverified"),
      ("address.postcode", "unverified")}),
    ("/contact", contact(email("a@example.com"), fields=[{"id": 99, "value": "x"}, {"name": "city", "value": "K"},
                                                         {"id": "12346", "value": True}]),
     {("fields[0].id", "unverified"), ("fields[1].name", "unverified"), ("fields[2].id", "unverified"),
      ("fields[2].value", "unverified")}),
    ("/contact", contact(email("a@example.com"), addressBookId=1), {("addressBookId", "unverified")}),
    ("/contact/subscribe", {"contact": contact(email("a@example.com"), lastName=" ")},
     {("contact.lastName", "unverified")}),
    ("/contacts", {"contacts": [contact(email("a@example.com")), contact(email("a@example.com"))],
                   "restoreDeleted": "true", "customFieldsIDs": ["12345"]},
     {("contacts[1]", "unverified"), ("restoreDeleted", "unverified"), ("customFieldsIDs[0]", "unverified")}),
    ("/contacts", {"contacts": [contact(email("a@example.com"), sms(""))]}, {("contacts[0].channels[1].value",
                                                                              "unverified")}),
    ("/orders", {"orders": [{**ORDER, "totalCost": "25.50", "shipping": "", "externalCustomerId": 7}]},
     {("orders[0].totalCost", "unverified"), ("orders[0].shipping", "unverified"),
      ("orders[0].externalCustomerId", "unverified")}),
    ("/event", {"eventTypeKey": "viewed", "keyValue": 42}, {("keyValue", "unverified")}),
    ("/emails/unsubscribed/add", {"emails": ["nope"]}, {("emails[0]", "unverified")}),
]


@pytest.mark.parametrize("path, body, expected", CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_which_inputs_note_and_with_which_kind(api, path, body, expected):
    resp = api.post(path, body)
    assert resp.status_code == 200, resp.text
    assert {(n["field"], n["kind"]) for n in api.notes()} == expected


def test_a_session_of_clean_records_has_no_notes(api):
    result = api.bulk({"contacts": [contact(email("a@example.com"), sms("+380501112233"), firstName="Ann")]})
    assert result["status"] == "FINISHED"
    assert api.state()["sessions"][0]["notes"] == []


VARIANTS = [None, *sorted(VENDOR.fake_payloads)]
PATHS = {None: "/contact", "default": "/contacts", "bulk": "/contacts", "contacts": "/contacts",
         "subscribe": "/contact/subscribe", "contact": "/contact", "orders": "/orders", "event": "/event",
         "unsubscribed": "/emails/unsubscribed/add"}


@pytest.mark.parametrize("seed", range(6))
def test_every_fake_payload_sent_as_is_gives_no_note(make_app, seed):
    assert set(VARIANTS) - {None} == set(PATHS) - {None}  # a new variant needs its path here
    from .conftest import FIXTURE

    app = make_app(vendors=[VENDOR], fixture=FIXTURE)
    client = app.test_client()
    fake = faker_for(seed, "esputnik", "clean", "uk_UA" if seed % 2 else None)
    specs = {"esputnik": VENDOR}
    for variant in VARIANTS:
        body = make_fake_payload(specs, fake, "esputnik", variant, n=None if variant is None else 3)
        resp = client.post(f"/esputnik/api/v1{PATHS[variant]}", json=body, auth=("demo", "esputnik-demo-key"))
        assert resp.status_code == 200, (variant, body, resp.get_data(as_text=True))
    EmulatorHandle(app).assert_clean()
    state = client.get("/_emulator/state?vendor=esputnik&account=demo").get_json()["vendors"]["esputnik"][
        "accounts"]["demo"]
    for session in state["sessions"]:
        assert session["notes"] == [] and session["failedContacts"] == [], session
