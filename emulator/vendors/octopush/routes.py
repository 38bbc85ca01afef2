"""Octopush's HTTP surface: ``/v1/public/...`` behind ``api-login`` / ``api-key`` headers.

Thin on purpose: authenticate, read the JSON body, call the account's backend, render.
``admin_blueprint`` is the test helper ``POST /_emulator/octopush/blacklist``.
"""
from __future__ import annotations

import hmac

from flask import Blueprint

from emulator.core.errors import EmulatorError
from emulator.core.journal import note
from emulator.core.payload import Refused
from emulator.http import bind_account, helper_backend, json_object, request_info

from .errors import INCORRECT_LOGIN, LOGIN_MISSING, OctopushError
from .model import VENDOR


def authenticate():
    """The backend of the account whose ``api-login`` and ``api-key`` headers match."""
    info = request_info()  # one look-up for the request, the engine and the journal entry
    environ = info.request.environ
    login = environ.get("HTTP_API_LOGIN")
    key = environ.get("HTTP_API_KEY")
    if not login or not key:
        missing = [name for name, value in (("api-login", login), ("api-key", key)) if not value]
        raise OctopushError(LOGIN_MISSING, f"You have not entered your login details: header(s) "
                            f"{' and '.join(missing)} required.", 401)
    eng = info.engine
    for name, account in eng.accounts.get(VENDOR, {}).items():
        creds = account.credentials
        if creds.get("api_login") == login and hmac.compare_digest(
                str(creds.get("api_key", "")).encode(), key.encode("latin-1", "replace")):
            bind_account(name)
            backend = eng.backend(VENDOR, name)
            backend.check_validated()
            return backend
    raise OctopushError(INCORRECT_LOGIN, "Incorrect login details.", 401)


def read_body() -> dict:
    """The JSON object sent; the vendor reads it whatever the Content-Type says."""
    body = json_object()
    req = request_info().request
    if not req.is_json:
        note("Content-Type", req.content_type, "application/json", "body read as JSON", "cast")
    return body


def blueprint() -> Blueprint:
    bp = Blueprint(VENDOR, __name__)

    @bp.post("/v1/public/contact/create")
    def create_contacts():
        """Add contacts and attach them to lists and tags."""
        backend = authenticate()
        return backend.create_contacts(read_body())

    @bp.delete("/v1/public/contact/delete")
    def delete_contacts():
        """Delete contacts, or detach them from one list."""
        backend = authenticate()
        backend.delete_contacts(read_body())
        return "", 204

    @bp.post("/v1/public/contact-list/create")
    def create_list():
        """Create a contact list."""
        backend = authenticate()
        return backend.create_list(read_body())

    @bp.post("/v1/public/contact-list/empty")
    def empty_list():
        """Detach (and optionally delete) every contact of a list."""
        backend = authenticate()
        return backend.empty_list(read_body())

    @bp.delete("/v1/public/contact-list/delete")
    def delete_list():
        """Delete a list (its contacts stay, detached)."""
        backend = authenticate()
        backend.delete_list(read_body())
        return "", 204

    return bp


def admin_blueprint() -> Blueprint:
    bp = Blueprint(f"{VENDOR}_admin", __name__)

    @bp.post("/blacklist")
    def blacklist():
        """The numbers sent STOP: ``{"account", "phone_numbers": [...]}``."""
        body = json_object()
        backend = helper_backend(VENDOR, body)
        numbers = body.get("phone_numbers")
        if isinstance(numbers, str):
            numbers = [numbers]
        if not isinstance(numbers, list) or not numbers:
            raise EmulatorError(f"'phone_numbers' must be a non-empty array of phone numbers, got {numbers!r}")
        try:
            return backend.add_to_blacklist(numbers)
        except Refused as exc:
            raise EmulatorError(exc.message) from None

    return bp
