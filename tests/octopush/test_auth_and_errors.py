"""Authentication by api-login/api-key headers, and every refusal in the vendor's shape."""
from __future__ import annotations

import pytest

from .conftest import AUTH, BASE, CREATE, DELETE, LIST_CREATE, LIST_DELETE, LIST_EMPTY, account_state, journal

BODY = {"list_name": "Leads", "contacts": [{"phone_number": "+33612345678", "first_name": "Ann"}]}


def assert_nothing_stored(client, before):
    assert account_state(client) == before


@pytest.mark.parametrize("headers, missing", [
    ({}, "api-login and api-key"),
    ({"api-login": "demo@example.com"}, "api-key"),
    ({"api-key": "octopush-demo-key"}, "api-login"),
    ({"api-login": "", "api-key": "octopush-demo-key"}, "api-login"),
])
def test_missing_auth_header_is_401_code_108(client, headers, missing):
    before = account_state(client)
    resp = client.post(CREATE, json=BODY, headers=headers)
    assert resp.status_code == 401
    body = resp.get_json()
    assert body["code"] == 108
    assert missing in body["message"]
    assert_nothing_stored(client, before)


@pytest.mark.parametrize("headers", [
    {"api-login": "demo@example.com", "api-key": "wrong"},
    {"api-login": "nobody@example.com", "api-key": "octopush-demo-key"},
    {"api-login": "demo@example.com", "api-key": "uk-key"},  # another account's key
    {"api-login": "demo@example.com", "api-key": "clé-ünïcode"},
])
def test_wrong_login_or_key_is_401_code_101(client, headers):
    before = account_state(client)
    resp = client.post(CREATE, json=BODY, headers=headers)
    assert resp.status_code == 401
    assert resp.get_json() == {"code": 101, "message": "Incorrect login details."}
    assert_nothing_stored(client, before)


@pytest.mark.parametrize("path, method", [(CREATE, "post"), (DELETE, "delete"), (LIST_CREATE, "post"),
                                          (LIST_EMPTY, "post")])
def test_every_endpoint_needs_auth(client, path, method):
    resp = getattr(client, method)(path, json={"list_name": "x", "phone_numbers": ["+33612345678"]})
    assert resp.status_code == 401
    assert resp.get_json()["code"] == 108


def test_account_not_validated_is_403_code_113(client):
    resp = client.post(CREATE, json=BODY, headers={"api-login": "pending@example.com", "api-key": "pending-key"})
    assert resp.status_code == 403
    body = resp.get_json()
    assert body["code"] == 113
    assert "not validated" in body["message"]
    assert account_state(client, "pending")["contacts"] == []
    assert journal(client)[-1]["account"] == "pending"


def test_auth_is_checked_before_the_body(client):
    resp = client.post(CREATE, data="not json", headers={"api-key": "x"})
    assert resp.status_code == 401
    assert resp.get_json()["code"] == 108


@pytest.mark.parametrize("data", ["not json", '{"contacts": [', "[1, 2]", '"text"', ""])
def test_body_that_is_not_a_json_object_is_400_code_100(client, data):
    before = account_state(client)
    resp = client.post(CREATE, data=data, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["code"] == 100
    assert body["message"]
    assert_nothing_stored(client, before)


def test_api_key_is_redacted_in_the_journal(client):
    client.post(CREATE, json=BODY, headers=AUTH)
    entry = journal(client)[-1]
    assert entry["headers"]["Api-Key"] == "***"
    assert "octopush-demo-key" not in str(entry)
    assert entry["account"] == "demo"


def test_unknown_route_is_404_and_wrong_method_405_in_vendor_shape(client):
    resp = client.post(f"{BASE}/contact/creat", json=BODY, headers=AUTH)
    assert resp.status_code == 404
    assert resp.get_json()["code"] == 404
    assert "contact/create" in resp.get_json()["message"]
    resp = client.get(CREATE, headers=AUTH)
    assert resp.status_code == 405
    assert set(resp.get_json()) == {"code", "message"}


def test_trailing_slash_and_real_host_are_served(client):
    resp = client.post(CREATE + "/", json=BODY, headers=AUTH)
    assert resp.status_code == 201
    resp = client.post("/v1/public/contact/create", json={"contacts": [{"phone_number": "+33612345679"}]},
                       headers={**AUTH, "Host": "api.octopush.com"})
    assert resp.status_code == 201
    assert set(c["phone_number"] for c in account_state(client)["contacts"]) == {"+33612345678", "+33612345679"}


def test_body_with_another_content_type_is_read_as_json_and_noted(client):
    resp = client.post(CREATE, data='{"contacts": [{"phone_number": "+33612345678"}]}',
                       headers={**AUTH, "Content-Type": "text/plain"})
    assert resp.status_code == 201
    assert {"field": "Content-Type", "sent": "text/plain", "used": "application/json",
            "rule": "body read as JSON", "kind": "cast"} in journal(client)[-1]["notes"]


def test_deeply_nested_body_is_400_code_100_not_a_500(client):
    before = account_state(client)
    deep = '{"contacts": ' + "[" * 50000 + "]" * 50000 + "}"
    resp = client.post(CREATE, data=deep, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.get_json()["code"] == 100
    assert account_state(client) == before
    assert journal(client)[-1]["status"] == 400


@pytest.mark.parametrize("garbage", [None, True, 0, -1.5, "", "x" * 10_000, [], {}, [None], [[[]]], {"a": {"b": []}},
                                     [{"phone_number": [{}]}], 10 ** 30])
@pytest.mark.parametrize("path, method", [(CREATE, "post"), (DELETE, "delete"), (LIST_CREATE, "post"),
                                          (LIST_EMPTY, "post"), (LIST_DELETE, "delete")])
def test_garbage_in_every_parameter_is_never_a_500(client, garbage, path, method):
    """A 4xx is in the vendor's shape with one of its codes and changes nothing; reads survive."""
    names = ["contacts", "list_name", "list_names", "un_list", "tag_name", "tag_names", "un_tag", "do_not_overwrite",
             "auto_remove_blacklisted_numbers", "phone_numbers", "delete_contacts", "other"]
    for name in names:
        client.post(LIST_CREATE, json={"list_name": "L"}, headers=AUTH)   # 201, or 302 once it exists
        body = {"contacts": [{"phone_number": "+33612345678"}], "phone_numbers": ["+33612345678"],
                "list_name": "L", name: garbage}
        before = account_state(client)
        resp = getattr(client, method)(path, json=body, headers=AUTH)
        assert resp.status_code < 500, (name, resp.get_json())
        if resp.status_code >= 400:
            answer = resp.get_json()
            assert set(answer) == {"code", "message"}
            assert answer["code"] in (100, 110, 117, 302, 303, 305), (name, answer)
            assert account_state(client) == before, (name, answer)
        contact_body = {"contacts": [{"phone_number": "+33612345679", name: garbage, "first_name": garbage}]}
        resp = client.post(CREATE, json=contact_body, headers=AUTH)
        assert resp.status_code == 201, (name, resp.get_json())
    for read in ("/_emulator/requests?vendor=octopush", "/_emulator/state", "/_emulator/lint", "/_emulator/"):
        assert client.get(read).status_code == 200
