"""D·engage's HTTP surface under ``/rest``: login, BulkUpsert, read one contact.

Thin on purpose: authenticate with the bearer token from ``/rest/login``, read the JSON
body, call the account's backend, render the ``{"code", "message", "data"}`` envelope.
"""
from __future__ import annotations

from flask import Blueprint, request

from emulator.core.journal import note
from emulator.http import bind_account, engine, json_object

from . import schemas
from .errors import BAD_LOGIN, FIELD_ERROR, DengageError, not_authenticated
from .model import VENDOR, backend_for_token, find_account


def read_body() -> dict:
    """The JSON object sent; read as JSON whatever the Content-Type says (noted)."""
    body = json_object()
    if not request.is_json:
        note("Content-Type", request.content_type, "application/json", "body read as JSON", "unverified")
    return body


def authenticate():
    """The backend of the account whose live bearer token is sent (401), with the role (403)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise not_authenticated()
    backend = backend_for_token(engine(), token)
    if backend is None:
        raise not_authenticated()
    bind_account(backend.account.name)
    backend.require_role()
    return backend


def ok(data) -> dict:
    return {"code": 0, "message": "OK", "data": data}


def blueprint() -> Blueprint:
    bp = Blueprint(VENDOR, __name__)

    @bp.post("/rest/login")
    def login():
        """Exchange the API user's userkey and password for a bearer token."""
        creds, problems = schemas.LOGIN.read(read_body())
        if problems:
            raise DengageError(FIELD_ERROR, "; ".join(map(str, problems)), 400, data=None)
        backend = find_account(engine(), creds["userkey"], creds["password"])
        if backend is None:
            raise DengageError(FIELD_ERROR, BAD_LOGIN, 401)
        bind_account(backend.account.name)
        return backend.issue_token()

    @bp.post("/rest/bulk/contacts")
    def bulk_upsert():
        """BulkUpsert: insert or update up to 1000 rows of master_contact (once a minute)."""
        backend = authenticate()
        with backend.bulk_call() as started:
            return ok(backend.bulk_upsert(read_body(), started))

    @bp.get("/rest/contacts/<path:contact_key>")
    def get_contact(contact_key):
        """One contact's columns (``contactFields=a,b`` narrows them)."""
        backend = authenticate()
        return ok({"contacts": [backend.get_contact(contact_key, request.args.get("contactFields"))]})

    return bp
