"""Octopush: contacts keyed by phone number, lists and tags, with the vendor's lenient casting."""
from __future__ import annotations

from emulator.core.store import Index
from emulator.core.vendor import VendorSpec

from . import errors, fakes, model, routes, schemas

_BASE = "/v1/public"

OPENAPI = {
    f"POST {_BASE}/contact/create": {"schema": schemas.CREATE, "status": 201},
    f"DELETE {_BASE}/contact/delete": {"schema": schemas.DELETE, "status": 204},
    f"POST {_BASE}/contact-list/create": {"schema": schemas.LIST_CREATE, "status": 201},
    f"POST {_BASE}/contact-list/empty": {"schema": schemas.LIST_EMPTY, "status": 200},
    f"DELETE {_BASE}/contact-list/delete": {"schema": schemas.LIST_DELETE, "status": 204},
}

VENDOR = VendorSpec(
    name="octopush",
    title="Octopush",
    hosts={"api.octopush.com": ""},
    blueprint=routes.blueprint,
    backend=model.Backend,
    http_error=errors.http_error,
    collections=("contacts", "lists", "tags", "blacklist"),
    indexes={
        "contacts": {"phone": Index(lambda d: d["phone_number"]),
                     "list": Index(lambda d: d["lists"], unique=False),
                     "tag": Index(lambda d: d["tags"], unique=False)},
        "lists": {"name": Index(lambda d: d["name"])},
        "tags": {"name": Index(lambda d: d["name"])},
        "blacklist": {"phone": Index(lambda d: d["phone_number"])},
    },
    default_settings={
        "default_country": "FR",  # national numbers (no +, no 00) are read in this country
        "validated": True,        # false: every call gets 403, code 113
        "create_status": 201,     # 200: contact/create answers 200 (seen on real accounts)
        "lists": [],              # lists that exist from the start
        "tags": [],               # tags that exist from the start
        "blacklist": [],          # numbers that sent STOP
    },
    admin_blueprint=routes.admin_blueprint,
    fake_contact=fakes.fake_contact,
    fake_payloads={"default": fakes.fake_create, "create": fakes.fake_create},
    load_account=model.load_account,
    describe_credentials=model.describe_credentials,
    base_path=_BASE,
    credential_keys=("api_login", "api_key"),
    openapi=OPENAPI,
    security_schemes={"login": {"type": "apiKey", "in": "header", "name": "api-login"},
                      "key": {"type": "apiKey", "in": "header", "name": "api-key"}},
    error_schema=schemas.ERROR_SCHEMA,
)
