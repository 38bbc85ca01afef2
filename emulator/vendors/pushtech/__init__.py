"""Pushtech (Cendyn CRM): contacts, email validation credits, bulk jobs with signed webhooks,
contact custom fields, audience lists and the contact lifecycle webhook."""
from __future__ import annotations

from emulator.core.store import Index
from emulator.core.vendor import VendorSpec

from . import errors, fakes, jobs, model, routes, schemas

_ACCOUNT = "/v2/account/<account_id>"

OPENAPI = {
    f"POST {_ACCOUNT}/contact": {"schema": schemas.CONTACT, "status": 201},
    f"PUT {_ACCOUNT}/contact/<contact_id>": {"schema": schemas.CONTACT},
    f"POST {_ACCOUNT}/contact/bulk": {"schema": schemas.BULK, "status": 201},
    f"POST {_ACCOUNT}/custom_fields": {"schema": schemas.CUSTOM_FIELD, "status": 201},
    f"PUT {_ACCOUNT}/custom_fields/<custom_id>": {"schema": schemas.CUSTOM_FIELD_CHANGES},
    f"POST {_ACCOUNT}/lists": {"schema": schemas.AUDIENCE_LIST, "status": 201},
    f"PUT {_ACCOUNT}/lists/<list_id>": {"schema": schemas.AUDIENCE_LIST_CHANGES},
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
        "validation_credits": jobs.DEFAULT_CREDITS,  # email validations the account can pay for
        "processing_delay_s": 0,  # bulk: processing at half the delay, finished at the full delay
        "custom_fields": [],      # declared custom fields: names or POST /custom_fields bodies
        "lists": [],              # audience lists: names or {name, description, visibility, id}
        "contact_webhook_url": None,  # receives the contact lifecycle events (create, update, destroy)
    },
    jobs={jobs.JOB_PROCESSING: jobs.run_bulk_processing, jobs.JOB_FINISH: jobs.run_bulk_finish},
    admin_blueprint=routes.admin_blueprint,
    fake_contact=fakes.fake_contact,
    fake_payloads={"default": fakes.fake_bulk, "bulk": fakes.fake_bulk, "create": fakes.fake_create},
    load_account=model.load_account,
    describe_credentials=model.describe_credentials,
    base_path="/v2/account/{account}",
    credential_keys=("secret",),
    openapi=OPENAPI,
    security_schemes={"token": {"type": "apiKey", "in": "header", "name": "Authorization",
                                "description": "Token token=<account secret>"}},
    error_schema=errors.ERROR_SCHEMA,
)
