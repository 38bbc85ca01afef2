"""Marshmallow schemas of D·engage's request bodies (also the source of the OpenAPI document).

Built once at import. They check the shape of a call (types of the top-level fields, the
1..1000 records bound); the per-record column rules live in ``model.py`` because they
depend on the account's columns.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from .model import MAX_RECORDS  # the vendor's limit, kept with the rules


class StrictBoolean(fields.Boolean):
    """``true`` or ``false`` only: the vendor does not read ``"true"``, ``1`` or ``"yes"``."""

    default_error_messages = {"invalid": "must be a JSON boolean (true or false)"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        raise self.make_error("invalid")


class StrictString(fields.String):
    default_error_messages = {"invalid": "must be a string"}


class LoginSchema(Schema):
    """``POST /rest/login``."""

    class Meta:
        unknown = EXCLUDE

    userkey = StrictString(required=True, metadata={"description": "the API user's key"})
    password = StrictString(required=True, metadata={"description": "the API user's password"})


class BulkUpsertSchema(Schema):
    """``POST /rest/bulk/contacts``: insert or update up to 1000 rows of ``master_contact``."""

    class Meta:
        unknown = EXCLUDE

    columns = fields.List(StrictString(), required=True,
                          validate=validate.Length(min=1, error="must list at least 1 column"),
                          error_messages={"invalid": "must be an array of column names"},
                          metadata={"description": "import-enabled columns of master_contact; contact_key "
                                                   "required; new_contact_key renames"})
    contactDatas = fields.List(fields.Dict(), required=True,
                               validate=validate.Length(min=1, max=MAX_RECORDS,
                                                        error=f"must hold 1 to {MAX_RECORDS} records"),
                               error_messages={"invalid": "must be an array of records"},
                               metadata={"description": "records keyed by column name"})
    insertIfNotExists = StrictBoolean(load_default=False, allow_none=True,
                                      metadata={"description": "insert unknown contact keys (default false)"})
    throwExceptionIfInvalidRecord = StrictBoolean(
        load_default=True, allow_none=True,
        metadata={"description": "reject the whole call when any record is invalid (default true)"})


class BulkUpsertLoadSchema(BulkUpsertSchema):
    """The same shape, but records are checked one by one in the model (record-level errors)."""

    contactDatas = fields.List(fields.Raw(allow_none=True), required=True,
                               validate=validate.Length(min=1, max=MAX_RECORDS,
                                                        error=f"must hold 1 to {MAX_RECORDS} records"),
                               error_messages={"invalid": "must be an array of records"})


class ContactQuery(Schema):
    """Query of ``GET /rest/contacts/{contact_key}`` (named without a ``Schema`` suffix: the OpenAPI
    builder looks query schemas up in marshmallow's class registry by the suffix-less name)."""

    contactFields = fields.String(metadata={"description": "comma-separated columns to return (default: all)"})


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

LOGIN = LoginSchema()
BULK = BulkUpsertLoadSchema()


def problems(error: ValidationError) -> list[tuple[str, str]]:
    """``(field, rule)`` pairs from a marshmallow error, nested fields as ``columns[2]``."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, messages) -> None:
        if isinstance(messages, dict):
            for key, value in messages.items():
                if isinstance(key, int):
                    walk(f"{prefix}[{key}]", value)
                else:
                    walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(messages, list):
            for message in messages:
                if isinstance(message, (dict, list)):
                    walk(prefix, message)
                else:
                    out.append((prefix, _rule(str(message))))
        else:
            out.append((prefix, _rule(str(messages))))

    walk("", error.messages)
    return out


def _rule(message: str) -> str:
    return "is required" if message == "Missing data for required field." else message
