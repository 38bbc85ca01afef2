"""Marshmallow schemas of eSputnik's request bodies, for the OpenAPI document.

They describe the documented (strict) shapes. The emulator checks requests with the
hand-written rules of :mod:`.model` instead (faster, and with the vendor's leniency and
journal notes); ``tests/esputnik/test_schemas.py`` keeps the key sets of both in step.
"""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as f  # "fields" is also a contact key

from .model import DEDUPE_ON, MAX_BULK, MAX_ROWS, MAX_SEGMENT_IDS  # noqa: F401 - the limits live with the rules

CHANNEL_TYPES = ("email", "sms", "mobilepush", "webpush", "webPush", "viber", "telegram")


class EsputnikChannelSchema(Schema):
    type = f.String(required=True, validate=validate.OneOf(CHANNEL_TYPES))
    value = f.String(required=True, metadata={"description": "email matched case-insensitively, "
                                                                   "sms by its digits"})


class EsputnikAddressSchema(Schema):
    region = f.String()
    town = f.String()
    address = f.String()
    postcode = f.String()


class EsputnikCustomFieldSchema(Schema):
    id = f.Integer(metadata={"description": "a custom field id declared for the account"})
    name = f.String(metadata={"description": "alternative to id: the field's name"})
    value = f.String(allow_none=True)


class EsputnikContactSchema(Schema):
    id = f.Integer(metadata={"description": "read only, except for bulk dedupeOn=id"})
    firstName = f.String(validate=validate.Length(max=40))
    lastName = f.String(validate=validate.Length(max=40))
    channels = f.List(f.Nested(EsputnikChannelSchema))
    address = f.Nested(EsputnikAddressSchema, allow_none=True)
    fields = f.List(f.Nested(EsputnikCustomFieldSchema))
    externalCustomerId = f.String()
    languageCode = f.String()
    timeZone = f.String()
    groups = f.List(f.Dict(), metadata={"description": "read only: the contact's segments"})


class EsputnikSubscribeSchema(Schema):
    contact = f.Nested(EsputnikContactSchema, required=True)
    groups = f.List(f.String(), metadata={"description": "segment names, created on demand"})
    formType = f.String(metadata={"description": "appended to the event type: subscribeFromApi-<formType>"})


class _EsputnikImportOptions(Schema):
    dedupeOn = f.String(validate=validate.OneOf(DEDUPE_ON), load_default="email")
    fieldId = f.Integer(metadata={"description": "the custom field matched when dedupeOn is fieldId"})
    groupNames = f.List(f.String())
    groupNamesExclude = f.List(f.String())
    restoreDeleted = f.Boolean(load_default=False)
    eventKeyForNewContacts = f.String(validate=validate.Length(max=100))


class EsputnikContactsSchema(_EsputnikImportOptions):
    contactFields = f.List(f.String(), metadata={"description": "standard fields written on update"})
    customFieldsIDs = f.List(f.Integer(), metadata={"description": "custom fields written on update"})
    contacts = f.List(f.Nested(EsputnikContactSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_BULK))


class EsputnikUploadSchema(_EsputnikImportOptions):
    link = f.Url(required=True, metadata={"description": "a UTF-8 CSV file with a header row"})


class EsputnikSegmentContactsSchema(Schema):
    contactIds = f.List(f.Integer(), validate=validate.Length(max=MAX_SEGMENT_IDS))
    externalCustomerIds = f.List(f.String(), validate=validate.Length(max=MAX_SEGMENT_IDS))


class EsputnikSearchQuery(Schema):  # no "Schema" suffix: query schemas are looked up by name
    email = f.String()
    sms = f.String()
    firstname = f.String()
    lastname = f.String()
    externalCustomerId = f.String()
    startindex = f.Integer(load_default=1, validate=validate.Range(min=1))
    maxrows = f.Integer(load_default=MAX_ROWS, validate=validate.Range(min=1, max=MAX_ROWS))


class EsputnikDeleteQuery(Schema):
    externalCustomerId = f.String(required=True)
    erase = f.Boolean(load_default=False)


ERROR_SCHEMA = {"type": "object", "required": ["status", "error"],
                "properties": {"status": {"type": "integer", "description": "the HTTP status"},
                               "error": {"type": "string", "description": "names the field and the rule"}}}


class EsputnikAddContactSchema(EsputnikContactSchema):
    """The contact as a whole request body (``POST /contact``, ``PUT /contact/{id}``); a class of its
    own so that the document names it apart from the nested contact."""
