"""Wrong types anywhere in any body: a 4xx in the vendor's shape (or a failed record), never a 500."""
from __future__ import annotations

import copy

import pytest

from .conftest import API, AUTH, contact, email, sms

GARBAGE = [None, "", "x", 0, -1, 1.5, True, [], [None], [[]], {}, {"a": {"b": []}}, "😀" * 50, 10**30]

CONTACT = contact(email("g@example.com"), sms("380501112233"), firstName="Ann", lastName="Lee",
                  address={"town": "London", "postcode": "1"}, fields=[{"id": 12345, "value": "v"}],
                  externalCustomerId="crm-1", languageCode="en", timeZone="UTC")

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
}


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


@pytest.mark.parametrize("method, route", sorted(BODIES))
def test_garbage_at_every_position_is_never_a_500(client, method, route):
    contact_id = client.post(f"{API}/contact", json=contact(email("seed@example.com")), auth=AUTH).get_json()["id"]
    group = next(g["id"] for g in client.get(f"{API}/groups", auth=AUTH).get_json() if g["name"] == "Customers")
    url = API + route.format(id=contact_id, group=group)
    body = BODIES[(method, route)]
    for path in list(paths(body)):
        for garbage in GARBAGE:
            sent = replaced(body, path, garbage)
            resp = getattr(client, method)(url, json=sent, auth=AUTH)
            assert resp.status_code < 500, (path, garbage, resp.get_data(as_text=True))
            if resp.status_code >= 400:
                answer = resp.get_json()
                assert set(answer) == {"status", "message"} and answer["message"], (path, garbage, answer)
    # the queued imports also finish without a 500, as sessions
    for session in client.get("/_emulator/state?vendor=esputnik&account=demo").get_json()[
            "vendors"]["esputnik"]["accounts"]["demo"]["sessions"]:
        assert session["status"] in ("FINISHED", "ERROR")
        assert client.get(f"{API}/importstatus/{session['asyncSessionId']}", auth=AUTH).status_code == 200
