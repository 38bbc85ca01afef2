"""The request journal and per-request notes.

Notes are what the emulator had to cast, normalise or ignore to accept a request: a
lenient vendor hides them, the emulator tells. Vendor rules call :func:`note` (plain
Python, no Flask); the app collects the notes of the request being served.
"""
from __future__ import annotations

import json
import re
import threading
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC
from fnmatch import fnmatchcase
from typing import Any

_notes: ContextVar[list | None] = ContextVar("emulator_notes", default=None)

REDACTED = "***"
SECRET_HEADERS = {"authorization", "api-key", "x-api-key", "cookie", "proxy-authorization", "api-login-key"}
_SECRET_KEY = re.compile(r"pass(word)?|secret|api[-_]?key|access_token|^token$|credential", re.I)


NOTE_KINDS = ("cast", "ignored", "advice", "unverified")
"""What a note says of the vendor: ``cast`` a documented fix-up of what was sent, ``ignored`` a
sent value the vendor leaves out, ``advice`` something the vendor asks callers not to do but
serves, ``unverified`` undocumented behaviour the emulator chose to accept."""


def note(field: str, sent: Any, used: Any, rule: str, kind: str) -> None:
    """Record that ``field`` was sent as ``sent`` and ``used`` as stored, why, and of which kind.

    Notes are fix-ups of what the client sent; what the vendor does by itself (a status it
    sets, a default it fills in) shows in stored state and is not noted.
    """
    if kind not in NOTE_KINDS:
        raise ValueError(f"note kind must be one of {', '.join(NOTE_KINDS)}, got {kind!r}")
    bucket = _notes.get()
    if bucket is not None:
        bucket.append({"field": field, "sent": sent, "used": used, "rule": rule, "kind": kind})


@contextmanager
def collect_notes():
    """Collect the notes made inside the block into the yielded list."""
    bucket: list = []
    token = _notes.set(bucket)
    try:
        yield bucket
    finally:
        _notes.reset(token)


def start_notes() -> list:
    bucket: list = []
    _notes.set(bucket)
    return bucket


def redact_headers(headers) -> dict:
    out = {}
    for key, value in headers.items():
        out[key] = REDACTED if key.lower() in SECRET_HEADERS else value
    return out


_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@", re.I)


def redact(value: Any) -> Any:
    """A copy of a JSON value with credential-looking keys masked, and the password of any
    ``scheme://user:password@host`` URL in a string (eSputnik's upload link carries one)."""
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) and v not in (None, "")
                    else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and "@" in value:
        return _URL_PASSWORD.sub(rf"\1{REDACTED}@", value)
    return value


BODY_PREVIEW = 2048


class Recorded:
    """One request as it was served: raw bytes now, the redacted JSON view when read.

    Parsing and redacting cost more than serving a small request, and the journal is read
    far less often than it is written, so that work is done on the first read.
    """

    __slots__ = ("seq", "epoch", "vendor", "account", "method", "path", "route", "query", "headers", "body",
                 "status", "response", "response_json", "duration", "notes", "fault", "_view")

    def __init__(self, epoch: float, vendor: str, account: str | None, method: str, path: str, route: str,
                 query: str, headers: dict, body: bytes | dict | None, status: int | None, response: bytes | None,
                 response_json: bool, duration: float, notes: list, fault: dict | None = None):
        """Positional, in this order: one is made per request served."""
        self.seq = 0
        self.epoch, self.vendor, self.account, self.method = epoch, vendor, account, method
        self.path, self.route, self.query, self.headers, self.body = path, route, query, headers, body
        self.status, self.response, self.response_json = status, response, response_json
        self.duration, self.notes, self.fault = duration, notes, fault  # duration in seconds
        self._view: dict | None = None

    def view(self) -> dict:
        if self._view is None:
            from datetime import datetime
            from urllib.parse import parse_qsl

            from .clock import iso

            view = {
                "seq": self.seq,
                "time": iso(datetime.fromtimestamp(self.epoch, tz=UTC)),
                "vendor": self.vendor, "account": self.account, "method": self.method,
                "path": self.path, "route": self.route,
                "query": dict(parse_qsl(self.query, keep_blank_values=True)),
                "headers": redact_headers({_header_name(k): v for k, v in self.headers.items()}),
                "body": _decode(self.body, True),
                "status": self.status,
                "response": _decode(self.response, self.response_json),
                "duration_ms": round(self.duration * 1000, 3),
                "notes": list(self.notes),
            }
            if self.fault is not None:
                view["fault"] = self.fault
            self._view = view
        return self._view


def _header_name(cgi_name: str) -> str:
    """``HTTP_API_KEY`` -> ``Api-Key``; ``CONTENT_TYPE`` -> ``Content-Type``."""
    name = cgi_name[5:] if cgi_name.startswith("HTTP_") else cgi_name
    return name.replace("_", "-").title()


def _decode(raw, as_json: bool):
    if raw is None or isinstance(raw, dict):
        return raw
    if not raw:
        return None
    if as_json:
        try:
            return redact(json.loads(raw))
        except (ValueError, UnicodeDecodeError, RecursionError):
            pass
    return raw[:BODY_PREVIEW].decode("utf-8", "replace")


class Journal:
    """A bounded ring buffer of request records (oldest dropped)."""

    def __init__(self, maxlen: int = 10_000):
        self._entries: deque = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, entry: Recorded) -> Recorded:
        with self._lock:
            self._seq += 1
            entry.seq = self._seq
            self._entries.append(entry)
        return entry

    def entries(self, vendor: str | None = None, method: str | None = None,
                path: str | None = None, account: str | None = None) -> list[dict]:
        """Entries as JSON-ready dicts, newest last; ``path`` is a glob or an exact path."""
        with self._lock:
            items = list(self._entries)
        out = []
        for e in items:
            if vendor and e.vendor != vendor:
                continue
            if account and e.account != account:
                continue
            if method and e.method.upper() != method.upper():
                continue
            if path and not (e.path == path or fnmatchcase(e.path, path)):
                continue
            out.append(e.view())
        return out

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def lint_summary(entries: list[dict]) -> dict:
    """Notes of journal entries, per vendor, endpoint (method and route) and field.

    ``{"total": n, "vendors": {v: {"POST /route": {field: {"count", "rules", "examples"}}}}}``
    """
    vendors: dict = {}
    total = 0
    for entry in entries:
        for item in entry.get("notes") or ():
            total += 1
            endpoint = f"{entry.get('method')} {entry.get('route') or entry.get('path')}"
            per_field = vendors.setdefault(entry.get("vendor"), {}).setdefault(endpoint, {})
            summary = per_field.setdefault(item.get("field"), {"count": 0, "rules": [], "examples": []})
            summary["count"] += 1
            if item.get("rule") not in summary["rules"]:
                summary["rules"].append(item.get("rule"))
            if len(summary["examples"]) < 3:
                summary["examples"].append({"sent": item.get("sent"), "used": item.get("used"),
                                            "rule": item.get("rule"), "request": entry.get("seq")})
    return {"total": total, "vendors": vendors}
