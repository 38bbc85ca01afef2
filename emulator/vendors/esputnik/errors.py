"""eSputnik's error shape: ``{"status": <http status>, "message": "<message>"}``.

The vendor's reference only says that details may be in the body; its official
WooCommerce plugin reads ``status`` and its Shopify app reads ``message`` (it swallows a 409
whose message contains ``Duplicated request``), so every error carries both, the message
naming the field and the rule.
"""
from __future__ import annotations

from emulator.core.errors import VendorError


class EsputnikError(VendorError):
    """An error answered in eSputnik's shape."""

    def body(self) -> dict:
        return {"status": self.status, "message": self.message}


def unauthorized() -> EsputnikError:
    """401 for a missing or wrong API key (HTTP Basic, the password is the key)."""
    return EsputnikError("Unauthorized", 401, headers={"WWW-Authenticate": 'Basic realm="eSputnik API"'})


def not_found(what: str) -> EsputnikError:
    return EsputnikError(what, 404)


def http_error(status: int, message: str, kind: str) -> EsputnikError:
    """Generic failures (unknown route, wrong method, malformed JSON, 413, 415) in eSputnik's shape."""
    return EsputnikError(message, status)
