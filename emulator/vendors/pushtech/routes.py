"""Pushtech's HTTP surface: ``/v2/account/<account_id>/...`` behind ``Authorization: Token token=``.

Thin on purpose: authenticate against the account in the path, read the JSON body, call
the account's backend, render. ``admin_blueprint`` is the test helper
``POST /_emulator/pushtech/credits``.
"""
from __future__ import annotations

import hmac
import re
from urllib.parse import quote

from flask import Blueprint, request

from emulator.core.errors import EmulatorError
from emulator.core.journal import note
from emulator.http import bind_account, engine, helper_backend, json_object, request_info

from .errors import unauthorized
from .model import VENDOR

_TOKEN = re.compile(r'^\s*Token\s+token\s*=\s*(?:"([^"]*)"|([^\s,]+))', re.IGNORECASE)
ACCOUNT = "/v2/account/<account_id>"


def token_of(header: str | None) -> str | None:
    """The secret of ``Token token=<secret>`` (quoted or not), or None."""
    match = _TOKEN.match(header or "")
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def authenticate(account_id: str):
    """The backend of ``account_id`` when the header carries that account's secret; else 401."""
    secret = token_of(request.headers.get("Authorization"))
    account = engine().account(VENDOR, account_id)
    expected = str(account.credentials.get("secret") or "") if account is not None else ""
    if not secret or not expected or not hmac.compare_digest(
            expected.encode(), secret.encode("utf-8", "surrogateescape")):
        raise unauthorized(account_id)
    bind_account(account_id)
    return engine().backend(VENDOR, account_id)


def read_body() -> dict:
    """The JSON object sent; the vendor reads it whatever the Content-Type says."""
    body = json_object()
    if not request.is_json:
        note("Content-Type", request.content_type, "application/json", "body read as JSON", "unverified")
    return body


def account_url(account_id: str) -> str:
    """The account's API root as the caller reached it: the real host's own path when the
    request came by host routing (intercepted or mapped to the emulator), else the prefix."""
    spec = request_info().vendor
    host = request.host.rsplit(":", 1)[0].lower()
    extra = spec.hosts.get(host)
    prefix = extra if extra is not None else spec.prefix()
    return f"{request.host_url.rstrip('/')}{prefix}/v2/account/{quote(account_id, safe='')}"


def blueprint() -> Blueprint:
    bp = Blueprint(VENDOR, __name__)

    @bp.post(f"{ACCOUNT}/contact")
    def create_contact(account_id):
        """Create a contact (always a new one)."""
        return authenticate(account_id).create_contact(read_body()), 201

    @bp.get(f"{ACCOUNT}/contact")
    def list_contacts(account_id):
        """List contacts with exact filters, limit, contact_id_from and order."""
        return authenticate(account_id).list_contacts(request.args.to_dict(flat=True))

    @bp.get(f"{ACCOUNT}/contact/<contact_id>")
    def show_contact(account_id, contact_id):
        """Show a contact."""
        return authenticate(account_id).show_contact(contact_id)

    @bp.put(f"{ACCOUNT}/contact/<contact_id>")
    def update_contact(account_id, contact_id):
        """Update a contact (never creates)."""
        backend = authenticate(account_id)
        return backend.update_contact(contact_id, read_body(), account_url(account_id))

    @bp.delete(f"{ACCOUNT}/contact/<contact_id>")
    def delete_contact(account_id, contact_id):
        """Delete a contact; the body is the deleted contact."""
        return authenticate(account_id).delete_contact(contact_id)

    @bp.get(f"{ACCOUNT}/contact/<contact_id>/email_validation")
    def email_validation(account_id, contact_id):
        """The contact's email validation (validated now, for one credit, if it never was)."""
        return authenticate(account_id).email_validation(contact_id)

    @bp.post(f"{ACCOUNT}/contact/bulk")
    def create_bulk(account_id):
        """Queue a bulk create of 1 to 5000 contacts."""
        backend = authenticate(account_id)
        return backend.create_bulk(read_body()), 201

    @bp.get(f"{ACCOUNT}/contact/bulk/<bulk_id>")
    def show_bulk(account_id, bulk_id):
        """A bulk job and its status (queue, processing, finished, failed)."""
        return authenticate(account_id).show_bulk(bulk_id)

    @bp.get(f"{ACCOUNT}/balance/current")
    def balance(account_id):
        """The credit pool email validation spends."""
        return authenticate(account_id).current_balance()

    @bp.post(f"{ACCOUNT}/custom_fields")
    def create_custom_field(account_id):
        """Create a contact custom field (an existing name answers that field)."""
        backend = authenticate(account_id)
        return backend.create_custom_field(read_body()), 201

    @bp.get(f"{ACCOUNT}/custom_fields")
    def list_custom_fields(account_id):
        """The account's contact custom fields: the fixture's and the created ones."""
        return authenticate(account_id).list_custom_fields()

    @bp.put(f"{ACCOUNT}/custom_fields/<custom_id>")
    def update_custom_field(account_id, custom_id):
        """Change a custom field's label, category, description or options."""
        backend = authenticate(account_id)
        return backend.update_custom_field(custom_id, read_body())

    @bp.delete(f"{ACCOUNT}/custom_fields/<custom_id>")
    def delete_custom_field(account_id, custom_id):
        """Delete a custom field; the body is the deleted field."""
        return authenticate(account_id).delete_custom_field(custom_id)

    @bp.post(f"{ACCOUNT}/lists")
    def create_list(account_id):
        """Create an audience list."""
        backend = authenticate(account_id)
        return backend.create_list(read_body()), 201

    @bp.get(f"{ACCOUNT}/lists")
    def list_lists(account_id):
        """The account's audience lists."""
        return authenticate(account_id).all_lists()

    @bp.get(f"{ACCOUNT}/lists/<list_id>")
    def show_list(account_id, list_id):
        """Show an audience list."""
        return authenticate(account_id).show_list(list_id)

    @bp.put(f"{ACCOUNT}/lists/<list_id>")
    def update_list(account_id, list_id):
        """Change an audience list's name, description or visibility."""
        backend = authenticate(account_id)
        return backend.update_list(list_id, read_body())

    @bp.delete(f"{ACCOUNT}/lists/<list_id>")
    def delete_list(account_id, list_id):
        """Delete an audience list."""
        return authenticate(account_id).delete_list(list_id)

    return bp


def admin_blueprint() -> Blueprint:
    bp = Blueprint(f"{VENDOR}_admin", __name__)

    @bp.post("/credits")
    def credits():
        """Set an account's email validation credits: ``{"account", "validation_credits": n}``."""
        body = json_object()
        backend = helper_backend(VENDOR, body)
        value = body.get("validation_credits")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EmulatorError(f"'validation_credits' must be a non-negative integer, got {value!r}")
        return backend.set_credits(value)

    return bp
