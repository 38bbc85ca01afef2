"""Fixtures, seeding, reset, state shape, fake payloads and the OpenAPI document."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.core.accounts import FixtureError
from emulator.testing.pytest_plugin import make_fake_payload
from emulator.vendors.pushtech import VENDOR

from .conftest import Api, credits, state, stored_contacts

ROOT = Path(__file__).resolve().parents[2]


def shipped(name: str) -> dict:
    """A shipped fixture, Pushtech block only."""
    data = json.loads((ROOT / "fixtures" / f"{name}.json").read_text())
    return {"vendors": {"pushtech": data["vendors"]["pushtech"]}}


def test_default_fixture_generates_valid_contacts_deterministically(make_app):
    def dump(seed):
        app = make_app(vendors=[VENDOR], fixture=shipped("default"), seed=seed)
        return app.test_client().get("/_emulator/state?vendor=pushtech").get_json()

    first = dump(7)
    contacts = first["vendors"]["pushtech"]["accounts"]["demo"]["contacts"]
    assert len(contacts) == 5
    assert all(c["created_at"] == "2026-01-01T00:00:00.000Z" for c in contacts)
    assert json.dumps(first) == json.dumps(dump(7))
    assert json.dumps(first) != json.dumps(dump(8))
    assert first["vendors"]["pushtech"]["accounts"]["demo"]["balance"] == [
        {"account": "demo", "validation_credits": 100}]


def test_empty_fixture_has_the_demo_account_and_no_contacts(make_app):
    client = make_app(vendors=[VENDOR], fixture=shipped("empty")).test_client()
    assert stored_contacts(client) == []
    assert Api(client).get("/balance/current").get_json() == {"balance": "100.0", "currency": "eur5"}


def test_generated_contacts_are_what_the_api_would_store(make_app):
    client = make_app(vendors=[VENDOR], fixture=shipped("default")).test_client()
    api = Api(client)
    generated = stored_contacts(client)[0]
    sent = {k: v for k, v in generated.items() if k not in ("id", "created_at", "updated_at")}
    created = api.create(**sent)
    assert {k: v for k, v in created.items() if k not in ("id", "created_at", "updated_at")} == sent


def test_state_shows_every_account_collection(client, api):
    api.create(email="a@example.com")
    api.bulk([{"email": "b@example.com"}])
    api.post("/custom_fields", {"name": "room", "label": "Room"})
    api.post("/lists", {"name": "VIP"})
    account = state(client)
    assert set(account) == {"contacts", "bulks", "balance", "custom_fields", "lists"}
    assert len(account["contacts"]) == 2 and account["bulks"][0]["status"] == "finished"
    assert [f["name"] for f in account["custom_fields"]] == ["favourite_colour", "score", "room"]
    assert [(x["id"], x["name"]) for x in account["lists"]][0] == ("list-newsletter", "Newsletter")
    assert [x["name"] for x in account["lists"]] == ["Newsletter", "VIP"]


def test_reset_restores_contacts_credits_fields_lists_and_counters(client, api):
    declared = {k: v for k, v in state(client).items() if k in ("custom_fields", "lists")}
    first = api.create(email="a@example.com", email_validation={"validate": True})
    api.bulk([{"email": "b@example.com"}])
    field = api.post("/custom_fields", {"name": "room", "label": "Room"}).get_json()
    api.put(f"/custom_fields/{declared['custom_fields'][0]['_id']}", {"label": "Colour"})
    api.post("/lists", {"name": "VIP"})
    api.delete("/lists/list-newsletter")
    assert credits(client) == 4
    client.post("/_emulator/reset", json={"vendor": "pushtech"})
    assert state(client) == {"contacts": [], "bulks": [], "balance": [{"account": "demo", "validation_credits": 5}],
                             **declared}
    assert api.post("/custom_fields", {"name": "room", "label": "Room"}).get_json() == field
    client.post("/_emulator/reset", json={})  # a full reset also rewinds the id counters
    assert api.create(email="a@example.com", email_validation={"validate": True})["id"] == first["id"]


def test_reseed_changes_the_ids(client, api):
    first = api.create(email="a@example.com")["id"]
    client.post("/_emulator/seed", json={"seed": 99})
    assert api.create(email="a@example.com")["id"] != first


@pytest.mark.parametrize("settings, message", [
    ({"validation_credits": -1}, "validation_credits must be a non-negative integer"),
    ({"validation_credits": "10"}, "validation_credits must be a non-negative integer"),
    ({"processing_delay_s": "soon"}, "processing_delay_s must be a non-negative number"),
    ({"custom_fields": "colour"}, "custom_fields must be an array of names or objects"),
    ({"custom_fields": [7]}, r"custom_fields\[0\] must be a name or an object"),
    ({"custom_fields": [{"name": "x"}]}, r"custom_fields\[0\]: label: is required"),
    ({"custom_fields": ["x", {"name": "x", "label": "X"}]}, "name 'x' is declared twice"),
    ({"custom_fields": [{"name": "x", "label": "X", "type": "money"}]}, "type: must be one of boolean"),
    ({"lists": "news"}, "lists must be an array of names or objects"),
    ({"lists": [{"description": "no name"}]}, r"lists\[0\]: name: is required"),
    ({"lists": [{"name": "a", "id": 5}]}, "id: must be a non-empty string"),
    ({"lists": [{"name": "a", "id": "L"}, {"name": "b", "id": "L"}]}, "id 'L' is declared twice"),
    ({"contact_webhook_url": "ftp://x"}, "contact_webhook_url must be an http or https URL"),
    ({"contact_webhook_url": 5}, "contact_webhook_url must be an http or https URL"),
])
def test_bad_account_settings_are_fixture_errors(make_app, settings, message):
    fixture = {"vendors": {"pushtech": {"accounts": {"x": {"credentials": {"secret": "s"}, "settings": settings}}}}}
    with pytest.raises(FixtureError, match=message):
        make_app(vendors=[VENDOR], fixture=fixture)


def test_a_missing_secret_is_a_fixture_error(make_app):
    with pytest.raises(FixtureError, match="credentials.secret"):
        make_app(vendors=[VENDOR], fixture={"vendors": {"pushtech": {"accounts": {"x": {}}}}})


def test_fake_payloads_are_accepted(client, api):
    from emulator.seeding import faker_for

    fake = faker_for(1, "pushtech", "test")
    specs = {"pushtech": VENDOR}
    single = make_fake_payload(specs, fake, "pushtech")
    assert api.post("/contact", single).status_code == 201
    assert api.post("/contact", make_fake_payload(specs, fake, "pushtech", "create", gender="MALE")).status_code == 201
    bulk = make_fake_payload(specs, fake, "pushtech", "bulk", n=4, match_contact_user_id=True)
    assert len(bulk["contacts"]) == 4 and bulk["match_contact_user_id"] is True
    assert api.post("/contact/bulk", bulk).status_code == 201
    api.get("/balance/current")
    assert len(stored_contacts(client)) == 6
    assert client.get("/_emulator/requests?vendor=pushtech").get_json()["requests"][0]["notes"] == []


def test_openapi_documents_every_pushtech_route(client):
    doc = client.get("/_emulator/openapi.json").get_json()
    paths = {p: set(ops) for p, ops in doc["paths"].items() if p.startswith("/pushtech/")}
    base = "/pushtech/v2/account/{account_id}"
    assert paths == {
        f"{base}/contact": {"get", "post"},
        f"{base}/contact/{{contact_id}}": {"get", "put", "delete"},
        f"{base}/contact/{{contact_id}}/email_validation": {"get"},
        f"{base}/contact/bulk": {"post"},
        f"{base}/contact/bulk/{{bulk_id}}": {"get"},
        f"{base}/balance/current": {"get"},
        f"{base}/custom_fields": {"get", "post"},
        f"{base}/custom_fields/{{custom_id}}": {"put", "delete"},
        f"{base}/lists": {"get", "post"},
        f"{base}/lists/{{list_id}}": {"get", "put", "delete"},
    }
    create = doc["paths"][f"{base}/contact"]["post"]
    assert "201" in create["responses"] and "requestBody" in create
    assert "pushtech_token" in doc["components"]["securitySchemes"]


def test_same_seed_and_requests_give_the_same_state(make_app):
    from .conftest import pushtech_fixture

    def run():
        client = make_app(vendors=[VENDOR], fixture=pushtech_fixture(), seed=5).test_client()
        client.post("/_emulator/clock", json={"freeze": "2026-06-01T00:00:00Z"})
        api = Api(client)
        contact = api.create(email="a@example.com", email_validation={"validate": True})
        api.put(f"/contact/{contact['id']}", {"city": "Oslo"})
        api.bulk([{"email": "b@example.com", "user_id": "u1"}, {"user_id": "u1", "phone": "+4791234567"}],
                 match_contact_user_id=True)
        client.post("/_emulator/clock", json={"advance": 1})
        return json.dumps(client.get("/_emulator/state?vendor=pushtech").get_json())

    assert run() == run()
