"""Pushtech's error shape: one flat envelope ``{"error": "<one sentence>"}``.

No codes and no field maps: the sentence names the field(s) and the rule. The 401 and
unknown-route bodies are the ones the real hosts answer.
"""
from __future__ import annotations

from emulator.core.errors import VendorError

ROUTE_NOT_FOUND = "Route not found, please visit https://developers.cendyncrm.com/api/reference"
IDENTITY_REQUIRED = "either email or phone (phone_countrycode and phone_number) is required"
CONTACT_NOT_FOUND = "contact not found"
BULK_NOT_FOUND = "bulk not found"
NO_CREDIT = "not enough credit for email validation"
CUSTOM_FIELD_NOT_FOUND = "custom field not found"
LIST_NOT_FOUND = "list not found"


class PushtechError(VendorError):
    """Any Pushtech error: the status plus ``{"error": message}``."""

    status = 422

    def body(self) -> dict:
        return {"error": self.message}


def unauthorized(account_id: str) -> PushtechError:
    """The 401 of a missing, malformed, wrong or other account's secret (no WWW-Authenticate)."""
    return PushtechError(f"authorization failure for account: {account_id}", 401)


def http_error(status: int, message: str, kind: str) -> PushtechError:
    """Generic HTTP failures in Pushtech's shape; an unknown route gets the vendor's own text."""
    if kind == "not_found":
        return PushtechError(ROUTE_NOT_FOUND, 404)
    return PushtechError(message, status)


ERROR_SCHEMA = {"type": "object", "required": ["error"],
                "properties": {"error": {"type": "string",
                                         "description": "one sentence naming the field(s) and the rule"}}}


def refuse(problems: list) -> PushtechError:
    """The 422 of a refused body: every problem (``field: rule``) in one sentence."""
    return PushtechError("; ".join(map(str, problems)), 422)
