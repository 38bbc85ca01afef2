"""Outbound HTTP calls (webhook deliveries, upload fetches) with a total deadline per call.

``requests`` times out per socket operation, so a peer that sends one byte every two
seconds keeps a call going for ever; here a watchdog shuts the socket down when the call's
deadline passes, whatever phase it is in (connecting, sending, waiting for the answer,
reading the body). Redirects are followed by hand, so every hop is checked.

A target under the emulator's own admin API (``/_emulator/...``) is refused, whatever the
host: the emulator cannot know every name it is reached by (a CI service alias, a mapped
vendor host), and no receiver of a vendor's webhook lives there. Calls are made directly,
without the proxy settings of the environment.
"""
from __future__ import annotations

import base64
import http.client
import posixpath
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from .journal import redact

ADMIN_PREFIX = "/_emulator"
MAX_REDIRECTS = 5


class OutboundFailed(Exception):
    """The call got no complete answer. ``reason``: ``refused`` (an admin-API target),
    ``deadline``, ``too_large``, ``unreachable`` or ``bad_url``."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def admin_target(url: str) -> bool:
    """True when ``url`` points at the emulator's admin API (``/_emulator`` or below), after
    percent-decoding, merging slashes and resolving ``.`` and ``..`` as a server would."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return False
    path = unquote(path)
    while "//" in path:
        path = path.replace("//", "/")
    path = posixpath.normpath("/" + path.lstrip("/")) if path else "/"
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


_refusals: list[str] = []


@contextmanager
def refused(reason: str):
    """Every call started while the block runs fails at once (``refused``, saying ``reason``):
    ``verify`` replays a cassette so, as its webhook and upload URLs are the recording's
    real ones."""
    _refusals.append(reason)
    try:
        yield
    finally:
        _refusals.remove(reason)


def call(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
         deadline_s: float, max_bytes: int | None = None, keep_bytes: int | None = None) -> Answer:
    """Make the request and read the whole answer within ``deadline_s`` seconds in all.

    An answer longer than ``max_bytes`` fails the call (``too_large``); ``keep_bytes`` keeps
    only the start of the answer and stops reading there. ``user:password@`` in the URL is
    sent as Basic auth. Raises :class:`OutboundFailed`.
    """
    if _refusals:
        raise OutboundFailed("refused", f"{_refusals[-1]} ({redact(url)})")
    end = time.monotonic() + deadline_s
    headers = dict(headers or {})
    first_host = None
    for _ in range(MAX_REDIRECTS + 1):
        parts = _target(url)
        if first_host is None:
            first_host = parts.hostname
        elif parts.hostname != first_host:  # as requests does: credentials stay with their host
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        answer, location = _one(method, url, parts, body, headers, end, deadline_s, max_bytes, keep_bytes)
        if location is None:
            return answer
        url = urljoin(url, location)
        if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    raise OutboundFailed("unreachable", f"more than {MAX_REDIRECTS} redirects")


def _target(url: str):
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise OutboundFailed("bad_url", f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundFailed("bad_url", "not an http or https URL")
    if admin_target(url):
        raise OutboundFailed("refused", f"{redact(url)} is the emulator's own admin API: not called")
    return parts


def _one(method, url, parts, body, headers, end, deadline_s, max_bytes, keep_bytes):
    """One request/answer exchange; returns (answer, redirect location or None)."""
    remaining = end - time.monotonic()
    if remaining <= 0:
        raise _late(deadline_s)
    if parts.scheme == "https":
        import ssl

        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=remaining,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=remaining)
    expired = threading.Event()

    def expire():
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(remaining, expire)
    watchdog.daemon = True
    watchdog.start()
    send = dict(headers)
    if parts.username is not None and not any(k.lower() == "authorization" for k in send):
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        send["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, path, body=body, headers=send)
        resp = conn.getresponse()
        if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
            return Answer(resp.status, b""), resp.getheader("Location")
        chunks, size = [], 0
        while True:
            chunk = resp.read(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if max_bytes and size > max_bytes:
                raise OutboundFailed("too_large", f"the answer is larger than the {max_bytes}-byte cap")
            chunks.append(chunk)
            if keep_bytes is not None and size >= keep_bytes:
                break
        if expired.is_set():
            raise _late(deadline_s)
        return Answer(resp.status, b"".join(chunks)), None
    except OutboundFailed:
        raise
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise _late(deadline_s) from None
        raise OutboundFailed("unreachable", f"ConnectionError: {exc}"[:300]) from None
    finally:
        watchdog.cancel()
        conn.close()


def _late(deadline_s: float) -> OutboundFailed:
    return OutboundFailed("deadline", f"Timeout: no complete answer within the {deadline_s:g} s deadline")
