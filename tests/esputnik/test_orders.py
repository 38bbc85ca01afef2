"""Issue item 8, POST /orders, over the test client and a live server: orders are stored by
externalOrderId, create a missing contact and never update one, log order<STATUS> events, fail
alone in failedOrders; a request that breaks the rules is a 400 storing nothing."""
from __future__ import annotations

import pytest

from .conftest import contact, email, error_of, sms

ITEM = {"externalItemId": "SKU-1", "name": "Mug", "category": "Kitchen", "quantity": 2, "cost": 12.5,
        "url": "https://shop.example.com/p/mug", "imageUrl": "https://shop.example.com/i/mug.jpg"}


def order(**fields) -> dict:
    return {"externalOrderId": "1001", "externalCustomerId": "cust-1", "totalCost": 25, "status": "INITIALIZED",
            "date": "2026-05-01T10:00:00+03:00", "currency": "EUR", "email": "buyer@example.com",
            "phone": "380501112233", "firstName": "Ann", "lastName": "Lee", "items": [ITEM], **fields}


def test_an_order_is_stored_creates_its_contact_and_logs_an_event(api):
    api.admin("POST", "/_emulator/clock", {"freeze": "2026-05-01T07:00:00Z"})
    resp = api.post("/orders", {"orders": [order()]})
    assert resp.status_code == 200 and resp.data == b""
    assert api.notes() == []
    state = api.state()
    [doc] = state["contacts"]
    assert doc["channels"] == [{"type": "email", "value": "buyer@example.com", "confirmed": True},
                               {"type": "sms", "value": "380501112233"}]
    assert (doc["firstName"], doc["lastName"], doc["externalCustomerId"], doc["groups"]) == ("Ann", "Lee", "cust-1", [])
    [stored] = state["orders"]
    assert stored["externalOrderId"] == "1001" and stored["contactId"] == doc["id"]
    assert stored["totalCost"] == 25 and stored["items"][0]["externalItemId"] == "SKU-1"
    assert state["events"] == [{"type": "orderINITIALIZED", "key": "1001",
                                "params": {"orderId": "1001", "contactId": doc["id"], "EmailAddress": "buyer@example.com",
                                           "SMS": "380501112233"}, "at": "2026-05-01T07:00:00.000Z"}]


def test_an_existing_contact_is_matched_and_not_updated(api):
    by_phone = api.add(contact(sms("380501112233"), firstName="Phone"))
    by_mail = api.add(contact(email("buyer@example.com"), firstName="Mail"))
    before = {d["id"]: d for d in api.state()["contacts"]}
    assert api.post("/orders", {"orders": [order(externalCustomerId=None, firstName="Other")]}).status_code == 200
    state = api.state()
    assert {d["id"]: d for d in state["contacts"]} == before  # email before phone; nothing rewritten
    assert state["orders"][0]["contactId"] == by_mail != by_phone
    # matched on the external id first
    by_ext = api.add(contact(email("ext@example.com"), externalCustomerId="cust-9"))
    api.post("/orders", {"orders": [order(externalOrderId="1002", externalCustomerId="cust-9")]})
    assert next(o for o in api.state()["orders"] if o["externalOrderId"] == "1002")["contactId"] == by_ext


def test_a_known_external_order_id_replaces_the_order(api):
    api.post("/orders", {"orders": [order()]})
    api.post("/orders", {"orders": [order(status="DELIVERED", totalCost=30)]})
    state = api.state()
    [stored] = state["orders"]
    assert (stored["status"], stored["totalCost"]) == ("DELIVERED", 30)
    assert [e["type"] for e in state["events"]] == ["orderINITIALIZED", "orderDELIVERED"]
    assert len(state["contacts"]) == 1


def test_two_orders_of_a_new_customer_in_one_call_create_one_contact(api):
    api.post("/orders", {"orders": [order(), order(externalOrderId="1002", externalCustomerId=None)]})
    state = api.state()
    assert len(state["contacts"]) == 1 and len(state["orders"]) == 2
    assert {o["contactId"] for o in state["orders"]} == {state["contacts"][0]["id"]}


def test_orders_that_break_a_rule_fail_alone(api):
    resp = api.post("/orders", {"orders": [order(), order(externalOrderId="2", status="SHIPPED"),
                                           order(externalOrderId="3", totalCost=None),
                                           order(externalOrderId="4", externalCustomerId=None, email=None, phone=None),
                                           order(externalOrderId="5", date="yesterday"),
                                           order(externalOrderId="6", items=[{"name": "no id"}]), "not an order"]})
    assert resp.status_code == 200
    failed = resp.json()["failedOrders"]
    assert [(f["index"], f["externalOrderId"]) for f in failed] == [(1, "2"), (2, "3"), (3, "4"), (4, "5"), (5, "6"),
                                                                      (6, None)]
    for item, words in zip(failed, (["orders[1].status", "one of"], ["orders[2].totalCost is required"],
                                    ["one of externalCustomerId, email or phone"], ["orders[4].date", "ISO 8601"],
                                    ["orders[5].items[0].externalItemId is required"], ["orders[6]", "object"]),
                           strict=True):
        assert all(word in item["message"] for word in words), item
    assert [o["externalOrderId"] for o in api.state()["orders"]] == ["1001"]


def test_failed_orders_of_one_with_single_item_as_object(make_api):
    api = make_api(single_item_as_object=True)
    failed = api.post("/orders", {"orders": [order(status="nope")]}).json()["failedOrders"]
    assert isinstance(failed, dict) and failed["index"] == 0
    assert api.state()["orders"] == [] and api.state()["contacts"] == []


@pytest.mark.parametrize("body, words", [
    ({}, ["orders is required", "1 to 1000"]),
    ({"orders": []}, ["orders is required", "got 0"]),
    ({"orders": {"externalOrderId": "1"}}, ["orders is required", "dict"]),
    ({"orders": [order(externalOrderId=str(i)) for i in range(1001)]}, ["1 to 1000", "1001"]),
])
def test_no_orders_array_or_more_than_1000_is_400_and_stores_nothing(api, body, words):
    before = api.state()
    error_of(api.post("/orders", body), 400, *words)
    assert api.state() == before


def test_a_thousand_orders_in_one_call(api):
    resp = api.post("/orders", {"orders": [order(externalOrderId=str(i), externalCustomerId=f"c{i % 10}",
                                                 email=f"c{i % 10}@example.com", phone=None) for i in range(1000)]})
    assert resp.status_code == 200 and resp.data == b""
    state = api.state()
    assert len(state["orders"]) == 1000 and len(state["contacts"]) == 10 and len(state["events"]) == 1000


def test_text_numbers_empty_strings_and_missing_optional_fields_are_noted(api):
    sent = order(totalCost="59.00", shipping="", discount="", taxes="4.5", currency=None,
                 items=[{"externalItemId": 7, "name": "Mug", "quantity": "2", "cost": "12.50"}])
    del sent["currency"]
    assert api.post("/orders", {"orders": [sent]}).status_code == 200
    notes = {(n["field"], n["kind"], n["rule"]) for n in api.notes()}
    assert notes == {
        ("orders[0].totalCost", "unverified", "number sent as text read as a number"),
        ("orders[0].shipping", "unverified", "empty text read as no value"),
        ("orders[0].discount", "unverified", "empty text read as no value"),
        ("orders[0].taxes", "unverified", "number sent as text read as a number"),
        ("orders[0].items[0].externalItemId", "unverified", "number stored as its decimal text"),
        ("orders[0].items[0].quantity", "unverified", "number sent as text read as a number"),
        ("orders[0].items[0].cost", "unverified", "number sent as text read as a number"),
        ("orders[0].items[0].url", "unverified",
         "url is required by the vendor's order reference but accepted without it"),
        ("orders[0].items[0].imageUrl", "unverified",
         "imageUrl is required by the vendor's order reference but accepted without it"),
        ("orders[0].currency", "unverified", "currency is required by the vendor's order guide but accepted without it"),
    }
    [stored] = api.state()["orders"]
    assert (stored["totalCost"], stored["shipping"], stored["taxes"]) == (59.0, None, 4.5)
    assert stored["items"][0]["quantity"] == 2 and stored["items"][0]["externalItemId"] == "7"


def test_orders_are_not_subject_to_the_duplicate_window(make_api):
    api = make_api(duplicate_window_s=60)
    body = {"orders": [order()]}
    assert api.post("/orders", body).status_code == 200
    assert api.post("/orders", body).status_code == 200
