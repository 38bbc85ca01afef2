"""Pushtech (Cendyn CRM): contacts, email validation credits, bulk jobs with signed webhooks,
contact custom fields, audience lists and the contact lifecycle webhook."""
from __future__ import annotations

from emulator.core.store import Index
from emulator.core.vendor import VendorSpec

from . import errors, model, routes

_ACCOUNT = "/v2/account/<account_id>"

def _openapi() -> dict:
    """OpenAPI metadata, built on demand: the marshmallow schemas stay off the start-up path."""
    from . import schemas

    return {
        f"POST {_ACCOUNT}/contact": {"schema": schemas.ContactSchema, "status": 201},
        f"PUT {_ACCOUNT}/contact/<contact_id>": {"schema": schemas.ContactSchema},
        f"POST {_ACCOUNT}/contact/bulk": {"schema": schemas.BulkSchema, "status": 201},
        f"POST {_ACCOUNT}/custom_fields": {"schema": schemas.CustomFieldSchema, "status": 201},
        f"PUT {_ACCOUNT}/custom_fields/<custom_id>": {"schema": schemas.CustomFieldUpdateSchema},
        f"POST {_ACCOUNT}/lists": {"schema": schemas.AudienceListSchema, "status": 201},
        f"PUT {_ACCOUNT}/lists/<list_id>": {"schema": schemas.AudienceListUpdateSchema},
    }


VENDOR = VendorSpec(
    name="pushtech",
    title="Pushtech",
    hosts={"api.eu.cendyncrm.com": "", "api.us.cendyncrm.com": "", "www.pushtech.com": "/api"},
    blueprint=routes.blueprint,
    backend=model.Backend,
    http_error=errors.http_error,
    collections=("contacts", "bulks", "balance", "custom_fields", "lists"),
    indexes={
        "contacts": {"id": Index(lambda d: d["id"]),
                     "user_id": Index(lambda d: d.get("user_id"), unique=False),
                     "email": Index(lambda d: d.get("email"), unique=False)},
        "bulks": {"_id": Index(lambda d: d["_id"])},
        "balance": {"account": Index(lambda d: d["account"])},
        "custom_fields": {"_id": Index(lambda d: d["_id"]), "name": Index(lambda d: d["name"])},
        "lists": {"id": Index(lambda d: d["id"]), "name": Index(lambda d: d["name"], unique=False)},
    },
    default_settings={
        "validation_credits": model.DEFAULT_CREDITS,  # email validations the account can pay for
        "processing_delay_s": 0,  # bulk: processing at half the delay, finished at the full delay
        "custom_fields": [],      # declared custom fields: names or POST /custom_fields bodies
        "lists": [],              # audience lists: names or {name, description, visibility, id}
        "contact_webhook_url": None,  # receives the contact lifecycle events (create, update, destroy)
    },
    jobs={model.JOB_PROCESSING: model.run_bulk_processing, model.JOB_FINISH: model.run_bulk_finish},
    admin_blueprint=routes.admin_blueprint,
    fake_contact=model.fake_contact,
    fake_payloads={"default": model.fake_bulk, "bulk": model.fake_bulk,
                   "create": lambda fake, n=None, **options: {**model.fake_contact(fake), **options}},
    load_account=model.load_account,
    describe_credentials=model.describe_credentials,
    base_path="/v2/account/{account}",
    credential_keys=("secret",),
    openapi=_openapi,
    security_schemes={"token": {"type": "apiKey", "in": "header", "name": "Authorization",
                                "description": "Token token=<account secret>"}},
    error_schema=errors.ERROR_SCHEMA,
)
