"""eSputnik's HTTP surface: ``/api/v1/...`` behind HTTP Basic auth (the password is the API key).

Thin on purpose: authenticate, read the JSON body, call the account's backend, render.
Paths are declared without a trailing slash; the app answers both spellings.
``admin_blueprint`` is the test helper ``POST /_emulator/esputnik/confirm``.
"""
from __future__ import annotations

import hmac
from base64 import b64decode

from flask import Blueprint, Response, request

from emulator.core.errors import EmulatorError
from emulator.http import bind_account, engine, helper_backend, json_object

from . import jobs
from .errors import unauthorized
from .model import VENDOR
from .orders import add_orders, change_unsubscribed, generate_event

API = "/api/v1"


def authenticate():
    """The backend of the account whose API key is the Basic-auth password (any user name)."""
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise unauthorized()
    try:
        decoded = b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        raise unauthorized() from None
    key = decoded.partition(":")[2].encode()
    eng = engine()
    for name, account in eng.accounts.get(VENDOR, {}).items():
        expected = account.credentials.get("api_key")
        if expected and hmac.compare_digest(str(expected).encode(), key):
            bind_account(name)
            backend = eng.backend(VENDOR, name)
            backend.count_request()
            return backend
    raise unauthorized()


def read_body() -> dict:
    """The JSON object sent (415 when the Content-Type is not JSON)."""
    return json_object(require_content_type=True)


def text(message: str) -> Response:
    """The vendor's short text answers (``Contact with id='1' has been updated``), and its
    empty 200 (``POST /orders``, ``POST /event``, the unsubscribed lists)."""
    return Response(message, status=200, mimetype="text/plain")


def counted(items: list, total: int) -> tuple:
    """A JSON array with the ``TotalCount`` header public clients page with."""
    return items, 200, {"TotalCount": str(total)}


def blueprint() -> Blueprint:
    bp = Blueprint(VENDOR, __name__)

    @bp.post(f"{API}/contact/subscribe")
    def subscribe():
        """Subscribe one contact (double opt-in)."""
        backend = authenticate()
        body = read_body()
        with backend.once("subscribe", request.get_data(cache=True)):
            return backend.subscribe(body)

    @bp.post(f"{API}/contacts")
    def add_contacts():
        """Add or update 1 to 3000 contacts, asynchronously."""
        backend = authenticate()
        body = read_body()
        with backend.once("contacts", request.get_data(cache=True)):
            return jobs.start_import(backend, body)

    @bp.get(f"{API}/contacts")
    def search_contacts():
        """Search contacts (a JSON array; ``TotalCount`` header)."""
        return counted(*authenticate().search(request.args))

    @bp.get(f"{API}/contacts/email")
    def contact_emails():
        """Email addresses of contacts by id (``ids=1,2,3``)."""
        return authenticate().contact_emails(request.args.get("ids"))

    @bp.post(f"{API}/contact")
    def add_contact():
        """Add one confirmed contact, or update the one with the same externalCustomerId, email or phone."""
        backend = authenticate()
        body = read_body()
        with backend.once("contact", request.get_data(cache=True)):
            return backend.add_contact(body)

    @bp.delete(f"{API}/contact")
    def delete_by_external_id():
        """Delete a contact by externalCustomerId (``erase=true`` erases it for good)."""
        backend = authenticate()
        return text(backend.delete_by_external_id(request.args.get("externalCustomerId"),
                                                  request.args.get("erase")))

    @bp.get(f"{API}/contact/<contact_id>")
    def get_contact(contact_id):
        """One contact."""
        return authenticate().get_contact(contact_id)

    @bp.put(f"{API}/contact/<contact_id>")
    def update_contact(contact_id):
        """Update one contact by id; never creates."""
        backend = authenticate()
        return text(backend.update_contact(contact_id, read_body()))

    @bp.delete(f"{API}/contact/<contact_id>")
    def delete_contact(contact_id):
        """Delete one contact (kept as deleted)."""
        return text(authenticate().delete_contact(contact_id))

    @bp.post(f"{API}/contacts/upload")
    def upload():
        """Add or update contacts from a CSV file at a link, asynchronously."""
        backend = authenticate()
        return jobs.start_upload(backend, read_body())

    @bp.get(f"{API}/importstatus/<session_id>")
    def import_status(session_id):
        """State of an asynchronous import."""
        return jobs.import_status(authenticate(), session_id)

    @bp.get(f"{API}/groups")
    def groups():
        """Segments: id, name, type (``name`` filters, paged; ``TotalCount`` header)."""
        return counted(*authenticate().list_groups(request.args))

    @bp.get(f"{API}/group/<group_id>/contacts")
    def group_contacts(group_id):
        """Contacts of a segment, paged (``TotalCount`` header: the segment's size)."""
        return counted(*authenticate().group_contacts(group_id, request.args))

    @bp.post(f"{API}/group/<group_id>/contacts/attach")
    def attach(group_id):
        """Add contacts to a static segment (≤ 500 ids)."""
        backend = authenticate()
        return backend.segment_contacts(group_id, read_body(), attach=True)

    @bp.post(f"{API}/group/<group_id>/contacts/detach")
    def detach(group_id):
        """Remove contacts from a static segment (≤ 500 ids; none = all)."""
        backend = authenticate()
        body = json_object(required=False, require_content_type=True)
        return backend.segment_contacts(group_id, body, attach=False)

    @bp.get(f"{API}/addressbooks")
    def address_books():
        """The account's custom-field catalogue."""
        return authenticate().address_books()

    @bp.post(f"{API}/orders")
    def orders():
        """Add or update 1 to 1000 orders; creates the missing contacts."""
        backend = authenticate()
        failed = add_orders(backend, read_body())
        return text("") if failed is None else failed

    @bp.post(f"{API}/event")
    def event():
        """Generate one event."""
        backend = authenticate()
        body = read_body()
        generate_event(backend, body, len(request.get_data(cache=True)))
        return text("")

    @bp.post(f"{API}/emails/unsubscribed/add")
    def unsubscribe_emails():
        """Mark email addresses as unsubscribed (addresses, not contacts)."""
        backend = authenticate()
        change_unsubscribed(backend, read_body(), add=True)
        return text("")

    @bp.post(f"{API}/emails/unsubscribed/delete")
    def resubscribe_emails():
        """Remove email addresses from the unsubscribed list."""
        backend = authenticate()
        change_unsubscribed(backend, read_body(), add=False)
        return text("")

    return bp


def admin_blueprint() -> Blueprint:
    bp = Blueprint(f"{VENDOR}_admin", __name__)

    @bp.post("/confirm")
    def confirm():
        """The subscriber clicks the double opt-in link: ``{"account", "email"}``."""
        body = json_object()
        backend = helper_backend(VENDOR, body)
        email = body.get("email")
        if not isinstance(email, str) or not email.strip():
            raise EmulatorError(f"'email' must be the subscriber's email address, got {email!r}")
        confirmed = backend.confirm(email)
        if not confirmed:
            raise EmulatorError(f"no esputnik contact with email {email!r} in account {backend.account.name!r}",
                                404)
        return {"status": "ok", "account": backend.account.name, "email": email.strip().lower(),
                "contactIds": confirmed}

    return bp
