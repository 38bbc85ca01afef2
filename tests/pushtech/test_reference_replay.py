"""The vendor reference's own examples, replayed: each request as the reference sends it,
each answer compared with the reference's answer (ids and times aside).

Source: the reference at developers.cendyncrm.com/api/docs and /api/webhooks, as
transcribed in ``api-evangelist/push`` (commit 845fa3ae1553ca10cb12e5dbd17c5e5595865e38):
openapi/push-cendyn-crm-openapi.yml (paths ``/custom_fields``, ``/custom_fields/{custom_id}``,
``/lists``, ``/lists/{id}``, ``/contact``, ``/contact/{contact_id}/email_validation``) and
asyncapi/push-webhooks-asyncapi.yml (message ``ContactEvent``, example ``contactUpdated``).
"""
from __future__ import annotations

import re

import pytest

from emulator.vendors.pushtech import VENDOR

from .conftest import Api, last_notes, pushtech_fixture

# -- the reference's examples (request bodies and answers) -------------------------------

CUSTOM_FIELD_CREATE = {"name": "facebook_id", "label": "ID on Facebook", "category": "Social",
                       "description": "This field save the contact facebook id", "type": "string"}
CUSTOM_FIELD_CREATED = {"_id": "5853d8c2edb7aacab9000045", "category": "Social", "name": "facebook_id",
                        "label": "ID on Facebook", "description": "This field save the contact facebook id",
                        "type": "string"}
CUSTOM_FIELD_LISTED = {"_id": "5853d8c2edb7aacab9000046", "name": "test_field_2", "label": "Test Field 2",
                       "description": "Field 2 description", "type": "boolean"}
CUSTOM_FIELD_UPDATE = {"label": "ID on Facebook", "category": "Social",
                       "description": "This field save the contact facebook id"}
CUSTOM_FIELD_DELETED = {"_id": "5853d8c2edb7aacab9000045", "name": "facebook_id", "label": "ID on Facebook",
                        "description": "This field save the contact facebook id", "type": "string"}

LIST_CREATE = {"name": "Project Ideas", "description": "List of project ideas", "visibility": "public"}
LIST_CREATED = {"id": "new_list_id", "name": "Project Ideas", "description": "List of project ideas",
                "visibility": "public"}
LIST_SHOWN = {"id": "list1_id", "name": "First List", "description": "Description of the first list",
              "created_at": "2024-04-17T12:00:00Z", "visibility": "public"}
LIST_UPDATE = {"name": "Updated List", "description": "Updated description", "visibility": "private"}
LIST_UPDATED = {"id": "updated_list_id", "name": "Updated List", "description": "Updated description",
                "visibility": "private"}
LIST_DELETED = {"message": "List successfully deleted"}

CONTACT_CREATE = {"name_first": "John", "name_last": "Doe", "email": "johndoe@example.com",
                  "phone_countrycode": "44", "phone_number": "7712345678", "tags": ["tag1", "tag2"]}
CONTACT_CREATED = {"id": "550aac3da096734ce5000001", "name_first": "John", "name_last": "Doe",
                   "phone_countrycode": "44", "phone_number": "7712345678", "email": "johndoe@example.com",
                   "tags": ["tag1", "tag2"]}
EMAIL_VALIDATION = {"email_valid": True, "last_email_verified": "2020-06-16T08:25:03.230+00:00"}

CONTACT_UPDATED_EVENT = {
    "action": "update", "origin": "platform_individual",
    "contact": {"id": "5b6d96991a7e4e8ac8000128", "user_id": "6712", "changes": {"city": "New York"},
                "contact_url": "https://api.eu.cendyncrm.com/v2/account/5a9eb2cd1a7e4e6b6f000007/contact/"
                               "5b6d96991a7e4e8ac8000128"},
    "timestamp": 1533909631, "token": "REDACTED_EXAMPLE_WEBHOOK_TOKEN", "account_id": "REDACTED_EXAMPLE_ACCOUNT_ID"}

HEX24 = re.compile(r"[0-9a-f]{24}")
MILLIS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
MILLIS_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


def same_but_ids(answer: dict, reference: dict, *keys: str) -> None:
    """``answer`` has the reference's keys and values, its ids (``keys``) 24 hex characters."""
    assert set(answer) == set(reference)
    for key in keys:
        assert HEX24.fullmatch(answer[key]), answer[key]
    assert {k: v for k, v in answer.items() if k not in keys} == {k: v for k, v in reference.items() if k not in keys}


def test_custom_fields_as_the_reference_shows_them(client, api):
    created = api.post("/custom_fields", CUSTOM_FIELD_CREATE)
    assert created.status_code == 201 and last_notes(client) == []
    same_but_ids(created.get_json(), CUSTOM_FIELD_CREATED, "_id")
    field_id = created.get_json()["_id"]
    listed = api.get("/custom_fields")
    assert listed.status_code == 200 and list(listed.get_json()) == ["custom_fields"]
    for item in listed.get_json()["custom_fields"]:  # the reference's items, plus a category (null when unset)
        assert set(item) == set(CUSTOM_FIELD_LISTED) | {"category"}
    updated = api.put(f"/custom_fields/{field_id}", CUSTOM_FIELD_UPDATE)
    assert updated.status_code == 200 and last_notes(client) == []
    same_but_ids(updated.get_json(), CUSTOM_FIELD_CREATED, "_id")
    deleted = api.delete(f"/custom_fields/{field_id}")
    assert deleted.status_code == 200
    same_but_ids(deleted.get_json(), {**CUSTOM_FIELD_DELETED, "category": "Social"}, "_id")


def test_audience_lists_as_the_reference_shows_them(client, api):
    created = api.post("/lists", LIST_CREATE)
    assert created.status_code == 201 and last_notes(client) == []
    same_but_ids(created.get_json(), LIST_CREATED, "id")
    list_id = created.get_json()["id"]
    shown = api.get(f"/lists/{list_id}").get_json()
    assert set(shown) == set(LIST_SHOWN) and MILLIS_Z.fullmatch(shown["created_at"])
    listed = api.get("/lists").get_json()
    assert list(listed) == ["lists"] and shown in listed["lists"]
    assert all(set(item) == set(LIST_SHOWN) for item in listed["lists"])
    updated = api.put(f"/lists/{list_id}", LIST_UPDATE)
    assert updated.status_code == 200 and last_notes(client) == []
    same_but_ids(updated.get_json(), LIST_UPDATED, "id")
    deleted = api.delete(f"/lists/{list_id}")
    assert deleted.status_code == 200 and deleted.get_json() == LIST_DELETED


def test_contact_and_email_validation_as_the_reference_shows_them(client, api):
    created = api.post("/contact", {**CONTACT_CREATE, "email_validation": {"validate": True}})
    assert created.status_code == 201 and last_notes(client) == []
    body = created.get_json()
    assert {k: body[k] for k in CONTACT_CREATED if k != "id"} == {k: v for k, v in CONTACT_CREATED.items() if k != "id"}
    assert HEX24.fullmatch(body["id"])
    assert MILLIS_Z.fullmatch(body["created_at"]) and MILLIS_Z.fullmatch(body["updated_at"])
    validation = api.get(f"/contact/{body['id']}/email_validation").get_json()
    assert set(validation) == set(EMAIL_VALIDATION) and validation["email_valid"] is True
    assert MILLIS_OFFSET.fullmatch(validation["last_email_verified"])


def test_the_update_event_has_the_reference_shape(make_app, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=200)
    client = make_app(vendors=[VENDOR], fixture=pushtech_fixture(
        contact_webhook_url=httpserver.url_for("/hook"))).test_client()
    api = Api(client)
    contact = api.create(email="a@example.com", user_id="6712", city="Paris")
    api.put(f"/contact/{contact['id']}", {"city": "New York"})
    client.get("/_emulator/webhooks")
    event = httpserver.log[1][0].get_json()
    assert set(event) == set(CONTACT_UPDATED_EVENT)
    assert set(event["contact"]) == set(CONTACT_UPDATED_EVENT["contact"])
    assert event["contact"]["changes"] == CONTACT_UPDATED_EVENT["contact"]["changes"]
    assert (event["action"], event["origin"], event["contact"]["user_id"]) == ("update", "api", "6712")
    assert isinstance(event["timestamp"], int) and len(event["token"]) == 50


@pytest.mark.parametrize("path", ["/custom_fields", "/lists"])
def test_the_reference_401(client, path):
    resp = client.get(f"/pushtech/v2/account/demo{path}", headers={"Authorization": "Token token=wrong"})
    assert resp.status_code == 401 and resp.get_json() == {"error": "authorization failure for account: demo"}
