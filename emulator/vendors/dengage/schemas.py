"""D·engage's request bodies, declared once: reading, notes, the OpenAPI schemas and fakes.

Two leniencies: the call's own shape is read strictly (:data:`CALL`: JSON types as
documented, a null flag read as its default), a record's values as the vendor stores them
(:data:`VALUES`: surrounding whitespace trimmed, emails lower-cased, an empty string in a
date, number or boolean column read as no value). ``master_contact``'s columns are the
standard ones plus each account's custom columns, declared in the fixture
(:func:`account_record`).
"""
from __future__ import annotations

from datetime import date

from emulator.core.accounts import FixtureError
from emulator.core.payload import Boolean, Choice, Date, Field, Fix, Leniency, List, Number, Records, Shape, Text

MAX_RECORDS = 1000
"""Records in one BulkUpsert call (the vendor's limit)."""
NEW_KEY = "new_contact_key"
"""A pseudo-column: renames the record's contact (never with ``insertIfNotExists: true``)."""
STATUS = ("A", "P")

CALL = Leniency(
    null=Fix("unverified", "null read as the default"),   # "insertIfNotExists": null -> false
    unknown=Fix("ignored", "unknown top-level key ignored"),
    messages={"type": "must be {expected}"},
    nouns={"boolean": "a JSON boolean (true or false)"},
)
"""The call's own shape: JSON types as documented, nothing cast."""

VALUES = Leniency(
    trim="unverified",     # " Ann " -> "Ann" (the response also lists it in warnings)
    case="cast",           # "Ann@X.io" -> "ann@x.io": the vendor documents it
    empty="unverified",    # "" in a date, number or boolean column -> null (the SFCC cartridge sends it)
    messages={"null": "is required (null or missing)"},
    nouns={"boolean": "a boolean (true or false)"},
)
"""A record's values: refused unless of the column's type; stored trimmed and in their case."""


def _text(max_length: int, **common) -> Text:
    return Text(max_length=max_length, nullable=True, **common)


def _typed(field: type[Field], **common) -> Field:
    """A date, number or boolean column: null clears it, an empty string is no value."""
    return field(nullable=True, empty="null", **common)


def _fake_date(start: date, end: date):
    return lambda fake: fake.date_between(start, end).isoformat()   # fixed bounds: not today-relative


STANDARD_COLUMNS: dict[str, Field] = {
    "contact_key": Text(empty="refuse", doc="unique per account", fake=lambda fake: fake.unique.numerify("CK-########")),
    "name": _text(100, fake="first_name"),
    "surname": _text(100, fake="last_name"),
    "email": _text(255, lower=True, doc="stored lower-cased", fake="unique.email"),
    "email_permission": _typed(Boolean, doc="e-mail opt-in", fake="boolean"),
    "email_status": Choice(*STATUS, nullable=True, doc="set to A when the email changes",
                           fake=lambda fake: fake.random_element(STATUS)),
    "gsm": _text(20, fake=lambda fake: fake.numerify("+90 5## ### ## ##")),
    "gsm_permission": _typed(Boolean, doc="SMS opt-in", fake="boolean"),
    "gsm_status": Choice(*STATUS, nullable=True, doc="set to A when the gsm changes",
                         fake=lambda fake: fake.random_element(STATUS)),
    "contact_status": Choice(*STATUS, doc="A on insert unless given", fake=lambda fake: "A"),
    "gender": _text(100, fake=lambda fake: fake.random_element(("F", "M"))),
    "birth_date": _typed(Date, fake=_fake_date(date(1946, 1, 1), date(2007, 12, 31))),
    "subscription_date": _typed(Date, fake=_fake_date(date(2015, 1, 1), date(2025, 12, 31))),
    "city": _text(100, fake="city"),
    "country": _text(100, fake="country"),
}
"""``master_contact``'s standard columns (the vendor's table; ``city`` and ``country`` are sent
by both public callers)."""

CALLER_COLUMNS = ("contact_key", "name", "surname", "email", "email_permission", "gsm", "gsm_permission", "gender",
                  "birth_date", "city", "country")
"""The standard columns both public callers send (the columns of a fake record)."""

RECORD = Shape("DengageRecord", STANDARD_COLUMNS, VALUES, doc="a row of master_contact, keyed by column name")

CUSTOM_TYPES: dict[str, type[Field]] = {"string": Text, "number": Number, "boolean": Boolean, "date": Date}
"""A custom column's declared ``type`` -> its reader."""


def custom_column(decl: dict) -> Field:
    """The field of a custom column declared ``{"type", "max_length"?, "enum"?}`` (checked)."""
    if decl["type"] == "string":
        return _text(decl.get("max_length"), choices=decl.get("enum"))
    return _typed(CUSTOM_TYPES[decl["type"]])


def account_record(account) -> tuple[Shape, frozenset[str]]:
    """The account's record shape (standard plus custom columns) and its import-enabled
    columns, from its settings; a bad declaration is a :class:`FixtureError` naming the setting."""
    where = f"fixture: dengage account {account.name!r}"
    enabled = account.setting("import_enabled_columns")
    if enabled is not None:
        if not isinstance(enabled, list) or any(c not in STANDARD_COLUMNS for c in enabled):
            raise FixtureError(f"{where}: settings.import_enabled_columns must be null or a list of standard "
                               f"columns ({', '.join(STANDARD_COLUMNS)})")
        enabled = set(enabled) | {"contact_key"}
    importable = set(STANDARD_COLUMNS) if enabled is None else enabled
    custom = account.setting("custom_columns") or {}
    if not isinstance(custom, dict):
        raise FixtureError(f"{where}: settings.custom_columns must be an object (name -> declaration)")
    fields: dict[str, Field] = {}
    for name, decl in custom.items():
        at = f"{where}: settings.custom_columns.{name}"
        if name in STANDARD_COLUMNS or name == NEW_KEY:
            raise FixtureError(f"{at}: {name!r} is a standard column")
        if not isinstance(decl, dict) or decl.get("type") not in CUSTOM_TYPES:
            raise FixtureError(f"{at}: 'type' must be one of {', '.join(CUSTOM_TYPES)}")
        max_length, choices = decl.get("max_length"), decl.get("enum")
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)
                                       or max_length < 1):
            raise FixtureError(f"{at}: 'max_length' must be a positive integer")
        if choices is not None and (decl["type"] != "string" or not isinstance(choices, list) or not choices
                                    or not all(isinstance(c, str) for c in choices)):
            raise FixtureError(f"{at}: 'enum' must be a non-empty list of strings on a string column")
        fields[name] = custom_column(decl)
        if decl.get("import_enabled", True):
            importable.add(name)
    return (RECORD.extend(fields) if fields else RECORD), frozenset(importable)


_RECORDS_BOUND = f"must hold 1 to {MAX_RECORDS} records"

BULK = Shape("DengageBulkUpsert", {
    "columns": List(Text(), required=True, min_items=1,
                    doc="import-enabled columns of master_contact; contact_key required; new_contact_key renames",
                    messages={"type": "must be an array of column names", "too_few": "must list at least 1 column"}),
    "contactDatas": Records(RECORD, required=True, min_items=1, max_items=MAX_RECORDS, doc="records keyed by column name",
                            messages={"type": "must be an array of records", "too_few": _RECORDS_BOUND,
                                      "too_many": _RECORDS_BOUND}),
    "insertIfNotExists": Boolean(default=False, doc="insert unknown contact keys (default false)"),
    "throwExceptionIfInvalidRecord": Boolean(default=True,
                                             doc="reject the whole call when any record is invalid (default true)"),
}, CALL, doc="POST /rest/bulk/contacts: insert or update up to 1000 rows of master_contact")

LOGIN = Shape("DengageLogin", {
    "userkey": Text(required=True, doc="the API user's key"),
    "password": Text(required=True, doc="the API user's password"),
}, CALL.but(unknown=Fix("ignored", "unknown key ignored")), doc="POST /rest/login")

CONTACT_QUERY = Shape("DengageContactQuery", {
    "contactFields": Text(doc="comma-separated columns to return (default: all)"),
})

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "integer", "description": "0 success; 1 field error, 10 forbidden / limited, "
                                                   "11 validation failed, 999 unexpected"},
        "message": {"type": "string"},
        "data": {"nullable": True, "type": "object"},
    },
}
