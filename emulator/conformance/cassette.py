"""The cassette: a directory of recorded exchanges with one vendor, one JSON file each.

A file (``000001.json`` when recorded; any ``*.json`` name when written by hand)::

    {"format": "contact-emulator-cassette/1",
     "vendor": "pushtech",
     "seq": 1,                                    # replay order, unique in the directory
     "source": "recorded from https://api.eu.cendyncrm.com by contact-emulator 0.1.0",
     "started_at": "2026-12-01T10:00:00.000Z",   # optional: when the request was sent
     "elapsed_ms": 182.4,                         # optional: how long the vendor took
     "request": {"method": "POST", "path": "/v2/account/acme/contact",
                 "query": {"limit": "10"},       # a list for a repeated parameter
                 "headers": {"Authorization": "***", "Content-Type": "application/json"},
                 "credentials": 1,                # see below
                 "body": {...}},                  # or "text": "...", or "base64": "...", or nothing
     "response": {"status": 201, "headers": {...}, "body": {...}}}

``credentials`` says who the request spoke for, never what the secret was: ``null`` (none
sent), ``"rejected"`` (sent, and the vendor answered 401), or ``1``, ``2``, ... (the first,
second, ... set of credentials seen in the recording). Left out of a hand-written file, it
is read from the request: a credential header or a secret-looking body key counts as ``1``,
or ``"rejected"`` when the answer was 401.

Credentials are redacted with the journal's rules (:func:`emulator.core.journal.redact`,
:func:`~emulator.core.journal.redact_headers`): the files never hold one.
"""
from __future__ import annotations

import base64
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ..core.journal import SECRET_HEADERS, is_secret_key, redact, redact_headers, redact_text
from ..core.strict_json import json_type

FORMAT = "contact-emulator-cassette/1"
REJECTED = "rejected"
_METHOD = re.compile(r"^[A-Z]+$")


class CassetteError(ValueError):
    """Bad input to verify or record: the file (or directory, or flag) and what is wrong with it."""

    def __init__(self, where: str | os.PathLike, problem: str):
        super().__init__(f"{os.fspath(where)}: {problem}")
        self.where, self.problem = os.fspath(where), problem


@dataclass
class Payload:
    """A request or response body as the cassette keeps it."""

    kind: str = "none"
    """``none`` (no body), ``json``, ``text`` or ``base64``."""
    value: Any = None

    def to_bytes(self) -> bytes:
        if self.kind == "none":
            return b""
        if self.kind == "json":
            return json.dumps(self.value, ensure_ascii=False).encode("utf-8")
        if self.kind == "text":
            return self.value.encode("utf-8")
        return base64.b64decode(self.value)

    def to_dict(self) -> dict:
        return {} if self.kind == "none" else {{"json": "body"}.get(self.kind, self.kind): self.value}

    @classmethod
    def from_bytes(cls, raw: bytes, content_type: str | None = None, *, redacted: bool = True) -> Payload:
        """The body of a message (``redacted`` unless told): JSON when it parses as JSON, else
        text, else base64."""
        scrub, scrub_text = (redact, redact_text) if redacted else (_same, _same)
        if not raw:
            return cls()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return cls("base64", base64.b64encode(raw).decode("ascii"))
        if text.lstrip()[:1] in ("{", "[", '"') or "json" in (content_type or ""):
            try:
                return cls("json", scrub(json.loads(text)))
            except (ValueError, RecursionError):
                pass
        return cls("text", scrub_text(text))  # form pairs and URL passwords masked too

    @classmethod
    def from_message(cls, message: dict, where: str) -> Payload:
        present = [k for k in ("body", "text", "base64") if k in message]
        if len(present) > 1:
            raise ValueError(f"{where}: holds both {present[0]!r} and {present[1]!r}; one body at most")
        if not present:
            return cls()
        key = present[0]
        value = message[key]
        if key == "body":
            return cls("json", value)
        if not isinstance(value, str):
            raise ValueError(f"{where}.{key}: must be a string")
        if key == "base64":
            try:
                base64.b64decode(value, validate=True)
            except ValueError:
                raise ValueError(f"{where}.base64: not base64") from None
        return cls(key, value)


@dataclass
class Exchange:
    """One recorded request and the vendor's answer."""

    file: Path
    vendor: str
    seq: int
    method: str
    path: str
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    credentials: int | str | None = None
    body: Payload = field(default_factory=Payload)
    status: int = 200
    response_headers: dict = field(default_factory=dict)
    response: Payload = field(default_factory=Payload)
    source: str | None = None
    started_at: str | None = None
    elapsed_ms: float | None = None

    @property
    def name(self) -> str:
        return self.file.name

    @classmethod
    def from_dict(cls, data: Any, file: Path) -> Exchange:
        """Check one file's content; a ValueError names the key that is wrong."""
        from ..core.clock import parse_instant
        from ..vendors import VENDOR_PACKAGES

        if not isinstance(data, dict):
            raise ValueError(f"must hold a JSON object, not {json_type(data)}")
        if data.get("format") != FORMAT:
            raise ValueError(f"format: must be {FORMAT!r} (not a cassette exchange?), got {data.get('format')!r}")
        vendor = data.get("vendor")
        if vendor not in VENDOR_PACKAGES:
            raise ValueError(f"vendor: must be one of {', '.join(VENDOR_PACKAGES)}, got {vendor!r}")
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError(f"seq: must be an integer ≥ 1, got {seq!r}")
        for key in ("source", "started_at"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"{key}: must be a string")
        if data.get("started_at") is not None:
            try:
                parse_instant(data["started_at"])
            except ValueError:
                raise ValueError(f"started_at: not an ISO 8601 time: {data['started_at']!r}") from None
        elapsed = data.get("elapsed_ms")
        if elapsed is not None and (not isinstance(elapsed, (int, float)) or isinstance(elapsed, bool)):
            raise ValueError("elapsed_ms: must be a number")
        request, response = data.get("request"), data.get("response")
        if not isinstance(request, dict):
            raise ValueError("request: must be an object")
        if not isinstance(response, dict):
            raise ValueError("response: must be an object")
        method, path = request.get("method"), request.get("path")
        if not isinstance(method, str) or not _METHOD.match(method):
            raise ValueError(f"request.method: must be an upper-case HTTP method, got {method!r}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"request.path: must be a string starting with '/', got {path!r}")
        query = request.get("query") or {}
        if not isinstance(query, dict) or not all(
                isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
                for v in query.values()):
            raise ValueError("request.query: must be an object of strings (a list of strings for a repeated key)")
        headers = _headers(request.get("headers"), "request.headers")
        response_headers = _headers(response.get("headers"), "response.headers")
        status = response.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ValueError(f"response.status: must be an integer 100–599, got {status!r}")
        body = Payload.from_message(request, "request")
        answer = Payload.from_message(response, "response")
        if "credentials" in request:
            credentials = request["credentials"]
            if not (credentials is None or credentials == REJECTED or (
                    isinstance(credentials, int) and not isinstance(credentials, bool) and credentials >= 1)):
                raise ValueError(f"request.credentials: must be null, {REJECTED!r} or an integer ≥ 1, "
                                 f"got {credentials!r}")
        else:
            credentials = _inferred_credentials(headers, body, status)
        return cls(file=file, vendor=vendor, seq=seq, method=method, path=path, query=dict(query),
                   headers=headers, credentials=credentials, body=body, status=status,
                   response_headers=response_headers, response=answer, source=data.get("source"),
                   started_at=data.get("started_at"), elapsed_ms=elapsed)

    def to_dict(self) -> dict:
        out: dict = {"format": FORMAT, "vendor": self.vendor, "seq": self.seq}
        for key in ("source", "started_at", "elapsed_ms"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["request"] = {"method": self.method, "path": self.path, "query": self.query, "headers": self.headers,
                          "credentials": self.credentials, **self.body.to_dict()}
        out["response"] = {"status": self.status, "headers": self.response_headers, **self.response.to_dict()}
        return out


def _same(value: Any) -> Any:
    return value


def _headers(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{where}: must be an object of strings")
    return dict(value)


def _inferred_credentials(headers: dict, body: Payload, status: int):
    sent = any(k.lower() in SECRET_HEADERS for k in headers) or (
        body.kind == "json" and isinstance(body.value, dict)
        and any(is_secret_key(k) for k in body.value))
    if not sent:
        return None
    return REJECTED if status == 401 else 1


def query_dict(query_string: str) -> dict:
    """``a=1&b=2&b=3`` -> ``{"a": "1", "b": ["2", "3"]}``, credential-looking keys redacted."""
    out: dict = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return redact(out)


def header_dict(pairs) -> dict:
    """Headers as one dict, repeated ones joined with ``, ``, credentials redacted."""
    out: dict = {}
    for key, value in pairs:
        out[key] = f"{out[key]}, {value}" if key in out else value
    return redact_headers(out)


def read_cassette(directory: str | os.PathLike, vendor: str | None = None) -> list[Exchange]:
    """The exchanges of a cassette directory in replay order (``seq``).

    Raises :class:`CassetteError` naming the directory or file and the problem: missing or
    unreadable, not JSON, not an exchange, of another vendor (than ``vendor``, or than the
    directory's other files), or a ``seq`` used twice.
    """
    root = Path(directory)
    if not root.exists():
        raise CassetteError(root, "no such directory")
    if not root.is_dir():
        raise CassetteError(root, "not a directory")
    try:
        files = sorted(p for p in root.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
    except OSError as exc:
        raise CassetteError(root, f"cannot be read ({exc.strerror or exc})") from None
    if not files:
        raise CassetteError(root, "holds no exchange (no *.json file)")
    exchanges: list[Exchange] = []
    seen: dict[int, Path] = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise CassetteError(path, "not UTF-8 text") from None
        except OSError as exc:
            raise CassetteError(path, f"cannot be read ({exc.strerror or exc})") from None
        except ValueError as exc:
            raise CassetteError(path, f"not valid JSON ({exc})") from None
        try:
            exchange = Exchange.from_dict(data, path)
        except ValueError as exc:
            raise CassetteError(path, str(exc)) from None
        wanted = vendor or (exchanges[0].vendor if exchanges else None)
        if wanted is not None and exchange.vendor != wanted:
            whose = f"--vendor is {vendor}" if vendor else f"{exchanges[0].name} is {wanted} (one vendor per cassette)"
            raise CassetteError(path, f"an exchange with {exchange.vendor}, but {whose}")
        if exchange.seq in seen:
            raise CassetteError(path, f"seq {exchange.seq} is also {seen[exchange.seq].name}")
        seen[exchange.seq] = path
        exchanges.append(exchange)
    exchanges.sort(key=lambda e: e.seq)
    return exchanges


class CassetteWriter:
    """Writes recorded exchanges as ``000001.json``, ``000002.json``, ... into a directory.

    Sequence numbers continue after the files already there (a cassette of the same vendor
    grows); each number is claimed with an exclusive create, so two processes recording into
    one directory never overwrite each other's files.
    """

    def __init__(self, directory: str | os.PathLike, vendor: str):
        self.root = Path(directory)
        self.vendor = vendor
        self._lock = threading.Lock()
        if self.root.exists() and not self.root.is_dir():
            raise CassetteError(self.root, "exists and is not a directory")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CassetteError(self.root, f"cannot be created ({exc.strerror or exc})") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise CassetteError(self.root, "is not writable")
        self._next = 1
        for path in sorted(self.root.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("format") == FORMAT:
                if data.get("vendor") != vendor:
                    raise CassetteError(self.root, f"holds exchanges with {data.get('vendor')} ({path.name}); "
                                                   f"record {vendor} into another directory")
                if isinstance(data.get("seq"), int):
                    self._next = max(self._next, data["seq"] + 1)

    def write(self, entry: dict) -> Path:
        """Give ``entry`` the next sequence number and write it; returns the file."""
        with self._lock:
            while True:
                seq = self._next
                self._next += 1
                path = self.root / f"{seq:06d}.json"
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    continue
                break
        data = {"format": FORMAT, "vendor": self.vendor, "seq": seq, **entry}
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
        return path
