"""Pushtech (Cendyn CRM): contacts, email validation credits, bulk jobs with signed webhooks."""
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
    }


VENDOR = VendorSpec(
    name="pushtech",
    title="Pushtech",
    hosts={"api.eu.cendyncrm.com": "", "api.us.cendyncrm.com": "", "www.pushtech.com": "/api"},
    blueprint=routes.blueprint,
    backend=model.Backend,
    http_error=errors.http_error,
    collections=("contacts", "bulks", "balance"),
    indexes={
        "contacts": {"id": Index(lambda d: d["id"]),
                     "user_id": Index(lambda d: d.get("user_id"), unique=False),
                     "email": Index(lambda d: d.get("email"), unique=False)},
        "bulks": {"_id": Index(lambda d: d["_id"])},
        "balance": {"account": Index(lambda d: d["account"])},
    },
    default_settings={
        "validation_credits": model.DEFAULT_CREDITS,  # email validations the account can pay for
        "processing_delay_s": 0,  # bulk: processing at half the delay, finished at the full delay
        "custom_fields": [],      # declared custom fields (others are stored too, with a journal note)
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
