"""The request journal and per-request notes.

Notes are what the emulator had to cast, normalise or ignore to accept a request: a
lenient vendor hides them, the emulator tells. Vendor rules call :func:`note` (plain
Python, no Flask); the app collects the notes of the request being served.
"""
from __future__ import annotations

import re
import threading
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar
from fnmatch import fnmatchcase
from typing import Any

_notes: ContextVar[list | None] = ContextVar("emulator_notes", default=None)

REDACTED = "***"
SECRET_HEADERS = {"authorization", "api-key", "x-api-key", "cookie", "proxy-authorization", "api-login-key"}
_SECRET_KEY = re.compile(r"pass(word)?|secret|api[-_]?key|access_token|^token$|credential", re.I)


def note(field: str, sent: Any, used: Any, rule: str) -> None:
    """Record that ``field`` was sent as ``sent`` and ``used`` as stored, and why."""
    bucket = _notes.get()
    if bucket is not None:
        bucket.append({"field": field, "sent": sent, "used": used, "rule": rule})


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


def redact(value: Any) -> Any:
    """A copy of a JSON value with credential-looking keys masked."""
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) and v not in (None, "")
                    else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class Journal:
    """A bounded ring buffer of request records (oldest dropped)."""

    def __init__(self, maxlen: int = 10_000):
        self._entries: deque = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, entry: dict) -> dict:
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)
        return entry

    def entries(self, vendor: str | None = None, method: str | None = None,
                path: str | None = None, account: str | None = None) -> list[dict]:
        """Entries, newest last; ``path`` is a glob (``/api/v1/*``) or an exact path."""
        with self._lock:
            items = list(self._entries)
        out = []
        for e in items:
            if vendor and e.get("vendor") != vendor:
                continue
            if account and e.get("account") != account:
                continue
            if method and e.get("method", "").upper() != method.upper():
                continue
            if path and not (e.get("path") == path or fnmatchcase(e.get("path", ""), path)):
                continue
            out.append(e)
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
