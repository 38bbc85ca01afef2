"""What a vendor gives the emulator: one :class:`VendorSpec` per vendor package.

A vendor package (``emulator/vendors/<name>/``) has rooms that read alike: ``schemas.py``
(its payloads declared with :mod:`emulator.core.payload`), ``model.py`` (the rules, plain
Python, and the per-account backend), ``routes.py`` (the Flask blueprint: authenticate,
load, call the model, render), ``errors.py`` (the vendor's error shapes), and where needed
``fakes.py`` (fake payloads) and ``jobs.py`` (asynchronous work). Its ``__init__.py``
exports ``VENDOR = VendorSpec(...)``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import VendorError
from .store import Index


@dataclass(frozen=True)
class VendorSpec:
    name: str
    """Prefix and journal name: ``/esputnik/...``."""
    title: str
    """Human name: ``eSputnik``."""
    hosts: Mapping[str, str]
    """Real API host -> path prefix the real host adds (stripped), e.g. ``{"www.pushtech.com": "/api"}``."""
    blueprint: Callable[[], Any]
    """Builds the vendor's Flask blueprint (routes without the ``/<name>`` prefix)."""
    backend: type
    """Per-account backend class: ``backend(engine, account)`` holds the vendor's rules."""
    http_error: Callable[[int, str, str], VendorError]
    """``(status, message, kind)`` -> the vendor's error for generic HTTP failures. ``kind``
    is one of ``not_found``, ``method_not_allowed``, ``malformed_json``, ``too_large``,
    ``unsupported_media_type``, ``internal``, ``fault``."""
    collections: tuple[str, ...] = ("contacts",)
    """Kinds shown for each account in ``/_emulator/state``."""
    indexes: Mapping[str, Mapping[str, Index]] = field(default_factory=dict)
    """kind -> index name -> :class:`Index` (dedupe keys; look-ups never scan)."""
    default_settings: Mapping[str, Any] = field(default_factory=dict)
    """Per-account settings a fixture may override."""
    jobs: Mapping[str, Callable] = field(default_factory=dict)
    """Job kind -> handler ``(engine, job)``, for asynchronous operations."""
    admin_blueprint: Callable[[], Any] | None = None
    """Test helpers mounted at ``/_emulator/<name>/`` (stand-ins for the outside world)."""
    fake_contact: Callable[[Any], dict] | None = None
    """``(faker) -> payload``: one valid contact as the vendor's create endpoint takes it."""
    load_account: Callable[[Any, list[dict]], None] | None = None
    """``(backend, fake_payloads)``: set up an account from its fixture and store fakes."""
    describe_credentials: Callable[[Any], str] | None = None
    """``(account) -> str``: one line telling a user how to authenticate (start-up banner)."""
    base_path: str = ""
    """The vendor's base path as a client uses it, shown at start-up (``/api/v1``); ``{account}``
    stands for the account's name where the vendor puts it in the path."""
    credential_keys: tuple[str, ...] = ()
    """Keys every account's ``credentials`` must hold as non-empty strings (checked on load)."""
    fake_payloads: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    """Endpoint name -> ``(faker, n=None, **options) -> payload``: valid request bodies for the
    ``fake_contact`` fixture (``"default"`` is used when options or ``n`` are given)."""
    openapi: Mapping[str, Mapping[str, Any]] | Callable[[], Mapping[str, Mapping[str, Any]]] = field(
        default_factory=dict)
    """``"POST /route"`` -> ``{"schema": the request body's :class:`~emulator.core.payload.Shape`,
    "status": success status, "summary": ..., "auth": False for unauthenticated routes, "query":
    a shape of the query parameters}`` for the OpenAPI document (a marshmallow schema is taken
    too, for vendors not declared with shapes yet); routes not listed are still documented from
    the URL map. May be a function returning the mapping, so marshmallow schemas are imported
    only when the document is asked for."""
    security_schemes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """OpenAPI security schemes of the vendor (name -> scheme); all apply to every route."""
    error_schema: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None
    """JSON schema of the vendor's error body (OpenAPI 3.0 dialect), or a function returning it."""

    def prefix(self) -> str:
        return f"/{self.name}"
