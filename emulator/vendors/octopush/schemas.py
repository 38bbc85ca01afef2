"""Marshmallow schemas of Octopush's request bodies, built from the parameter tables.

The tables in :mod:`.model` are the one source: the same rows drive the lenient casting
and these schemas, which describe the documented (strict) types for the OpenAPI document.
The emulator does not validate requests with them: the vendor casts instead of refusing.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from . import model

_FIELDS = {
    "boolean": lambda p: fields.Boolean(load_default=p.default),
    "string": lambda p: fields.String(validate=validate.Length(max=p.max_length) if p.max_length else None),
    "phone number": lambda p: fields.String(),
}


def _field(param: model.Param, nested: type | None = None):
    if param.type == "array of objects":
        return fields.List(fields.Nested(nested), validate=validate.Length(min=1, max=param.max_items),
                           metadata={"description": param.doc})
    if param.type == "array of strings":
        inner = _FIELDS[param.item](model.Param(param.item, max_length=param.max_length))
        length = validate.Length(max=param.max_items) if param.max_items else None
        return fields.List(inner, validate=length, metadata={"description": param.doc})
    made = _FIELDS[param.type](param)
    made.metadata["description"] = param.doc
    return made


def _schema(name: str, table: dict, nested: type | None = None, required: tuple = ()) -> type[Schema]:
    declared = {key: _field(param, nested) for key, param in table.items()}
    for key in required:
        declared[key].required = True
    return Schema.from_dict(declared, name=name)


ContactSchema = _schema("OctopushContactSchema", model.CONTACT_FIELDS, required=("phone_number",))
CreateContactsSchema = _schema("OctopushCreateContactsSchema", model.CREATE_PARAMETERS, ContactSchema,
                               required=("contacts",))
DeleteContactsSchema = _schema("OctopushDeleteContactsSchema", model.DELETE_PARAMETERS, required=("phone_numbers",))
CreateListSchema = _schema("OctopushCreateListSchema", model.LIST_CREATE_PARAMETERS, required=("list_name",))
EmptyListSchema = _schema("OctopushEmptyListSchema", model.LIST_EMPTY_PARAMETERS, required=("list_name",))
DeleteListSchema = _schema("OctopushDeleteListSchema", model.LIST_DELETE_PARAMETERS, required=("list_name",))

ERROR_SCHEMA = {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "integer", "description": "the vendor's numbered return code"},
                               "message": {"type": "string"}}}
