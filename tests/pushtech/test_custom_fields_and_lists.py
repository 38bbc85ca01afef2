"""Contact custom fields (/custom_fields) and audience lists (/lists): stored per account,
checked against by contacts, refused bad input stores nothing."""
from __future__ import annotations

import re

import pytest

from .conftest import LIST_ID, Api, last_notes, state, stored_contacts

HEX24 = re.compile(r"[0-9a-f]{24}")


def declared(client, account: str = "demo") -> dict:
    """The account's custom fields and lists as stored."""
    account_state = state(client, account)
    return {"custom_fields": account_state["custom_fields"], "lists": account_state["lists"]}


# -- custom fields ------------------------------------------------------------------------

def test_create_list_update_delete_a_custom_field(client, api):
    resp = api.post("/custom_fields", {"name": "room_type", "label": "Room type", "category": "Stay",
                                       "description": "Preferred room", "type": "selectable_options",
                                       "selectable_options": ["single", "double"]})
    assert resp.status_code == 201
    field = resp.get_json()
    assert HEX24.fullmatch(field["_id"])
    assert field == {"_id": field["_id"], "name": "room_type", "label": "Room type", "category": "Stay",
                     "description": "Preferred room", "type": "selectable_options",
                     "selectable_options": ["single", "double"]}
    assert last_notes(client) == []
    listed = api.get("/custom_fields").get_json()["custom_fields"]
    assert [f["name"] for f in listed] == ["favourite_colour", "score", "room_type"]  # the fixture's first
    assert listed[-1] == field
    changed = api.put(f"/custom_fields/{field['_id']}", {"label": "Room", "selectable_options": ["suite"],
                                                         "description": None})
    assert changed.status_code == 200
    assert changed.get_json() == {**field, "label": "Room", "selectable_options": ["suite"], "description": None}
    assert last_notes(client) == []
    gone = api.delete(f"/custom_fields/{field['_id']}")
    assert gone.status_code == 200 and gone.get_json() == changed.get_json()
    assert [f["name"] for f in api.get("/custom_fields").get_json()["custom_fields"]] == ["favourite_colour", "score"]


def test_fixture_fields_are_listed_with_ids_and_defaults(client, api):
    listed = api.get("/custom_fields").get_json()["custom_fields"]
    assert [{k: v for k, v in f.items() if k != "_id"} for f in listed] == [
        {"name": "favourite_colour", "label": "favourite_colour", "category": None, "description": None,
         "type": "string"},
        {"name": "score", "label": "Score", "category": None, "description": None, "type": "number"}]
    assert all(HEX24.fullmatch(f["_id"]) for f in listed)


def test_an_existing_name_answers_the_existing_field_unchanged(client, api):
    first = api.post("/custom_fields", {"name": "room", "label": "Room"}).get_json()
    again = api.post("/custom_fields", {"name": "room", "label": "Other label", "type": "number"})
    assert again.status_code == 201 and again.get_json() == first
    assert [(n["field"], n["kind"]) for n in last_notes(client)] == [("name", "unverified")]
    assert [f["name"] for f in state(client)["custom_fields"]].count("room") == 1


def test_put_ignores_name_and_type_with_notes(client, api):
    field = api.post("/custom_fields", {"name": "room", "label": "Room"}).get_json()
    resp = api.put(f"/custom_fields/{field['_id']}", {"name": "renamed", "type": "number", "label": "Room!"})
    assert resp.status_code == 200
    assert resp.get_json() == {**field, "label": "Room!"}
    assert [(n["field"], n["kind"]) for n in last_notes(client)] == [("name", "unverified"), ("type", "unverified")]
    api.put(f"/custom_fields/{field['_id']}", {"name": "room", "type": "string"})  # the stored values: no note
    assert last_notes(client) == []


@pytest.mark.parametrize("method, path", [("PUT", "/custom_fields/ffffffffffffffffffffffff"),
                                          ("DELETE", "/custom_fields/nope")])
def test_an_unknown_custom_field_is_404(client, api, method, path):
    before = declared(client)
    resp = api.call(method, path, {"label": "x"} if method == "PUT" else None)
    assert resp.status_code == 404 and resp.get_json() == {"error": "custom field not found"}
    assert declared(client) == before


BAD_FIELDS = [
    ({"label": "No name"}, "name: is required"),
    ({"name": "", "label": "Empty"}, "name: is required (a non-empty string)"),
    ({"name": "x"}, "label: is required"),
    ({"name": ["x"], "label": "X"}, "name: must be a string"),
    ({"name": "x", "label": None}, "label: is required (a non-empty string)"),
    ({"name": "x", "label": "X", "type": "money"},
     "type: must be one of boolean, date, number, string, selectable_options"),
    ({"name": "x", "label": "X", "type": "String"}, "type: must be one of"),
    ({"name": "x", "label": "X", "selectable_options": ["a"]}, "selectable_options: only with type selectable_options"),
    ({"name": "x", "label": "X", "type": "selectable_options", "selectable_options": "a,b"},
     "selectable_options: must be an array of strings"),
    ({"name": "x", "label": "X", "category": {"a": 1}}, "category: must be a string"),
    ({"name": "x", "label": "X", "description": True}, "description: must be a string"),
]


@pytest.mark.parametrize("body, message", BAD_FIELDS, ids=[m.split(":")[0] + str(i) for i, (_, m) in
                                                           enumerate(BAD_FIELDS)])
def test_bad_custom_fields_are_422_and_store_nothing(client, api, body, message):
    before = declared(client)
    resp = api.post("/custom_fields", body)
    assert resp.status_code == 422
    assert list(resp.get_json()) == ["error"] and resp.get_json()["error"].startswith(message)
    assert declared(client) == before


@pytest.mark.parametrize("body, message", [
    ({"label": ""}, "label: is required (a non-empty string)"),
    ({"label": None}, "label: is required (a non-empty string)"),
    ({"selectable_options": ["a"]}, "selectable_options: only with type selectable_options (this field is string)"),
    ({"category": []}, "category: must be a string"),
])
def test_bad_custom_field_updates_are_422_and_change_nothing(client, api, body, message):
    field = api.post("/custom_fields", {"name": "room", "label": "Room"}).get_json()
    before = declared(client)
    resp = api.put(f"/custom_fields/{field['_id']}", body)
    assert resp.status_code == 422 and resp.get_json()["error"].startswith(message)
    assert declared(client) == before


def test_contacts_check_their_custom_keys_against_the_fields(client, api):
    api.create(email="a@example.com", room="101")
    assert [(n["field"], n["kind"]) for n in last_notes(client)] == [("room", "unverified")]
    field = api.post("/custom_fields", {"name": "room", "label": "Room", "type": "number"}).get_json()
    api.create(email="b@example.com", room=101)
    assert last_notes(client) == []
    api.create(email="c@example.com", room="101")
    [mismatch] = last_notes(client)
    assert mismatch["field"] == "room" and mismatch["kind"] == "unverified" and "(number)" in mismatch["rule"]
    api.bulk([{"email": "d@example.com", "room": 7}, {"email": "e@example.com", "room": True}])
    assert [n["field"] for n in last_notes(client)] == ["contacts[1].room"]
    api.delete(f"/custom_fields/{field['_id']}")
    assert [c.get("room") for c in stored_contacts(client)] == ["101", 101, "101", 7, True]  # values are kept
    api.create(email="f@example.com", room=5)
    assert [n["field"] for n in last_notes(client)] == ["room"]


@pytest.mark.parametrize("kind, fits, misfits", [
    ("string", ["a", ""], [1, True, ["a"]]),
    ("number", [1, -2.5, 0], ["1", True, {}]),
    ("boolean", [True, False], ["true", 0]),
    ("date", ["2024-04-17", "2024-04-17T12:00:00Z"], ["17/04/2024", 20240417]),
])
def test_custom_values_of_each_type(client, api, kind, fits, misfits):
    api.post("/custom_fields", {"name": "value", "label": "Value", "type": kind})
    for value in fits:
        api.create(email="a@example.com", value=value)
        assert [n for n in last_notes(client) if n["field"] == "value"] == [], value
    for value in misfits:
        api.create(email="a@example.com", value=value)
        assert [n["kind"] for n in last_notes(client) if n["field"] == "value"] == ["unverified"], value


def test_selectable_values_outside_the_options_are_noted(client, api):
    api.post("/custom_fields", {"name": "tier", "label": "Tier", "type": "selectable_options",
                                "selectable_options": ["gold", "silver"]})
    api.create(email="a@example.com", tier="gold")
    assert last_notes(client) == []
    api.create(email="b@example.com", tier="bronze")
    [n] = last_notes(client)
    assert n["field"] == "tier" and "selectable_options gold, silver" in n["rule"]


def test_custom_fields_are_per_account(client, api):
    api.post("/custom_fields", {"name": "room", "label": "Room"})
    other = Api(client, "other")
    assert other.get("/custom_fields").get_json() == {"custom_fields": []}
    other.create(email="a@example.com", room="1")
    assert [n["field"] for n in last_notes(client)] == ["room"]


# -- audience lists -----------------------------------------------------------------------

def test_create_show_list_update_delete_a_list(client, api):
    client.post("/_emulator/clock", json={"freeze": "2026-04-17T12:00:00Z"})
    resp = api.post("/lists", {"name": "Project Ideas", "description": "List of project ideas", "visibility": "public"})
    assert resp.status_code == 201
    created = resp.get_json()
    assert HEX24.fullmatch(created["id"])
    assert created == {"id": created["id"], "name": "Project Ideas", "description": "List of project ideas",
                       "visibility": "public"}
    shown = api.get(f"/lists/{created['id']}").get_json()
    assert shown == {"id": created["id"], "name": "Project Ideas", "description": "List of project ideas",
                     "created_at": "2026-04-17T12:00:00.000Z", "visibility": "public"}
    assert api.get("/lists").get_json()["lists"][1] == shown
    updated = api.put(f"/lists/{created['id']}", {"name": "Updated List", "visibility": "private"})
    assert updated.status_code == 200
    assert updated.get_json() == {"id": created["id"], "name": "Updated List",
                                  "description": "List of project ideas", "visibility": "private"}
    assert last_notes(client) == []
    gone = api.delete(f"/lists/{created['id']}")
    assert gone.status_code == 200 and gone.get_json() == {"message": "List successfully deleted"}
    assert api.get(f"/lists/{created['id']}").status_code == 404
    assert [x["id"] for x in api.get("/lists").get_json()["lists"]] == [LIST_ID]


def test_a_list_without_description_or_visibility_has_them_null(client, api):
    created = api.post("/lists", {"name": "Bare"}).get_json()
    assert created == {"id": created["id"], "name": "Bare", "description": None, "visibility": None}
    assert last_notes(client) == []


def test_unusual_visibility_and_repeated_names_are_stored_with_notes(client, api):
    created = api.post("/lists", {"name": "Newsletter", "visibility": "team"}).get_json()
    assert created["visibility"] == "team"
    assert [(n["field"], n["kind"]) for n in last_notes(client)] == [("visibility", "unverified"),
                                                                     ("name", "unverified")]
    assert LIST_ID in last_notes(client)[1]["rule"]
    api.put(f"/lists/{created['id']}", {"name": "Newsletter", "extra": 1})
    assert [n["field"] for n in last_notes(client)] == ["extra"]


@pytest.mark.parametrize("method, path", [("GET", "/lists/nope"), ("PUT", "/lists/nope"), ("DELETE", "/lists/nope")])
def test_an_unknown_list_is_404(client, api, method, path):
    before = declared(client)
    resp = api.call(method, path, {"name": "x"} if method == "PUT" else None)
    assert resp.status_code == 404 and resp.get_json() == {"error": "list not found"}
    assert declared(client) == before


@pytest.mark.parametrize("method, body, message", [
    ("POST", {}, "name: is required"),
    ("POST", {"name": ""}, "name: is required (a non-empty string)"),
    ("POST", {"name": None, "visibility": "public"}, "name: is required (a non-empty string)"),
    ("POST", {"name": {"x": 1}}, "name: must be a string"),
    ("POST", {"name": "ok", "description": ["a"]}, "description: must be a string"),
    ("POST", {"name": "ok", "visibility": True}, "visibility: must be a string"),
    ("PUT", {"name": None}, "name: is required (a non-empty string)"),
    ("PUT", {"name": " "}, "name: is required (a non-empty string)"),
    ("PUT", {"visibility": []}, "visibility: must be a string"),
])
def test_bad_lists_are_422_and_store_nothing(client, api, method, body, message):
    before = declared(client)
    resp = api.call(method, "/lists" if method == "POST" else f"/lists/{LIST_ID}", body)
    assert resp.status_code == 422
    assert list(resp.get_json()) == ["error"] and resp.get_json()["error"].startswith(message)
    assert declared(client) == before


def test_list_subscriptions_check_against_the_lists(client, api):
    api.create(email="a@example.com", list_subscriptions=[{"list_id": "later"}])
    assert [(n["field"], n["kind"]) for n in last_notes(client)] == [("list_subscriptions[0].list_id", "unverified")]
    created = api.post("/lists", {"name": "VIP"}).get_json()
    contact = api.create(email="b@example.com", list_subscriptions=[{"list_id": created["id"]},
                                                                     {"list_id": LIST_ID, "subscribed": False}])
    assert last_notes(client) == []
    api.bulk([{"email": "c@example.com", "list_subscriptions": [{"list_id": created["id"]}, {"list_id": "x"}]}])
    assert [n["field"] for n in last_notes(client)] == ["contacts[0].list_subscriptions[1].list_id"]
    api.delete(f"/lists/{created['id']}")
    assert api.get(f"/contact/{contact['id']}").get_json()["list_subscriptions"][0] == {
        "list_id": created["id"], "subscribed": True}  # contacts keep their subscriptions
    api.put(f"/contact/{contact['id']}", {"list_subscriptions": [{"list_id": created["id"]}]})
    assert [n["field"] for n in last_notes(client)] == ["list_subscriptions[0].list_id"]


def test_lists_are_per_account(client, api):
    created = api.post("/lists", {"name": "VIP"}).get_json()
    other = Api(client, "other")
    assert other.get("/lists").get_json() == {"lists": []}
    assert other.get(f"/lists/{created['id']}").status_code == 404
    other.create(email="a@example.com", list_subscriptions=[{"list_id": created["id"]}])
    assert [n["field"] for n in last_notes(client)] == ["list_subscriptions[0].list_id"]


def test_the_dashboard_shows_both_collections(client, api):
    api.post("/custom_fields", {"name": "room_type", "label": "Room type"})
    page = client.get("/_emulator/?vendor=pushtech&account=demo&kind=custom_fields").get_data(as_text=True)
    assert "room_type" in page and "lists" in page
    page = client.get("/_emulator/?vendor=pushtech&account=demo&kind=lists").get_data(as_text=True)
    assert LIST_ID in page and "Newsletter" in page


def test_openapi_describes_the_bodies(client):
    doc = client.get("/_emulator/openapi.json").get_json()
    base = "/pushtech/v2/account/{account_id}"
    for path, method in ((f"{base}/custom_fields", "post"), (f"{base}/custom_fields/{{custom_id}}", "put"),
                         (f"{base}/lists", "post"), (f"{base}/lists/{{list_id}}", "put")):
        operation = doc["paths"][path][method]
        assert "requestBody" in operation and "4XX" in operation["responses"]
    assert "201" in doc["paths"][f"{base}/lists"]["post"]["responses"]
    schemas = doc["components"]["schemas"]
    field_schema = next(s for name, s in schemas.items() if name.startswith("CustomField") and "Update" not in name)
    assert set(field_schema["required"]) == {"label", "name"}
    assert field_schema["properties"]["type"]["enum"] == ["boolean", "date", "number", "string", "selectable_options"]
