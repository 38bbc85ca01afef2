"""What ``fake_contact`` makes is clean: for every vendor and every variant it offers, several
seeds, the vendor accepts it and journals no note (``assert_clean()`` passes)."""
from __future__ import annotations

import pytest
import requests

from emulator.seeding import faker_for
from emulator.testing.pytest_plugin import make_fake_payload
from emulator.vendors import load_vendors

SPECS = {spec.name: spec for spec in load_vendors()}
SEEDS = ["seed-1", "seed-2", "seed-3"]

ESPUTNIK = ("demo", "esputnik-demo-key")
OCTOPUSH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
PUSHTECH = {"Authorization": "Token token=pushtech-demo-secret"}


def send_esputnik(path):
    def send(payload):
        return requests.post(f"https://esputnik.com/api/v1{path}", json=payload, auth=ESPUTNIK, timeout=5)
    return send


def send_octopush(payload):
    return requests.post("https://api.octopush.com/v1/public/contact/create", json=payload, headers=OCTOPUSH,
                         timeout=5)


def send_dengage(payload):
    token = requests.post("https://api.dengage.com/rest/login", timeout=5,
                          json={"userkey": "demo", "password": "dengage-demo-password"}).json()["access_token"]
    return requests.post("https://api.dengage.com/rest/bulk/contacts", json=payload, timeout=5,
                         headers={"Authorization": f"Bearer {token}"})


def send_pushtech(path):
    def send(payload):
        return requests.post(f"https://api.eu.cendyncrm.com/v2/account/demo{path}", json=payload,
                             headers=PUSHTECH, timeout=5)
    return send


# (vendor, variant, fake_contact arguments, how a payload is sent, how fake_contact's output becomes a body)
VARIANTS = [
    ("esputnik", "contact", {}, send_esputnik("/contact"), None),
    ("esputnik", "bulk", {"endpoint": "bulk", "n": 5}, send_esputnik("/contacts"), None),
    ("esputnik", "contacts", {"endpoint": "contacts", "n": 3}, send_esputnik("/contacts"), None),
    ("esputnik", "subscribe", {"endpoint": "subscribe"}, send_esputnik("/contact/subscribe"), None),
    ("esputnik", "add", {"endpoint": "contact"}, send_esputnik("/contact"), None),
    ("esputnik", "orders", {"endpoint": "orders", "n": 3}, send_esputnik("/orders"), None),
    ("esputnik", "event", {"endpoint": "event"}, send_esputnik("/event"), None),
    ("esputnik", "unsubscribed", {"endpoint": "unsubscribed", "n": 3}, send_esputnik("/emails/unsubscribed/add"),
     None),
    ("octopush", "contact", {}, send_octopush, lambda c: {"contacts": [c]}),
    ("octopush", "create", {"endpoint": "create", "n": 5}, send_octopush, None),
    ("dengage", "contact", {}, send_dengage,
     lambda c: {"columns": list(c), "contactDatas": [c], "insertIfNotExists": True}),
    ("dengage", "bulk", {"endpoint": "bulk", "n": 5}, send_dengage, None),
    ("dengage", "bulk-columns", {"endpoint": "bulk", "n": 4, "columns": ["contact_key", "name", "email"]},
     send_dengage, None),
    ("pushtech", "contact", {}, send_pushtech("/contact"), None),
    ("pushtech", "create", {"endpoint": "create"}, send_pushtech("/contact"), None),
    ("pushtech", "bulk", {"endpoint": "bulk", "n": 5}, send_pushtech("/contact/bulk"), None),
]


def test_every_fake_payload_variant_is_listed_here():
    listed = {(vendor, args.get("endpoint")) for vendor, _, args, _, _ in VARIANTS}
    for name, spec in SPECS.items():
        for endpoint in spec.fake_payloads:
            if endpoint != "default":
                assert (name, endpoint) in listed, f"{name} fake payload {endpoint!r} is not tested for notes"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("vendor", "variant", "args", "send", "wrap"), VARIANTS,
                         ids=[f"{v[0]}-{v[1]}" for v in VARIANTS])
def test_fake_payloads_are_accepted_without_a_note(emulated_vendors, vendor, variant, args, send, wrap, seed):
    args = dict(args)
    payload = make_fake_payload(SPECS, faker_for(seed, "fake_contact", ""), vendor, args.pop("endpoint", None),
                                args.pop("n", None), **args)
    emulated_vendors.clock.freeze("2026-06-01T00:00:00Z")  # D·engage: the once-a-minute limit is per clock
    resp = send(wrap(payload) if wrap else payload)
    assert resp.status_code < 300, resp.text
    emulated_vendors.assert_clean()
