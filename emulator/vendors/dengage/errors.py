"""D·engage's error envelope: ``{"code": <int>, "message": "<text>", "data": ...}``.

``code`` 0 is success; the non-zero codes this emulator answers with are the vendor's
(1 field error, 10 forbidden / limited, 11 validation failed, 999 unexpected). The 403 for
a missing role has an empty body, as the vendor's other APIs answer it.
"""
from __future__ import annotations

from typing import Any

from emulator.core.errors import VendorError

FIELD_ERROR = 1          # a malformed body, a bad field, bad credentials, no session
LIMITED = 10             # forbidden or limited (once a minute, one at a time)
VALIDATION_FAILED = 11   # a record failed validation and the call was rejected
UNEXPECTED = 999         # the emulator's own failure (or a forced fault)

NOT_AUTHENTICATED = "Not-authenticated. Please re-login."
BAD_LOGIN = "Invalid userkey or password"

_NO_DATA = object()


class DengageError(VendorError):
    """An error answered in D·engage's envelope; ``data`` is left out unless given."""

    def __init__(self, code: int, message: str, status: int = 400, *, data: Any = _NO_DATA,
                 headers: dict | None = None, empty: bool = False):
        super().__init__(message, status, headers=headers)
        self.code = code
        self.data = data
        self.empty = empty

    def body(self) -> dict | None:
        if self.empty:
            return None
        out = {"code": self.code, "message": self.message}
        if self.data is not _NO_DATA:
            out["data"] = self.data
        return out


def not_authenticated() -> DengageError:
    return DengageError(FIELD_ERROR, NOT_AUTHENTICATED, 401)


def forbidden() -> DengageError:
    """The API user lacks the ``DataSpace.Manage`` role: 403, empty body."""
    return DengageError(LIMITED, "The operation is not allowed. Your API user does not have the "
                        "DataSpace.Manage role permission required to use this API.", 403, empty=True)


# Generic HTTP failure kind -> the vendor's code.
_KIND_CODES = {"internal": UNEXPECTED, "fault": UNEXPECTED}


def http_error(status: int, message: str, kind: str) -> DengageError:
    """Generic failures (404, 405, malformed JSON, 413, 415, 500 ...) in D·engage's envelope."""
    code = _KIND_CODES.get(kind, UNEXPECTED if status >= 500 else FIELD_ERROR)
    return DengageError(code, message, status, data=None)
