"""A stand-in vendor (pytest-httpserver) that answers like the vendor pages, and the
recording proxy served on a loopback port in front of it."""
from __future__ import annotations

import contextlib
import threading

import pytest
from werkzeug.serving import make_server

from emulator.conformance.record import Recorder
from emulator.testing.live import QuietRequestHandler

PUSHTECH_SECRET = "real-pushtech-secret-7f3a9c"
DENGAGE_PASSWORD = "real-dengage-password-51be"
DENGAGE_TOKEN = "real-dengage-token-0c8d2e9a41"

# vendor-docs/pushtech-contact-create.txt, Request and Response
PUSHTECH_CONTACT = {"name_first": "John", "name_last": "Doe", "email": "johndoe@example.com",
                    "phone_countrycode": "44", "phone_number": "7712345678", "tags": ["tag1", "tag2"]}
PUSHTECH_CREATED = {"id": "550aac3da096734ce5000001", **PUSHTECH_CONTACT}
# vendor-docs/pushtech-contact-bulk-create.txt, Request and Response
PUSHTECH_BULK = {"webhook_url": "https://requestb.in/qxvaw0qx", "match_contact_user_id": False,
                 "validate_emails": False, "contacts_webhook_extra_fields": ["name_first"],
                 "contacts": [{k: PUSHTECH_CONTACT[k] for k in ("name_first", "name_last", "email",
                                                               "phone_countrycode", "phone_number")}] * 2}
PUSHTECH_BULK_QUEUED = {"bulk": {"_id": "550aac3da096734ce5000002", "number_of_contacts": 2,
                                 "match_contact_user_id": False, "validate_emails": False,
                                 "contacts_webhook_extra_fields": ["name_first"],
                                 "webhook_url": "https://requestb.in/qxvaw0qx", "status": "queue"}}
# spec/dengage.md: login, BulkUpsert request and response, contact show, 401 bodies
DENGAGE_UPSERT = {"columns": ["contact_key", "name", "email", "email_permission"],
                  "contactDatas": [{"contact_key": "C-1", "name": "Ann", "email": "Ann@X.io",
                                    "email_permission": True}],
                  "insertIfNotExists": True, "throwExceptionIfInvalidRecord": False}
DENGAGE_UPSERTED = {"code": 0, "message": "OK",
                    "data": {"inserted": ["C-1"], "updated": [], "errors": [], "warnings": []}}
DENGAGE_SHOWN = {"code": 0, "message": "OK",
                 "data": {"contacts": [{"contact_key": "C-1", "name": "Ann", "email": "ann@x.io"}]}}
DENGAGE_NOT_AUTHENTICATED = {"code": 1, "message": "Not-authenticated. Please re-login."}


@contextlib.contextmanager
def serve(app):
    """``app`` on a free loopback port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def recording(vendor: str, upstream: str, out, **limits):
    """The recording proxy for ``vendor`` in front of ``upstream``; yields (base URL, recorder)."""
    recorder = Recorder(vendor, upstream, out, **limits)
    with serve(recorder) as url:
        yield url, recorder


def dengage_pages(httpserver) -> None:
    """D·engage as spec/dengage.md shows it: login, BulkUpsert, contact show, 401s."""
    httpserver.expect_request("/rest/login", method="POST",
                              json={"userkey": "acme-api", "password": DENGAGE_PASSWORD}).respond_with_json(
        {"access_token": DENGAGE_TOKEN, "token_type": "Bearer", "expires_in": 3600})
    httpserver.expect_request("/rest/login", method="POST").respond_with_json(
        {"code": 1, "message": "Invalid userkey or password"}, status=401)
    authorized = {"Authorization": f"Bearer {DENGAGE_TOKEN}"}
    httpserver.expect_request("/rest/bulk/contacts", method="POST", headers=authorized,
                              json=DENGAGE_UPSERT).respond_with_json(DENGAGE_UPSERTED)
    httpserver.expect_request("/rest/contacts/C-1", method="GET", headers=authorized,
                              query_string={"contactFields": "contact_key,name,email"}).respond_with_json(DENGAGE_SHOWN)
    httpserver.expect_request("/rest/bulk/contacts", method="POST").respond_with_json(DENGAGE_NOT_AUTHENTICATED,
                                                                                      status=401)


def pushtech_token(secret: str = PUSHTECH_SECRET) -> dict:
    return {"Authorization": f"Token token={secret}", "Accept": "application/json"}


@pytest.fixture
def cassette(tmp_path):
    return tmp_path / "cassette"
