"""Shipped fixtures and seeding, fake payloads, OpenAPI, state shape."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.seeding import faker_for
from emulator.testing.pytest_plugin import make_fake_payload
from emulator.vendors.esputnik import VENDOR

from .conftest import API, AUTH, contact, email, run_bulk

ROOT = Path(__file__).resolve().parents[2]


def shipped(name: str) -> dict:
    data = json.loads((ROOT / "fixtures" / f"{name}.json").read_text())
    return {"vendors": {"esputnik": data["vendors"]["esputnik"]}}


def test_default_fixture_seeds_demo_data(make_app):
    client = make_app(vendors=[VENDOR], fixture=shipped("default")).test_client()
    state = client.get("/_emulator/state?vendor=esputnik").get_json()["vendors"]["esputnik"]["accounts"]["demo"]
    assert set(state) == {"contacts", "groups", "orders", "events", "unsubscribed", "sessions"}
    assert len(state["contacts"]) == 5
    assert [g["name"] for g in state["groups"]] == ["Subscribers", "Customers", "Active last 30 days"]
    for doc in state["contacts"]:
        assert doc["channels"][0]["confirmed"] is True and doc["created"] == "2026-01-01T00:00:00.000Z"
    found = client.get(f"{API}/contacts", auth=AUTH).get_json()
    assert len(found) == 5


def test_empty_fixture_has_no_contacts(make_app):
    client = make_app(vendors=[VENDOR], fixture=shipped("empty")).test_client()
    state = client.get("/_emulator/state?vendor=esputnik").get_json()["vendors"]["esputnik"]["accounts"]["demo"]
    assert state["contacts"] == [] and len(state["groups"]) == 3


def test_same_seed_same_bytes_other_seed_other_data(make_app):
    def state(seed):
        client = make_app(vendors=[VENDOR], fixture=shipped("default"), seed=seed).test_client()
        return client.get("/_emulator/state?vendor=esputnik").get_data()

    assert state(7) == state(7)
    assert state(7) != state(8)


def test_reset_restores_the_fixture_and_ids_repeat(client):
    first = client.post(f"{API}/contact", json=contact(email("a@example.com")), auth=AUTH).get_json()["id"]
    client.post("/_emulator/reset", json={})
    assert client.get("/_emulator/state?vendor=esputnik").get_json()["vendors"]["esputnik"]["accounts"]["demo"][
        "contacts"] == []
    again = client.post(f"{API}/contact", json=contact(email("b@example.com")), auth=AUTH).get_json()["id"]
    assert again == first


@pytest.mark.parametrize("seed", range(30))
def test_fake_contacts_are_valid_create_payloads(client, seed):
    fake = faker_for(seed, "esputnik", "test", "uk_UA" if seed % 3 == 0 else None)
    payload = VENDOR.fake_contact(fake)
    resp = client.post(f"{API}/contact", json=payload, auth=AUTH)
    assert resp.status_code == 200, (payload, resp.get_data(as_text=True))


def test_fake_payloads_are_accepted_by_their_endpoints(client):
    specs = {"esputnik": VENDOR}
    fake = faker_for(1, "esputnik", "payloads")
    body = make_fake_payload(specs, fake, "esputnik", "bulk", n=20, groupNames=["Customers"])
    result = run_bulk(client, body)
    assert len(result["mapping"]) == 20 and result["failedContacts"] == []
    resp = client.post(f"{API}/contact/subscribe", json=make_fake_payload(specs, fake, "esputnik", "subscribe"),
                       auth=AUTH)
    assert resp.status_code == 200
    assert client.post(f"{API}/contact", json=make_fake_payload(specs, fake, "esputnik", "contact"),
                       auth=AUTH).status_code == 200


def test_openapi_documents_every_esputnik_route(client):
    doc = client.get("/_emulator/openapi.json").get_json()
    paths = {p: set(ops) for p, ops in doc["paths"].items() if p.startswith("/esputnik/")}
    assert paths == {
        "/esputnik/api/v1/contact/subscribe": {"post"},
        "/esputnik/api/v1/contacts": {"post", "get"},
        "/esputnik/api/v1/contact": {"post", "delete"},
        "/esputnik/api/v1/contact/{contact_id}": {"get", "put", "delete"},
        "/esputnik/api/v1/contacts/upload": {"post"},
        "/esputnik/api/v1/importstatus/{session_id}": {"get"},
        "/esputnik/api/v1/groups": {"get"},
        "/esputnik/api/v1/group/{group_id}/contacts/attach": {"post"},
        "/esputnik/api/v1/group/{group_id}/contacts/detach": {"post"},
        "/esputnik/api/v1/group/{group_id}/contacts": {"get"},
        "/esputnik/api/v1/contacts/email": {"get"},
        "/esputnik/api/v1/addressbooks": {"get"},
        "/esputnik/api/v1/orders": {"post"},
        "/esputnik/api/v1/event": {"post"},
        "/esputnik/api/v1/emails/unsubscribed/add": {"post"},
        "/esputnik/api/v1/emails/unsubscribed/delete": {"post"},
    }
    bulk = doc["paths"]["/esputnik/api/v1/contacts"]["post"]
    assert "requestBody" in bulk and bulk["security"] == [{"esputnik_basic": []}]
    assert doc["components"]["securitySchemes"]["esputnik_basic"]["scheme"] == "basic"


def test_the_registry_serves_esputnik(engine):
    from emulator.vendors import load_vendors

    [spec] = load_vendors(["esputnik"])
    assert spec is VENDOR and spec.base_path == "/api/v1"
    line = VENDOR.describe_credentials(engine.account("esputnik", "demo"))
    assert "Basic" in line and "esputnik-demo-key" in line
