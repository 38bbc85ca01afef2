"""The lenient casting table, case by case: what is stored, and the journal note of each fix-up.

Each case sends one value for one parameter (at the top level, or inside ``contacts[0]``),
then reads the stored effect of that parameter from ``/_emulator/state`` and the notes of
the request from ``/_emulator/requests?vendor=octopush``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from emulator.vendors.octopush import schemas

from .conftest import AUTH, CREATE, contacts_by_phone, journal, names

PHONE = "+33612345678"
BLACKLISTED = "+33600000000"  # declared in the test fixture


@dataclass
class Case:
    type: str          # the row of the casting table (see ROWS), or "too long", "unknown"
    where: str         # "top" or "contact"
    name: str
    sent: object
    used: object
    notes: list = field(default_factory=list)  # (sent, used, rule) of each expected note

    def id(self) -> str:
        return f"{self.type}:{self.where}.{self.name}={self.sent!r}"


def note_of(sent, used, rule):
    return (sent, used, rule)


BOOL_TEXT = "text cast to boolean"
BOOL_NUMBER = "number cast to boolean"
L40 = "L" * 40
F60 = "F" * 60

CASES = [
    # boolean: "true"/"false", "1"/"0", 1/0, "yes"/"no", "on"/"off", any case
    *[Case("boolean", "top", "un_list", s, u, [note_of(s, u, BOOL_TEXT)])
      for s, u in [("true", True), ("false", False), ("1", True), ("0", False), ("yes", True), ("no", False),
                   ("on", True), ("off", False), ("TRUE", True), (" Yes ", True), ("Off", False)]],
    *[Case("boolean", "top", "un_list", s, u, [note_of(s, u, BOOL_NUMBER)]) for s, u in [(1, True), (0, False)]],
    Case("boolean", "top", "un_list", True, True),
    Case("boolean", "top", "un_tag", "1", True, [note_of("1", True, BOOL_TEXT)]),
    Case("boolean", "top", "do_not_overwrite", "yes", True, [note_of("yes", True, BOOL_TEXT)]),
    Case("boolean", "top", "do_not_overwrite", 0, False, [note_of(0, False, BOOL_NUMBER)]),
    Case("boolean", "top", "auto_remove_blacklisted_numbers", "on", True, [note_of("on", True, BOOL_TEXT)]),
    Case("boolean", "top", "auto_delete_optout_contacts", 1, True, [note_of(1, True, BOOL_NUMBER)]),
    # a value that cannot be cast falls back to the default, and is noted
    Case("boolean", "top", "un_list", {"a": 1}, False, [note_of({"a": 1}, False, "not a boolean: ignored")]),
    Case("boolean", "top", "un_list", "maybe", False, [note_of("maybe", False, "not a boolean: ignored")]),
    Case("boolean", "top", "un_list", 2, False, [note_of(2, False, "not a boolean: ignored")]),
    Case("boolean", "top", "do_not_overwrite", None, False, [note_of(None, False, "null: ignored")]),
    # string: number -> its decimal text; boolean -> "true"/"false"
    Case("string", "contact", "first_name", 42, "42", [note_of(42, "42", "number cast to string")]),
    Case("string", "contact", "last_name", 4.5, "4.5", [note_of(4.5, "4.5", "number cast to string")]),
    Case("string", "contact", "param1", 7.0, "7", [note_of(7.0, "7", "number cast to string")]),
    Case("string", "contact", "param2", True, "true", [note_of(True, "true", "boolean cast to string")]),
    Case("string", "contact", "param5", False, "false", [note_of(False, "false", "boolean cast to string")]),
    Case("string", "top", "list_name", 2024, "2024", [note_of(2024, "2024", "number cast to string")]),
    Case("string", "top", "tag_name", True, "true", [note_of(True, "true", "boolean cast to string")]),
    Case("string", "contact", "first_name", "Ann", "Ann"),
    # a value already in the stored form gives no note
    Case("string", "contact", "last_name", "L" * 50, "L" * 50),
    Case("string", "contact", "param1", " spaced ", " spaced "),
    Case("string", "top", "list_name", "L" * 30, "L" * 30),
    Case("string", "top", "tag_name", "web", "web"),
    Case("boolean", "top", "do_not_overwrite", False, False),
    Case("boolean", "top", "un_tag", True, True),
    Case("boolean", "top", "auto_remove_blacklisted_numbers", True, True),
    Case("string", "contact", "param3", {"x": 1}, None, [note_of({"x": 1}, None, "not a string: ignored")]),
    Case("string", "contact", "param4", [1], None, [note_of([1], None, "not a string: ignored")]),
    Case("string", "contact", "first_name", None, None, [note_of(None, None, "null: ignored")]),
    Case("string", "top", "list_name", "  ", None, [note_of("  ", None, "empty: ignored")]),
    # array of strings: a single string -> one-element array; a comma-separated string -> split
    Case("array of strings", "top", "list_names", "a,b", ["a", "b"],
         [note_of("a,b", ["a", "b"], "comma-separated string split into an array")]),
    Case("array of strings", "top", "list_names", "a, b ,c", ["a", "b", "c"],
         [note_of("a, b ,c", ["a", "b", "c"], "comma-separated string split into an array")]),
    Case("array of strings", "top", "tag_names", "solo", ["solo"],
         [note_of("solo", ["solo"], "single string wrapped in an array")]),
    Case("array of strings", "top", "tag_names", 7, ["7"],
         [note_of(7, [7], "single value wrapped in an array"), note_of(7, "7", "number cast to string")]),
    Case("array of strings", "top", "list_names", ["a", 5], ["a", "5"], [note_of(5, "5", "number cast to string")]),
    Case("array of strings", "top", "list_names", ["a", {"x": 1}, None, ""], ["a"],
         [note_of({"x": 1}, None, "not a string: element dropped"), note_of(None, None, "null: element dropped"),
          note_of("", None, "empty: element dropped")]),
    Case("array of strings", "top", "tag_names", {"x": 1}, [], [note_of({"x": 1}, (), "not an array: ignored")]),
    Case("array of strings", "top", "list_names", ["a", "b"], ["a", "b"]),
    # array of objects: a single object -> one-element array
    Case("array of objects", "top", "contacts", {"phone_number": PHONE, "first_name": "After"},
         [{"phone_number": PHONE, "first_name": "After"}],
         [note_of({"phone_number": PHONE, "first_name": "After"}, [{"phone_number": PHONE, "first_name": "After"}],
                  "single object wrapped in an array")]),
    # phone number: strip spaces, dots, dashes, brackets; 00 -> +; national -> default country
    *[Case("phone number", "contact", "phone_number", s, PHONE, [note_of(s, PHONE, "phone number formatted to E.164")])
      for s in ["0033 6.12-34(56)78", "0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78",
                "(06) 12 34 56 78", "[06]12345678", "+33 6 12 34 56 78", "0033612345678", "612345678",
                "33612345678", 33612345678, 612345678]],
    Case("phone number", "contact", "phone_number", PHONE, PHONE),
    Case("phone number", "contact", "phone_number", "+1 (415) 555-0123", "+14155550123",
         [note_of("+1 (415) 555-0123", "+14155550123", "phone number formatted to E.164")]),
    # too long: cut to the limit
    Case("too long", "top", "list_name", L40, L40[:30], [note_of(L40, L40[:30], "cut to 30 characters")]),
    Case("too long", "top", "tag_name", "T" * 25, "T" * 20, [note_of("T" * 25, "T" * 20, "cut to 20 characters")]),
    Case("too long", "top", "list_names", [L40], [L40[:30]], [note_of(L40, L40[:30], "cut to 30 characters")]),
    Case("too long", "top", "tag_names", "x" * 21, ["x" * 20],
         [note_of("x" * 21, ["x" * 21], "single string wrapped in an array"),
          note_of("x" * 21, "x" * 20, "cut to 20 characters")]),
    *[Case("too long", "contact", f, F60, F60[:50], [note_of(F60, F60[:50], "cut to 50 characters")])
      for f in ["first_name", "last_name", "param1", "param2", "param3", "param4", "param5"]],
    Case("too long", "contact", "first_name", 10 ** 60, str(10 ** 60)[:50],
         [note_of(10 ** 60, str(10 ** 60), "number cast to string"),
          note_of(str(10 ** 60), str(10 ** 60)[:50], "cut to 50 characters")]),
    # a parameter with an unknown name is ignored
    Case("unknown", "top", "sender", "ACME", None, [note_of("ACME", None, "unknown parameter ignored")]),
    Case("unknown", "top", "list", ["a"], None, [note_of(["a"], None, "unknown parameter ignored")]),
    Case("unknown", "contact", "email", "ann@example.com", None,
         [note_of("ann@example.com", None, "unknown parameter ignored")]),
    Case("unknown", "contact", "lists", ["x"], [], [note_of(["x"], None, "unknown parameter ignored")]),
]


def _prepare(client) -> None:
    """An existing contact in list Old with tag old, for the top-level cases."""
    resp = client.post(CREATE, json={"list_name": "Old", "tag_name": "old",
                                     "contacts": [{"phone_number": PHONE, "first_name": "Before"}]}, headers=AUTH)
    assert resp.status_code == 201


def _effect(client, case: Case):
    """What the stored state says was used for the case's parameter."""
    stored = contacts_by_phone(client)
    if case.where == "contact":
        if case.name == "phone_number":
            return next(iter(stored))
        return stored[PHONE].get(case.name)
    me = stored[PHONE]
    effects = {
        "list_name": lambda: (me["lists"][1] if len(me["lists"]) > 1 else None),
        "list_names": lambda: me["lists"][1:],
        "un_list": lambda: me["lists"] == [],
        "tag_name": lambda: (me["tags"][1] if len(me["tags"]) > 1 else None),
        "tag_names": lambda: me["tags"][1:],
        "un_tag": lambda: me["tags"] == [],
        "auto_remove_blacklisted_numbers": lambda: BLACKLISTED not in stored,
        "auto_delete_optout_contacts": lambda: BLACKLISTED not in stored,
        "do_not_overwrite": lambda: me["first_name"] == "Before",
        "contacts": lambda: [{"phone_number": PHONE, "first_name": me["first_name"]}],
    }
    return effects[case.name]() if case.name in effects else None


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_casting_table(client, case):
    if case.where == "top":
        _prepare(client)
        body = {"contacts": [{"phone_number": PHONE, "first_name": "After"}, {"phone_number": BLACKLISTED}],
                case.name: case.sent}
    else:
        body = {"contacts": [{"phone_number": PHONE, case.name: case.sent} if case.name != "phone_number"
                             else {"phone_number": case.sent}]}
    resp = client.post(CREATE, json=body, headers=AUTH)
    assert resp.status_code == 201, resp.get_json()
    assert _effect(client, case) == case.used
    if case.name in ("list_name", "list_names") and case.used:
        assert set([case.used] if isinstance(case.used, str) else case.used) <= set(names(client, "lists"))
    field_name = case.name if case.where == "top" else f"contacts[0].{case.name}"
    expected = [{"field": field_name, "sent": s, "used": list(u) if isinstance(u, tuple) else u, "rule": r,
                 "kind": "ignored" if "ignored" in r or "dropped" in r else "cast"}
                for s, u, r in case.notes]
    assert journal(client)[-1]["notes"] == expected


ROWS = {"boolean": "boolean", "text": "string", "list": "array of strings", "records": "array of objects",
        "phone": "phone number"}
"""The reader of a declared field -> the row of the spec's casting table it follows."""


def _max_length(field):
    return getattr(field, "max_length", None) or getattr(getattr(field, "item", None), "max_length", None)


def test_the_cases_cover_every_row_of_the_casting_table_and_every_parameter():
    declared = {**schemas.CREATE.fields, **schemas.CONTACT.fields}
    assert {c.type for c in CASES} >= {ROWS[f.type] for f in declared.values()} | {"too long", "unknown"}
    assert {c.name for c in CASES if c.where == "top"} >= set(schemas.CREATE.fields)
    assert {c.name for c in CASES if c.where == "contact"} >= set(schemas.CONTACT.fields)
    assert {c.name for c in CASES if c.type == "too long"} >= {name for name, f in declared.items() if _max_length(f)}


def test_lint_summarises_the_casts_per_field(client):
    client.post(CREATE, json={"un_list": "1", "contacts": {"phone_number": "06 12 34 56 78", "first_name": 1}},
                headers=AUTH)
    client.post(CREATE, json={"contacts": [{"phone_number": "0612345679", "email": "x@example.com"}]},
                headers=AUTH)
    lint = client.get("/_emulator/lint").get_json()
    fields = lint["vendors"]["octopush"]["POST /v1/public/contact/create"]
    assert fields["contacts[0].phone_number"]["count"] == 2
    assert fields["contacts[0].phone_number"]["rules"] == ["phone number formatted to E.164"]
    assert set(fields) == {"un_list", "contacts", "contacts[0].phone_number", "contacts[0].first_name",
                           "contacts[0].email"}
