"""The vendor's Java sample ``octopush/octopush-sms-java`` (commit bda70f0e), its contact-list
lifecycle replayed wire for wire on a live server and in-process (``api.octopush.com``
intercepted).

src/main/resources/application.properties names the URLs; src/main/java/com/Octopush/
OctopushApplication.java builds the bodies (``ContactList``/``Contact`` serialised by Gson:
compact, null fields left out, fields in declaration order); service/OctopushManager.java
sends them through Spring's RestTemplate with ``Content-Type: application/json``,
``api-key``, ``api-login`` and ``cache-control: no-cache``, and reads only the status code:
201 for createContactList and addContact, 204 for removeContacts and removeContactList, 200
for emptyContactList (RestTemplate raises on a 4xx, so each of these must be answered so).
"""
from __future__ import annotations

import json

import pytest
import requests

from emulator import intercept
from emulator.vendors.octopush import VENDOR

from .conftest import FIXTURE

LIST = "yuniList"
PHONES = ("+33689028116", "+923214406262")


class JavaSample:
    """OctopushManager: one RestTemplate exchange per menu entry, the status code read back."""

    def __init__(self, base: str | None):
        self.base = f"{base}/v1/public" if base else "https://api.octopush.com/v1/public"
        self.headers = {"Content-Type": "application/json", "api-key": "octopush-demo-key",
                        "api-login": "demo@example.com", "cache-control": "no-cache",
                        "Accept": "application/json, application/*+json"}   # RestTemplate, Object.class

    def exchange(self, method: str, path: str, body: dict) -> requests.Response:
        resp = requests.request(method, f"{self.base}{path}", data=json.dumps(body, separators=(",", ":")),
                                headers=self.headers, timeout=10)
        if resp.content:   # RestTemplate converts a body into an Object: it must be JSON
            assert resp.headers["Content-Type"].startswith("application/json")
            resp.json()
        return resp

    def add_contact(self) -> int:
        contacts = [{"phone_number": PHONES[0], "first_name": "yuni", "last_name": "guim", "param3": "Alex"},
                    {"phone_number": PHONES[1], "first_name": "Fahad", "last_name": "khan", "param3": "Bob"}]
        return self.exchange("POST", "/contact/create", {"contacts": contacts, "list_name": LIST}).status_code

    def create_contact_list(self) -> int:
        return self.exchange("POST", "/contact-list/create", {"list_name": LIST}).status_code

    def remove_contacts(self) -> int:
        return self.exchange("DELETE", "/contact/delete",
                             {"list_name": LIST, "phone_numbers": [PHONES[1], PHONES[0]]}).status_code

    def empty_contact_list(self) -> int:
        return self.exchange("POST", "/contact-list/empty", {"list_name": LIST}).status_code

    def remove_contact_list(self) -> int:
        return self.exchange("DELETE", "/contact-list/delete", {"list_name": LIST}).status_code


@pytest.fixture(params=["live", "in-process"])
def octopush(request, make_app, live):
    """(engine, JavaSample) on a live server, or with the sample's real host intercepted."""
    app = make_app(vendors=[VENDOR], fixture=FIXTURE)
    engine = app.extensions["emulator"]
    if request.param == "live":
        yield engine, JavaSample(f"{live(app).url}/octopush")
    else:
        with intercept(app, strict=True):
            yield engine, JavaSample(None)


def stored(engine) -> tuple[dict, list]:
    contacts = {c["phone_number"]: c for _, c in engine.store.collection("octopush", "demo", "contacts").scan()}
    lists = [d["name"] for _, d in engine.store.collection("octopush", "demo", "lists").scan()]
    return contacts, lists


def test_java_sample_list_lifecycle(octopush):
    engine, sample = octopush
    assert sample.create_contact_list() == 201                 # menu 7
    assert sample.add_contact() == 201                         # menu 6
    contacts, lists = stored(engine)
    assert lists == ["Newsletter", LIST]
    assert {p: (c["first_name"], c["param3"], c["lists"]) for p, c in contacts.items()} == {
        PHONES[0]: ("yuni", "Alex", [LIST]), PHONES[1]: ("Fahad", "Bob", [LIST])}
    assert sample.remove_contacts() == 204                     # menu 8: with list_name, only detached
    contacts, _ = stored(engine)
    assert set(contacts) == set(PHONES) and all(c["lists"] == [] for c in contacts.values())
    assert sample.add_contact() == 201                         # back in the list, then emptied
    assert sample.empty_contact_list() == 200                  # menu 9
    contacts, lists = stored(engine)
    assert all(c["lists"] == [] for c in contacts.values()) and LIST in lists
    assert sample.add_contact() == 201
    assert sample.remove_contact_list() == 204                 # menu 10
    contacts, lists = stored(engine)
    assert lists == ["Newsletter"]
    assert set(contacts) == set(PHONES) and all(c["lists"] == [] for c in contacts.values())
    notes = [n for e in engine.journal.entries(vendor="octopush") for n in e["notes"]]
    assert notes == []   # the sample sends E.164 numbers and plain strings: nothing to fix up


def test_java_sample_menu_order_meets_the_vendors_codes(octopush):
    """Menu 6 creates the list on demand, so menu 7 after it is the vendor's 302; menu 10
    twice is 303 the second time. RestTemplate raises on these: the sample logs an error."""
    engine, sample = octopush
    assert sample.add_contact() == 201
    resp = sample.exchange("POST", "/contact-list/create", {"list_name": LIST})
    assert resp.status_code == 400 and resp.json()["code"] == 302
    assert sample.remove_contact_list() == 204
    resp = sample.exchange("DELETE", "/contact-list/delete", {"list_name": LIST})
    assert resp.status_code == 400 and resp.json()["code"] == 303
    assert set(stored(engine)[0]) == set(PHONES)
