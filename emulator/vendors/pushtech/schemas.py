"""Marshmallow schemas of Pushtech's request bodies, built from :data:`.model.CONTACT_FIELDS`.

The field table in :mod:`.model` is the one source: the same rows drive the checks and
these schemas, which describe the documented types for the OpenAPI document. Requests
are read by the model's readers (cheaper, and they record fix-ups as journal notes).
"""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from . import model


class ListSubscriptionSchema(Schema):
    list_id = fields.String(required=True, metadata={"description": "Id of the audience list"})
    subscribed = fields.Boolean(load_default=True, metadata={"description": "If true, subscribe in this list"})


class ChannelSubscriptionSchema(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(model.CHANNELS))
    blacklisted = fields.Boolean(load_default=False, metadata={"description": "If true, blacklist this channel"})


class EmailValidationSchema(Schema):
    validate = fields.Boolean(load_default=False, metadata={"description": "Validate the email (one credit)"})
    create_if_invalid = fields.Boolean(load_default=False)
    create_if_no_credit = fields.Boolean(load_default=False)


_TYPES = {
    "string": lambda f: fields.String(validate=validate.OneOf(f.choices) if f.choices else None),
    "email": lambda f: fields.Email(),
    "date-time": lambda f: fields.DateTime(),
    "integer": lambda f: fields.Integer(validate=validate.Range(min=0)),
    "number": lambda f: fields.Float(),
    "boolean": lambda f: fields.Boolean(),
    "strings": lambda f: fields.List(fields.String()),
    "list_subscriptions": lambda f: fields.List(fields.Nested(ListSubscriptionSchema)),
    "channel_subscriptions": lambda f: fields.List(fields.Nested(ChannelSubscriptionSchema)),
}


def _contact_fields() -> dict:
    declared = {}
    for name, spec in model.CONTACT_FIELDS.items():
        made = _TYPES[spec.type](spec)
        made.metadata["description"] = spec.doc
        declared[name] = made
    return declared


class _CustomFields:
    unknown = INCLUDE  # any other key is a custom field, stored as given


def _schema(name: str, extra: dict | None = None) -> type[Schema]:
    return type(name, (Schema,), {**_contact_fields(), **(extra or {}), "Meta": _CustomFields})


BulkContactSchema = _schema("PushtechBulkContactSchema")
ContactSchema = _schema("PushtechContactSchema", {"email_validation": fields.Nested(EmailValidationSchema)})


class BulkSchema(Schema):
    contacts = fields.List(fields.Nested(BulkContactSchema), required=True,
                           validate=validate.Length(min=1, max=model.MAX_BULK_CONTACTS))
    match_contact_user_id = fields.Boolean(load_default=False, metadata={
        "description": "If true, update the contact with this user_id, else create a new one"})
    webhook_url = fields.Url(metadata={"description": "Receives the outcome when the job ends"})
    validate_emails = fields.Boolean(load_default=False, metadata={
        "description": "Validate every email (one credit each; without credit the import goes on unvalidated)"})
    contacts_webhook_extra_fields = fields.List(fields.String(), metadata={
        "description": "Fields sent by the webhook besides _id, user_id, email, phone_countrycode, phone_number"})


class CreditsSchema(Schema):
    account = fields.String(metadata={"description": "Account name (default: the only account)"})
    validation_credits = fields.Integer(required=True, validate=validate.Range(min=0))


class CustomFieldSchema(Schema):
    name = fields.String(required=True, metadata={"description": "Name for the field (the key contacts use)"})
    label = fields.String(required=True, metadata={"description": "Human friendly label for the field"})
    category = fields.String(allow_none=True, metadata={"description": "Category for the custom field"})
    description = fields.String(allow_none=True, metadata={"description": "Description for the custom field"})
    type = fields.String(load_default="string", validate=validate.OneOf(model.CUSTOM_FIELD_TYPES),
                         metadata={"description": "Custom field type; by default string"})
    selectable_options = fields.List(fields.String(), metadata={
        "description": "Array with strings, only if the type is selectable_options"})


class CustomFieldUpdateSchema(Schema):
    label = fields.String(metadata={"description": "Human friendly label for the field"})
    category = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    selectable_options = fields.List(fields.String(), metadata={
        "description": "Array with strings, only if the type is selectable_options"})


class AudienceListSchema(Schema):
    name = fields.String(required=True, metadata={"description": "Name of the list"})
    description = fields.String(allow_none=True, metadata={"description": "Description of the list"})
    visibility = fields.String(allow_none=True, metadata={
        "description": f"Visibility of the list ({', '.join(model.VISIBILITIES)} in the reference)"})


class AudienceListUpdateSchema(Schema):
    name = fields.String(metadata={"description": "Name of the list"})
    description = fields.String(allow_none=True)
    visibility = fields.String(allow_none=True)
