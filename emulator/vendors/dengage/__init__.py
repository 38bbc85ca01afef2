"""D·engage: login tokens and BulkUpsert into ``master_contact`` (contact_key unique per
account, validate-all-first, one at a time, and once a minute as advice or enforced)."""
from __future__ import annotations

from emulator.core.store import Index
from emulator.core.vendor import VendorSpec

from . import errors, fakes, model, routes, schemas

_BASE = "/rest"

OPENAPI = {
    f"POST {_BASE}/login": {"schema": schemas.LOGIN, "auth": False,
                            "summary": "Log in: a bearer token for expires_in seconds"},
    f"POST {_BASE}/bulk/contacts": {"schema": schemas.BULK, "summary": "BulkUpsert into master_contact (once a minute)"},
    f"GET {_BASE}/contacts/<path:contact_key>": {"query": schemas.CONTACT_QUERY},
}

VENDOR = VendorSpec(
    name="dengage",
    title="D·engage",
    hosts={host: "" for host in ("api.dengage.com", "tr-api.dengage.com", "us-api.dengage.com",
                                 "eu-api.dengage.com", "ru-api.dengage.com", "sa-api.dengage.com",
                                 "dev-api.dengage.com")},
    blueprint=routes.blueprint,
    backend=model.Backend,
    http_error=errors.http_error,
    collections=("contacts", "tokens", "limits"),
    indexes={
        "contacts": {"contact_key": Index(lambda d: d["contact_key"])},
        "tokens": {"token": Index(lambda d: d["token"])},
        "limits": {"name": Index(lambda d: d["name"])},
    },
    default_settings={
        "roles": [model.REQUIRED_ROLE],     # without DataSpace.Manage: 403, empty body
        "bulk_window_s": 60,                # the once-a-minute window, in seconds (0: none)
        "once_a_minute": "note",            # a call inside the window: note (advice) | enforce (429) | off
        "token_ttl_s": 3600,                # expires_in of /rest/login tokens
        "import_enabled_columns": None,     # standard columns import-enabled (null: all)
        "custom_columns": {},               # name -> {"type", "max_length", "enum", "import_enabled"}
    },
    fake_contact=fakes.fake_contact,
    fake_payloads={"default": fakes.fake_bulk, "bulk": fakes.fake_bulk},
    load_account=model.load_account,
    describe_credentials=model.describe_credentials,
    base_path=_BASE,
    credential_keys=("userkey", "password"),
    openapi=OPENAPI,
    security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
    error_schema=schemas.ERROR_SCHEMA,
)
