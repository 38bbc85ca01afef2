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
from datetime import UTC
from fnmatch import fnmatchcase
from typing import Any

_notes: ContextVar[list | None] = ContextVar("emulator_notes", default=None)

REDACTED = "***"
SECRET_HEADERS = {"authorization", "api-key", "x-api-key", "cookie", "set-cookie", "proxy-authorization",
                  "api-login-key"}
_SECRET_KEY = re.compile(r"pass(word)?|secret|api[-_]?key|access_token|^token$|credential", re.I)


def is_secret_key(key) -> bool:
    """Whether a JSON key or query parameter name looks like it holds a credential."""
    return isinstance(key, str) and _SECRET_KEY.search(key) is not None


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


# The password of a URL's user info, up to the last "@" of its authority (as urlsplit reads it).
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/?#\s:@\"]*:)[^/?#\s\"]*?(@)(?=[^/?#\s\"@]*(?:[/?#\s\"]|$))",
                           re.I)
# ... and in text cut short, a URL's password that the cut left without its "@".
_CUT_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/?#\s:@\"]*:)[^/?#\s\"@]+()$", re.I)
# In text that is not JSON (cut short, or malformed): a quoted key, a colon and its value,
# the value perhaps unterminated; and form or query pairs key=value.
_QUOTED_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*(?:"|\\?$)|[^\s,}\]{\["]+)?')
_FORM_PAIR = re.compile(r"(?:^|(?<=[&;?\s]))([^=&;\s\"]+)=([^&;\s\"]*)")


def redact(value: Any) -> Any:
    """A copy of a JSON value with credential-looking keys masked, and the password of any
    ``scheme://user:password@host`` URL in a string (eSputnik's upload link carries one)."""
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) and v not in (None, "")
                    else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return mask_url_passwords(value)
    return value


def mask_url_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL in it masked."""
    return _URL_PASSWORD.sub(_mask_url, text) if "://" in text else text


def redact_text(text: str, cut: bool = False) -> str:
    """``text`` (a body that is not JSON: cut short, malformed, form-encoded) with the values
    of credential-looking keys and URL passwords masked, as :func:`redact` does for JSON;
    ``cut`` says the text ends where it was cut short (perhaps inside a secret)."""
    text = mask_url_passwords(text)
    if cut and "://" in text:
        text = _CUT_URL_PASSWORD.sub(_mask_url, text)
    if '"' in text:
        text = _QUOTED_PAIR.sub(_mask_quoted, text)
    if "=" in text:
        text = _FORM_PAIR.sub(_mask_form, text)
    return text


def _mask_url(match: re.Match) -> str:
    return f"{match.group(1)}{REDACTED}{match.group(2)}"


def _mask_quoted(match: re.Match) -> str:
    key, value = match.group(1), match.group(3)
    if not value or value in ('""', "null") or not _SECRET_KEY.search(key):
        return match.group(0)
    return f'"{key}"{match.group(2)}"{REDACTED}"'


def _mask_form(match: re.Match) -> str:
    if not match.group(2) or not _SECRET_KEY.search(match.group(1)):
        return match.group(0)
    return f"{match.group(1)}={REDACTED}"


_PATH_PARTS = re.compile(r"[.\[\]]+")


def redact_note(item: dict) -> dict:
    """A note with what was sent and used masked when its field is a credential."""
    field = item.get("field")
    if isinstance(field, str) and any(_SECRET_KEY.search(part) for part in _PATH_PARTS.split(field) if part):
        return {**item, "sent": REDACTED, "used": REDACTED}
    return {**item, "sent": redact(item.get("sent")), "used": redact(item.get("used"))}


BODY_PREVIEW = 2048
"""How much of a body that is not JSON a journal view shows, and how much of a body over the
per-entry budget an entry keeps."""


class Recorded:
    """One request as it was served: raw bytes kept, the redacted JSON view built on each read.

    Parsing and redacting cost more than serving a small request, and the journal is read
    far less often than it is written, so that work waits for a read; a view is not kept
    (10,000 views of large bodies would hold far more memory than the bytes they come from).
    """

    __slots__ = ("seq", "epoch", "vendor", "account", "method", "path", "route", "query", "headers", "body",
                 "status", "response", "response_json", "duration", "notes", "fault", "body_size",
                 "response_size", "cut", "held", "unmatched")

    def __init__(self, epoch: float, vendor: str, account: str | None, method: str, path: str, route: str,
                 query: str, headers: dict, body: bytes | None, status: int | None, response: bytes | None,
                 response_json: bool, duration: float, notes: list, fault: dict | None = None,
                 body_size: int | None = None, unmatched: bool = False):
        """Positional, in this order: one is made per request served. ``body_size`` is the
        body's length when ``body`` holds only its first bytes; ``unmatched``: no route
        answered it (a 404 "no route")."""
        self.seq = 0
        self.epoch, self.vendor, self.account, self.method = epoch, vendor, account, method
        self.path, self.route, self.query, self.headers, self.body = path, route, query, headers, body
        self.status, self.response, self.response_json = status, response, response_json
        self.duration, self.notes, self.fault = duration, notes, fault  # duration in seconds
        self.body_size = len(body) if body_size is None and body is not None else body_size
        self.response_size = len(response) if response is not None else None
        self.cut: dict | None = None  # {"body" | "response": the setting that cut it}
        self.held = 0  # body and response bytes this entry holds in the journal
        self.unmatched = unmatched

    def view(self, bodies: bool = True) -> dict:
        """The entry as a JSON-ready dict; without ``bodies``, no headers, body or response."""
        from datetime import datetime
        from urllib.parse import parse_qsl

        from .clock import iso

        view = {
            "seq": self.seq,
            "time": iso(datetime.fromtimestamp(self.epoch, tz=UTC)),
            "vendor": self.vendor, "account": self.account, "method": self.method,
            "path": self.path, "route": self.route,
            "query": redact(dict(parse_qsl(self.query, keep_blank_values=True))),
        }
        if bodies:
            view["headers"] = redact_headers({_header_name(k): v for k, v in self.headers.items()})
            view["body"] = _decode(self.body, True, self.body_size)
        view["status"] = self.status
        if bodies:
            view["response"] = _decode(self.response, self.response_json, self.response_size)
        view["duration_ms"] = round(self.duration * 1000, 3)
        view["notes"] = [redact_note(item) for item in self.notes]
        if self.fault is not None:
            view["fault"] = self.fault
        if self.unmatched:
            view["unmatched"] = True
        if self.cut:
            view["truncated"] = {part: {"bytes": self.body_size if part == "body" else self.response_size,
                                        "kept": len((self.body if part == "body" else self.response) or b""),
                                        "by": setting} for part, setting in self.cut.items()}
        return view


def _header_name(cgi_name: str) -> str:
    """``HTTP_API_KEY`` -> ``Api-Key``; ``CONTENT_TYPE`` -> ``Content-Type``."""
    name = cgi_name[5:] if cgi_name.startswith("HTTP_") else cgi_name
    return name.replace("_", "-").title()


def _decode(raw: bytes | None, as_json: bool, size: int | None):
    """A kept body (of ``size`` bytes when it came) for a view: redacted JSON, or the
    redacted text of its first bytes."""
    if not raw:
        return None
    if as_json and len(raw) == size:
        from .strict_json import parse_json

        try:
            return redact(parse_json(raw))
        except ValueError:
            pass
    text = raw[:BODY_PREVIEW].decode("utf-8", "replace")
    return redact_text(text, cut=len(raw) > BODY_PREVIEW or len(raw) != size)


def _short_note(item: dict) -> dict:
    """A note whose long text values are cut to :data:`BODY_PREVIEW` characters: a note would
    otherwise keep a large sent value alive however the bodies are bounded."""
    sent, used = item.get("sent"), item.get("used")
    if (sent.__class__ is str and len(sent) > BODY_PREVIEW) or (used.__class__ is str and len(used) > BODY_PREVIEW):
        return {**item, "sent": _short(sent), "used": _short(used)}
    return item


def _short(value: Any) -> Any:
    if value.__class__ is str and len(value) > BODY_PREVIEW:
        return f"{value[:BODY_PREVIEW]}... ({len(value)} characters)"
    return value


BODY_BYTES_SETTING = "EMULATOR_JOURNAL_BODY_BYTES"
TOTAL_BYTES_SETTING = "EMULATOR_JOURNAL_TOTAL_BYTES"


class Journal:
    """A bounded ring buffer of request records (oldest dropped), whose bodies are bounded too.

    An entry keeps its request and response bodies whole up to ``body_bytes`` each (above
    that, their first :data:`BODY_PREVIEW` bytes); all entries together keep at most
    ``total_bytes`` of bodies, the oldest entries giving theirs up first (the rest of the
    entry stays).
    """

    def __init__(self, maxlen: int = 10_000, body_bytes: int = 1024 * 1024, total_bytes: int = 64 * 1024 * 1024):
        self._entries: deque = deque()
        self._holding: deque = deque()  # the entries that hold body bytes, oldest first
        self._lock = threading.Lock()
        self._seq = 0
        self._held = 0
        self.maxlen, self.body_bytes, self.total_bytes = maxlen, body_bytes, total_bytes

    def record(self, entry: Recorded) -> Recorded:
        body, response = entry.body, entry.response
        limit = self.body_bytes
        if body is not None and (len(body) > limit or entry.body_size > len(body)):
            entry.body = body[:min(limit, BODY_PREVIEW)]
            entry.cut = {"body": BODY_BYTES_SETTING}
        if response is not None and len(response) > limit:
            entry.response = response[:min(limit, BODY_PREVIEW)]
            entry.cut = {**(entry.cut or {}), "response": BODY_BYTES_SETTING}
        if entry.notes:
            entry.notes = [_short_note(item) for item in entry.notes]
        held = entry.held = len(entry.body or b"") + len(entry.response or b"")
        with self._lock:
            self._seq += 1
            entry.seq = self._seq
            entries = self._entries
            if len(entries) >= self.maxlen:
                if not self.maxlen:
                    return entry
                oldest = entries.popleft()
                if oldest.held:
                    self._holding.popleft()  # the oldest entry holding bytes is the oldest entry
                    self._held -= oldest.held
            entries.append(entry)
            if held:
                self._holding.append(entry)
                self._held += held
                if self._held > self.total_bytes:
                    self._give_up_bodies()
        return entry

    def _give_up_bodies(self) -> None:
        """Drop the bodies of the oldest entries until the journal is within ``total_bytes``."""
        holding = self._holding
        while self._held > self.total_bytes and holding:
            entry = holding.popleft()
            self._held -= entry.held
            entry.held = 0
            cut = dict(entry.cut or {})
            if entry.body:
                cut["body"] = TOTAL_BYTES_SETTING
            if entry.response:
                cut["response"] = TOTAL_BYTES_SETTING
            entry.cut, entry.body, entry.response = cut, None, None

    def entries(self, vendor: str | None = None, method: str | None = None, path: str | None = None,
                account: str | None = None, limit: int | None = None, bodies: bool = True,
                unmatched: bool | None = None) -> list[dict]:
        """Entries as JSON-ready dicts, newest last; ``path`` is a glob or an exact path;
        ``unmatched`` keeps only the requests no route answered (or, False, the others).

        ``limit`` keeps the newest ``limit`` matches, and only those are turned into views;
        without ``bodies`` the views leave out headers, body and response (cheaper to build).
        """
        with self._lock:
            items = list(self._entries)
        if limit is not None and limit <= 0:
            return []
        method = method.upper() if method else None
        chosen = []
        for e in reversed(items):
            if vendor and e.vendor != vendor:
                continue
            if account and e.account != account:
                continue
            if method and e.method.upper() != method:
                continue
            if path and not (e.path == path or fnmatchcase(e.path, path)):
                continue
            if unmatched is not None and e.unmatched != unmatched:
                continue
            chosen.append(e)
            if limit is not None and len(chosen) >= limit:
                break
        return [e.view(bodies) for e in reversed(chosen)]

    def body_bytes_held(self) -> int:
        """How many body bytes the journal holds now."""
        return self._held

    def clear(self) -> None:
        """Drop every entry; numbering starts again at 1 (a reset test sees the same ``seq``)."""
        with self._lock:
            self._entries.clear()
            self._holding.clear()
            self._held = 0
            self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)


def lint_summary(entries: list[dict], kind: str | None = None) -> dict:
    """Notes of journal entries, per vendor, endpoint (method and route), field and kind.

    ``{"total": n, "kinds": {kind: n}, "vendors": {v: {"POST /route": {field: {"count",
    "kinds": {kind: n}, "rules", "examples"}}}}}``; ``kind`` keeps the notes of one kind.
    """
    vendors: dict = {}
    kinds: dict = dict.fromkeys(NOTE_KINDS, 0)
    total = 0
    for entry in entries:
        for item in entry.get("notes") or ():
            item_kind = item.get("kind")
            if kind is not None and item_kind != kind:
                continue
            total += 1
            kinds[item_kind] = kinds.get(item_kind, 0) + 1
            endpoint = f"{entry.get('method')} {entry.get('route') or entry.get('path')}"
            per_field = vendors.setdefault(entry.get("vendor"), {}).setdefault(endpoint, {})
            summary = per_field.setdefault(item.get("field"), {"count": 0, "kinds": {}, "rules": [], "examples": []})
            summary["count"] += 1
            summary["kinds"][item_kind] = summary["kinds"].get(item_kind, 0) + 1
            if item.get("rule") not in summary["rules"]:
                summary["rules"].append(item.get("rule"))
            if len(summary["examples"]) < 3:
                summary["examples"].append({"sent": item.get("sent"), "used": item.get("used"),
                                            "rule": item.get("rule"), "kind": item_kind,
                                            "request": entry.get("seq")})
    return {"total": total, "kinds": kinds, "vendors": vendors}
