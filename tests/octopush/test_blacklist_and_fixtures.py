"""Opt-outs (fixture and admin helper), fixture loading, seeding, fake payloads, OpenAPI."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from emulator.core.accounts import FixtureError
from emulator.testing.handle import EmulatorHandle
from emulator.testing.pytest_plugin import make_fake_payload
from emulator.vendors.octopush import VENDOR

from .conftest import AUTH, CREATE, FIXTURE, account_state, contacts_by_phone

ROOT = Path(__file__).resolve().parents[2]
BLACKLIST = "/_emulator/octopush/blacklist"


def shipped(name: str) -> dict:
    """The shipped fixture, narrowed to its Octopush block."""
    data = json.loads((ROOT / "fixtures" / f"{name}.json").read_text())
    return {"vendors": {"octopush": data["vendors"]["octopush"]}}


# -- blacklist -------------------------------------------------------------------------------
def test_fixture_declares_the_blacklist(client):
    assert [d["phone_number"] for d in account_state(client)["blacklist"]] == ["+33600000000"]
    assert account_state(client, "uk")["blacklist"] == []


def test_admin_blacklist_flags_existing_contacts_and_later_creates(client):
    client.post(CREATE, json={"contacts": [{"phone_number": "+33612345678"}]}, headers=AUTH)
    resp = client.post(BLACKLIST, json={"account": "demo", "phone_numbers": ["06 12 34 56 78", "0612345679"]})
    assert resp.status_code == 200
    assert resp.get_json() == {"account": "demo", "phone_numbers": ["+33612345678", "+33612345679"],
                               "contacts_flagged": 1}
    assert contacts_by_phone(client)["+33612345678"]["blacklisted"] is True
    resp = client.post(CREATE, json={"auto_remove_blacklisted_numbers": True,
                                     "contacts": [{"phone_number": "+33612345679"}, {"phone_number": "+33612345670"}]},
                       headers=AUTH)
    assert resp.get_json()["ignored"] == [{"index": 0, "phone_number": "+33612345679", "reason": "blacklisted"}]
    assert set(contacts_by_phone(client)) == {"+33612345678", "+33612345670"}
    again = client.post(BLACKLIST, json={"account": "demo", "phone_numbers": ["+33612345678"]})
    assert again.get_json()["contacts_flagged"] == 0
    assert len(account_state(client)["blacklist"]) == 3


def test_admin_blacklist_reads_numbers_in_the_accounts_country(client):
    resp = client.post(BLACKLIST, json={"account": "uk", "phone_numbers": ["07400 123456"]})
    assert resp.get_json()["phone_numbers"] == ["+447400123456"]


@pytest.mark.parametrize("body, status, word", [
    ({"account": "nope", "phone_numbers": ["+33612345678"]}, 404, "account"),
    ({"phone_numbers": ["+33612345678"]}, 404, "account"),
    ({"account": "demo"}, 400, "phone_numbers"),
    ({"account": "demo", "phone_numbers": []}, 400, "phone_numbers"),
    ({"account": "demo", "phone_numbers": {"a": 1}}, 400, "phone_numbers"),
    ({"account": "demo", "phone_numbers": ["+33612345678", "abc"]}, 400, "'abc'"),
    ({"account": "demo", "phone_numbers": [None]}, 400, "None"),
    ({"account": ["demo"], "phone_numbers": ["+33612345678"]}, 404, "account"),
])
def test_admin_blacklist_bad_input_stores_nothing(client, body, status, word):
    before = account_state(client)
    resp = client.post(BLACKLIST, json=body)
    assert resp.status_code == status
    assert word in resp.get_json()["error"]
    assert account_state(client) == before


def test_handle_blacklist_helper(app):
    handle = EmulatorHandle(app)
    handle.blacklist(["0612345678"], account="demo")
    assert "+33612345678" in [d["phone_number"] for d in handle.collection("octopush", "blacklist", "demo")]


def test_reset_drops_what_requests_added(client):
    before = account_state(client)
    client.post(CREATE, json={"list_name": "X", "contacts": [{"phone_number": "+33612345678"}]}, headers=AUTH)
    client.post(BLACKLIST, json={"account": "demo", "phone_numbers": ["+33612345678"]})
    client.post("/_emulator/reset", json={"vendor": "octopush"})
    assert account_state(client) == before


# -- fixtures and seeding ------------------------------------------------------------------
def test_shipped_default_fixture_loads_demo_data(make_app):
    client = make_app(vendors=[VENDOR], fixture=shipped("default")).test_client()
    state = account_state(client)
    assert len(state["contacts"]) == 5
    assert [d["name"] for d in state["lists"]] == ["Newsletter"]
    assert [d["phone_number"] for d in state["blacklist"]] == ["+33600000000"]
    for doc in state["contacts"]:
        assert doc["phone_number"].startswith("+336") and len(doc["phone_number"]) == 12
        assert doc["first_name"] and doc["last_name"]
    resp = client.post(CREATE, json={"contacts": [{"phone_number": "+33612345678"}]}, headers=AUTH)
    assert resp.status_code == 201


def test_shipped_empty_fixture_has_the_account_and_no_contacts(make_app):
    client = make_app(vendors=[VENDOR], fixture=shipped("empty")).test_client()
    assert account_state(client) == {"contacts": [], "lists": [], "tags": [], "blacklist": []}
    assert client.post(CREATE, json={"contacts": [{"phone_number": "0612345678"}]}, headers=AUTH).status_code == 201


def test_same_seed_same_requests_same_state(make_app):
    def run(seed):
        fixture = copy.deepcopy(FIXTURE)
        fixture["vendors"]["octopush"]["accounts"]["demo"]["generate"] = {"contacts": 20}
        app = make_app(vendors=[VENDOR], fixture=fixture, seed=seed)
        app.extensions["emulator"].clock.freeze("2026-01-01T00:00:00Z")
        client = app.test_client()
        client.post(CREATE, json={"list_names": ["A", "B"], "tag_name": "t",
                                  "contacts": [{"phone_number": "0612345678"}]}, headers=AUTH)
        client.post("/octopush/v1/public/contact-list/create", json={"list_name": "C"}, headers=AUTH)
        return client.get("/_emulator/state?vendor=octopush").get_data()

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_fixture_with_a_bad_blacklist_is_refused(make_app):
    fixture = copy.deepcopy(FIXTURE)
    fixture["vendors"]["octopush"]["accounts"]["demo"]["settings"]["blacklist"] = ["not a number"]
    with pytest.raises(FixtureError, match="blacklist"):
        make_app(vendors=[VENDOR], fixture=fixture)
    fixture["vendors"]["octopush"]["accounts"]["demo"]["settings"]["blacklist"] = "+33600000000"
    with pytest.raises(FixtureError, match="blacklist"):
        make_app(vendors=[VENDOR], fixture=fixture)


def test_fake_payloads_are_accepted_without_a_single_note(client):
    from emulator.seeding import faker_for

    fake = faker_for(0, "test", "octopush")
    one = make_fake_payload({"octopush": VENDOR}, fake, "octopush")
    assert set(one) == {"phone_number", "first_name", "last_name"}
    body = make_fake_payload({"octopush": VENDOR}, fake, "octopush", "create", n=50, list_name="Leads")
    assert len(body["contacts"]) == 50 and body["list_name"] == "Leads"
    resp = client.post(CREATE, json=body, headers=AUTH)
    assert resp.status_code == 201
    assert resp.get_json()["contacts_created"] == 50
    entries = client.get("/_emulator/requests?vendor=octopush").get_json()["requests"]
    assert entries[-1]["notes"] == []


def test_openapi_documents_every_octopush_route(client):
    doc = client.get("/_emulator/openapi.json").get_json()
    paths = doc["paths"]
    assert set(paths["/octopush/v1/public/contact/create"]) == {"post"}
    assert set(paths["/octopush/v1/public/contact/delete"]) == {"delete"}
    assert "/octopush/v1/public/contact-list/create" in paths
    assert "/octopush/v1/public/contact-list/empty" in paths
    list_delete = paths["/octopush/v1/public/contact-list/delete"]["delete"]
    assert set(paths["/octopush/v1/public/contact-list/delete"]) == {"delete"} and "204" in list_delete["responses"]
    ref = list_delete["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert doc["components"]["schemas"][ref]["required"] == ["list_name"]
    create = paths["/octopush/v1/public/contact/create"]["post"]
    assert "201" in create["responses"]
    schema_name = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = doc["components"]["schemas"][schema_name]
    assert {"contacts", "list_name", "list_names", "un_list", "tag_name", "tag_names", "un_tag",
            "do_not_overwrite", "auto_remove_blacklisted_numbers", "auto_delete_optout_contacts"} <= set(schema["properties"])
    assert schema["properties"]["list_name"]["maxLength"] == 30
    schemes = doc["components"]["securitySchemes"]
    assert {s["name"] for k, s in schemes.items() if k.startswith("octopush_")} == {"api-login", "api-key"}
