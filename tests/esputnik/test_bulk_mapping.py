"""Issue item 4, over the test client and a live server: POST /contacts answers {"id": 0,
"asyncSessionId"}; contactFields names the address parts; mapping items are exactly
{dedupeValue, contactId} with the dedupeValue of each dedupeOn; single_item_as_object."""
from __future__ import annotations

import pytest

from .conftest import contact, email, sms


def test_the_answer_is_id_zero_and_the_session(api):
    resp = api.post("/contacts", {"contacts": [contact(email("a@example.com"))]})
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["id", "asyncSessionId"] and body["id"] == 0
    # with records refused at once, their failures come along
    body = api.post("/contacts", {"contacts": [contact(email("b@example.com")), contact(email("x@"))]}).json()
    assert set(body) == {"id", "asyncSessionId", "failedContacts"} and body["failedContacts"][0]["index"] == 1


def push(token):
    return {"type": "mobilepush", "value": token}


def webpush(token):
    return {"type": "webpush", "value": token}


@pytest.mark.parametrize("dedupe, record, expected", [
    ("email", contact(email("Ann@Example.com"), sms("380501112233")), "ann@example.com"),
    ("sms", contact(email("ann@example.com"), sms("+380 50 111 22 33")), "380501112233"),
    ("email_or_sms", contact(email("ann@example.com"), sms("380501112233")), "380501112233"),
    ("email_or_sms", contact(email("ann@example.com")), "ann@example.com"),
    ("externalCustomerId", contact(email("ann@example.com"), externalCustomerId="crm-1"), "crm-1"),
    ("push", contact(push("fcm-1"), email("ann@example.com")), "fcm-1"),
    ("webpush", contact(webpush("wp-1")), "wp-1"),
    ("fieldId", contact(email("ann@example.com"), fields=[{"id": 12345, "value": "C-7"}]), "C-7"),
])
def test_mapping_items_are_dedupe_value_and_contact_id(api, dedupe, record, expected):
    body = {"contacts": [record], "dedupeOn": dedupe, **({"fieldId": 12345} if dedupe == "fieldId" else {})}
    created = api.bulk(body)
    [doc] = api.state()["contacts"]
    assert created["status"] == "FINISHED"
    assert created["mapping"] == [{"dedupeValue": expected, "contactId": doc["id"]}]
    # the same record again: matched, the same item
    again = api.bulk({**body, "contacts": [{**record, "firstName": "Again"}]})
    assert again["mapping"] == [{"dedupeValue": expected, "contactId": doc["id"]}]
    assert len(api.state()["contacts"]) == 1


def test_dedupe_on_id_names_the_contact_id_as_text(api):
    contact_id = api.add(contact(email("id@example.com")))
    result = api.bulk({"contacts": [{"id": contact_id, "firstName": "ById"}], "dedupeOn": "id"})
    assert result["mapping"] == [{"dedupeValue": str(contact_id), "contactId": contact_id}]


def test_email_or_sms_names_whichever_matched(api):
    by_mail = api.add(contact(email("m@example.com")))
    result = api.bulk({"contacts": [contact(email("m@example.com"), sms("380509990000"))],
                       "dedupeOn": "email_or_sms"})
    assert result["mapping"] == [{"dedupeValue": "m@example.com", "contactId": by_mail}]


def test_one_item_per_written_record_in_request_order(api):
    existing = api.add(contact(email("old@example.com")))
    result = api.bulk({"contacts": [contact(email("new@example.com")), contact(email("bad@")),
                                    contact(email("old@example.com")), contact(email("NEW@example.com"))]})
    new = next(d["id"] for d in api.state()["contacts"] if d["id"] != existing)
    assert result["mapping"] == [{"dedupeValue": "new@example.com", "contactId": new},
                                 {"dedupeValue": "old@example.com", "contactId": existing},
                                 {"dedupeValue": "new@example.com", "contactId": new}]
    assert [f["index"] for f in result["failedContacts"]] == [1]


def test_a_record_matched_on_its_external_id_is_named_by_the_dedupe_on_value(api):
    # the WooCommerce plugin (commits ea83d18..8b61de9) sent dedupeOn email with externalCustomerId
    # in every record and looked each user up by the email in dedupeValue
    contact_id = api.add(contact(email("old@example.com"), externalCustomerId="5"))
    result = api.bulk({"contacts": [contact(email("new@example.com"), externalCustomerId=5)], "dedupeOn": "email"})
    assert result["mapping"] == [{"dedupeValue": "new@example.com", "contactId": contact_id}]
    # without that value, the external id
    result = api.bulk({"contacts": [contact(sms("380501112233"), externalCustomerId="5")], "dedupeOn": "sms"})
    assert result["mapping"] == [{"dedupeValue": "380501112233", "contactId": contact_id}]
    result = api.bulk({"contacts": [{"externalCustomerId": "5", "firstName": "X"}], "dedupeOn": "webpush"})
    assert result["mapping"] == [{"dedupeValue": "5", "contactId": contact_id}]


def test_contact_fields_write_one_address_part_alone(api):
    api.add(contact(email("a@example.com"), address={"region": "West", "town": "London", "address": "First str. 1",
                                                     "postcode": "12345"}))
    api.bulk({"contacts": [contact(email("a@example.com"), address={"town": "Lviv", "region": "East",
                                                                    "postcode": "79000"})],
              "contactFields": ["town", "postcode"]})
    [doc] = api.state()["contacts"]
    assert doc["address"] == {"region": "West", "town": "Lviv", "address": "First str. 1", "postcode": "79000"}
    # a listed part not sent is cleared; the others stay
    api.bulk({"contacts": [contact(email("a@example.com"))], "contactFields": ["region"]})
    [doc] = api.state()["contacts"]
    assert doc["address"] == {"region": None, "town": "Lviv", "address": "First str. 1", "postcode": "79000"}
    # "address" writes the whole address
    api.bulk({"contacts": [contact(email("a@example.com"), address={"town": "Kyiv"})], "contactFields": ["address"]})
    [doc] = api.state()["contacts"]
    assert doc["address"] == {"region": None, "town": "Kyiv", "address": None, "postcode": None}
    # a part on a contact without an address creates it
    api.add(contact(email("b@example.com")))
    api.bulk({"contacts": [contact(email("b@example.com"), address={"postcode": "01001"})],
              "contactFields": ["postcode"]})
    doc = next(d for d in api.state()["contacts"] if d["channels"][0]["value"] == "b@example.com")
    assert doc["address"] == {"region": None, "town": None, "address": None, "postcode": "01001"}


def test_single_item_as_object_sends_a_list_of_one_as_the_item(make_api):
    api = make_api(single_item_as_object=True)
    resp = api.post("/contacts", {"contacts": [contact(email("x@")), contact(email("one@example.com"))]})
    body = resp.json()
    assert isinstance(body["failedContacts"], dict) and body["failedContacts"]["index"] == 0
    result = api.get(f"/importstatus/{body['asyncSessionId']}").json()
    [doc] = api.state()["contacts"]
    assert result["mapping"] == {"dedupeValue": "one@example.com", "contactId": doc["id"]}
    assert isinstance(result["failedContacts"], dict)
    # two items (or none) stay lists; the session itself keeps the list
    result = api.bulk({"contacts": [contact(email("a@example.com")), contact(email("b@example.com"))]})
    assert isinstance(result["mapping"], list) and len(result["mapping"]) == 2 and result["failedContacts"] == []
    assert all(isinstance(s["mapping"], list) for s in api.state()["sessions"])


def test_single_item_as_object_is_off_by_default(api):
    result = api.bulk({"contacts": [contact(email("one@example.com"))]})
    assert isinstance(result["mapping"], list) and len(result["mapping"]) == 1
