"""Shipped fixtures, seeded data, settings checks, fake payloads and the OpenAPI document."""
from __future__ import annotations

import copy
import json

import pytest

from emulator.core.accounts import FixtureError
from emulator.seeding import faker_for
from emulator.vendors.dengage import VENDOR, fakes

from .conftest import BULK, FIXTURE, bearer, body, contacts, login
from .test_live import shipped


def test_default_fixture_generates_valid_contacts_at_the_fixture_epoch(make_app):
    app = make_app(vendors=[VENDOR], fixture=shipped("default"))
    client = app.test_client()
    stored = contacts(client)
    assert len(stored) == 5
    for key, contact in stored.items():
        assert key.startswith("CK-")
        assert contact["email"] == contact["email"].lower()
        assert contact["contact_status"] == "A" and contact["email_status"] == "A"
        assert contact["created_at"] == contact["updated_at"] == "2026-01-01T00:00:00.000Z"
        assert {"loyalty_tier", "lifetime_value", "last_order_date", "churn_score"} <= set(contact)


def test_demo_custom_columns_can_be_imported_except_the_disabled_one(make_app):
    app = make_app(vendors=[VENDOR], fixture=shipped("empty"))
    client = app.test_client()
    assert contacts(client) == {}
    auth = bearer(login(client))
    resp = client.post(BULK, json=body({"contact_key": "C-1", "loyalty_tier": "gold", "lifetime_value": 120.5,
                                        "last_order_date": "2026-02-01"}), headers=auth)
    assert resp.status_code == 200
    stored = contacts(client)["C-1"]
    assert (stored["loyalty_tier"], stored["lifetime_value"], stored["last_order_date"]) == ("gold", 120.5,
                                                                                           "2026-02-01")
    app.extensions["emulator"].clock.advance(60)
    resp = client.post(BULK, json=body({"contact_key": "C-1", "churn_score": 3}), headers=auth)
    assert resp.status_code == 400 and "'churn_score' is not import-enabled" in resp.get_json()["message"]


def test_same_seed_and_requests_give_the_same_state(make_app):
    def run(seed):
        app = make_app(vendors=[VENDOR], fixture=shipped("default"), seed=seed)
        client = app.test_client()
        app.extensions["emulator"].clock.freeze("2026-03-01T10:00:00Z")
        auth = bearer(login(client))
        client.post(BULK, json=body({"contact_key": "C-1", "email": "A@x.io"}), headers=auth)
        return json.dumps(client.get("/_emulator/state?vendor=dengage").get_json(), sort_keys=True)

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_fake_contacts_are_valid_records(client, auth):
    fake = faker_for(11, "dengage", "demo")
    records = [fakes.fake_contact(fake) for _ in range(100)]
    resp = client.post(BULK, json={"columns": list(records[0]), "contactDatas": records, "insertIfNotExists": True,
                                   "throwExceptionIfInvalidRecord": True}, headers=auth)
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert len(data["inserted"]) == 100 and data["errors"] == [] and data["warnings"] == []


def test_fake_bulk_payload_is_a_valid_call_in_the_callers_shape(client, auth):
    payload = VENDOR.fake_payloads["bulk"](faker_for(5, "dengage", "demo"), n=7, throwExceptionIfInvalidRecord=True)
    assert payload["columns"] == list(payload["contactDatas"][0])
    assert payload["insertIfNotExists"] is True and payload["throwExceptionIfInvalidRecord"] is True
    resp = client.post(BULK, json=payload, headers=auth)
    assert resp.status_code == 200 and len(resp.get_json()["data"]["inserted"]) == 7


@pytest.mark.parametrize("settings, message", [
    ({"custom_columns": {"tier": {"type": "text"}}}, "custom_columns.tier: 'type' must be one of"),
    ({"custom_columns": {"tier": "string"}}, "custom_columns.tier: 'type' must be one of"),
    ({"custom_columns": {"email": {"type": "string"}}}, "'email' is a standard column"),
    ({"custom_columns": {"tier": {"type": "string", "max_length": 0}}}, "'max_length' must be a positive integer"),
    ({"custom_columns": {"tier": {"type": "number", "enum": ["a"]}}}, "'enum' must be a non-empty list of strings"),
    ({"custom_columns": ["tier"]}, "settings.custom_columns must be an object"),
    ({"import_enabled_columns": ["shoe_size"]}, "settings.import_enabled_columns must be null or a list"),
    ({"roles": "DataSpace.Manage"}, "settings.roles must be a list of strings"),
    ({"bulk_window_s": -1}, "settings.bulk_window_s must be a number >= 0"),
    ({"token_ttl_s": "1h"}, "settings.token_ttl_s must be a number >= 1"),
])
def test_bad_account_settings_are_fixture_errors_naming_the_setting(make_app, settings, message):
    fixture = copy.deepcopy(FIXTURE)
    fixture["vendors"]["dengage"]["accounts"]["demo"]["settings"].update(settings)
    with pytest.raises(FixtureError, match="dengage account 'demo'") as err:
        make_app(vendors=[VENDOR], fixture=fixture)
    assert message in str(err.value)


def test_openapi_document_lists_the_dengage_routes(client):
    doc = client.get("/_emulator/openapi.json").get_json()
    paths = doc["paths"]
    assert {"/dengage/rest/login", "/dengage/rest/bulk/contacts", "/dengage/rest/contacts/{contact_key}"} <= set(paths)
    assert paths["/dengage/rest/login"]["post"]["security"] == []
    assert paths["/dengage/rest/bulk/contacts"]["post"]["security"] == [{"dengage_bearer": []}]
    assert "requestBody" in paths["/dengage/rest/bulk/contacts"]["post"]
    query = paths["/dengage/rest/contacts/{contact_key}"]["get"]["parameters"]
    assert {"in": "query", "name": "contactFields"}.items() <= query[-1].items()
    from openapi_spec_validator import validate

    validate(doc)


def test_credentials_line_for_the_start_up_banner(engine):
    line = VENDOR.describe_credentials(engine.account("dengage", "demo"))
    assert "userkey" in line and "dengage-demo-password" in line and "Bearer" in line
