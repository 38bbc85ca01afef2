"""eSputnik: subscribe with double opt-in, asynchronous bulk and CSV imports, segments, orders,
events and unsubscribed addresses."""
from __future__ import annotations

from emulator.core.jobs import OutboundJob
from emulator.core.store import Index
from emulator.core.vendor import VendorSpec

from . import errors, fakes, jobs, model, routes, schemas

_API = routes.API

OPENAPI = {
    f"POST {_API}/contact/subscribe": {"schema": schemas.SUBSCRIBE},
    f"POST {_API}/contacts": {"schema": schemas.BULK},
    f"GET {_API}/contacts": {"query": schemas.SEARCH},
    f"GET {_API}/contacts/email": {"query": schemas.CONTACT_EMAILS_QUERY},
    f"GET {_API}/groups": {"query": schemas.GROUPS_QUERY},
    f"GET {_API}/group/<group_id>/contacts": {"query": schemas.PAGE},
    f"POST {_API}/orders": {"schema": schemas.ORDERS},
    f"POST {_API}/event": {"schema": schemas.EVENT},
    f"POST {_API}/emails/unsubscribed/add": {"schema": schemas.EMAILS},
    f"POST {_API}/emails/unsubscribed/delete": {"schema": schemas.EMAILS},
    f"POST {_API}/contact": {"schema": schemas.CONTACT},
    f"DELETE {_API}/contact": {"query": schemas.DELETE_QUERY},
    f"PUT {_API}/contact/<contact_id>": {"schema": schemas.CONTACT},
    f"POST {_API}/contacts/upload": {"schema": schemas.UPLOAD},
    f"POST {_API}/group/<group_id>/contacts/attach": {"schema": schemas.SEGMENT_CONTACTS},
    f"POST {_API}/group/<group_id>/contacts/detach": {"schema": schemas.SEGMENT_CONTACTS},
}

VENDOR = VendorSpec(
    name="esputnik",
    title="eSputnik",
    hosts={"esputnik.com": "", "www.esputnik.com": "", "yespo.io": "", "www.yespo.io": ""},
    blueprint=routes.blueprint,
    backend=model.Backend,
    http_error=errors.http_error,
    collections=("contacts", "groups", "orders", "events", "unsubscribed", "sessions"),
    indexes={
        "contacts": {
            "id": Index(lambda d: d["id"]),
            "ext": Index(lambda d: d["externalCustomerId"]),
            # not unique: the vendor itself keeps two contacts with one email in some cases
            "email": Index(lambda d: model.channel_value(d, "email"), unique=False),
            "sms": Index(lambda d: model.channel_value(d, "sms"), unique=False),
            "push": Index(lambda d: model.channel_value(d, "mobilepush"), unique=False),
            "webpush": Index(lambda d: model.channel_value(d, "webpush"), unique=False),
            "field": Index(model.field_keys, unique=False),
            "group": Index(model.group_ids, unique=False),
        },
        "groups": {"id": Index(lambda d: d["id"]), "name": Index(lambda d: d["name"])},
        "sessions": {"session": Index(lambda d: d["asyncSessionId"])},
        "orders": {"order": Index(lambda d: d["externalOrderId"])},
        "unsubscribed": {"email": Index(lambda d: d["email"])},
    },
    default_settings={
        "processing_delay_s": 0,                  # import sessions complete this long after the request
        "duplicate_window_s": 60,                 # 409 for a byte-identical body within this window; 0: off
        "max_requests_per_second": 200,           # 429 past this many requests in one second; 0: off
        "legacy_add_contact_duplicates": False,   # true: POST /contact always creates (the older guide)
        "groups": [],                             # segments from the start: names or {name, type, id}
        "fields": [],                             # custom fields: [{"id": 12345, "name": "city", "type", "group"}]
        "address_book_id": 7200,                  # GET /addressbooks, and every contact's addressBookId
        "address_book_name": "Contacts",
        "single_item_as_object": False,           # a mapping/failedContacts/failedOrders of one item: the item alone
        "upload_timeout_s": 10,                   # CSV link: connect/read timeout
        "upload_max_bytes": 10 * 1024 * 1024,     # CSV link: size cap
    },
    jobs={"esputnik.import": jobs.import_job,
          "esputnik.upload": OutboundJob(fetch=jobs.fetch_upload, finish=jobs.upload_job)},
    admin_blueprint=routes.admin_blueprint,
    fake_contact=fakes.fake_contact,
    fake_payloads={"default": fakes.fake_bulk, "bulk": fakes.fake_bulk, "contacts": fakes.fake_bulk,
                   "subscribe": fakes.fake_subscribe, "contact": fakes.fake_add, "orders": fakes.fake_orders,
                   "event": fakes.fake_event, "unsubscribed": fakes.fake_unsubscribed},
    load_account=model.load_account,
    describe_credentials=model.describe_credentials,
    base_path=_API,
    credential_keys=("api_key",),
    openapi=OPENAPI,
    security_schemes={"basic": {"type": "http", "scheme": "basic",
                                "description": "any user name; the password is the account's API key"}},
    error_schema=schemas.ERROR_SCHEMA,
)
