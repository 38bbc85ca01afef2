"""In-process interception: ``requests`` calls to the vendors' real hosts go straight
into the emulator's WSGI app: no socket, no port, no thread.

It patches ``requests.adapters.HTTPAdapter.send`` for the duration, so module-level
``requests.post(...)``, new ``Session`` objects and sessions created *before* interception
started are all covered. Any other host passes through untouched, or with ``strict=True``
raises :class:`UnexpectedHost` naming it.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import sys
import threading
from io import BytesIO
from urllib.parse import unquote_to_bytes, urlsplit

from .handle import EmulatorHandle


class UnexpectedHost(ConnectionError):
    """A request to a host the emulator does not serve, while interception is strict."""


_patch_lock = threading.Lock()


class intercept(contextlib.ContextDecorator):  # noqa: N801 - used like a function
    """Route ``requests`` calls for real vendor hosts into an emulator app.

    ``with intercept() as emulator:`` (or ``@intercept()``) builds an app from ``settings``
    (default fixture ``default``, seed 0) unless ``app`` is given; the handle offers the same
    API as the live ``contact_emulator`` fixture. Extra ``hosts`` (``{"crm.test": "pushtech"}``)
    route more host names to a vendor.
    """

    def __init__(self, app=None, *, strict: bool = False, settings: dict | None = None,
                 hosts: dict[str, str] | None = None):
        self._app = app
        self.strict = strict
        self.settings = settings
        self.extra_hosts = dict(hosts or {})
        self.handle: EmulatorHandle | None = None
        self._original = None

    def __enter__(self) -> EmulatorHandle:
        import requests.adapters
        import requests.sessions

        if self._app is None:
            from .. import create_app

            self._app = create_app(self.settings or {"fixture": "default"})
        engine = self._app.extensions["emulator"]
        hosts = {host.lower() for spec in engine.vendors.values() for host in spec.hosts}
        hosts |= {h.lower() for h in self.extra_hosts}
        rewrite = {h.lower(): v for h, v in self.extra_hosts.items()}
        app, strict = self._app, self.strict
        with _patch_lock:
            original = self._original = requests.adapters.HTTPAdapter.send
            self._original_env = (requests.sessions.Session.merge_environment_settings,
                                  requests.sessions.resolve_proxies, requests.sessions.get_netrc_auth)
            merge_env, resolve_proxies, netrc_auth = self._original_env
            netrc_by_host: dict = {}

            @functools.lru_cache(maxsize=1024)
            def intercepted(url: str) -> bool:
                return (urlsplit(url).hostname or "").lower() in hosts

            # .netrc is read once per host while interception lasts (it may hold the vendor's
            # Basic auth credentials, so it is still honoured).
            def get_netrc_auth(url, raise_errors=False):
                if not intercepted(url):
                    return netrc_auth(url, raise_errors)
                host = urlsplit(url).hostname
                if host not in netrc_by_host:
                    netrc_by_host[host] = netrc_auth(url, raise_errors)
                return netrc_by_host[host]

            # No connection is made for an intercepted host, so the proxy and certificate
            # settings requests reads from the environment on every call do not apply.
            def merge_environment_settings(session, url, proxies, stream, verify, cert):
                if intercepted(url):
                    merge = requests.sessions.merge_setting
                    merged_proxies = merge(proxies, session.proxies) if proxies or session.proxies else {}
                    return {"proxies": merged_proxies, "stream": merge(stream, session.stream),
                            "verify": merge(verify, session.verify), "cert": merge(cert, session.cert)}
                return merge_env(session, url, proxies, stream, verify, cert)

            def resolve_intercepted_proxies(request, proxies, trust_env=True):
                if intercepted(request.url):
                    return dict(proxies or {})
                return resolve_proxies(request, proxies, trust_env)

            self._key_val_modules = _install_key_val_fast_path()
            requests.sessions.Session.merge_environment_settings = merge_environment_settings
            requests.sessions.resolve_proxies = resolve_intercepted_proxies
            requests.sessions.get_netrc_auth = get_netrc_auth

            @functools.wraps(original)
            def send(adapter, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
                if intercepted(request.url):
                    prefix = rewrite.get((urlsplit(request.url).hostname or "").lower()) if rewrite else None
                    return _call_app(app, adapter, request, timeout, prefix)
                if strict:
                    host = (urlsplit(request.url).hostname or "").lower()
                    raise UnexpectedHost(f"request to {host!r} ({request.method} {request.url}) while only the "
                                         f"emulated vendor hosts are allowed: {', '.join(sorted(hosts))}")
                return original(adapter, request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                                proxies=proxies)

            requests.adapters.HTTPAdapter.send = send
        self.handle = EmulatorHandle(self._app)
        return self.handle

    def __exit__(self, *exc) -> None:
        import requests.adapters
        import requests.sessions

        with _patch_lock:
            if self._original is not None:
                requests.adapters.HTTPAdapter.send = self._original
                (requests.sessions.Session.merge_environment_settings,
                 requests.sessions.resolve_proxies, requests.sessions.get_netrc_auth) = self._original_env
                for module, original_helper in self._key_val_modules:
                    module.to_key_val_list = original_helper
                self._original = None

    @property
    def app(self):
        return self._app


def _install_key_val_fast_path() -> list:
    """Give ``requests``' ``to_key_val_list`` a fast path for plain dicts while interception lasts.

    Recent ``requests`` releases test for an ``items()`` method with a ``typing.Protocol``
    ``isinstance`` check, which costs microseconds per call on Python 3.11, and each request
    makes several of those calls (merging headers, params and proxies). For a ``dict``, an
    ``OrderedDict`` or requests' ``CaseInsensitiveDict`` the answer is ``list(value.items())``
    either way, so the result is the same; anything else takes the library's own path.
    Returns ``(module, original)`` pairs for the caller to put back.
    """
    import collections

    import requests.models
    import requests.sessions
    import requests.structures

    plain = (dict, collections.OrderedDict, requests.structures.CaseInsensitiveDict)
    replaced = []
    for module in (requests.sessions, requests.models):
        original = getattr(module, "to_key_val_list", None)
        if original is None:
            continue

        def to_key_val_list(value, _original=original):
            if type(value) in plain:
                return list(value.items())
            return _original(value)

        module.to_key_val_list = to_key_val_list
        replaced.append((module, original))
    return replaced


def _read_timeout(timeout) -> float | None:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return float(timeout) if timeout is not None else None


def _environ(request, vendor_prefix: str | None, timeout) -> dict:
    """A PEP 3333 environ for a prepared ``requests`` request (built directly: it is the
    hot path of every in-process call)."""
    parts = urlsplit(request.url)
    path = parts.path or "/"
    if vendor_prefix:
        path = f"/{vendor_prefix}{path}"
    body = request.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = b"".join(body)  # a generator or file-like body
    https = parts.scheme == "https"
    environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or (443 if https else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": parts.netloc,
        "emulator.intercept": True,
        "emulator.timeout": _read_timeout(timeout),
    }
    headers = request.headers
    # requests' CaseInsensitiveDict keeps (name as sent, value) pairs in ``_store``; reading
    # them there skips the slow generic Mapping iteration on this hot path.
    store = getattr(headers, "_store", None)
    for key, value in (store.values() if type(store) is collections.OrderedDict else headers.items()):
        name = key.upper().replace("-", "_")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif name not in ("CONTENT_LENGTH", "HOST"):
            environ[f"HTTP_{name}"] = value
    return environ


def _call_app(app, adapter, request, timeout, vendor_prefix: str | None):
    import requests
    from requests.structures import CaseInsensitiveDict

    from ..app import ClientTimeout, DroppedConnection

    environ = _environ(request, vendor_prefix, timeout)
    captured: list = []

    def start_response(status, headers, exc_info=None):
        captured[:] = [status, headers]

    try:
        app_iter = app(environ, start_response)
        try:
            content = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
    except DroppedConnection as exc:
        raise requests.ConnectionError(str(exc), request=request) from None
    except ClientTimeout as exc:
        raise requests.ReadTimeout(str(exc), request=request) from None
    status, headers = captured
    response = requests.Response()
    response.status_code = int(status.split(" ", 1)[0])
    response.reason = status.split(" ", 1)[1] if " " in status else ""
    response.headers = CaseInsensitiveDict(headers)
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    response.raw = BytesIO(content)
    response._content = content
    response._content_consumed = True
    response.url = request.url
    response.request = request
    response.connection = adapter
    return response
