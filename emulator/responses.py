"""What the emulator answers besides a route's own answer: a vendor error in the vendor's
shape, and a fault rule carried out.

Both the app (faults matched before routing, error handlers) and the vendor helpers of
:mod:`emulator.http` (faults scoped to an account, matched once the route has identified
it) use this one module, so neither imports the other.
"""
from __future__ import annotations

import json
import time

from flask import Response

from .core.errors import VendorError


class FaultFired(Exception):
    """A fault rule answered the request in the middle of a route (an account-scoped rule
    fired in :func:`emulator.http.bind_account`); the app sends ``response``."""

    def __init__(self, response: Response):
        super().__init__("fault rule fired")
        self.response = response


def vendor_path(spec, path: str) -> str:
    """The vendor's own path of a request path under the vendor's prefix (``/api/v1/contact``)."""
    return path[len(spec.prefix()):] or "/"


def apply_fault(info, rule) -> Response | None:
    """Carry out a fault rule for the request of ``info`` (a :class:`~emulator.http.RequestInfo`);
    None lets the request go on (a delay alone)."""
    info.fault = fault = rule.describe()
    environ = info.request.environ
    if rule.delay_ms:
        delay = rule.delay_ms / 1000
        timeout = environ.get("emulator.timeout")
        if timeout is not None and delay > timeout:
            time.sleep(timeout)
            environ["emulator.timed_out"] = True
            fault["effect"] = "timeout"
            return Response(b"", status=504)
        time.sleep(delay)
        fault["effect"] = "delay"
    if rule.drop:
        environ["emulator.drop"] = True
        fault["effect"] = "drop"
        return Response(b"", status=503)
    if rule.status is not None:
        fault["effect"] = "status"
        if rule.body is None:
            return render_vendor_error(info.vendor.http_error(rule.status, f"forced by fault rule {rule.id}", "fault"))
        return render_vendor_error(VendorError(status=rule.status, body=rule.body))
    return None


def render_vendor_error(err: VendorError) -> Response:
    """``err`` as a response: its body in the vendor's shape (empty, text or JSON) and its headers."""
    body = err.body()
    if body is None:
        resp = Response(b"", status=err.status)
    elif isinstance(body, (str, bytes)):
        resp = Response(body, status=err.status, mimetype="text/plain")
    else:
        resp = Response(json.dumps(body, ensure_ascii=False), status=err.status, mimetype="application/json")
    for key, value in err.headers.items():
        resp.headers[key] = value
    return resp
