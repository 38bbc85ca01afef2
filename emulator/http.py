"""Helpers for vendor routes: the request being served, the engine, the JSON body, the account served."""
from __future__ import annotations

import time
from typing import Any

from flask import current_app, g, request

from .core.errors import BadBody
from .core.strict_json import parse_json
from .responses import FaultFired, apply_fault, vendor_path


def engine():
    """The :class:`~emulator.core.engine.Engine` of the current app."""
    return current_app.extensions["emulator"]


class RequestInfo:
    """What the emulator tracks about the request being served (``g.emulator``).

    It also holds the request and the engine themselves: a route reaches them through this
    one object instead of a context proxy per attribute (a proxy look-up costs more than
    the rest of a small route)."""

    __slots__ = ("started", "engine", "request", "vendor", "account", "notes", "fault")

    def __init__(self, engine, req, vendor, notes: list):
        self.started = time.perf_counter()
        self.engine = engine
        self.request = req
        self.vendor = vendor
        self.account: str | None = None
        self.notes = notes
        self.fault: dict | None = None


def request_info() -> RequestInfo:
    """The :class:`RequestInfo` of the request being served."""
    return g._get_current_object().emulator


def bind_account(name: str) -> None:
    """Tell the journal which account this request was served for.

    This is also where fault rules scoped to an account fire: the vendor has just
    identified the account.
    """
    info = request_info()
    info.account = name
    faults = info.engine.faults
    if faults and faults.has_account_rules() and info.fault is None:
        spec = info.vendor
        if spec is not None:
            req = info.request
            rule = faults.match(spec.name, req.method, vendor_path(spec, req.path), name, account_known=True)
            if rule is not None:
                response = apply_fault(info, rule)
                if response is not None:
                    raise FaultFired(response)


_EMPTY = object()


def _read_json(required: bool, require_content_type: bool) -> Any:
    """The body as JSON, or ``_EMPTY`` for a body with nothing in it."""
    req = request._get_current_object()
    data = req.get_data(cache=True)
    if require_content_type and data and not req.is_json:
        raise BadBody(f"Content-Type must be application/json, got {req.content_type or 'none'!r}",
                      status=415, kind="unsupported_media_type")
    if not data.strip():
        if required:
            raise BadBody("request body is required: a JSON object was expected")
        return _EMPTY
    try:
        return parse_json(data)
    except ValueError as exc:
        raise BadBody(f"request body is not valid JSON: {exc}") from None


def json_body(*, required: bool = True, require_content_type: bool = False) -> Any:
    """The request body as JSON (read with :func:`parse_json`).

    An empty body is ``None`` (a GET with ``Content-Type: application/json`` and no body
    is fine) unless ``required``. Malformed JSON raises :class:`BadBody` (400); a body whose
    content type is not JSON raises it with 415 when ``require_content_type``.
    """
    body = _read_json(required, require_content_type)
    return None if body is _EMPTY else body


def json_object(*, required: bool = True, require_content_type: bool = False) -> dict:
    """Like :func:`json_body`, and the body must be a JSON object; an empty body is ``{}``
    when not ``required``, a ``null`` one is refused like any other non-object."""
    body = _read_json(required, require_content_type)
    if body.__class__ is dict:
        return body
    if body is _EMPTY:
        return {}
    kind = "null" if body is None else _JSON_TYPES.get(type(body), type(body).__name__)
    raise BadBody(f"request body must be a JSON object, got {kind}")


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def helper_backend(vendor: str, body: dict):
    """The backend of the account an admin test helper names: ``body["account"]``, or the
    vendor's only account when the fixture declares just one. Unknown -> 404."""
    from .core.errors import EmulatorError

    eng = engine()
    accounts = eng.accounts.get(vendor, {})
    name = body.get("account")
    if name is None and len(accounts) == 1:
        name = next(iter(accounts))
    if not isinstance(name, str) or name not in accounts:
        raise EmulatorError(f"'account' must name a {vendor} account of the fixture "
                            f"({', '.join(accounts) or 'none declared'}), got {name!r}", 404)
    return eng.backend(vendor, name)
