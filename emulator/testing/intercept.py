"""In-process interception: ``requests`` and ``httpx`` calls to the vendors' real hosts go
straight into the emulator's WSGI app: no socket, no port, no thread.

Only the transport is replaced, and only for the duration:

* ``requests``: ``HTTPAdapter.send``, the adapter's one sending method (what the
  ``responses`` library patches). Module-level ``requests.post(...)``, new sessions and
  sessions made before interception started all send through it.
* ``httpx``: the default transports' sending methods, ``HTTPTransport.handle_request`` and
  ``AsyncHTTPTransport.handle_async_request`` (the transports every ``httpx.Client``,
  ``httpx.AsyncClient`` and module-level ``httpx.post`` sends through, clients made before
  included), hand a vendor host's request to an :class:`EmulatorTransport`. A client given a
  transport of its own (``transport=``, ``mounts=``, not an ``HTTPTransport``) is not touched.
  httpx is optional: without it only ``requests`` is intercepted. The emulator's transports
  are public: mount them yourself with ``httpx.Client(mounts=intercept(...).httpx_mounts())``.

Every other host passes through untouched, or with ``strict=True`` raises
:class:`UnexpectedHost` naming it (``passthrough`` names hosts still let through).
"""
from __future__ import annotations

import contextlib
import functools
import sys
import threading
from io import BytesIO
from urllib.parse import unquote_to_bytes, urlsplit

from .handle import EmulatorHandle


class UnexpectedHost(ConnectionError):
    """A request to a host the emulator does not serve, while interception is strict.

    Raised as a subclass that is also the client's own connection error
    (``requests.ConnectionError``, ``httpx.ConnectError``), so code that handles network
    failures handles it too."""

    def __init__(self, message: str, *, request=None):
        super().__init__(message)
        self.request = request


_patch_lock = threading.Lock()


class intercept(contextlib.ContextDecorator):  # noqa: N801 - used like a function
    """Route ``requests`` and ``httpx`` calls for real vendor hosts into an emulator app.

    ``with intercept() as emulator:`` (or ``@intercept()``) builds an app from ``settings``
    (default fixture ``default``, seed 0) unless ``app`` is given; the handle offers the same
    API as the live ``contact_emulator`` fixture. Extra ``hosts`` (``{"crm.test": "pushtech"}``)
    route more host names to a vendor. ``strict=True`` refuses every other host (default:
    they pass through), except those in ``passthrough``.
    """

    def __init__(self, app=None, *, strict: bool = False, settings: dict | None = None,
                 hosts: dict[str, str] | None = None, passthrough=(), handle: EmulatorHandle | None = None):
        if isinstance(passthrough, str):
            passthrough = [passthrough]
        self._app = app
        self.strict = bool(strict)
        self.settings = settings
        self.extra_hosts = {h.lower(): v for h, v in (hosts or {}).items()}
        self.passthrough = {h.lower() for h in passthrough}
        self.handle: EmulatorHandle | None = handle
        self._undo: list = []

    # -- set-up ----------------------------------------------------------------------
    def _prepare(self):
        if self._app is None:
            from .. import create_app

            self._app = create_app(self.settings or {"fixture": "default"})
        engine = self._app.extensions["emulator"]
        unknown = {v for v in self.extra_hosts.values() if v not in engine.vendors}
        if unknown:
            from .handle import BadArgument

            raise BadArgument(f"hosts: {', '.join(sorted(unknown))} not served; served: "
                              f"{', '.join(sorted(engine.vendors))}")
        self.hosts = {host.lower() for spec in engine.vendors.values() for host in spec.hosts} | set(self.extra_hosts)
        return self._app

    def _refusal(self, host: str, method: str, url: str) -> str:
        return (f"request to {host!r} ({method} {url}) while only the emulated vendor hosts are allowed: "
                f"{', '.join(sorted(self.hosts))}")

    def _refused(self, host: str) -> bool:
        return self.strict and host not in self.passthrough

    def __enter__(self) -> EmulatorHandle:
        app = self._prepare()
        with _patch_lock:
            self._undo = [self._patch_requests(app)]
            httpx = _httpx()
            if httpx is not None:
                self._undo.append(self._patch_httpx(httpx, app))
        if self.handle is None:
            self.handle = EmulatorHandle(app)
        return self.handle

    def __exit__(self, *exc) -> None:
        with _patch_lock:
            while self._undo:
                self._undo.pop()()

    @property
    def app(self):
        return self._app

    # -- requests --------------------------------------------------------------------
    def _patch_requests(self, app):
        import requests.adapters

        original = requests.adapters.HTTPAdapter.send
        hosts, rewrite = self.hosts, self.extra_hosts
        refused_error = _requests_unexpected_host()

        @functools.lru_cache(maxsize=1024)
        def host_of(url: str) -> str:
            return (urlsplit(url).hostname or "").lower()

        @functools.wraps(original)
        def send(adapter, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
            host = host_of(request.url)
            if host in hosts:
                return _requests_call(app, adapter, request, timeout, rewrite.get(host))
            if self._refused(host):
                raise refused_error(self._refusal(host, request.method, request.url), request=request)
            return original(adapter, request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                            proxies=proxies)

        requests.adapters.HTTPAdapter.send = send

        def undo():
            requests.adapters.HTTPAdapter.send = original

        return undo

    # -- httpx -----------------------------------------------------------------------
    def httpx_mounts(self) -> dict:
        """``{"all://<host>": EmulatorTransport}`` for every vendor host: pass as a client's
        ``mounts`` to send that client's vendor calls into the app without patching."""
        app = self._prepare()
        if _httpx() is None:
            raise RuntimeError("httpx_mounts() needs httpx, which is not installed")
        transport = _httpx_transports()["EmulatorTransport"]
        return {f"all://{host}": transport(app, self.extra_hosts.get(host)) for host in sorted(self.hosts)}

    def _patch_httpx(self, httpx, app):
        sync_send = httpx.HTTPTransport.handle_request
        async_send = httpx.AsyncHTTPTransport.handle_async_request
        hosts, rewrite = self.hosts, self.extra_hosts
        kinds = _httpx_transports()
        emulators = {h: kinds["EmulatorTransport"](app, rewrite.get(h)) for h in hosts}
        async_emulators = {h: kinds["AsyncEmulatorTransport"](app, rewrite.get(h)) for h in hosts}
        refused_error = _httpx_unexpected_host()

        def refuse_unless_allowed(request):
            host = request.url.host  # httpx gives it lower-cased
            if self._refused(host):
                raise refused_error(self._refusal(host, request.method, str(request.url)), request=request)

        @functools.wraps(sync_send)
        def handle_request(transport, request):
            emulator = emulators.get(request.url.host)
            if emulator is not None:
                return emulator.handle_request(request)
            refuse_unless_allowed(request)
            return sync_send(transport, request)

        @functools.wraps(async_send)
        async def handle_async_request(transport, request):
            emulator = async_emulators.get(request.url.host)
            if emulator is not None:
                return await emulator.handle_async_request(request)
            refuse_unless_allowed(request)
            return await async_send(transport, request)

        httpx.HTTPTransport.handle_request = handle_request
        httpx.AsyncHTTPTransport.handle_async_request = handle_async_request

        def undo():
            httpx.HTTPTransport.handle_request = sync_send
            httpx.AsyncHTTPTransport.handle_async_request = async_send

        return undo


def _httpx():
    """httpx, imported if installed (it is optional), else None."""
    try:
        import httpx
    except ImportError:
        return None
    return httpx


@functools.cache
def _requests_unexpected_host():
    import requests

    class RequestsUnexpectedHost(UnexpectedHost, requests.ConnectionError):
        def __init__(self, message: str, *, request=None):
            UnexpectedHost.__init__(self, message, request=request)
            self.response = None

    return RequestsUnexpectedHost


@functools.cache
def _httpx_unexpected_host():
    import httpx

    class HttpxUnexpectedHost(UnexpectedHost, httpx.ConnectError):
        pass  # ``request`` goes through httpx's public ``request`` setter

    return HttpxUnexpectedHost


# -- calling the app -------------------------------------------------------------------
def wsgi_environ(method: str, scheme: str, netloc: str, hostname: str, port: int | None, path: str, query: str,
                 headers, body: bytes, timeout: float | None, vendor_prefix: str | None) -> dict:
    """A PEP 3333 environ for one intercepted request (built directly: it is the hot path of
    every in-process call). ``headers``: (name, value) pairs as sent."""
    path = path or "/"
    if vendor_prefix:
        path = f"/{vendor_prefix}{path}"
    https = scheme == "https"
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": hostname or "localhost",
        "SERVER_PORT": str(port or (443 if https else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme or "http",
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": netloc,
        "emulator.intercept": True,
        "emulator.timeout": timeout,
    }
    for key, value in headers:
        name = key.upper().replace("-", "_")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif name not in ("CONTENT_LENGTH", "HOST"):
            environ[f"HTTP_{name}"] = value
    return environ


def run_wsgi(app, environ) -> tuple[str, list, bytes]:
    """(status line, headers, body) of the app's answer. A fault's dropped connection or
    time-out raises the app's ``DroppedConnection`` / ``ClientTimeout``."""
    captured: list = []

    def start_response(status, headers, exc_info=None):
        captured[:] = [status, headers]

    app_iter = app(environ, start_response)
    try:
        content = b"".join(app_iter)
    finally:
        if hasattr(app_iter, "close"):
            app_iter.close()
    return captured[0], captured[1], content


def _read_timeout(timeout) -> float | None:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return float(timeout) if timeout is not None else None


def _requests_call(app, adapter, request, timeout, vendor_prefix: str | None):
    import collections

    import requests
    from requests.structures import CaseInsensitiveDict

    from ..app import ClientTimeout, DroppedConnection

    parts = urlsplit(request.url)
    body = request.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = b"".join(body)  # a generator or file-like body
    headers = request.headers
    # requests' CaseInsensitiveDict keeps (name as sent, value) pairs in ``_store``; reading
    # them there skips the slow generic Mapping iteration on this hot path.
    store = getattr(headers, "_store", None)
    pairs = store.values() if type(store) is collections.OrderedDict else headers.items()
    environ = wsgi_environ(request.method, parts.scheme, parts.netloc, parts.hostname, parts.port, parts.path,
                           parts.query, pairs, body, _read_timeout(timeout), vendor_prefix)
    try:
        status, header_list, content = run_wsgi(app, environ)
    except DroppedConnection as exc:
        raise requests.ConnectionError(str(exc), request=request) from None
    except ClientTimeout as exc:
        raise requests.ReadTimeout(str(exc), request=request) from None
    response = requests.Response()
    response.status_code = int(status.split(" ", 1)[0])
    response.reason = status.split(" ", 1)[1] if " " in status else ""
    response.headers = CaseInsensitiveDict(header_list)
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    response.raw = BytesIO(content)
    response._content = content
    response._content_consumed = True
    response.url = request.url
    response.request = request
    response.connection = adapter
    return response


def _httpx_environ(request, body: bytes, vendor_prefix: str | None) -> dict:
    url = request.url
    timeout = (request.extensions.get("timeout") or {}).get("read")
    query = url.query.decode("ascii", "replace") if isinstance(url.query, bytes) else url.query
    netloc = url.netloc.decode("ascii") if isinstance(url.netloc, bytes) else url.netloc
    return wsgi_environ(request.method, url.scheme, netloc, url.host, url.port, url.raw_path.split(b"?", 1)[0]
                        .decode("latin-1"), query, request.headers.multi_items(), body, timeout, vendor_prefix)


def _httpx_response(httpx, request, answer) -> object:
    status, header_list, content = answer
    code, _, reason = status.partition(" ")
    return httpx.Response(int(code), headers=header_list, content=content, request=request,
                          extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode("latin-1")})


def _httpx_error(httpx, exc, request):
    from ..app import DroppedConnection

    if isinstance(exc, DroppedConnection):  # what httpx says when a server closes without answering
        return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    return httpx.ReadTimeout("The read operation timed out", request=request)


@functools.cache
def _httpx_transports() -> dict:
    """The httpx transport classes, made on first use (httpx is optional, and they subclass
    its transport bases)."""
    import anyio.to_thread
    import httpx

    from ..app import ClientTimeout, DroppedConnection

    class EmulatorTransport(httpx.BaseTransport):
        """An ``httpx`` transport that answers from the emulator app (no socket).

        A delay fault longer than the request's read time-out raises ``httpx.ReadTimeout``, a
        dropped connection ``httpx.RemoteProtocolError``: what a live server makes httpx raise."""

        def __init__(self, app, vendor_prefix: str | None = None):
            self.app, self.vendor_prefix = app, vendor_prefix

        def handle_request(self, request):
            environ = _httpx_environ(request, request.read(), self.vendor_prefix)
            try:
                answer = run_wsgi(self.app, environ)
            except (DroppedConnection, ClientTimeout) as exc:
                raise _httpx_error(httpx, exc, request) from None
            return _httpx_response(httpx, request, answer)

    class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
        """The ``httpx.AsyncClient`` twin of ``EmulatorTransport``: the app runs in a worker
        thread (anyio's, as httpx uses anyio), so a delay fault does not block the event loop."""

        def __init__(self, app, vendor_prefix: str | None = None):
            self.app, self.vendor_prefix = app, vendor_prefix

        async def handle_async_request(self, request):
            environ = _httpx_environ(request, await request.aread(), self.vendor_prefix)
            try:
                answer = await anyio.to_thread.run_sync(run_wsgi, self.app, environ)
            except (DroppedConnection, ClientTimeout) as exc:
                raise _httpx_error(httpx, exc, request) from None
            return _httpx_response(httpx, request, answer)

    return {"EmulatorTransport": EmulatorTransport, "AsyncEmulatorTransport": AsyncEmulatorTransport}


def __getattr__(name: str):
    """``EmulatorTransport`` and ``AsyncEmulatorTransport``, made when first imported."""
    if name in ("EmulatorTransport", "AsyncEmulatorTransport"):
        if _httpx() is None:
            raise ImportError(f"{name} needs httpx, which is not installed")
        return _httpx_transports()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
