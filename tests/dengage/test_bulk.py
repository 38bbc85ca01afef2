"""BulkUpsert rules: contact_key, insertIfNotExists, renames, columns, values, validate-all-first."""
from __future__ import annotations

import pytest

from .conftest import BULK, CONTACT, account_state, bearer, body, contacts, data_state, last_notes, login

ANN = {"contact_key": "C-1", "name": "Ann", "email": "ann@x.io"}


def post(client, auth, payload):
    return client.post(BULK, json=payload, headers=auth)


def test_insert_then_update_by_contact_key(client, auth, engine):
    engine.clock.freeze("2026-03-01T10:00:00Z")
    first = post(client, auth, body(ANN, {"contact_key": "C-2", "name": "Bob"}))
    assert first.status_code == 200
    assert first.get_json() == {"code": 0, "message": "OK", "data": {
        "inserted": ["C-1", "C-2"], "updated": [], "errors": [], "warnings": []}}
    engine.clock.advance(120)
    second = post(client, auth, body({"contact_key": "C-1", "surname": "Lee"}, {"contact_key": "C-3"}))
    assert second.get_json()["data"] == {"inserted": ["C-3"], "updated": ["C-1"], "errors": [], "warnings": []}
    stored = contacts(client)
    assert set(stored) == {"C-1", "C-2", "C-3"}
    ann = stored["C-1"]
    assert (ann["name"], ann["surname"], ann["email"]) == ("Ann", "Lee", "ann@x.io")  # unlisted columns kept
    assert ann["created_at"] == "2026-03-01T10:00:00.000Z"
    assert ann["updated_at"] == "2026-03-01T10:02:00.000Z"


def test_state_shows_every_column_of_the_account(client, auth):
    post(client, auth, body({"contact_key": "C-1"}))
    stored = contacts(client)["C-1"]
    assert list(stored) == ["contact_key", "name", "surname", "email", "email_permission", "email_status", "gsm",
                            "gsm_permission", "gsm_status", "contact_status", "gender", "birth_date",
                            "subscription_date", "city", "country", "loyalty_tier", "nickname", "lifetime_value",
                            "vip", "last_order_date", "churn_score", "created_at", "updated_at"]
    assert stored["contact_status"] == "A"
    assert stored["email_status"] is None and stored["name"] is None


def test_contact_key_is_unique_per_account(client, auth):
    for name in ("Ann", "Anna", "Annie"):
        assert post(client, auth, body({"contact_key": "C-1", "name": name})).status_code == 200
    stored = account_state(client)["contacts"]
    assert len(stored) == 1 and stored[0]["name"] == "Annie"


def test_insert_if_not_exists_defaults_to_false(client, auth):
    payload = {"columns": ["contact_key", "name"], "contactDatas": [{"contact_key": "C-9", "name": "New"}]}
    resp = post(client, auth, payload)
    assert resp.status_code == 400   # throwExceptionIfInvalidRecord defaults to true
    answer = resp.get_json()
    assert answer["code"] == 11
    assert answer["message"] == ("record 0, column 'contact_key': contact_key 'C-9' does not exist and "
                                 "insertIfNotExists is false")
    assert answer["data"]["errors"] == [{"contact_key": "C-9", "index": 0, "column": "contact_key",
                                         "message": "contact_key 'C-9' does not exist and insertIfNotExists is false"}]
    assert contacts(client) == {}


def test_insert_false_updates_known_keys_and_reports_unknown_ones(client, auth):
    post(client, auth, body(ANN))
    resp = post(client, auth, body({"contact_key": "C-1", "name": "Ann B"}, {"contact_key": "C-9", "name": "X"},
                                   insert=False, throw=False))
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert data["inserted"] == [] and data["updated"] == ["C-1"]
    assert [(e["index"], e["contact_key"], e["column"]) for e in data["errors"]] == [(1, "C-9", "contact_key")]
    assert set(contacts(client)) == {"C-1"} and contacts(client)["C-1"]["name"] == "Ann B"


@pytest.mark.parametrize("record, rule", [
    ({"name": "no key"}, "is required"),
    ({"contact_key": None}, "is required"),
    ({"contact_key": ""}, "must not be empty"),
    ({"contact_key": "   "}, "must not be empty"),
    ({"contact_key": 12}, "must be a string, got number"),
    ({"contact_key": ["C-1"]}, "must be a string, got array"),
    ({"contact_key": {"id": 1}}, "must be a string, got object"),
])
def test_every_record_needs_a_non_empty_string_contact_key(client, auth, record, rule):
    resp = post(client, auth, body(ANN, record, columns=["contact_key", "name", "email"]))
    assert resp.status_code == 400
    answer = resp.get_json()
    assert answer["code"] == 11
    assert answer["message"].startswith("record 1, column 'contact_key': contact_key ")
    assert rule in answer["message"]
    assert contacts(client) == {}   # the valid record 0 is not stored either


@pytest.mark.parametrize("record", [None, "C-1", 5, ["C-1"], True])
def test_a_record_that_is_not_an_object_is_a_record_error(client, auth, record):
    resp = post(client, auth, body(ANN, record, columns=["contact_key", "name", "email"], throw=False))
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert data["inserted"] == ["C-1"]
    assert data["errors"][0]["index"] == 1 and "record must be an object" in data["errors"][0]["message"]


def test_duplicate_key_in_one_call_the_later_record_wins_with_a_warning(client, auth):
    resp = post(client, auth, body({"contact_key": "C-1", "name": "First"}, {"contact_key": "C-2", "name": "B"},
                                   {"contact_key": "C-1", "name": "Second"}))
    data = resp.get_json()["data"]
    assert data["inserted"] == ["C-2", "C-1"]
    assert data["warnings"] == [{"contact_key": "C-1", "index": 0, "column": "contact_key",
                                 "message": "duplicate contact_key 'C-1' in this call: record 2 wins"}]
    assert contacts(client)["C-1"]["name"] == "Second"
    assert any("record 2 wins" in n["rule"] for n in last_notes(client))


def test_an_invalid_earlier_duplicate_is_dropped_not_reported(client, auth):
    resp = post(client, auth, body({"contact_key": "C-1", "name": "x" * 101}, {"contact_key": "C-1", "name": "Ok"}))
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert data["errors"] == [] and len(data["warnings"]) == 1
    assert contacts(client)["C-1"]["name"] == "Ok"


def test_keys_not_in_columns_are_ignored_with_a_warning_and_a_note(client, auth):
    record = {"contact_key": "C-1", "name": "Ann", "surname": "Lee", "shoe_size": 42}
    resp = post(client, auth, body(record, columns=["contact_key", "name"]))
    data = resp.get_json()["data"]
    assert data["inserted"] == ["C-1"]
    assert [(w["column"], w["message"]) for w in data["warnings"]] == [
        ("surname", "'surname' is not in 'columns': ignored"),
        ("shoe_size", "'shoe_size' is not in 'columns': ignored")]
    assert contacts(client)["C-1"]["surname"] is None
    fields = {n["field"] for n in last_notes(client)}
    assert {"contactDatas[0].surname", "contactDatas[0].shoe_size"} <= fields


def test_listed_columns_missing_from_a_record_are_left_unchanged(client, auth):
    post(client, auth, body(ANN))
    post(client, auth, body({"contact_key": "C-1", "surname": "Lee"}, columns=["contact_key", "name", "surname"]))
    assert contacts(client)["C-1"]["name"] == "Ann"


# -- columns ------------------------------------------------------------------------------

@pytest.mark.parametrize("columns, message", [
    (["contact_key", "shoe_size"], "columns: 'shoe_size' is not a column of master_contact"),
    (["contact_key", "churn_score"], "columns: 'churn_score' is not import-enabled for this account"),
    (["name"], "columns: must include 'contact_key'"),
    ([], "columns: must list at least 1 column"),
    ("contact_key", "columns: must be an array of column names"),
    (["contact_key", 5], "columns[1]: must be a string"),
    (None, "columns: "),
])
def test_columns_must_be_import_enabled_columns_with_contact_key(client, auth, columns, message):
    before = data_state(client)
    resp = post(client, auth, {"columns": columns, "contactDatas": [{"contact_key": "C-1"}],
                               "insertIfNotExists": True})
    assert resp.status_code == 400
    answer = resp.get_json()
    assert answer["code"] == 1
    assert answer["message"].startswith(message)
    assert answer["data"]["errors"][0]["message"].startswith(message)
    assert data_state(client) == before


def test_import_enabled_standard_columns_are_an_account_setting(client):
    auth = bearer(login(client, "narrow"))
    ok = post(client, auth, body({"contact_key": "C-1", "name": "Ann", "email": "a@x.io", "tier": "t"}))
    assert ok.status_code == 200
    resp = post(client, auth, body({"contact_key": "C-2", "gsm": "+905551112233"}))
    assert resp.status_code == 400 and "'gsm' is not import-enabled" in resp.get_json()["message"]
    resp = post(client, auth, body({"contact_key": "C-2", "loyalty_tier": "gold"}))
    assert "'loyalty_tier' is not a column of master_contact" in resp.get_json()["message"]
    assert set(contacts(client, "narrow")) == {"C-1"}


def test_every_call_level_problem_is_listed(client, auth):
    resp = post(client, auth, {"columns": ["contact_key", "nope", "churn_score"], "contactDatas": [],
                               "insertIfNotExists": "yes", "throwExceptionIfInvalidRecord": 1})
    answer = resp.get_json()
    assert resp.status_code == 400 and answer["code"] == 1
    messages = [e["message"] for e in answer["data"]["errors"]]
    assert len(messages) == 5
    assert any(m.startswith("contactDatas: must hold 1 to 1000 records") for m in messages)
    assert any(m.startswith("insertIfNotExists: must be a JSON boolean") for m in messages)
    assert any(m.startswith("throwExceptionIfInvalidRecord: must be a JSON boolean") for m in messages)
    assert answer["message"].endswith("(and 4 more problems)")


@pytest.mark.parametrize("payload, message", [
    ({"columns": ["contact_key"]}, "contactDatas: is required"),
    ({"columns": ["contact_key"], "contactDatas": {"contact_key": "C-1"}}, "contactDatas: must be an array"),
    ({"columns": ["contact_key"], "contactDatas": "C-1"}, "contactDatas: must be an array"),
    ({"columns": ["contact_key"], "contactDatas": None}, "contactDatas: "),
    ({"contactDatas": [{"contact_key": "C-1"}]}, "columns: is required"),
    ({"columns": ["contact_key"], "contactDatas": [{"contact_key": "C-1"}], "insertIfNotExists": "true"},
     "insertIfNotExists: must be a JSON boolean"),
    ({"columns": ["contact_key"], "contactDatas": [{"contact_key": "C-1"}], "insertIfNotExists": 1},
     "insertIfNotExists: must be a JSON boolean"),
])
def test_malformed_calls_are_400_code_1_and_store_nothing(client, auth, payload, message):
    before = data_state(client)
    resp = post(client, auth, payload)
    assert resp.status_code == 400
    answer = resp.get_json()
    assert answer["code"] == 1 and answer["message"].startswith(message)
    assert data_state(client) == before


@pytest.mark.parametrize("raw, message", [
    (b'{"columns": [', "request body is not valid JSON"),
    (b"[]", "request body must be a JSON object"),
    (b'"x"', "request body must be a JSON object"),
    (b"", "request body is required"),
    (b"null", "request body must be a JSON object, got null"),
])
def test_a_body_that_is_not_a_json_object_is_400_in_the_envelope(client, auth, raw, message):
    before = data_state(client)
    resp = client.post(BULK, data=raw, headers={**auth, "Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.get_json()["code"] == 1 and resp.get_json()["message"].startswith(message)
    assert data_state(client) == before


def test_record_count_is_1_to_1000(client, auth):
    many = [{"contact_key": f"C-{i}"} for i in range(1001)]
    resp = post(client, auth, body(*many))
    assert resp.status_code == 400 and "contactDatas: must hold 1 to 1000 records" in resp.get_json()["message"]
    assert contacts(client) == {}
    resp = post(client, auth, body(*many[:1000]))
    assert resp.status_code == 200 and len(resp.get_json()["data"]["inserted"]) == 1000
    assert len(contacts(client)) == 1000


def test_null_flags_take_their_defaults_and_unknown_keys_are_noted(client, auth):
    resp = post(client, auth, {"columns": ["contact_key"], "contactDatas": [{"contact_key": "C-1"}],
                               "insertIfNotExists": True, "throwExceptionIfInvalidRecord": None, "brand": "x"})
    assert resp.status_code == 200
    notes = {n["field"]: n for n in last_notes(client)}
    assert notes["throwExceptionIfInvalidRecord"]["used"] is True
    assert notes["brand"]["rule"] == "unknown top-level key ignored"


# -- values -------------------------------------------------------------------------------

@pytest.mark.parametrize("column, value, rule", [
    ("name", "x" * 101, "longer than 100 characters (101)"),
    ("surname", 5, "must be a string, got number"),
    ("email", "a" * 251 + "@x.io", "longer than 255 characters (256)"),
    ("email", ["a@x.io"], "must be a string, got array"),
    ("email_permission", "true", "must be a boolean (true or false), got string"),
    ("gsm_permission", 1, "must be a boolean (true or false), got number"),
    ("email_status", "X", "must be one of A, P, got 'X'"),
    ("gsm_status", "a", "must be one of A, P, got 'a'"),
    ("contact_status", None, "is required (null or missing)"),
    ("contact_status", ["A"], "must be one of A, P"),
    ("gsm", "+90 555 111 22 33 44 55", "longer than 20 characters (23)"),
    ("gender", {"x": 1}, "must be a string, got object"),
    ("birth_date", "1990-1-5", "must be a date YYYY-MM-DD"),
    ("birth_date", "1990-02-30", "is not a calendar date: '1990-02-30'"),
    ("birth_date", "1990-01-05T00:00:00", "must be a date YYYY-MM-DD"),
    ("subscription_date", 20240101, "must be a date YYYY-MM-DD, got number"),
    ("city", "c" * 101, "longer than 100 characters"),
    ("country", False, "must be a string, got boolean"),
    ("loyalty_tier", "platinum", "must be one of bronze, silver, gold, got 'platinum'"),
    ("nickname", "abcdef", "longer than 5 characters (6)"),
    ("lifetime_value", "12.5", "must be a number, got string"),
    ("lifetime_value", True, "must be a number, got boolean"),
    ("vip", "yes", "must be a boolean (true or false), got string"),
    ("last_order_date", "2024/01/01", "must be a date YYYY-MM-DD"),
])
def test_values_are_checked_against_type_length_and_enum(client, auth, column, value, rule):
    before = data_state(client)
    record = {"contact_key": "C-1", column: value}
    resp = post(client, auth, body(ANN | {"contact_key": "C-0"}, record))
    assert resp.status_code == 400
    answer = resp.get_json()
    assert answer["code"] == 11
    assert rule in answer["message"]
    assert answer["message"].startswith(f"record 1, column '{column}': {column} ")
    assert answer["data"]["errors"] == [{"contact_key": "C-1", "index": 1, "column": column,
                                         "message": answer["message"].split(": ", 1)[1]}]
    assert data_state(client) == before


@pytest.mark.parametrize("column, value", [
    ("name", "x" * 100), ("email", "a" * 250 + "@x.i"), ("email_permission", False), ("gsm", "+" + "9" * 19),
    ("email_status", "P"), ("contact_status", "P"), ("birth_date", "2000-02-29"), ("loyalty_tier", "gold"),
    ("lifetime_value", 12.5), ("lifetime_value", -3), ("vip", True), ("last_order_date", "2025-12-31"),
    ("nickname", "Annie"), ("name", None), ("vip", None),
])
def test_values_within_the_rules_are_stored_as_sent(client, auth, column, value):
    resp = post(client, auth, body({"contact_key": "C-1", column: value}))
    assert resp.status_code == 200 and resp.get_json()["data"]["errors"] == []
    assert contacts(client)["C-1"][column] == value


def test_all_problems_of_all_records_are_listed(client, auth):
    resp = post(client, auth, body({"contact_key": "C-1", "name": 5, "email_status": "Z"},
                                   {"contact_key": "C-2", "birth_date": "soon"}, {"contact_key": "C-3"}))
    errors = resp.get_json()["data"]["errors"]
    assert [(e["index"], e["column"]) for e in errors] == [(0, "name"), (0, "email_status"), (1, "birth_date")]
    assert resp.get_json()["message"].endswith("(and 2 more problems)")


def test_string_values_are_trimmed_with_a_warning_and_a_note(client, auth):
    resp = post(client, auth, body({"contact_key": " C-1 ", "name": "  Ann ", "birth_date": " 1990-01-05"}))
    data = resp.get_json()["data"]
    assert data["inserted"] == ["C-1"]
    assert [w["column"] for w in data["warnings"]] == ["contact_key", "name", "birth_date"]
    assert all(w["message"] == "value trimmed of surrounding whitespace" for w in data["warnings"])
    stored = contacts(client)["C-1"]
    assert (stored["name"], stored["birth_date"]) == ("Ann", "1990-01-05")
    notes = last_notes(client)
    assert {n["field"] for n in notes} == {"contactDatas[0].name", "contactDatas[0].contact_key",
                                           "contactDatas[0].birth_date"}
    assert {(n["rule"], n["kind"]) for n in notes} == {("surrounding whitespace trimmed", "unverified")}


def test_length_is_checked_after_trimming(client, auth):
    resp = post(client, auth, body({"contact_key": "C-1", "nickname": " Annie "}))
    assert resp.status_code == 200 and contacts(client)["C-1"]["nickname"] == "Annie"


def test_email_is_lower_cased_with_a_note(client, auth):
    post(client, auth, body({"contact_key": "C-1", "email": "Ann.Lee@Example.IO"}))
    assert contacts(client)["C-1"]["email"] == "ann.lee@example.io"
    assert {"field": "contactDatas[0].email", "sent": "Ann.Lee@Example.IO", "used": "ann.lee@example.io",
            "rule": "lower-cased", "kind": "cast"} in last_notes(client)


# -- statuses -----------------------------------------------------------------------------

def test_contact_status_defaults_to_a_on_insert_only(client, auth):
    post(client, auth, body({"contact_key": "C-1"}, {"contact_key": "C-2", "contact_status": "P"}))
    assert contacts(client)["C-1"]["contact_status"] == "A"
    assert contacts(client)["C-2"]["contact_status"] == "P"
    post(client, auth, body({"contact_key": "C-2", "name": "Bo"}))
    assert contacts(client)["C-2"]["contact_status"] == "P"


def test_email_and_gsm_status_are_set_to_a_when_the_value_changes(client, auth):
    post(client, auth, body({"contact_key": "C-1", "email": "a@x.io", "gsm": "+905551112233"}))
    stored = contacts(client)["C-1"]
    assert (stored["email_status"], stored["gsm_status"]) == ("A", "A")
    post(client, auth, body({"contact_key": "C-1", "email_status": "P", "gsm_status": "P"}))
    # the same email (in another case) is no change: statuses stay P
    post(client, auth, body({"contact_key": "C-1", "email": "A@X.io", "gsm": "+905551112233"}))
    stored = contacts(client)["C-1"]
    assert (stored["email_status"], stored["gsm_status"]) == ("P", "P")
    # a new email: email_status back to A (the vendor's doing: state, not a note); gsm untouched
    post(client, auth, body({"contact_key": "C-1", "email": "new@x.io"}))
    stored = contacts(client)["C-1"]
    assert (stored["email_status"], stored["gsm_status"]) == ("A", "P")
    assert last_notes(client) == []
    post(client, auth, body({"contact_key": "C-1", "gsm": "+905559998877"}))
    assert contacts(client)["C-1"]["gsm_status"] == "A"


def test_a_status_sent_with_the_new_value_wins(client, auth):
    post(client, auth, body({"contact_key": "C-1", "email": "a@x.io", "email_status": "P"}))
    assert contacts(client)["C-1"]["email_status"] == "P"
    post(client, auth, body({"contact_key": "C-1", "email": "b@x.io", "email_status": "P"}))
    assert contacts(client)["C-1"]["email_status"] == "P"


# -- new_contact_key ------------------------------------------------------------------------

def test_new_contact_key_renames_an_existing_contact(client, auth):
    post(client, auth, body(ANN))
    resp = post(client, auth, body({"contact_key": "C-1", "new_contact_key": "C-100", "name": "Ann R"}, insert=False))
    assert resp.status_code == 200
    assert resp.get_json()["data"]["updated"] == ["C-100"]
    stored = contacts(client)
    assert set(stored) == {"C-100"}
    assert (stored["C-100"]["name"], stored["C-100"]["email"]) == ("Ann R", "ann@x.io")
    assert client.get(f"{CONTACT}/C-100", headers=auth).status_code == 200
    assert client.get(f"{CONTACT}/C-1", headers=auth).status_code == 404
    # the old key is free again
    assert post(client, auth, body({"contact_key": "C-1"})).get_json()["data"]["inserted"] == ["C-1"]


def test_new_contact_key_with_insert_if_not_exists_rejects_the_whole_call(client, auth):
    post(client, auth, body(ANN))
    before = data_state(client)
    resp = post(client, auth, body({"contact_key": "C-1", "new_contact_key": "C-2"}, insert=True))
    assert resp.status_code == 400
    answer = resp.get_json()
    assert answer["code"] == 1
    assert answer["message"] == "new_contact_key cannot be used with insertIfNotExists: true"
    assert data_state(client) == before


def test_new_contact_key_never_lands_on_an_existing_key(client, auth):
    post(client, auth, body(ANN, {"contact_key": "C-2", "name": "Bob"}))
    before = data_state(client)
    resp = post(client, auth, body({"contact_key": "C-1", "new_contact_key": "C-2"}, insert=False))
    assert resp.status_code == 400
    assert resp.get_json()["data"]["errors"] == [{"contact_key": "C-1", "index": 0, "column": "new_contact_key",
                                                  "message": "new_contact_key 'C-2' already exists"}]
    assert data_state(client) == before


def test_two_renames_onto_one_key_the_second_is_an_error(client, auth):
    post(client, auth, body({"contact_key": "C-1"}, {"contact_key": "C-2"}))
    resp = post(client, auth, body({"contact_key": "C-1", "new_contact_key": "C-9"},
                                   {"contact_key": "C-2", "new_contact_key": "C-9"}, insert=False, throw=False))
    data = resp.get_json()["data"]
    assert data["updated"] == ["C-9"]
    assert data["errors"][0]["index"] == 1 and "already used in this call by record 0" in data["errors"][0]["message"]
    assert set(contacts(client)) == {"C-9", "C-2"}


def test_renaming_an_unknown_key_is_an_error(client, auth):
    resp = post(client, auth, body({"contact_key": "C-7", "new_contact_key": "C-8"}, insert=False, throw=False))
    assert resp.get_json()["data"]["errors"][0]["column"] == "contact_key"
    assert contacts(client) == {}


@pytest.mark.parametrize("new_key, rule", [(5, "must be a string"), ("", "must not be empty")])
def test_new_contact_key_is_checked_like_a_contact_key(client, auth, new_key, rule):
    post(client, auth, body(ANN))
    resp = post(client, auth, body({"contact_key": "C-1", "new_contact_key": new_key}, insert=False))
    assert resp.status_code == 400 and rule in resp.get_json()["message"]
    assert set(contacts(client)) == {"C-1"}


def test_null_or_same_new_contact_key_is_a_plain_update(client, auth):
    post(client, auth, body(ANN))
    resp = post(client, auth, body({"contact_key": "C-1", "new_contact_key": None, "name": "A"},
                                   {"contact_key": "C-1", "new_contact_key": "C-1", "name": "B"}, insert=False))
    assert resp.get_json()["data"]["updated"] == ["C-1"]
    assert contacts(client)["C-1"]["name"] == "B"


# -- validate everything first, write once -------------------------------------------------

def test_throw_true_one_invalid_record_stores_nothing(client, auth, engine):
    post(client, auth, body({"contact_key": "C-0", "name": "Old"}))
    before = data_state(client)
    records = [{"contact_key": f"C-{i}", "name": f"N{i}"} for i in range(500)]
    records.append({"contact_key": "C-bad", "email": 42})
    resp = post(client, auth, body(*records, throw=True))
    assert resp.status_code == 400
    assert resp.get_json()["code"] == 11
    assert data_state(client) == before   # neither the 499 inserts nor the C-0 update
    assert contacts(client)["C-0"]["name"] == "Old"


def test_throw_false_stores_the_valid_records_and_lists_the_rest(client, auth):
    resp = post(client, auth, body({"contact_key": "C-1"}, {"contact_key": "C-2", "name": 5}, {"contact_key": "C-3"},
                                   throw=False))
    assert resp.status_code == 200
    answer = resp.get_json()
    assert answer["code"] == 0
    assert answer["data"]["inserted"] == ["C-1", "C-3"]
    assert answer["data"]["errors"] == [{"contact_key": "C-2", "index": 1, "column": "name",
                                         "message": "name must be a string, got number"}]
    assert set(contacts(client)) == {"C-1", "C-3"}


def test_throw_false_with_every_record_invalid_is_200_with_nothing_stored(client, auth):
    resp = post(client, auth, body({"contact_key": "C-1", "vip": "no"}, throw=False))
    assert resp.status_code == 200 and resp.get_json()["data"]["inserted"] == []
    assert contacts(client) == {}


def test_a_call_is_written_with_one_write_many(client, auth, engine, monkeypatch):
    post(client, auth, body({"contact_key": "C-0"}))
    coll = engine.store.collection("dengage", "demo", "contacts")
    calls = []
    original = coll.write_many

    def counting(inserts=(), replaces=None):
        calls.append((len(list(inserts)), len(replaces or {})))
        return original(inserts, replaces)

    monkeypatch.setattr(coll, "write_many", counting)
    monkeypatch.setattr(coll, "insert", lambda *a, **k: pytest.fail("single insert during a bulk call"))
    resp = post(client, auth, body({"contact_key": "C-0", "name": "u"}, *({"contact_key": f"C-{i}"}
                                                                        for i in range(1, 301))))
    assert resp.status_code == 200
    assert calls == [(300, 1)]


# -- reading one contact ---------------------------------------------------------------------

def test_get_contact_returns_the_asked_columns(client, auth):
    post(client, auth, body(ANN | {"loyalty_tier": "gold"}))
    resp = client.get(f"{CONTACT}/C-1?contactFields=email,name,loyalty_tier", headers=auth)
    assert resp.status_code == 200
    assert resp.get_json() == {"code": 0, "message": "OK", "data": {"contacts": [
        {"email": "ann@x.io", "name": "Ann", "loyalty_tier": "gold"}]}}
    everything = client.get(f"{CONTACT}/C-1/", headers=auth).get_json()["data"]["contacts"][0]
    assert everything["contact_key"] == "C-1" and "churn_score" in everything and "created_at" not in everything


def test_get_contact_unknown_key_is_404_and_unknown_field_400(client, auth):
    resp = client.get(f"{CONTACT}/nope", headers=auth)
    assert resp.status_code == 404
    assert resp.get_json() == {"code": 1, "message": "contact_key 'nope' not found", "data": None}
    post(client, auth, body(ANN))
    resp = client.get(f"{CONTACT}/C-1?contactFields=email,shoe_size", headers=auth)
    assert resp.status_code == 400 and "contactFields: unknown column(s) 'shoe_size'" in resp.get_json()["message"]


# -- routing and generic errors ----------------------------------------------------------------

@pytest.mark.parametrize("host", ["api.dengage.com", "eu-api.dengage.com", "dev-api.dengage.com"])
def test_real_hosts_reach_the_vendor_without_prefix(client, host):
    token = client.post("/rest/login/", json={"userkey": "demo", "password": "dengage-demo-password"},
                        headers={"Host": host}).get_json()["access_token"]
    resp = client.post("/rest/bulk/contacts", json=body(ANN), headers={**bearer(token), "Host": host})
    assert resp.status_code == 200
    assert set(contacts(client)) == {"C-1"}


def test_trailing_slash_is_answered_directly(client, auth):
    resp = client.post(BULK + "/", json=body(ANN), headers=auth)
    assert resp.status_code == 200 and "Location" not in resp.headers


def test_unknown_route_and_wrong_method_use_the_envelope(client, auth):
    resp = client.post("/dengage/rest/bulk/contact", json=body(ANN), headers=auth)
    assert resp.status_code == 404
    assert resp.get_json()["code"] == 1 and "closest known route" in resp.get_json()["message"]
    resp = client.get(BULK, headers=auth)
    assert resp.status_code == 405 and resp.get_json()["code"] == 1 and "POST" in resp.headers["Allow"]


def test_a_form_body_is_read_only_as_json(client, auth):
    resp = client.post(BULK, data="columns=contact_key", headers={**auth, "Content-Type":
                                                                 "application/x-www-form-urlencoded"})
    assert resp.status_code == 400 and resp.get_json()["code"] == 1
    import json

    resp = client.post(BULK, data=json.dumps(body(ANN)), headers={**auth, "Content-Type": "text/plain"})
    assert resp.status_code == 200
    assert any(n["field"] == "Content-Type" for n in last_notes(client))
