"""In-process interception: ``requests`` calls to the vendors' real hosts go straight
into the emulator's WSGI app: no socket, no port, no thread.

It patches ``requests.adapters.HTTPAdapter.send`` for the duration, so module-level
``requests.post(...)``, new ``Session`` objects and sessions created *before* interception
started are all covered. Any other host passes through untouched, or with ``strict=True``
raises :class:`UnexpectedHost` naming it.
"""
from __future__ import annotations

import contextlib
import functools
import threading
from io import BytesIO
from urllib.parse import urlsplit

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

            @functools.wraps(original)
            def send(adapter, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
                host = (urlsplit(request.url).hostname or "").lower()
                if host in hosts:
                    return _call_app(app, adapter, request, timeout, rewrite.get(host))
                if strict:
                    raise UnexpectedHost(f"request to {host!r} ({request.method} {request.url}) while only the "
                                         f"emulated vendor hosts are allowed: {', '.join(sorted(hosts))}")
                return original(adapter, request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                                proxies=proxies)

            requests.adapters.HTTPAdapter.send = send
        self.handle = EmulatorHandle(self._app)
        return self.handle

    def __exit__(self, *exc) -> None:
        import requests.adapters

        with _patch_lock:
            if self._original is not None:
                requests.adapters.HTTPAdapter.send = self._original
                self._original = None

    @property
    def app(self):
        return self._app


def _read_timeout(timeout) -> float | None:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return float(timeout) if timeout is not None else None


def _call_app(app, adapter, request, timeout, vendor_prefix: str | None):
    import requests
    from requests.structures import CaseInsensitiveDict
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from ..app import ClientTimeout, DroppedConnection

    parts = urlsplit(request.url)
    path = parts.path or "/"
    if vendor_prefix:
        path = f"/{vendor_prefix}{path}"
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is not None and not isinstance(body, bytes):
        body = b"".join(body)  # a generator or file-like body
    builder = EnvironBuilder(path=path, base_url=f"{parts.scheme}://{parts.netloc}", query_string=parts.query,
                             method=request.method, headers=dict(request.headers), data=body or b"")
    environ = builder.get_environ()
    environ["emulator.intercept"] = True
    environ["emulator.timeout"] = _read_timeout(timeout)
    try:
        app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    except DroppedConnection as exc:
        raise requests.ConnectionError(str(exc), request=request) from None
    except ClientTimeout as exc:
        raise requests.ReadTimeout(str(exc), request=request) from None
    content = b"".join(app_iter)
    if hasattr(app_iter, "close"):
        app_iter.close()
    response = requests.Response()
    response.status_code = int(status.split(" ", 1)[0])
    response.reason = status.split(" ", 1)[1] if " " in status else ""
    response.headers = CaseInsensitiveDict(headers.items())
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    response.raw = BytesIO(content)
    response._content = content
    response._content_consumed = True
    response.url = request.url
    response.request = request
    response.connection = adapter
    return response
