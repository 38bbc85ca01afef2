"""D·engage's rules as plain Python: login tokens, BulkUpsert into ``master_contact``, the limit.

One :class:`Backend` per account. Its columns (standard plus the fixture's custom ones) and
which of them are import-enabled come from the account's settings. A BulkUpsert call is
checked in full before anything is written (the call's shape, then every record's values,
then, under the store lock, which keys exist), and its writes are one ``write_many``.

The once-a-minute rule has two parts: a per-account slot (a small lock of its own, taken
without waiting before the store lock: a second call while one is in progress gets 429, the
only limit the vendor states as enforced) and a window on the emulator clock, moved only by
an accepted call. A call inside the window is served with an ``advice`` note, refused with
429, or let through silently, as the account's ``once_a_minute`` setting says.
"""
from __future__ import annotations

import hmac
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from emulator.core.accounts import FixtureError
from emulator.core.clock import iso
from emulator.core.journal import note
from emulator.core.payload import Refused
from emulator.core.strict_json import json_type

from . import schemas
from .errors import FIELD_ERROR, LIMITED, VALIDATION_FAILED, DengageError, forbidden
from .schemas import MAX_RECORDS, NEW_KEY

VENDOR = "dengage"
REQUIRED_ROLE = "DataSpace.Manage"
ONCE_A_MINUTE = ("note", "enforce", "off")
"""What a sequential call inside the window gets: served with an advice note, 429, or served."""
ADVICE = "sent less than bulk_window_s after the previous accepted call: the vendor asks for once a minute"
"""The rule of the advice note; ``sent`` is the seconds since the previous accepted call's start."""
MAX_TOKENS = 1000
"""Live tokens kept per account; past it a login drops the oldest (expired ones always go)."""
STATUS_OF = {"email": "email_status", "gsm": "gsm_status"}
"""A changed value (insert: a value given) sets its status column to "A" unless the record sets it."""


# -- a BulkUpsert call ------------------------------------------------------------------

@dataclass
class Call:
    columns: list[str]
    records: list
    insert: bool
    throw: bool


@dataclass
class Record:
    """One record that passed its value checks: what to write for it."""

    index: int
    key: str
    values: dict
    new_key: str | None = None


def _problem(index: int | None, key: Any, column: str | None, message: str) -> dict:
    return {"contact_key": key, "index": index, "column": column, "message": message}


def _describe(problem: dict) -> str:
    """``record 3, column 'email': ...`` (call-level problems already start with their field)."""
    if problem["index"] is None:
        return problem["message"]
    where = f"record {problem['index']}"
    if problem["column"]:
        where += f", column {problem['column']!r}"
    return f"{where}: {problem['message']}"


def _rejected(code: int, problems: list[dict], warnings: list[dict] | None = None) -> DengageError:
    """400 in the envelope: the message names the first problem, ``data.errors`` lists all."""
    message = _describe(problems[0])
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return DengageError(code, message, 400, data={"inserted": [], "updated": [], "errors": problems,
                                                  "warnings": warnings or []})


class Backend:
    """One D·engage account: its tokens, its ``master_contact`` rows and its bulk limit."""

    def __init__(self, engine, account):
        self.engine, self.account = engine, account
        self.store = engine.store
        self.contacts = self.store.collection(VENDOR, account.name, "contacts")
        self.tokens = self.store.collection(VENDOR, account.name, "tokens")
        self.limits = self.store.collection(VENDOR, account.name, "limits")
        record, self.import_enabled = schemas.account_record(account)
        self.columns = record.fields
        self.column_names = tuple(self.columns)
        self.readers = record.readers
        self.window_s = _number_setting(account, "bulk_window_s", minimum=0)
        self.once_a_minute = account.setting("once_a_minute")
        if self.once_a_minute not in ONCE_A_MINUTE:
            raise FixtureError(f"fixture: dengage account {account.name!r}: settings.once_a_minute must be one of "
                               f"{', '.join(ONCE_A_MINUTE)}, got {self.once_a_minute!r}")
        self.token_ttl_s = int(_number_setting(account, "token_ttl_s", minimum=1))
        roles = account.setting("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise FixtureError(f"fixture: dengage account {account.name!r}: settings.roles must be a list of strings")
        self.roles = frozenset(roles)
        self._slot = threading.Lock()      # the one BulkUpsert in progress for this account
        self._running_since: float | None = None

    # -- login and tokens ----------------------------------------------------------------
    def check_password(self, userkey: str, password: str) -> bool:
        creds = self.account.credentials
        return (creds.get("userkey") == userkey
                and hmac.compare_digest(str(creds.get("password", "")).encode(), password.encode()))

    def issue_token(self) -> dict:
        """A new bearer token valid for ``token_ttl_s`` seconds of the emulator clock.

        Expired tokens are dropped first, and the oldest live ones past :data:`MAX_TOKENS`
        (a caller that logs in for every call keeps the store bounded; the holder of a
        dropped token gets 401 and logs in again, as real callers do).
        """
        with self.store.transaction():
            now = self.engine.clock.time()
            self._prune_tokens(now)
            token = self.engine.ids.token(f"{VENDOR}:{self.account.name}:token")
            expires = now + self.token_ttl_s
            self.tokens.insert({"token": token, "issued_at": iso(_dt(now)), "expires_at": iso(_dt(expires)),
                                "expires_epoch": expires})
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl_s}

    def _prune_tokens(self, now: float) -> None:
        """Drop expired tokens, and the oldest so that a new one fits under the bound.

        Tokens are stored oldest first and expire in that order while the clock runs
        forward, so the walk stops at the first live token once under the bound; a token
        left behind by a clock set back is caught by a later login.
        """
        excess = len(self.tokens) - (MAX_TOKENS - 1)
        for doc_id, doc in self.tokens.scan():
            if excess > 0:
                excess -= 1
            elif doc["expires_epoch"] > now:
                break
            self.tokens.remove(doc_id)

    def token_valid(self, token: str) -> bool | None:
        """True: a live token of this account; False: expired; None: not this account's."""
        with self.store.transaction():  # a login may prune the token between look-up and read
            doc_id = self.tokens.find_id("token", token)
            if doc_id is None:
                return None
            return self.tokens.peek(doc_id)["expires_epoch"] > self.engine.clock.time()

    def require_role(self) -> None:
        if REQUIRED_ROLE not in self.roles:
            raise forbidden()

    # -- once a minute, one at a time ------------------------------------------------------
    @contextmanager
    def bulk_call(self) -> Iterator[float]:
        """Hold the account's BulkUpsert slot for one call; yields the call's start time.

        429 when another call of the account is in progress; with ``once_a_minute:
        enforce``, also when the previous accepted call started less than
        ``bulk_window_s`` ago. A limited call changes nothing.
        """
        if not self._slot.acquire(blocking=False):
            now = self.engine.clock.time()
            since = self._running_since
            # enforced, the next call may start a window after the one in progress; else at once
            raise self._limited(now, since if since is not None and self.once_a_minute == "enforce" else None)
        try:
            now = self.engine.clock.time()
            if self.once_a_minute == "enforce":
                last = self._last_start()
                if last is not None and now - last < self.window_s:
                    raise self._limited(now, last)
            self._running_since = now
            yield now
        finally:
            self._running_since = None
            self._slot.release()

    @property
    def bulk_in_progress(self) -> bool:
        """True while a BulkUpsert of this account holds its slot."""
        return self._slot.locked()

    def _last_start(self) -> float | None:
        doc = self.limits.peek_by("name", "bulk_upsert")
        return None if doc is None else doc["last_start_epoch"]

    def _limited(self, now: float, last: float | None) -> DengageError:
        """429 in the envelope; ``Retry-After`` is the rest of the window after ``last`` (at least 1 s)."""
        wait = 1 if last is None else max(1, math.ceil(last + self.window_s - now))
        return DengageError(LIMITED, "Too many concurrent requests. Call once a minute; next call allowed in "
                            f"{wait} s.", 429, data=None, headers={"Retry-After": str(wait)})

    def _move_window(self, started: float) -> None:
        """Record an accepted call's start (inside the call's transaction); a call less than
        ``bulk_window_s`` after the previous one is noted as advice (``once_a_minute: note``)."""
        doc = {"name": "bulk_upsert", "last_start": iso(_dt(started)), "last_start_epoch": started}
        doc_id = self.limits.find_id("name", "bulk_upsert")
        if doc_id is None:
            self.limits.insert({**doc, "accepted_calls": 1})
            return
        previous = self.limits.peek(doc_id)
        since = started - previous["last_start_epoch"]
        if self.once_a_minute == "note" and since < self.window_s:
            note("", round(since, 3), None, ADVICE, "advice")
        self.limits.replace(doc_id, {**doc, "accepted_calls": previous["accepted_calls"] + 1})

    # -- BulkUpsert --------------------------------------------------------------------------
    def bulk_upsert(self, body: dict, started: float | None = None, *, limited: bool = True) -> dict:
        """Insert or update up to 1000 contacts; the ``data`` of the answer.

        Everything is checked before anything is written. An invalid record rejects the
        whole call (400, code 11) when ``throwExceptionIfInvalidRecord`` is true; otherwise
        valid records are stored and the rest listed in ``errors``. ``limited`` calls (HTTP)
        move the once-a-minute window when accepted; fixture loading does not.
        """
        call = self._parse_call(body)
        warnings: list[dict] = []
        errors: list[dict] = []
        records = self._check_records(call, errors, warnings)
        with self.store.transaction():
            now = self.engine.clock.time() if started is None else started
            records = self._check_keys(call, records, errors)
            errors.sort(key=lambda p: p["index"])
            warnings.sort(key=lambda p: p["index"])
            if errors and call.throw:
                raise _rejected(VALIDATION_FAILED, errors, warnings)
            inserted, updated = self._write(call, records, iso(_dt(now)))
            if limited:
                self._move_window(now)
        return {"inserted": inserted, "updated": updated, "errors": errors, "warnings": warnings}

    def _parse_call(self, body: dict) -> Call:
        """The call's own shape (code 1 on any problem, all of them listed)."""
        data, read_problems = schemas.BULK.read(body)
        problems = [_problem(None, None, p.path, str(p)) for p in read_problems]
        columns: list[str] = []
        for name in data.get("columns") or []:
            if name in columns:
                note("columns", name, None, "duplicate column listed once", "ignored")
                continue
            columns.append(name)
            if name == NEW_KEY:
                continue
            if name not in self.columns:
                problems.append(_problem(None, None, "columns", f"columns: {name!r} is not a column of master_contact "
                                         f"(known: {', '.join(self.column_names)})"))
            elif name not in self.import_enabled:
                problems.append(_problem(None, None, "columns",
                                         f"columns: {name!r} is not import-enabled for this account"))
        if "columns" in data and "contact_key" not in columns:
            problems.append(_problem(None, None, "columns", "columns: must include 'contact_key'"))
        insert = data["insertIfNotExists"]
        if NEW_KEY in columns and insert:
            problems.append(_problem(None, None, NEW_KEY, f"{NEW_KEY} cannot be used with insertIfNotExists: true"))
        if problems:
            raise _rejected(FIELD_ERROR, problems)
        return Call(columns, data["contactDatas"], insert, data["throwExceptionIfInvalidRecord"])

    def _check_records(self, call: Call, errors: list, warnings: list) -> list[Record]:
        """Value checks of every record (no store access); the later of two same keys wins."""
        listed = set(call.columns)
        checked: list[Record] = []
        last_of: dict[str, int] = {}
        for index, raw in enumerate(call.records):
            if not isinstance(raw, dict):
                errors.append(_problem(index, None, None, f"record must be an object, got {json_type(raw)}"))
                continue
            prefix = f"contactDatas[{index}]."
            key = raw.get("contact_key")
            try:
                key = self._value(prefix, "contact_key", key, warnings, index, key)
            except Refused as exc:
                bad = key if isinstance(key, str) else None
                errors.append(_problem(index, bad, "contact_key", f"contact_key {exc.message}"))
                key = None
            record_errors = []
            values: dict = {}
            new_key = None
            for name, value in raw.items():
                if name == "contact_key":
                    continue
                if name not in listed:
                    warnings.append(_problem(index, key, name, f"{name!r} is not in 'columns': ignored"))
                    note(prefix + name, value, None, "key not in 'columns': ignored", "ignored")
                    continue
                try:
                    if name == NEW_KEY:
                        new_key = None if value is None else self._value(prefix, NEW_KEY, value, warnings, index, key)
                    else:
                        values[name] = self._value(prefix, name, value, warnings, index, key)
                except Refused as exc:
                    record_errors.append(_problem(index, key, name, f"{name} {exc.message}"))
            if key is None:
                errors.extend(record_errors)
                continue
            if record_errors:
                errors.extend(record_errors)
            checked.append(Record(index, key, values, new_key if new_key != key else None))
            last_of[key] = index
        # duplicate keys: the later record wins, the earlier ones are dropped with a warning
        survivors = []
        failed = {p["index"] for p in errors}
        for record in checked:
            winner = last_of[record.key]
            if winner != record.index:
                warnings.append(_problem(record.index, record.key, "contact_key",
                                         f"duplicate contact_key {record.key!r} in this call: record {winner} wins"))
                note(f"contactDatas[{record.index}]", record.key, None,
                     f"duplicate contact_key in the call: record {winner} wins", "ignored")
                errors[:] = [p for p in errors if p["index"] != record.index]
            elif record.index not in failed:
                survivors.append(record)
        return survivors

    def _value(self, prefix: str, name: str, value: Any, warnings: list, index: int, key: Any) -> Any:
        """A value read by its column's declaration (new_contact_key as contact_key), which notes
        the fix-ups; a trimmed value is also one of the response's warnings. Raises :class:`Refused`."""
        used = self.readers["contact_key" if name == NEW_KEY else name](value, prefix, name)
        if used is not None and value.__class__ is str and len(value.strip()) != len(value):
            warnings.append(_problem(index, key, name, "value trimmed of surrounding whitespace"))
        return used

    def _check_keys(self, call: Call, records: list[Record], errors: list) -> list[Record]:
        """Existence rules (under the store lock): unknown keys, rename targets."""
        ok = []
        call_keys = {r.key for r in records}
        targets: dict[str, int] = {}
        for record in records:
            exists = self.contacts.find_id("contact_key", record.key) is not None
            if not exists and not call.insert:
                errors.append(_problem(record.index, record.key, "contact_key",
                                       f"contact_key {record.key!r} does not exist and insertIfNotExists is false"))
                continue
            new_key = record.new_key
            if new_key is not None:
                if self.contacts.find_id("contact_key", new_key) is not None:
                    errors.append(_problem(record.index, record.key, NEW_KEY,
                                           f"{NEW_KEY} {new_key!r} already exists"))
                    continue
                if new_key in call_keys or new_key in targets:
                    other = targets.get(new_key)
                    errors.append(_problem(record.index, record.key, NEW_KEY,
                                           f"{NEW_KEY} {new_key!r} is already used in this call"
                                           + (f" by record {other}" if other is not None else "")))
                    continue
                targets[new_key] = record.index
            ok.append(record)
        return ok

    def _write(self, call: Call, records: list[Record], now: str) -> tuple[list[str], list[str]]:
        """Every accepted record in one ``write_many``; returns (inserted, updated) keys."""
        inserts: list[dict] = []
        replaces: dict[int, dict] = {}
        inserted: list[str] = []
        updated: list[str] = []
        blank = dict.fromkeys(self.column_names)
        for record in records:
            doc_id = self.contacts.find_id("contact_key", record.key)
            values = record.values
            if doc_id is None:
                doc = {**blank, "contact_status": "A", **values, "contact_key": record.key}
                self._auto_status(record, None, doc)
                doc["created_at"] = doc["updated_at"] = now
                inserts.append(doc)
                inserted.append(record.key)
            else:
                current = self.contacts.peek(doc_id)
                doc = {**current, **values}
                self._auto_status(record, current, doc)
                if record.new_key is not None:
                    doc["contact_key"] = record.new_key
                doc["updated_at"] = now
                replaces[doc_id] = doc
                updated.append(doc["contact_key"])
        if inserts or replaces:
            self.contacts.write_many(inserts, replaces)
        return inserted, updated

    @staticmethod
    def _auto_status(record: Record, current: dict | None, doc: dict) -> None:
        """A new email (gsm) value sets email_status (gsm_status) to A, unless the record sets it
        (the vendor's own doing: it shows in state, it is not a note)."""
        for column, status in STATUS_OF.items():
            value = record.values.get(column)
            if value is None or status in record.values:
                continue
            if current is not None and current.get(column) == value:
                continue
            doc[status] = "A"

    # -- reading one contact -----------------------------------------------------------------
    def get_contact(self, key: str, fields: str | None) -> dict:
        """The asked columns of one contact (all columns when ``contactFields`` is absent)."""
        wanted = self.column_names
        if fields is not None and fields.strip():
            wanted = tuple(f.strip() for f in fields.split(",") if f.strip()) or self.column_names
            unknown = [f for f in wanted if f not in self.columns]
            if unknown:
                raise DengageError(FIELD_ERROR, f"contactFields: unknown column(s) {', '.join(map(repr, unknown))}; "
                                   f"known: {', '.join(self.column_names)}", 400, data=None)
        doc = self.contacts.peek_by("contact_key", key)
        if doc is None:
            raise DengageError(FIELD_ERROR, f"contact_key {key!r} not found", 404, data=None)
        return {name: doc.get(name) for name in wanted}


def _dt(epoch: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, tz=UTC)


def _number_setting(account, name: str, minimum: float) -> float:
    value = account.setting(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise FixtureError(f"fixture: dengage account {account.name!r}: settings.{name} must be a number "
                           f">= {minimum}, got {value!r}")
    return value


def find_account(engine, userkey: str, password: str):
    """The backend whose credentials match, or None."""
    for name in engine.accounts.get(VENDOR, {}):
        backend = engine.backend(VENDOR, name)
        if backend.check_password(userkey, password):
            return backend
    return None


def backend_for_token(engine, token: str):
    """The backend a live token belongs to; None when unknown or expired."""
    for name in engine.accounts.get(VENDOR, {}):
        backend = engine.backend(VENDOR, name)
        valid = backend.token_valid(token)
        if valid is not None:
            return backend if valid else None
    return None


# -- fixtures ---------------------------------------------------------------------------

def load_account(backend: Backend, payloads: list[dict]) -> None:
    """Store the fixture's generated contacts (the bulk path, without the call limit)."""
    for start in range(0, len(payloads), MAX_RECORDS):
        chunk = payloads[start:start + MAX_RECORDS]
        backend.bulk_upsert({"columns": list(chunk[0]), "contactDatas": chunk, "insertIfNotExists": True,
                             "throwExceptionIfInvalidRecord": True}, limited=False)


def describe_credentials(account) -> str:
    creds = account.credentials
    return (f"POST /rest/login {{\"userkey\": \"{creds.get('userkey')}\", \"password\": \"{creds.get('password')}\"}}"
            ", then Authorization: Bearer <access_token>")
