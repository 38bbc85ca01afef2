"""Wrong types everywhere: always the vendor's 4xx envelope (or a 200 with record errors), never a 500."""
from __future__ import annotations

import pytest

from emulator.vendors.dengage import schemas

from .conftest import BULK, CONTACT, CUSTOM, LOGIN, data_state

GARBAGE = [None, True, False, 0, -1.5, 10**30, "", "x" * 5000, " ", [], [1, "a"], {}, {"a": {"b": [None]}}]
COLUMNS = list(schemas.STANDARD_COLUMNS) + list(CUSTOM) + ["new_contact_key"]


def check(resp):
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)
    answer = resp.get_json()
    assert isinstance(answer["code"], int) and isinstance(answer["message"], str)
    return answer


@pytest.mark.parametrize("field", ["columns", "contactDatas", "insertIfNotExists", "throwExceptionIfInvalidRecord"])
def test_garbage_in_every_top_level_field(client, auth, field):
    for value in GARBAGE:
        before = data_state(client)
        payload = {"columns": ["contact_key"], "contactDatas": [{"contact_key": "C-1"}], "insertIfNotExists": True,
                   field: value}
        answer = check(client.post(BULK, json=payload, headers=auth))
        if answer["code"] == 1:   # the call's shape: the message names the field
            assert field in answer["message"]
        elif answer["code"] == 11:   # a record (contactDatas garbage, or an unknown key with insert false)
            assert answer["message"].startswith("record ")
        else:
            assert answer["code"] == 0
            continue
        assert data_state(client) == before


@pytest.mark.parametrize("column", [c for c in COLUMNS if c != "churn_score"])
def test_garbage_in_every_column(client, auth, column):
    for value in GARBAGE + [[{"deep": [[]]}], "2024-13-45", "A", "P"]:
        records = [{"contact_key": "C-1", column: value}, {"contact_key": "C-2"}]
        columns = ["contact_key", column] if column != "contact_key" else ["contact_key"]
        answer = check(client.post(BULK, json={"columns": columns, "contactDatas": records,
                                               "insertIfNotExists": column != "new_contact_key",
                                               "throwExceptionIfInvalidRecord": False}, headers=auth))
        assert answer["code"] in (0, 1)


def test_garbage_records_and_columns_lists(client, auth):
    for records in ([None, 1, "x", [], [[]], {"contact_key": {"x": 1}}], [{"": 1, "contact_key": "C-1"}]):
        check(client.post(BULK, json={"columns": ["contact_key", "name"], "contactDatas": records,
                                      "insertIfNotExists": True, "throwExceptionIfInvalidRecord": False},
                          headers=auth))
    for columns in ([None], [[]], [{}], ["contact_key", "contact_key"], ["contact_key", ""], ["CONTACT_KEY"]):
        check(client.post(BULK, json={"columns": columns, "contactDatas": [{"contact_key": "C-1"}],
                                      "insertIfNotExists": True}, headers=auth))


def test_duplicate_columns_are_listed_once_with_a_note(client, auth):
    resp = client.post(BULK, json={"columns": ["contact_key", "name", "name"], "insertIfNotExists": True,
                                   "contactDatas": [{"contact_key": "C-1", "name": "Ann"}]}, headers=auth)
    assert resp.status_code == 200
    notes = client.get("/_emulator/requests?vendor=dengage").get_json()["requests"][-1]["notes"]
    assert {"field": "columns", "sent": "name", "used": None, "rule": "duplicate column listed once", "kind": "ignored"} in notes


def test_garbage_login_bodies(client):
    for value in GARBAGE:
        for field in ("userkey", "password"):
            creds = {"userkey": "demo", "password": "dengage-demo-password", field: value}
            resp = client.post(LOGIN, json=creds)
            assert resp.status_code in (400, 401)
            assert resp.get_json()["code"] == 1


def test_garbage_contact_reads(client, auth):
    for query in ("contactFields=", "contactFields=,,,", "contactFields=%00", "contactFields=name&contactFields=x"):
        resp = client.get(f"{CONTACT}/C-1?{query}", headers=auth)
        assert resp.status_code in (400, 404) and resp.get_json()["code"] == 1
    assert client.get(f"{CONTACT}/a/b/c", headers=auth).status_code == 404


def test_a_body_nested_too_deeply_is_malformed_json(client, auth):
    before = data_state(client)
    deep = b'{"columns": ["contact_key"], "contactDatas": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    resp = client.post(BULK, data=deep, headers={**auth, "Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["code"] == 1
    assert data_state(client) == before


@pytest.mark.parametrize("column", [c for c in COLUMNS if c not in ("churn_score", "new_contact_key")])
def test_garbage_in_every_column_when_invalid_records_throw(client, auth, column):
    """Each value is stored (200) or refused whole (400, code 11, naming the column) with nothing
    stored; empty strings in typed columns are among the stored ones; reads survive all of it."""
    kind = schemas.STANDARD_COLUMNS[column].type if column in schemas.STANDARD_COLUMNS else CUSTOM[column]["type"]
    typed = kind in ("date", "number", "boolean")
    for value in GARBAGE + ["", "  ", "2024-13-45", "A", "P"]:
        before = data_state(client)
        record = {"contact_key": "C-1", column: value} if column != "contact_key" else {"contact_key": value}
        resp = client.post(BULK, json={"columns": ["contact_key", column] if column != "contact_key" else
                                       ["contact_key"], "contactDatas": [record], "insertIfNotExists": True,
                                       "throwExceptionIfInvalidRecord": True}, headers=auth)
        answer = check(resp)
        if typed and isinstance(value, str) and not value.strip():
            assert resp.status_code == 200, (value, answer)
            assert answer["data"]["inserted"] + answer["data"]["updated"] == ["C-1"]
        elif resp.status_code == 400:
            assert answer["code"] == 11 and column in answer["message"], (value, answer)
            assert data_state(client) == before
    for path in ("/_emulator/state", "/_emulator/requests", "/_emulator/lint", "/_emulator/"):
        assert client.get(path).status_code == 200
