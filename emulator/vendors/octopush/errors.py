"""Octopush's error shape: ``{"code": <int>, "message": "<text>"}``.

The codes follow the vendor's numbered return-code table; where the table has nothing
that fits (unknown route, wrong method ...), the HTTP status doubles as the code.
"""
from __future__ import annotations

from emulator.core.errors import VendorError

# The vendor's return codes this emulator answers with.
BODY_NOT_JSON = 100           # "POST request missing": the body cannot be read
PARAMETER_MISSING = 100       # the same code when a required parameter is missing or unusable
INCORRECT_LOGIN = 101         # "Incorrect login details."
LOGIN_MISSING = 108           # "You have not entered your login details."
NO_RECIPIENTS = 110           # "You have not entered the list of recipients." (none sent)
ACCOUNT_NOT_VALIDATED = 113   # "Your account is not validated."
NO_CORRECT_NUMBER = 117       # "Your recipient list contains no correct numbers."
LIST_EXISTS = 302             # "A list with the same name already exists."
LIST_NOT_FOUND = 303          # "The specified list does not exist."
TOO_MANY_CONTACTS = 305       # "There are too many contacts in the query."


class OctopushError(VendorError):
    """An error answered in Octopush's shape; ``code`` is the vendor's return code."""

    def __init__(self, code: int, message: str, status: int = 400):
        super().__init__(message, status)
        self.code = code

    def body(self) -> dict:
        return {"code": self.code, "message": self.message}


# Generic HTTP failure kind -> the vendor's return code (None: the HTTP status itself).
_KIND_CODES = {"malformed_json": BODY_NOT_JSON, "unsupported_media_type": BODY_NOT_JSON}


def http_error(status: int, message: str, kind: str) -> OctopushError:
    """Generic failures (404, 405, malformed JSON, 413 ...) in Octopush's shape."""
    return OctopushError(_KIND_CODES.get(kind) or status, message, status)
