"""eSputnik's error shape: ``{"status": <http status>, "error": "<message>"}``.

The vendor's reference only says that details may be in the body; its official plugin
reads ``status``, so every error carries the HTTP status and a message that names the
field and the rule.
"""
from __future__ import annotations

from emulator.core.errors import VendorError


class EsputnikError(VendorError):
    """An error answered in eSputnik's shape."""

    def body(self) -> dict:
        return {"status": self.status, "error": self.message}


def unauthorized() -> EsputnikError:
    """401 for a missing or wrong API key (HTTP Basic, the password is the key)."""
    return EsputnikError("Unauthorized", 401, headers={"WWW-Authenticate": 'Basic realm="eSputnik API"'})


def not_found(what: str) -> EsputnikError:
    return EsputnikError(what, 404)


def http_error(status: int, message: str, kind: str) -> EsputnikError:
    """Generic failures (unknown route, wrong method, malformed JSON, 413, 415) in eSputnik's shape."""
    return EsputnikError(message, status)
