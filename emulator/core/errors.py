"""Errors a vendor returns, and the emulator's own error shape.

Vendors subclass :class:`VendorError` in their ``errors.py`` and give it the vendor's
body; the app renders any ``VendorError`` raised while serving a request.
"""
from __future__ import annotations

from typing import Any


class VendorError(Exception):
    """A 4xx (or forced 5xx) answer in a vendor's own shape."""

    status = 400

    def __init__(self, message: str = "", status: int | None = None, *, headers: dict | None = None,
                 body: Any = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})
        self._body = body

    def body(self) -> Any:
        """The JSON body; ``None`` means an empty body. Subclasses give the vendor's shape."""
        if self._body is not None:
            return self._body
        return {"status": self.status, "error": self.message}


class BadBody(Exception):
    """The request body cannot be read as the JSON the endpoint needs."""

    def __init__(self, message: str, status: int = 400, kind: str = "malformed_json"):
        super().__init__(message)
        self.message, self.status, self.kind = message, status, kind


class EmulatorError(VendorError):
    """Errors of the emulator's own endpoints (``/_emulator/...``)."""

    def body(self):
        return {"status": self.status, "error": self.message}
