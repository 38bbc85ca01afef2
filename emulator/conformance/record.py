"""``contact-emulator record``: a recording proxy in front of a real vendor.

A client (an integration, a test suite) is pointed at the proxy instead of the vendor. Each
request is forwarded to the upstream URL, the vendor's response is passed back unchanged
(status, headers, body bytes), and the exchange is written to the cassette directory as one
JSON file (:mod:`.cassette`), credentials redacted. The proxy binds to loopback only.

What the proxy answers itself, writing nothing: 413 for a request body over the cap, 502
when the vendor cannot be reached or its body is over the cap, 504 when it does not answer
within the timeout. Each of these bodies is ``{"error": "contact-emulator record: ..."}``.
"""
from __future__ import annotations

import argparse
import gzip
import json
import logging
import threading
import time
import zlib
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from .cassette import REJECTED, CassetteWriter, Payload, header_dict, query_dict

log = logging.getLogger("emulator.record")

DEFAULT_PORT = 8081
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-connection", "te", "trailer", "trailers",
              "transfer-encoding", "upgrade"}
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "accept-encoding"}
_DECODABLE = ("gzip", "deflate", "identity")


def check_upstream(url: str) -> str:
    """The upstream base URL without a trailing slash; ValueError when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL with a host (e.g. https://esputnik.com)")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r}: a base URL has no query or fragment")
    return url.rstrip("/")


def parse_upstream(text: str) -> tuple[str, str]:
    """``V=URL`` (the pytest option) -> ``(vendor, url)``; ValueError naming what is wrong."""
    from ..vendors import VENDOR_PACKAGES

    vendor, sep, url = text.partition("=")
    if not sep:
        raise ValueError(f"{text!r}: expected VENDOR=URL, e.g. esputnik=https://esputnik.com")
    if vendor not in VENDOR_PACKAGES:
        raise ValueError(f"{text!r}: unknown vendor {vendor!r}; known: {', '.join(VENDOR_PACKAGES)}")
    return vendor, check_upstream(url)


class CredentialAliases:
    """Numbers the sets of credentials a recording sees (1, 2, ...), in memory only.

    A request's credentials are its credential headers, its credential-looking query and
    body keys. A token the vendor hands out (``access_token`` in a login answer) belongs to
    the credentials of the request that got it, so a later ``Bearer <token>`` counts as them.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._numbers: dict[tuple, int] = {}
        self._tokens: dict[str, int] = {}

    def of(self, headers, query: list[tuple[str, str]], body, status: int):
        """``None`` (nothing sent), ``"rejected"`` (the vendor answered 401) or the number."""
        from ..core.journal import SECRET_HEADERS, is_secret_key

        items = sorted([("header", k.lower(), v) for k, v in headers if k.lower() in SECRET_HEADERS]
                       + [("query", k, v) for k, v in query if is_secret_key(k)]
                       + [("body", k, str(v)) for k, v in (body.items() if isinstance(body, dict) else ())
                          if is_secret_key(k)])
        if not items:
            return None
        if status == 401:
            return REJECTED
        with self._lock:
            for _, _, value in items:
                for token, number in self._tokens.items():
                    if token in value:
                        return number
            key = tuple(items)
            if key not in self._numbers:
                self._numbers[key] = len(self._numbers) + 1
            return self._numbers[key]

    def learn(self, answer, number) -> None:
        """Remember the tokens in a JSON answer (secret-looking keys) as ``number``'s."""
        from ..core.journal import is_secret_key

        if not isinstance(number, int):
            return
        stack = [answer]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                for k, v in value.items():
                    if is_secret_key(k) and isinstance(v, str) and len(v) >= 8:
                        with self._lock:
                            self._tokens[v] = number
                    else:
                        stack.append(v)
            elif isinstance(value, list):
                stack.extend(value)


class Recorder:
    """The recording proxy, a WSGI app.

    Requests under ``/<vendor>/`` lose that prefix (so an emulator base URL works); other
    paths are the vendor's own, unless ``fallback`` is given: then only ``/<vendor>/...`` is
    recorded and every other request goes to ``fallback`` (the live pytest fixture keeps its
    emulator for the other vendors and ``/_emulator/``).
    """

    def __init__(self, vendor: str, upstream: str, out, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, fallback=None):
        import requests

        from .. import __version__

        self.vendor = vendor
        self.upstream = check_upstream(upstream)
        self.writer = CassetteWriter(out, vendor)
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self.fallback = fallback
        self.aliases = CredentialAliases()
        self.source = f"recorded from {self.upstream} by contact-emulator {__version__}"
        self._local = threading.local()
        self._requests = requests

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._requests.Session()
            session.headers.clear()  # forward the client's headers, not requests' defaults
        return session

    def __call__(self, environ, start_response):
        from werkzeug.exceptions import RequestEntityTooLarge
        from werkzeug.wrappers import Request

        prefix = f"/{self.vendor}"
        path = environ.get("PATH_INFO") or "/"
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix):] or "/"
        elif self.fallback is not None:
            return self.fallback(environ, start_response)
        request = Request(environ)
        request.max_content_length = self.max_body_bytes
        try:
            body = request.get_data(cache=True)
        except RequestEntityTooLarge:
            return _error(start_response, 413, f"request body over {self.max_body_bytes} bytes: not forwarded")
        query_string = environ.get("QUERY_STRING", "")
        url = self.upstream + quote(path, safe="/:@!$&'()*+,;=~%") + (f"?{query_string}" if query_string else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        accepted = [e.strip() for e in request.headers.get("Accept-Encoding", "").split(",")]
        # Only encodings the recorder can decode for the cassette; the bytes go back as sent.
        headers["Accept-Encoding"] = ", ".join(e for e in accepted if e.split(";")[0].strip() in _DECODABLE) \
            or "identity"
        started = datetime.now(UTC)
        clock = time.perf_counter()
        try:
            upstream = self._session().request(
                request.method, url, data=body or None, headers=headers, timeout=self.timeout_s,
                allow_redirects=False, stream=True, auth=lambda r: r)  # no .netrc credentials added
            raw = upstream.raw.read(self.max_body_bytes + 1, decode_content=False)
        except self._requests.Timeout:
            return _error(start_response, 504, f"{self.upstream} did not answer within {self.timeout_s:g} s")
        except (self._requests.RequestException, OSError) as exc:
            return _error(start_response, 502, f"{self.upstream} cannot be reached ({type(exc).__name__}: {exc})")
        elapsed_ms = round((time.perf_counter() - clock) * 1000, 1)
        if len(raw) > self.max_body_bytes:
            upstream.close()
            return _error(start_response, 502, f"{self.upstream} answered a body over {self.max_body_bytes} bytes")
        upstream.raw.release_conn()  # read to its end: the connection goes back to the pool
        response_headers = [(k, v) for k, v in upstream.raw.headers.items()
                            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
        try:
            self._write(request, path, query_string, body, upstream, raw, response_headers, started, elapsed_ms)
        except Exception:  # noqa: BLE001 - the client still gets the vendor's answer
            log.exception("could not write the exchange %s %s", request.method, path)
        start_response(f"{upstream.status_code} {upstream.reason or ''}".rstrip(),
                       [*response_headers, ("Content-Length", str(len(raw)))])
        return [raw]

    def _write(self, request, path, query_string, body, upstream, raw, response_headers, started, elapsed_ms):
        from urllib.parse import parse_qsl

        content_type = request.headers.get("Content-Type")
        sent = Payload.from_bytes(body, content_type)
        decoded = _decode(raw, upstream.headers.get("Content-Encoding", ""), self.max_body_bytes)
        answer_type = upstream.headers.get("Content-Type")
        answer = Payload.from_bytes(decoded, answer_type) if decoded is not None else Payload("base64", "")
        unredacted_body = _json_or_none(body)
        credentials = self.aliases.of(request.headers.items(), parse_qsl(query_string, keep_blank_values=True),
                                      unredacted_body, upstream.status_code)
        self.aliases.learn(_json_or_none(decoded or b""), credentials)
        recorded_headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED]
        if request.headers.get("Accept-Encoding"):
            recorded_headers.append(("Accept-Encoding", request.headers["Accept-Encoding"]))
        entry = {
            "source": self.source,
            "started_at": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "elapsed_ms": elapsed_ms,
            "request": {"method": request.method, "path": path, "query": query_dict(query_string),
                        "headers": header_dict(recorded_headers), "credentials": credentials, **sent.to_dict()},
            "response": {"status": upstream.status_code, "headers": header_dict(response_headers),
                         **answer.to_dict()},
        }
        if decoded is None:
            entry["response"]["note"] = "body not decoded (unknown Content-Encoding); not kept"
        file = self.writer.write(entry)
        log.info("%s %s %s %s %.1fms -> %s", self.vendor, request.method, quote(path), upstream.status_code,
                 elapsed_ms, file.name)


def _decode(raw: bytes, encoding: str, cap: int) -> bytes | None:
    """The body without its Content-Encoding (gzip, deflate), at most ``cap`` bytes; None if unknown."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    try:
        if encoding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            decoder = zlib.decompressobj(zlib.MAX_WBITS if raw[:1] == b"\x78" else -zlib.MAX_WBITS)
        else:
            return None
        return decoder.decompress(raw, cap)
    except (zlib.error, gzip.BadGzipFile):
        return None


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _error(start_response, status: int, message: str):
    reasons = {413: "Request Entity Too Large", 502: "Bad Gateway", 504: "Gateway Timeout"}
    log.warning("%s: nothing recorded", message)
    body = json.dumps({"error": f"contact-emulator record: {message}"}).encode()
    start_response(f"{status} {reasons[status]}", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(body)))])
    return [body]


# -- pytest: the live fixture records instead of emulating ---------------------------------
def record_live_app(app, out, upstream: str, **limits) -> Recorder:
    """Put a recorder in front of ``app`` (a live fixture's emulator): requests under
    ``/<vendor>/`` go to the real vendor and are recorded, the rest stay with the emulator."""
    vendor, url = parse_upstream(upstream)
    recorder = Recorder(vendor, url, out, fallback=app.wsgi_app, **limits)
    app.wsgi_app = recorder
    return recorder


# -- command line --------------------------------------------------------------------------
def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "record", help="record a real vendor through a proxy, one JSON file per exchange",
        description="Forward every request to the real vendor, answer with its response unchanged, and write "
                    "each exchange (credentials redacted) to --out as one JSON file. Binds to 127.0.0.1.")
    parser.add_argument("--vendor", required=True, help="esputnik, octopush, dengage or pushtech")
    parser.add_argument("--upstream", required=True, metavar="URL",
                        help="the vendor's base URL, e.g. https://esputnik.com")
    parser.add_argument("--out", required=True, metavar="DIR", help="cassette directory (created; grows)")
    parser.add_argument("--port", default=str(DEFAULT_PORT), help=f"port 0–65535, 0 for any (default {DEFAULT_PORT})")
    parser.add_argument("--timeout-s", default=str(DEFAULT_TIMEOUT_S), metavar="S",
                        help=f"seconds the vendor may take to answer (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--max-body-bytes", default=str(DEFAULT_MAX_BODY_BYTES), metavar="N",
                        help="request and response body cap (default 16 MiB)")
    return parser
