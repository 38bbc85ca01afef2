"""Wrong types anywhere in any body: a 4xx in the vendor's shape that stores nothing (or a failed
record), never a 500."""
from __future__ import annotations

import copy

import pytest

from .conftest import API, AUTH, contact, email, sms

GARBAGE = [None, "", "x", 0, -1, 1.5, True, [], [None], [[]], {}, {"a": {"b": []}}, "😀" * 50, 10**30]

CONTACT = contact(email("g@example.com"), sms("380501112233"),
                  {"type": "mobilepush", "value": "fcm", "device": {"appId": "a", "os": "ios", "active": True}},
                  {"type": "webpush", "value": "wp", "webPushSubscription": {"appId": "s", "ip": "203.0.113.1"}},
                  firstName="Ann", lastName="Lee", address={"town": "London", "postcode": "1"},
                  fields=[{"id": 12345, "value": "v"}], externalCustomerId="crm-1", languageCode="en", timeZone="UTC",
                  contactKey="k-1", addressBookId=7200)
ORDER = {"externalOrderId": "o-1", "externalCustomerId": "c-1", "totalCost": 10.5, "status": "DELIVERED",
         "date": "2026-05-01T10:00:00+03:00", "currency": "EUR", "email": "o@example.com", "phone": "380501112233",
         "firstName": "Ann", "lastName": "Lee", "shipping": "1.00", "discount": "", "taxes": 0,
         "additionalInfo": {"comment": "x"}, "deliveryAddress": "Kyiv",
         "items": [{"externalItemId": 7, "name": "Mug", "category": "c", "quantity": 1, "cost": 10.5,
                    "url": "https://shop.example.com/p", "imageUrl": "https://shop.example.com/i"}]}

BODIES = {
    ("post", "/contact"): CONTACT,
    ("put", "/contact/{id}"): CONTACT,
    ("post", "/contact/subscribe"): {"contact": CONTACT, "groups": ["Subscribers"], "formType": "f"},
    ("post", "/contacts"): {"contacts": [CONTACT], "dedupeOn": "email", "fieldId": 12345,
                            "contactFields": ["firstName"], "customFieldsIDs": [12345], "groupNames": ["Customers"],
                            "groupNamesExclude": ["Subscribers"], "restoreDeleted": False,
                            "eventKeyForNewContacts": "newContact"},
    ("post", "/contacts/upload"): {"link": "http://127.0.0.1:9/x.csv", "dedupeOn": "email"},
    ("post", "/group/{group}/contacts/attach"): {"contactIds": [1]},
    ("post", "/group/{group}/contacts/detach"): {"externalCustomerIds": ["crm-1"]},
    ("post", "/orders"): {"orders": [ORDER]},
    ("post", "/event"): {"eventTypeKey": "viewed", "keyValue": "k-1",
                         "params": [{"name": "email", "value": "e@example.com"}, {"name": "n", "value": 1}]},
    ("post", "/emails/unsubscribed/add"): {"emails": ["u@example.com", "v@example.com"]},
    ("post", "/emails/unsubscribed/delete"): {"emails": ["u@example.com"]},
}
QUERIES = {  # GET endpoints: garbage in every query parameter
    "/contacts": {"email": "g@example.com", "sms": "380501112233", "firstname": "Ann", "lastname": "Lee",
                  "externalCustomerId": "crm-1", "startindex": "1", "maxrows": "10"},
    "/groups": {"name": "Cust", "startindex": "1", "maxrows": "10"},
    "/group/{group}/contacts": {"startindex": "1", "maxrows": "10"},
    "/contacts/email": {"ids": "1,2"},
    "/addressbooks": {},
}
QUERY_GARBAGE = ["", "x", "-1", "0", "1.5", "999999999999999999999", "%", "é", "1,,2", " 1", "null", "[]"]


def paths(value, prefix=()):
    """Every (path) into a JSON value, the value itself included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, prefix + (i,))


def replaced(body, path, garbage):
    if not path:
        return copy.deepcopy(garbage)
    body = copy.deepcopy(body)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = copy.deepcopy(garbage)
    return body


def state(client) -> dict:
    return client.get("/_emulator/state?vendor=esputnik&account=demo").get_json()


def fresh(client) -> int:
    """The store as each garbage request finds it: the fixture and one contact (the same id each
    time: a reset rewinds the ids), so a 4xx is compared with a small, known state."""
    client.post("/_emulator/reset", json={})
    return client.post(f"{API}/contact", json=contact(email("seed@example.com")), auth=AUTH).get_json()["id"]


@pytest.mark.parametrize("method, route", sorted(BODIES))
def test_garbage_at_every_position_is_never_a_500(client, method, route):
    client.post("/_emulator/clock", json={"freeze": "2026-06-01T00:00:00Z"})
    contact_id = fresh(client)
    group = next(g["id"] for g in client.get(f"{API}/groups", auth=AUTH).get_json() if g["name"] == "Customers")
    url = API + route.format(id=contact_id, group=group)
    body = BODIES[(method, route)]
    baseline = state(client)
    for path in list(paths(body)):
        for garbage in GARBAGE:
            sent = replaced(body, path, garbage)
            assert fresh(client) == contact_id
            resp = getattr(client, method)(url, json=sent, auth=AUTH)
            assert resp.status_code < 500, (path, garbage, resp.get_data(as_text=True))
            if resp.status_code >= 400:
                answer = resp.get_json()
                assert set(answer) == {"status", "message"} and answer["message"], (path, garbage, answer)
                assert state(client) == baseline, (path, garbage, answer)
            elif method == "post" and route in ("/contacts", "/contacts/upload"):
                # a queued import also finishes without a 500, as a session
                session = resp.get_json()["asyncSessionId"]
                done = client.get(f"{API}/importstatus/{session}", auth=AUTH)
                assert done.status_code == 200 and done.get_json()["status"] in ("FINISHED", "ERROR")



@pytest.mark.parametrize("route", sorted(QUERIES))
def test_garbage_in_every_query_parameter_is_never_a_500(client, route):
    group = next(g["id"] for g in client.get(f"{API}/groups", auth=AUTH).get_json() if g["name"] == "Customers")
    url = API + route.format(group=group)
    for name in [*QUERIES[route], "unknown"]:
        for garbage in QUERY_GARBAGE:
            query = {**QUERIES[route], name: garbage}
            before = state(client)
            resp = client.get(url, query_string=query, auth=AUTH)
            assert resp.status_code < 500, (name, garbage, resp.get_data(as_text=True))
            if resp.status_code >= 400:
                assert set(resp.get_json()) == {"status", "message"}, (name, garbage)
            assert state(client) == before
