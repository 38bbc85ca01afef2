"""Which D·engage inputs note (and of which kind) and which do not; empty values in typed
columns; fake payloads sent as they are give no note."""
from __future__ import annotations

import pytest

from emulator.vendors.dengage.schemas import STANDARD_COLUMNS

from .conftest import BULK, body, contacts, last_notes

# (name, request body, expected notes as (field, sent, used, kind)); every call is answered 200.
CASES = [
    # -- correct input: no note -------------------------------------------------------------
    ("lower-case email", body({"contact_key": "C-1", "email": "ann@x.io"}), []),
    ("email status set to A on insert", body({"contact_key": "C-1", "email": "ann@x.io", "gsm": "+905551112233"}),
     []),
    ("contact_status default filled in", body({"contact_key": "C-1", "name": "Ann"}), []),
    ("statuses sent", body({"contact_key": "C-1", "email_status": "P", "gsm_status": "A", "contact_status": "A"}),
     []),
    ("JSON booleans", body({"contact_key": "C-1", "email_permission": True, "gsm_permission": False}), []),
    ("dates", body({"contact_key": "C-1", "birth_date": "1990-01-05", "subscription_date": "2024-02-29"}), []),
    ("null values", body({"contact_key": "C-1", "name": None, "birth_date": None, "vip": None}), []),
    ("empty string in a text column", body({"contact_key": "C-1", "name": "", "surname": "", "gender": ""}), []),
    ("custom columns", body({"contact_key": "C-1", "loyalty_tier": "gold", "lifetime_value": 12.5, "vip": True,
                             "last_order_date": "2025-12-01", "nickname": "Ann"}), []),
    ("flags given", body({"contact_key": "C-1"}, insert=True, throw=False), []),
    ("flags left out", {"columns": ["contact_key"], "contactDatas": [{"contact_key": "C-1"}],
                        "insertIfNotExists": True}, []),
    ("a listed column left out of a record", body({"contact_key": "C-1"}, columns=["contact_key", "name"]), []),
    # -- fix-ups of what was sent: one note each ----------------------------------------------
    ("upper-case email", body({"contact_key": "C-1", "email": "Ann@X.io"}),
     [("contactDatas[0].email", "Ann@X.io", "ann@x.io", "cast")]),
    ("surrounding whitespace", body({"contact_key": "C-1", "name": " Ann "}),
     [("contactDatas[0].name", " Ann ", "Ann", "unverified")]),
    ("empty birth_date", body({"contact_key": "C-1", "birth_date": ""}),
     [("contactDatas[0].birth_date", "", None, "unverified")]),
    ("empty standard boolean", body({"contact_key": "C-1", "email_permission": ""}),
     [("contactDatas[0].email_permission", "", None, "unverified")]),
    ("empty custom number, boolean and date",
     body({"contact_key": "C-1", "lifetime_value": "", "vip": " ", "last_order_date": ""}),
     [("contactDatas[0].lifetime_value", "", None, "unverified"), ("contactDatas[0].vip", " ", None, "unverified"),
      ("contactDatas[0].last_order_date", "", None, "unverified")]),
    ("a key not in columns", body({"contact_key": "C-1", "name": "Ann"}, columns=["contact_key"]),
     [("contactDatas[0].name", "Ann", None, "ignored")]),
    ("the same contact_key twice", body({"contact_key": "C-1", "name": "A"}, {"contact_key": "C-1", "name": "B"}),
     [("contactDatas[0]", "C-1", None, "ignored")]),
    ("an unknown top-level key", {**body({"contact_key": "C-1"}), "tableName": "master_contact"},
     [("tableName", "master_contact", None, "ignored")]),
    ("a column listed twice", body({"contact_key": "C-1"}, columns=["contact_key", "contact_key"]),
     [("columns", "contact_key", None, "ignored")]),
    ("a null flag", body({"contact_key": "C-1"}, throw=None),
     [("throwExceptionIfInvalidRecord", None, True, "unverified")]),
]


@pytest.mark.parametrize("payload, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_which_inputs_note(client, auth, payload, expected):
    resp = client.post(BULK, json=payload, headers=auth)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["errors"] == []
    assert [(n["field"], n["sent"], n["used"], n["kind"]) for n in last_notes(client)] == expected


def test_a_body_sent_as_another_content_type_is_read_with_an_unverified_note(client, auth):
    import json

    resp = client.post(BULK, data=json.dumps(body({"contact_key": "C-1"})),
                       headers={**auth, "Content-Type": "text/plain"})
    assert resp.status_code == 200
    assert [(n["field"], n["kind"]) for n in last_notes(client)] == [("Content-Type", "unverified")]


def test_a_rename_is_what_was_asked_no_note(client, auth):
    client.post(BULK, json=body({"contact_key": "C-1"}), headers=auth)
    resp = client.post(BULK, json=body({"contact_key": "C-1", "new_contact_key": "C-2"}, insert=False), headers=auth)
    assert resp.get_json()["data"]["updated"] == ["C-2"]
    assert last_notes(client) == []


# -- empty values in date, number and boolean columns ---------------------------------------------

EMPTY = {"birth_date": "", "subscription_date": "", "email_permission": "", "gsm_permission": "",
         "lifetime_value": "", "vip": "", "last_order_date": ""}


def test_empty_strings_in_typed_columns_are_no_value_even_when_invalid_records_throw(client, auth):
    resp = client.post(BULK, json=body({"contact_key": "C-1", "name": "Ann", **EMPTY}, throw=True), headers=auth)
    assert resp.status_code == 200
    assert resp.get_json()["data"] == {"inserted": ["C-1"], "updated": [], "errors": [], "warnings": []}
    stored = contacts(client)["C-1"]
    assert all(stored[column] is None for column in EMPTY)
    assert stored["name"] == "Ann" and stored["contact_status"] == "A"
    notes = last_notes(client)
    assert [n["field"] for n in notes] == [f"contactDatas[0].{column}" for column in EMPTY]
    assert {(n["sent"], n["used"], n["rule"], n["kind"]) for n in notes} == {
        ("", None, "empty string read as no value", "unverified")}


def test_an_empty_string_on_update_clears_the_value_like_null(client, auth):
    client.post(BULK, json=body({"contact_key": "C-1", "birth_date": "1990-01-05", "vip": True}), headers=auth)
    resp = client.post(BULK, json=body({"contact_key": "C-1", "birth_date": "", "vip": ""}), headers=auth)
    assert resp.get_json()["data"]["updated"] == ["C-1"]
    stored = contacts(client)["C-1"]
    assert (stored["birth_date"], stored["vip"]) == (None, None)


@pytest.mark.parametrize("column, value", [("birth_date", "x"), ("vip", "true"), ("lifetime_value", "12"),
                                           ("email_status", ""), ("contact_status", "")])
def test_other_strings_in_typed_and_enum_columns_are_still_refused(client, auth, column, value):
    resp = client.post(BULK, json=body({"contact_key": "C-1", column: value}), headers=auth)
    assert resp.status_code == 400 and resp.get_json()["code"] == 11
    assert column in resp.get_json()["message"]
    assert contacts(client) == {}


def test_the_empty_value_rule_covers_every_typed_standard_column():
    typed = {name for name, col in STANDARD_COLUMNS.items() if col.type in ("date", "number", "boolean")}
    assert typed == {"birth_date", "subscription_date", "email_permission", "gsm_permission"} <= set(EMPTY)


# -- fake payloads: sent as they are, no note --------------------------------------------------

VARIANTS = [
    ("one record", lambda fake: fake("dengage")),
    ("default body", lambda fake: fake("dengage", n=5)),
    ("bulk body", lambda fake: fake("dengage", "bulk", n=20)),
    ("columns", lambda fake: fake("dengage", columns=["email", "name", "gsm"])),
    ("every standard column", lambda fake: fake("dengage", "bulk", n=4, columns=list(STANDARD_COLUMNS))),
    ("flags", lambda fake: fake("dengage", n=2, insertIfNotExists=True, throwExceptionIfInvalidRecord=True)),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("make", [v[1] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_every_fake_payload_is_accepted_without_a_note(client, auth, engine, fake_contact, make, seed):
    engine.clock.freeze("2026-03-01T10:00:00Z")
    payload = make(fake_contact)
    if "columns" not in payload:   # one record: sent the way both callers send it
        payload = {"columns": list(payload), "contactDatas": [payload], "insertIfNotExists": True}
    resp = client.post(BULK, json=payload, headers=auth)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()["data"]
    assert data["errors"] == [] and data["warnings"] == []
    assert len(data["inserted"]) == len(payload["contactDatas"])
    assert last_notes(client) == []


def test_fake_payload_with_columns_has_only_those_columns(fake_contact):
    payload = fake_contact("dengage", n=6, columns=["email", "subscription_date", "email"])
    assert payload["columns"] == ["contact_key", "email", "subscription_date"]
    assert all(list(record) == payload["columns"] for record in payload["contactDatas"])
    with pytest.raises(ValueError, match="'loyalty_tier' not standard"):
        fake_contact("dengage", columns=["loyalty_tier"])
