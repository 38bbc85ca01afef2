"""The app factory: one Flask app serving every vendor and the emulator's own API.

Dispatch happens before Flask routes a request (:class:`Dispatch`): a request whose
``Host`` is a vendor's real API host gets the vendor's prefix, and a trailing slash is
dropped, so both spellings of a path are answered directly (never a redirect).
"""
from __future__ import annotations

import difflib
import json
import logging
import socket
import time
from urllib.parse import quote

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from .core.engine import Engine
from .core.errors import BadBody, EmulatorError, VendorError
from .core.journal import BODY_PREVIEW, Recorded, start_notes
from .core.store import StoreWriteFailed
from .core.strict_json import printable
from .http import RequestInfo
from .responses import FaultFired, apply_fault, render_vendor_error, vendor_path
from .settings import Settings

log = logging.getLogger("emulator")
request_log = logging.getLogger("emulator.requests")
"""One ``info`` line per vendor request (``serve`` shows them; ``--quiet`` turns them off)."""

ADMIN_PREFIX = "/_emulator"
HEALTH_PATH = f"{ADMIN_PREFIX}/health"

_KINDS = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


class LazyBuildRule(Rule):
    """A URL rule whose URL *builder* (for ``url_for``) is compiled on first use.

    werkzeug compiles two builders for every rule when it is added, which is most of the
    cost of building the app (about 50 rules); routing requests never needs them. This
    overrides werkzeug's private ``Rule._compile_builder`` (``pyproject.toml`` keeps werkzeug
    below 4; ``tests/core/test_routing_and_errors.py`` builds URLs through it). Without it,
    start-up to the first good request counts 920 M instructions instead of 796 M, and
    ``make bench`` measured the start-up ratio at 1.44-1.56x the minimal app instead of
    1.14-1.22x (target 1.5x), 2026-12-02.
    """

    def _compile_builder(self, append_unknown: bool = True):
        compile_now = super()._compile_builder
        slot = "_build_unknown" if append_unknown else "_build"

        def build(rule, *args, **kwargs):
            real = compile_now(append_unknown).__get__(rule, None)
            setattr(rule, slot, real)
            return real(*args, **kwargs)

        return build


class DroppedConnection(ConnectionError):
    """A fault rule asked for the connection to be dropped (seen by in-process callers)."""


class ClientTimeout(TimeoutError):
    """A delay fault outlasted the in-process caller's read time-out."""


class Dispatch:
    """WSGI middleware: route by real vendor host, accept paths with a trailing slash, and
    carry out a dropped-connection fault (which no WSGI response can express)."""

    def __init__(self, app, hosts: dict[str, tuple[str, str]]):
        self.app = app
        self.hosts = hosts  # host -> (vendor, path prefix the real host adds)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        host = (environ.get("HTTP_HOST") or "").rsplit(":", 1)[0].lower() if environ.get("HTTP_HOST") else ""
        target = self.hosts.get(host)
        if target is not None and not path.startswith(ADMIN_PREFIX):
            vendor, extra = target
            if extra and (path == extra or path.startswith(extra + "/")):
                path = path[len(extra):] or "/"
            path = f"/{vendor}{path}"
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        environ["PATH_INFO"] = path
        result = self.app(environ, start_response)
        if environ.get("emulator.drop") or environ.get("emulator.timed_out"):
            return self._cut(environ, result, start_response)
        return result

    @staticmethod
    def _cut(environ, result, start_response):
        if hasattr(result, "close"):
            result.close()
        if environ.get("emulator.intercept"):
            raise ClientTimeout("read timed out") if environ.get("emulator.timed_out") else DroppedConnection(
                "connection dropped by a fault rule")
        sock = environ.get("werkzeug.socket")
        if sock is not None:  # the werkzeug server: close without a byte of response
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise ConnectionAbortedError("connection dropped by a fault rule")

        def truncated():  # other servers: promise a body, send one byte, then fail
            yield b"{"
            raise ConnectionAbortedError("connection dropped by a fault rule")

        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "1024")])
        return truncated()


class EmulatorResponse(Response):
    """A response whose text is always UTF-8: a lone surrogate that reached the store some
    other way than a request body (an older store file, a fixture) is written as its
    escape ``\\udc80`` (valid inside a JSON string) instead of failing the read."""

    def set_data(self, value) -> None:
        if value.__class__ is str:
            try:
                value = value.encode()
            except UnicodeEncodeError:
                value = value.encode("utf-8", "backslashreplace")
        super().set_data(value)


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON output, always strict JSON: keys in the order given, text not escaped
    to ASCII, and a value JSON cannot hold (``NaN``, infinity) or one nested past reason
    written through :func:`~emulator.core.strict_json.printable` instead of failing."""

    ensure_ascii = False
    sort_keys = False

    def __init__(self, app):
        super().__init__(app)
        # one encoder for every response: json.dumps with options builds one per call
        self._compact = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                                         default=self.default)

    def dumps(self, obj, **kwargs) -> str:
        kwargs.setdefault("allow_nan", False)
        try:
            return super().dumps(obj, **kwargs)
        except (ValueError, RecursionError):
            return super().dumps(printable(obj), **kwargs)

    def response(self, *args, **kwargs) -> Response:
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        try:
            text = self._compact.encode(obj)
        except (ValueError, RecursionError):
            text = self._compact.encode(printable(obj))
        return self._app.response_class(f"{text}\n", mimetype=self.mimetype)


class EmulatorFlask(Flask):
    """Flask with strict UTF-8 JSON responses."""

    response_class = EmulatorResponse
    json_provider_class = StrictJSONProvider


def create_app(settings: Settings | dict | None = None, vendors=None) -> Flask:
    """Build the emulator app.

    ``settings``: a :class:`Settings`, a dict of its fields, or None (defaults).
    ``vendors``: the :class:`~emulator.core.vendor.VendorSpec` list to serve (default: the
    registry, narrowed by ``settings.vendors``).
    """
    settings = Settings.coerce(settings)
    if vendors is None:
        from .vendors import load_vendors

        vendors = load_vendors(settings.vendors)
    app = EmulatorFlask("emulator")
    app.url_rule_class = LazyBuildRule
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.url_map.strict_slashes = False
    engine = Engine(settings, list(vendors))
    app.extensions["emulator"] = engine
    app.emulator = engine

    from .admin.routes import build_admin

    app.register_blueprint(build_admin(engine), url_prefix=ADMIN_PREFIX)
    hosts: dict[str, tuple[str, str]] = {}
    for spec in engine.vendors.values():
        app.register_blueprint(spec.blueprint(), url_prefix=spec.prefix())
        if spec.admin_blueprint is not None:
            app.register_blueprint(spec.admin_blueprint(), url_prefix=f"{ADMIN_PREFIX}/{spec.name}")
        for host, extra in spec.hosts.items():
            hosts[host.lower()] = (spec.name, extra)
    app.wsgi_app = Dispatch(app.wsgi_app, hosts)
    _install_hooks(app, engine)
    return app


def vendor_of_path(engine: Engine, path: str):
    """The vendor spec whose prefix ``path`` is under, or None."""
    segment = path.split("/", 2)[1] if path.startswith("/") else ""
    return engine.vendors.get(segment)


def _install_hooks(app: Flask, engine: Engine) -> None:
    # The hooks run on every request: they resolve Flask's context proxies once each.
    @app.before_request
    def _start():
        req = request._get_current_object()
        info = g._get_current_object().emulator = RequestInfo(engine, req, vendor_of_path(engine, req.path),
                                                              start_notes())
        if req.path != HEALTH_PATH:  # a liveness probe reads no state: it never waits for jobs
            engine.jobs.run_due()
        if engine.faults and info.vendor is not None:
            rule = engine.faults.match(info.vendor.name, req.method, vendor_path(info.vendor, req.path))
            if rule is not None:
                return apply_fault(info, rule)
        return None

    @app.after_request
    def _journal(response: Response):
        info = getattr(g._get_current_object(), "emulator", None)
        if info is not None and info.vendor is not None:
            _record(engine, info, info.request, response)
        return response

    @app.errorhandler(VendorError)
    def _vendor_error(err: VendorError):
        return render_vendor_error(err)

    @app.errorhandler(FaultFired)
    def _fault(err: FaultFired):
        return err.response

    @app.errorhandler(StoreWriteFailed)
    def _store_failed(err: StoreWriteFailed):
        log.error("%s %s: %s", request.method, request.path, err)
        return _generic(engine, 503, str(err), "internal")

    @app.errorhandler(BadBody)
    def _bad_body(err: BadBody):
        return _generic(engine, err.status, err.message, err.kind)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        message = err.description or err.name
        if status == 404:
            message = f"no route {request.method} {request.path}"
            hint = _closest_route(app, request.path)
            if hint:
                message += f"; closest known route: {hint}"
        elif status == 405:
            allowed = sorted(err.valid_methods or []) if hasattr(err, "valid_methods") else []
            message = f"method {request.method} not allowed on {request.path}; allowed: {', '.join(allowed)}"
        elif status == 413:
            message = f"request body too large: the limit is {app.config['MAX_CONTENT_LENGTH']} bytes"
        resp = _generic(engine, status, message, _KINDS.get(status, "http_error"))
        if status == 405 and getattr(err, "valid_methods", None):
            resp.headers["Allow"] = ", ".join(sorted(err.valid_methods))
        return resp

    @app.errorhandler(Exception)
    def _bug(err: Exception):
        log.exception("unhandled error serving %s %s", request.method, request.path)
        return _generic(engine, 500, f"internal emulator error: {type(err).__name__}: {err}", "internal")


def _generic(engine: Engine, status: int, message: str, kind: str) -> Response:
    spec = vendor_of_path(engine, request.path)
    if spec is not None:
        return render_vendor_error(spec.http_error(status, message, kind))
    return render_vendor_error(EmulatorError(message, status))


def _closest_route(app: Flask, path: str) -> str | None:
    rules = sorted({r.rule for r in app.url_map.iter_rules() if r.endpoint != "static"})
    spec_prefix = "/" + path.split("/", 2)[1] if path.count("/") >= 1 else ""
    same_vendor = [r for r in rules if r.startswith(spec_prefix + "/") or r == spec_prefix]
    match = difflib.get_close_matches(path, same_vendor or rules, n=1, cutoff=0.0)
    return match[0] if match else None


def _record(engine: Engine, info: RequestInfo, req, response: Response) -> None:
    spec = info.vendor
    environ = req.environ
    prefix = spec.prefix()
    path = req.path[len(prefix):] or "/"
    rule = req.url_rule
    route = (rule.rule[len(prefix):] or "/") if rule is not None and rule.rule.startswith(prefix) else path
    body, body_size = _body_for_journal(req, engine.journal.body_bytes)
    chunks = response.response
    if chunks.__class__ is list and len(chunks) == 1 and chunks[0].__class__ is bytes:
        answer = chunks[0]  # what Flask's JSON responses hold, without get_data's generator
    else:
        answer = None if response.direct_passthrough else response.get_data()
    # CGI-style names (HTTP_API_KEY); the journal turns them into header names when read.
    # A dict of strings: the garbage collector does not track it (a list of pairs it would,
    # for as long as the journal keeps the entry).
    headers = {k: v for k, v in environ.items() if k[:5] == "HTTP_"}
    if environ.get("CONTENT_TYPE"):
        headers["CONTENT_TYPE"] = environ["CONTENT_TYPE"]
    fault = info.fault
    dropped = fault is not None and fault.get("effect") in ("drop", "timeout")
    took = time.perf_counter() - info.started
    engine.journal.record(Recorded(
        engine.clock.time(), spec.name, info.account, req.method, path, route, environ.get("QUERY_STRING", ""),
        headers, body, None if dropped else response.status_code, None if dropped else answer,
        response.mimetype == "application/json", took, info.notes, fault, body_size,
        rule is None and fault is None and response.status_code == 404))
    if request_log.isEnabledFor(logging.INFO):  # never the query string or headers: they may hold credentials
        request_log.info("%s %s %s %s %s %.1fms notes=%d", spec.name, info.account or "-", req.method,
                         quote(req.path, safe="/:@!$&'()*+,;=~"),
                         "dropped" if dropped else response.status_code, took * 1000, len(info.notes))


def _body_for_journal(req, limit: int) -> tuple[bytes | None, int | None]:
    """(the request body or its first bytes, its length): a body over the journal's
    per-entry budget that the route did not read is not read whole for the journal."""
    length = req.environ.get("CONTENT_LENGTH")
    length = int(length) if length and length.isdigit() else None
    if length is not None and length > limit and getattr(req, "_cached_data", None) is None:
        try:
            return req.stream.read(min(limit, BODY_PREVIEW)), length
        except (HTTPException, OSError):
            return None, length
    try:
        return req.get_data(cache=True), None
    except HTTPException:
        return None, length
