"""Marshmallow schemas of eSputnik's request bodies, for the OpenAPI document.

They describe the documented (strict) shapes. The emulator checks requests with the
hand-written rules of :mod:`.model` instead (faster, and with the vendor's leniency and
journal notes); ``tests/esputnik/test_schemas.py`` keeps the key sets of both in step.
"""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as f  # "fields" is also a contact key

from .model import (  # the limits live with the rules
    DEDUPE_ON,
    MAX_BULK,
    MAX_ORDERS,
    MAX_ROWS,
    MAX_SEGMENT_IDS,
    ORDER_STATUSES,
)

CHANNEL_TYPES = ("email", "sms", "mobilepush", "webpush", "webPush", "viber", "telegram")


class EsputnikDeviceSchema(Schema):
    appId = f.String()
    deviceModel = f.String()
    os = f.String()
    locale = f.String()
    clientVersion = f.String()
    appVersion = f.String()
    active = f.Boolean()


class EsputnikWebPushSubscriptionSchema(Schema):
    appId = f.String()
    userAgent = f.String()
    userAgentVersion = f.String()
    userAgentLanguage = f.String()
    os = f.String()
    ip = f.String()
    subscriptionPage = f.String()
    swActiveVersion = f.String()


class EsputnikChannelSchema(Schema):
    type = f.String(required=True, validate=validate.OneOf(CHANNEL_TYPES))
    value = f.String(required=True, metadata={"description": "email matched case-insensitively, sms by its "
                                                             "digits; an empty value: the channel is ignored"})
    device = f.Nested(EsputnikDeviceSchema, metadata={"description": "a mobilepush channel's device"})
    webPushSubscription = f.Nested(EsputnikWebPushSubscriptionSchema,
                                   metadata={"description": "a webpush channel's subscription"})


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
    externalCustomerId = f.String(metadata={"description": "POST /contact matches on it first"})
    languageCode = f.String()
    timeZone = f.String()
    contactKey = f.String()
    addressBookId = f.Integer(metadata={"description": "the account's address book (GET /addressbooks)"})
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


class EsputnikPageQuery(Schema):  # no "Schema" suffix: query schemas are looked up by name
    startindex = f.Integer(load_default=1, validate=validate.Range(min=1))
    maxrows = f.Integer(load_default=MAX_ROWS, validate=validate.Range(min=1, max=MAX_ROWS))


class EsputnikSearchQuery(EsputnikPageQuery):
    email = f.String()
    sms = f.String()
    firstname = f.String()
    lastname = f.String()
    externalCustomerId = f.String()


class EsputnikGroupsQuery(EsputnikPageQuery):
    name = f.String(metadata={"description": "segments whose name contains it, case-insensitively"})


class EsputnikContactEmailsQuery(Schema):
    ids = f.String(required=True, metadata={"description": "comma-separated contact ids: 1,2,3"})


class EsputnikOrderItemSchema(Schema):
    externalItemId = f.String(required=True)
    name = f.String(required=True)
    category = f.String()
    quantity = f.Float(required=True)
    cost = f.Float(required=True)
    url = f.String()
    imageUrl = f.String()
    description = f.String()


class EsputnikOrderSchema(Schema):
    externalOrderId = f.String(required=True)
    externalCustomerId = f.String(metadata={"description": "one of externalCustomerId, email, phone is required"})
    totalCost = f.Float(required=True)
    status = f.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    date = f.String(required=True, metadata={"description": "ISO 8601 date and time"})
    currency = f.String()
    email = f.String()
    phone = f.String()
    firstName = f.String()
    lastName = f.String()
    shipping = f.Float()
    discount = f.Float()
    taxes = f.Float()
    restoreUrl = f.String()
    statusDescription = f.String()
    storeId = f.String()
    source = f.String()
    deliveryMethod = f.String()
    paymentMethod = f.String()
    deliveryAddress = f.String()
    additionalInfo = f.Raw(metadata={"description": "a text or an object of texts"})
    items = f.List(f.Nested(EsputnikOrderItemSchema))


class EsputnikOrdersSchema(Schema):
    orders = f.List(f.Nested(EsputnikOrderSchema), required=True, validate=validate.Length(min=1, max=MAX_ORDERS))


class EsputnikEventParamSchema(Schema):
    name = f.String(required=True)
    value = f.Raw(metadata={"description": "a string, number, boolean or null"})


class EsputnikEventSchema(Schema):
    eventTypeKey = f.String(required=True, validate=validate.Length(min=1, max=100))
    keyValue = f.String(validate=validate.Length(max=300),
                        metadata={"description": "without it: params' contactId, externalCustomerId, email, "
                                                 "phone or pushToken, the first present"})
    params = f.List(f.Nested(EsputnikEventParamSchema))


class EsputnikEmailsSchema(Schema):
    emails = f.List(f.String(), required=True, metadata={"description": "email addresses (not contacts)"})



class EsputnikDeleteQuery(Schema):
    externalCustomerId = f.String(required=True)
    erase = f.Boolean(load_default=False)


ERROR_SCHEMA = {"type": "object", "required": ["status", "message"],
                "properties": {"status": {"type": "integer", "description": "the HTTP status"},
                               "message": {"type": "string", "description": "names the field and the rule"}}}


class EsputnikAddContactSchema(EsputnikContactSchema):
    """The contact as a whole request body (``POST /contact``, ``PUT /contact/{id}``); a class of its
    own so that the document names it apart from the nested contact."""
