"""``contact-emulator verify``: replay a cassette against a fresh emulator and compare.

Each recorded request is sent, in ``seq`` order, to a new in-process emulator, and its
answer is compared with the vendor's:

- the **status**;
- the **JSON shape**: keys, value types (string, number, boolean, null, object, array) and
  array-ness (an object where the vendor sent an array of one, or the reverse, differs);
  arrays of different lengths (the account held other data) are compared by their first items;
- the **values that must agree**: ids, through a correspondence map (the vendor's id and the
  emulator's are paired when first seen, must stay paired, and are substituted into later
  requests); values the client sent that the vendor answers back (echoed fields); error
  messages, by their stable prefix; timestamps, by their format only;
- a few **headers** clients read (``TotalCount``, ``Retry-After``, ``WWW-Authenticate``,
  ``Location``, ``Allow``: present on both sides or on neither) and the body's kind (JSON, text, empty);
- and the emulator's **notes** for the request are reported beside it (a missing key the
  emulator noted as ignored says so).

Credentials: a cassette holds none. Each request is authenticated, the vendor's way, as
the fixture account that stands for its recorded credentials (``1`` -> the first account,
...; Pushtech: the account id in the path); a request the vendor answered 401 is sent with
wrong credentials, and one sent without credentials is sent without.

Time: the emulator's clock is frozen at the first exchange's ``started_at`` and moved to
each exchange's ``started_at`` before it is replayed (one second on where a file has none),
so duplicate windows, rate limits and token lifetimes see the recording's timing. No
outbound call is made while replaying (webhooks, upload links): they fail at once.
"""
from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..core import outbound
from ..core.journal import REDACTED, SECRET_HEADERS
from ..core.strict_json import json_type
from .cassette import REJECTED, CassetteError, Exchange, Payload, read_cassette

REPORT_FORMAT = "contact-emulator-verify-report/1"
KNOWN_FORMAT = "contact-emulator-known-differences/1"
MEANINGFUL_HEADERS = ("TotalCount", "Retry-After", "WWW-Authenticate", "Location", "Allow")
MESSAGE_KEYS = {"message", "error", "errorMessage", "error_description", "detail", "msg"}
_NOT_REPLAYED = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "keep-alive"}
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")
_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-f]{12,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", re.I)
ABSENT = object()


# -- vendor credentials ----------------------------------------------------------------------
class Replay:
    """One request as it is about to be replayed (the adapters below set its credentials)."""

    def __init__(self, exchange: Exchange, path: str, query: dict, headers: dict, body: Payload, secrets: set):
        self.exchange = exchange
        self.method = exchange.method
        self.path, self.query, self.headers, self.body = path, query, headers, body
        self.secret_headers = secrets
        """Lower-case names of the credential headers the recorded request carried."""


WRONG = "wrong-credentials-from-contact-emulator-verify"


class Credentials:
    """How a vendor's requests carry credentials: which account a recorded request spoke
    for (``account_key``), and how to authenticate the replayed request (``apply``)."""

    def account_key(self, exchange: Exchange):
        """What tells the recording's accounts apart; None for a request that needs none."""
        return exchange.credentials if isinstance(exchange.credentials, int) else None

    def generated_accounts(self, keys: list, template: dict) -> dict:
        """Accounts for a generated fixture: the template's first account, once per key."""
        name, spec = next(iter(template.items()))
        out = {}
        for i, _ in enumerate(keys or [None]):
            creds = {k: (v if i == 0 else f"{v}-{i + 1}") for k, v in spec.get("credentials", {}).items()}
            out[name if i == 0 else f"{name}-{i + 1}"] = {**copy.deepcopy(spec), "credentials": creds}
        return out

    def apply(self, replay: Replay, account, client, prefix: str) -> None:
        """Authenticate ``replay`` as ``account`` (None: with wrong credentials)."""

    def answered(self, replay: Replay, account, body) -> None:
        """See the emulator's answer (a login's token)."""


class BasicAuth(Credentials):
    """eSputnik: HTTP Basic, the account's API key as the password."""

    def apply(self, replay, account, client, prefix):
        if "authorization" in replay.secret_headers:
            user = account.credentials.get("user", "") if account else "user"
            key = account.credentials["api_key"] if account else WRONG
            replay.headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


class LoginKeyHeaders(Credentials):
    """Octopush: ``api-login`` and ``api-key`` headers."""

    def apply(self, replay, account, client, prefix):
        for name in list(replay.headers):
            if name.lower() == "api-login":
                replay.headers[name] = account.credentials["api_login"] if account else replay.headers[name]
        if "api-key" in replay.secret_headers:
            replay.headers["api-key"] = account.credentials["api_key"] if account else WRONG


class LoginToken(Credentials):
    """D·engage: ``POST /rest/login`` with ``userkey``/``password`` gives a bearer token."""

    LOGIN = "/rest/login"

    def __init__(self):
        self.tokens: dict[str, str] = {}

    def apply(self, replay, account, client, prefix):
        body = replay.body
        if replay.path.rstrip("/") == self.LOGIN and body.kind == "json" and isinstance(body.value, dict):
            if "userkey" in body.value and account is not None:
                body.value["userkey"] = account.credentials["userkey"]
            if "password" in body.value:
                body.value["password"] = account.credentials["password"] if account else WRONG
            return
        if "authorization" in replay.secret_headers:
            token = WRONG
            if account is not None:
                token = self.tokens.get(account.name) or self._login(account, client, prefix)
            replay.headers["Authorization"] = f"Bearer {token}"

    def answered(self, replay, account, body):
        if account is not None and replay.path.rstrip("/") == self.LOGIN and isinstance(body, dict) \
                and isinstance(body.get("access_token"), str):
            self.tokens[account.name] = body["access_token"]

    def _login(self, account, client, prefix) -> str:
        """A token for a recording that starts after its login (not part of the report)."""
        resp = client.post(prefix + self.LOGIN, json={"userkey": account.credentials["userkey"],
                                                      "password": account.credentials["password"]})
        token = (resp.get_json(silent=True) or {}).get("access_token") or WRONG
        self.tokens[account.name] = token
        return token


class AccountPathToken(Credentials):
    """Pushtech: ``/v2/account/<account_id>/...`` with ``Authorization: Token token=<secret>``."""

    PATH = re.compile(r"^(/v2/account/)([^/]+)(/.*)?$")

    def account_key(self, exchange):
        match = self.PATH.match(exchange.path)
        return match.group(2) if match and exchange.credentials != REJECTED else None

    def generated_accounts(self, keys, template):
        spec = next(iter(template.values()))
        return {key: {**copy.deepcopy(spec), "credentials": {"secret": f"verify-secret-{i + 1}"}}
                for i, key in enumerate(keys or ["demo"])}

    def apply(self, replay, account, client, prefix):
        match = self.PATH.match(replay.path)
        if match and account is not None:
            replay.path = f"{match.group(1)}{quote(account.name, safe='')}{match.group(3) or ''}"
        if "authorization" in replay.secret_headers:
            replay.headers["Authorization"] = f"Token token={account.credentials['secret'] if account else WRONG}"


CREDENTIALS = {"esputnik": BasicAuth, "octopush": LoginKeyHeaders, "dengage": LoginToken,
               "pushtech": AccountPathToken}


# -- what is compared ----------------------------------------------------------------------
@dataclass
class Difference:
    """One way the emulator's answer differs from the vendor's."""

    what: str
    """``status``, ``no route``, ``missing key``, ``extra key``, ``type``, ``array-ness``,
    ``value``, ``id``, ``message``, ``timestamp format``, ``body``, ``header``."""
    where: str
    """``$.bulk._id`` (a JSON path in the body), ``status``, ``body`` or ``header <name>``."""
    vendor: Any = ABSENT
    emulator: Any = ABSENT
    detail: str | None = None
    known: bool = False

    def key(self) -> tuple[str, str]:
        return self.what, self.where

    def to_dict(self) -> dict:
        out: dict = {"what": self.what, "where": self.where}
        if self.vendor is not ABSENT:
            out["vendor"] = self.vendor
        if self.emulator is not ABSENT:
            out["emulator"] = self.emulator
        if self.detail:
            out["detail"] = self.detail
        if self.known:
            out["known"] = True
        return out

    def line(self) -> str:
        both = f"vendor {_preview(self.vendor)}, emulator {_preview(self.emulator)}"
        text = f"{self.where}: {self.what}: {both}"
        if self.detail:
            text += f" ({self.detail})"
        return text + (" [known]" if self.known else "")


def _preview(value: Any, limit: int = 80) -> str:
    if value is ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, Payload) else value.kind
    return text if len(text) <= limit else text[:limit - 1] + "…"


def is_id_key(key: str | None) -> bool:
    """``id``, ``_id``, ``contactId``, ``asyncSessionId``, ``list_id``, ``contactIds``, ``ids``."""
    if not key:
        return False
    return key in ("id", "_id", "ids") or key.endswith(("Id", "_id", "Ids", "_ids"))


def stable_prefix(message: str) -> str:
    """A message up to where its details start (``:``, ``;``, ``(``), with numbers and quoted
    values as placeholders, lower-cased: what a client may match on."""
    text = _NUMBER.sub("#", _QUOTED.sub("'…'", message))
    for stop in (":", ";", "("):
        text = text.split(stop, 1)[0]
    return " ".join(text.split()).casefold().rstrip(" .!,")


def message_agrees(vendor: str, emulator: str) -> bool:
    prefix = stable_prefix(vendor)
    normalized = " ".join(_NUMBER.sub("#", _QUOTED.sub("'…'", emulator)).split()).casefold()
    return normalized.startswith(prefix)


class Correspondence:
    """The vendor's ids and the emulator's, paired when first seen (both directions unique)."""

    def __init__(self):
        self.forward: dict[str, tuple[Any, int, str]] = {}
        self.backward: dict[str, str] = {}

    def pair(self, vendor: Any, emulator: Any, seq: int, where: str) -> Difference | None:
        rec, emu = _id_text(vendor), _id_text(emulator)
        known = self.forward.get(rec)
        if known is not None:
            if _id_text(known[0]) != emu:
                return Difference("id", where, vendor, emulator,
                                  f"vendor id {vendor!r} was emulator id {known[0]!r} at #{known[1]} {known[2]}")
            return None
        earlier = self.backward.get(emu)
        if earlier is not None and earlier != rec:
            return Difference("id", where, vendor, emulator,
                              f"emulator id {emulator!r} already stands for vendor id {earlier!r}: "
                              "two vendor ids are one emulator id")
        self.forward[rec] = (emulator, seq, where)
        self.backward[emu] = rec
        return None

    def get(self, value: Any) -> Any:
        """The emulator's id for a vendor id (same JSON type as sent), or the value itself."""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return value
        known = self.forward.get(_id_text(value))
        if known is None:
            return value
        mapped = known[0]
        if isinstance(value, int) and isinstance(mapped, str) and mapped.isdigit():
            return int(mapped)
        if isinstance(value, str) and not isinstance(mapped, str):
            return _id_text(mapped)
        return mapped

    def path(self, path: str) -> str:
        return "/".join(_id_text(self.get(seg)) if seg in self.forward else seg for seg in path.split("/"))

    def query(self, query: dict) -> dict:
        out = {}
        for key, value in query.items():
            if is_id_key(key):
                values = value if isinstance(value, list) else [value]
                values = [",".join(_id_text(self.get(v)) for v in item.split(",")) for item in values]
                value = values if isinstance(value, list) else values[0]
            out[key] = value
        return out

    def body(self, value: Any, key: str | None = None) -> Any:
        """``value`` with the vendor ids under id-like keys replaced by the emulator's."""
        if isinstance(value, dict):
            return {k: self.body(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.body(v, key) for v in value]
        return self.get(value) if is_id_key(key) else value

    def to_dict(self) -> dict:
        return {rec: emu for rec, (emu, _, _) in self.forward.items() if _id_text(emu) != rec}


def _id_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class Sent:
    """What the client sent so far (current and earlier requests): a response value equal to
    one of them is an echo, and must agree."""

    def __init__(self):
        self.pairs: set[tuple[str, str]] = set()
        self.strings: set[str] = set()

    def add(self, value: Any, key: str | None = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self.add(v, k)
        elif isinstance(value, list):
            for v in value:
                self.add(v, key)
        elif value is not None and value != "" and value != REDACTED:
            if isinstance(value, str):
                self.strings.add(value.casefold())
            if key is not None:
                self.pairs.add((key, json.dumps(value, ensure_ascii=False)))

    def echoes(self, key: str | None, value: Any) -> bool:
        if value is None or value == "" or isinstance(value, (dict, list)):
            return False
        if isinstance(value, str) and value.casefold() in self.strings:
            return True
        return key is not None and (key, json.dumps(value, ensure_ascii=False)) in self.pairs


class Comparison:
    """Compares one answer with the recorded one, body and headers."""

    def __init__(self, seq: int, ids: Correspondence, sent: Sent):
        self.seq, self.ids, self.sent = seq, ids, sent
        self.out: list[Difference] = []

    def values(self, vendor: Any, emulator: Any, where: str = "$", key: str | None = None,
               with_values: bool = True) -> None:
        tv, te = json_type(vendor), json_type(emulator)
        if tv != te:
            if "array" in (tv, te):
                items, alone = (emulator, vendor) if te == "array" else (vendor, emulator)
                single = len(items) == 1 and json_type(items[0]) == json_type(alone)
                who = "vendor" if te == "array" else "emulator"
                self.out.append(Difference("array-ness", where, vendor, emulator,
                                           f"the {who} sent a single item alone, not in an array" if single
                                           else f"{tv} vs {te}"))
            else:
                self.out.append(Difference("type", where, vendor, emulator, f"{tv} vs {te}"))
            return
        if tv == "object":
            for k, v in vendor.items():
                path = f"{where}.{k}" if re.match(r"^[A-Za-z_][\w-]*$", k) else f"{where}[{json.dumps(k)}]"
                if k not in emulator:
                    self.out.append(Difference("missing key", path, v))
                else:
                    self.values(v, emulator[k], path, k, with_values)
            for k, v in emulator.items():
                if k not in vendor:
                    path = f"{where}.{k}" if re.match(r"^[A-Za-z_][\w-]*$", k) else f"{where}[{json.dumps(k)}]"
                    self.out.append(Difference("extra key", path, emulator=v))
        elif tv == "array":
            if len(vendor) == len(emulator):
                for i, (v, e) in enumerate(zip(vendor, emulator, strict=True)):
                    self.values(v, e, f"{where}[{i}]", key, with_values)
            elif vendor and emulator:  # other data on one side: compare what the items look like
                self.values(vendor[0], emulator[0], f"{where}[*]", key, with_values=False)
        elif with_values:
            self.leaf(vendor, emulator, where, key)

    def leaf(self, vendor: Any, emulator: Any, where: str, key: str | None) -> None:
        if vendor == REDACTED or vendor is None:
            return
        if is_id_key(key) and not isinstance(vendor, bool):
            problem = self.ids.pair(vendor, emulator, self.seq, where)
            if problem is not None:
                self.out.append(problem)
            return
        if isinstance(vendor, str) and _DATETIME.match(vendor):
            if not (isinstance(emulator, str) and _NUMBER.sub("9", vendor) == _NUMBER.sub("9", emulator)):
                self.out.append(Difference("timestamp format", where, vendor, emulator))
            return
        if key in MESSAGE_KEYS and isinstance(vendor, str) and isinstance(emulator, str):
            if not message_agrees(vendor, emulator):
                self.out.append(Difference("message", where, vendor, emulator,
                                           f"stable prefix {stable_prefix(vendor)!r}"))
            return
        if self.sent.echoes(key, vendor):
            expected = self.ids.get(vendor)
            if emulator != expected:
                self.out.append(Difference("value", where, vendor, emulator, "a value the client sent, answered back"))

    def bodies(self, vendor: Payload, emulator: Payload) -> None:
        if vendor.kind != emulator.kind:
            self.out.append(Difference("body", "body", _body_kind(vendor), _body_kind(emulator)))
        elif vendor.kind == "json":
            self.values(vendor.value, emulator.value)
        elif vendor.kind == "text" and not message_agrees(vendor.value, emulator.value):
            self.out.append(Difference("message", "body", vendor.value, emulator.value,
                                       f"stable prefix {stable_prefix(vendor.value)!r}"))

    def headers(self, vendor: dict, emulator: dict) -> None:
        theirs = {k.lower() for k in vendor}
        ours = {k.lower() for k in emulator}
        for name in MEANINGFUL_HEADERS:
            if (name.lower() in theirs) != (name.lower() in ours):
                self.out.append(Difference("header", f"header {name}",
                                           _header(vendor, name), _header(emulator, name)))


def _header(headers: dict, name: str) -> Any:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), ABSENT)


def _body_kind(payload: Payload) -> str:
    return {"none": "no body", "json": "JSON", "text": "text", "base64": "binary"}[payload.kind]


# -- the report ------------------------------------------------------------------------------
OUTCOMES = ("agree", "differ", "known", "no route")


@dataclass
class Result:
    """One replayed exchange: ``outcome`` is ``agree``, ``differ``, ``known`` (only known
    differences) or ``no route``."""

    exchange: Exchange
    endpoint: str
    outcome: str
    status: int | None
    differences: list[Difference] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        ex = self.exchange
        return {"seq": ex.seq, "file": ex.name, "source": ex.source, "method": ex.method, "path": ex.path,
                "endpoint": self.endpoint, "outcome": self.outcome,
                "status": {"vendor": ex.status, "emulator": self.status},
                "differences": [d.to_dict() for d in self.differences], "notes": self.notes}


@dataclass
class Report:
    """What ``verify`` found: one :class:`Result` per exchange, per-endpoint counts, and the
    correspondence map of ids. ``ok`` is true when nothing differs but known differences."""

    vendor: str
    cassette: str
    fixture: str
    results: list[Result]
    correspondence: dict
    stale_known: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.outcome in ("agree", "known") for r in self.results)

    @property
    def differences(self) -> list[tuple[Result, Difference]]:
        return [(r, d) for r in self.results for d in r.differences]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(OUTCOMES, 0)
        for r in self.results:
            out[r.outcome] += 1
        return out

    def endpoints(self) -> list[dict]:
        rows: dict[str, dict] = {}
        for r in self.results:
            row = rows.setdefault(r.endpoint, {"endpoint": r.endpoint, **dict.fromkeys(OUTCOMES, 0)})
            row[r.outcome] += 1
        return list(rows.values())

    def to_dict(self) -> dict:
        unverified = [{"seq": r.exchange.seq, "file": r.exchange.name, "outcome": r.outcome, **n}
                      for r in self.results for n in r.notes if n.get("kind") == "unverified"]
        return {"format": REPORT_FORMAT, "vendor": self.vendor, "cassette": self.cassette, "fixture": self.fixture,
                "ok": self.ok, "summary": {"exchanges": len(self.results), **self.counts()},
                "endpoints": self.endpoints(), "exchanges": [r.to_dict() for r in self.results],
                "unverified_notes": unverified, "correspondence": self.correspondence,
                "stale_known_differences": self.stale_known}

    def write(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n",
                              encoding="utf-8")

    def table(self) -> str:
        """The per-endpoint table, then every difference and missing route with both values."""
        counts = self.counts()
        lines = [f"verify {self.cassette}: {len(self.results)} exchanges with {self.vendor}, "
                 f"fixture {self.fixture}", ""]
        width = max([len("endpoint")] + [len(row["endpoint"]) for row in self.endpoints()])
        lines.append(f"  {'endpoint':<{width}}  agree  differ  known  no route")
        for row in self.endpoints():
            lines.append(f"  {row['endpoint']:<{width}}  {row['agree']:>5}  {row['differ']:>6}  {row['known']:>5}"
                         f"  {row['no route']:>8}")
        for r in self.results:
            if r.outcome == "agree":
                continue
            ex = r.exchange
            lines.append("")
            lines.append(f"  #{ex.seq} {ex.method} {ex.path} ({ex.name}): {r.outcome}")
            for d in r.differences:
                lines.append(f"      {d.line()}")
            for n in r.notes:
                lines.append(f"      emulator note [{n.get('kind')}] {n.get('field')}: {n.get('rule')}")
        for stale in self.stale_known:
            lines.append(f"\n  known difference no longer seen (remove it): {stale.get('file')} "
                         f"{stale.get('where')}: {stale.get('what')}")
        lines.append("")
        verdict = "agree" if self.ok else "DIFFER"
        lines.append(f"{verdict}: {counts['agree']} agree, {counts['differ']} differ, {counts['known']} only known "
                     f"differences, {counts['no route']} without a route in the emulator")
        return "\n".join(lines)


# -- replaying -------------------------------------------------------------------------------
@contextmanager
def no_outbound_calls():
    """While replaying, the emulator's outbound calls (webhooks, upload fetches) fail at once:
    they must not reach the recording's real URLs."""
    with outbound.refused("contact-emulator verify makes no outbound call"):
        yield


def load_known(path: str | os.PathLike | None, vendor: str) -> list[dict]:
    """The known differences of ``vendor`` listed in ``path`` (see the README)."""
    if path is None:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CassetteError(path, f"cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise CassetteError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != KNOWN_FORMAT or not isinstance(
            data.get("differences"), list):
        raise CassetteError(path, f"must be {{\"format\": {KNOWN_FORMAT!r}, \"differences\": [...]}}")
    out = []
    for i, item in enumerate(data["differences"]):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("vendor", "file", "what",
                                                                                        "where")):
            raise CassetteError(path, f"differences[{i}]: needs the strings vendor, file, what and where")
        if item["vendor"] == vendor:
            out.append(item)
    return out


def _fixture(vendor: str, ref, keys: list, credentials: Credentials) -> tuple[Any, str]:
    from ..core.accounts import FixtureError, load_fixture

    if ref is not None:
        try:
            load_fixture(ref)
        except FixtureError as exc:
            raise CassetteError(f"--fixture {ref}", str(exc).removeprefix("fixture ")) from None
        return ref, repr(os.fspath(ref)) if isinstance(ref, (str, os.PathLike)) else "(fixture object)"
    template = load_fixture("empty")["vendors"][vendor]["accounts"]
    generated = {"description": "generated by contact-emulator verify from the shipped 'empty' fixture",
                 "vendors": {vendor: {"accounts": credentials.generated_accounts(keys, template)}}}
    return generated, "generated from 'empty'"


def _endpoint(app, prefix: str, method: str, path: str) -> tuple[str | None, bool]:
    """(the emulator's route for the request as ``METHOD /path/{param}``, whether it has one)."""
    from werkzeug.exceptions import HTTPException

    adapter = app.url_map.bind("localhost")
    full = (prefix + path).rstrip("/") or "/"
    try:
        rule, _ = adapter.match(full, method=method, return_rule=True)
    except HTTPException:
        template = "/".join("{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))
        return f"{method} {template}", False
    route = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)[len(prefix):] or "/"
    return f"{method} {route}", True


def verify(directory: str | os.PathLike, vendor: str | None = None, fixture: Any = None, *,
           known: str | os.PathLike | None = None, seed: int = 0) -> Report:
    """Replay the cassette in ``directory`` against a fresh emulator; see the module docstring.

    ``fixture``: a fixture name, path or object whose accounts stand for the recorded
    credentials (default: generated from the shipped ``empty`` fixture, one account per set
    of credentials recorded). ``known``: a known-differences file. Bad input raises
    :class:`~emulator.conformance.cassette.CassetteError`.
    """
    from .. import create_app
    from ..core.accounts import FixtureError
    from ..core.clock import parse_instant

    exchanges = read_cassette(directory, vendor)
    vendor = exchanges[0].vendor
    known_items = load_known(known, vendor)
    creds = CREDENTIALS[vendor]()
    keys: list = []
    for ex in exchanges:
        key = creds.account_key(ex)
        if key is not None and key not in keys:
            keys.append(key)
    fixture_ref, fixture_label = _fixture(vendor, fixture, keys, creds)
    try:
        app = create_app({"fixture": fixture_ref, "seed": seed, "vendors": (vendor,), "journal_size": 16})
    except FixtureError as exc:
        raise CassetteError(f"--fixture {fixture_label}", str(exc).removeprefix("fixture: ")) from None
    engine = app.extensions["emulator"]
    accounts = list(engine.accounts.get(vendor, {}).values())
    if len(keys) > len(accounts):
        raise CassetteError(f"--fixture {fixture_label}",
                            f"the cassette speaks for {_count(len(keys), vendor + ' account')}, the fixture "
                            f"declares {len(accounts)}")
    account_of = dict(zip(keys, accounts, strict=False))
    spec = engine.vendors[vendor]
    prefix = spec.prefix()
    client = app.test_client()
    ids, sent = Correspondence(), Sent()
    for key, account in account_of.items():
        if isinstance(key, str):
            ids.pair(key, account.name, 0, "account")
    results: list[Result] = []
    clock = engine.clock
    now = parse_instant(exchanges[0].started_at).timestamp() if exchanges[0].started_at else \
        parse_instant("2026-01-01T00:00:00Z").timestamp()
    clock.freeze(now)
    with no_outbound_calls():  # until the engine is closed: its calls run on threads of their own
        try:
            for ex in exchanges:
                at = parse_instant(ex.started_at).timestamp() if ex.started_at else now + 1
                if at > now:
                    now = at
                    clock.freeze(now)
                results.append(_replay(ex, app, client, prefix, creds, account_of, ids, sent))
            engine.jobs.run_due()  # the attempts the replay made due are made (and refused) now
            engine.jobs.wait_deliveries(engine.jobs.webhook_timeout_s + 1.0)
        finally:
            engine.close()
    known_keys = {(k["file"], k["what"], k["where"]): k for k in known_items}
    used: set = set()
    for r in results:
        for d in r.differences:
            item = known_keys.get((r.exchange.name, d.what, d.where))
            if item is not None:
                d.known = True
                used.add((r.exchange.name, d.what, d.where))
        if r.differences and all(d.known for d in r.differences):
            r.outcome = "known"
    stale = [item for key, item in known_keys.items() if key not in used]
    return Report(vendor=vendor, cassette=os.fspath(directory), fixture=fixture_label, results=results,
                  correspondence=ids.to_dict(), stale_known=stale)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _replay(ex: Exchange, app, client, prefix, creds: Credentials, account_of: dict, ids: Correspondence,
            sent: Sent) -> Result:
    endpoint, routed = _endpoint(app, prefix, ex.method, ids.path(ex.path))
    if ex.body.kind == "json":
        sent.add(ex.body.value)
    sent.add(ex.query)
    if not routed and ex.status not in (404, 405):
        return Result(ex, endpoint, "no route", None, [Difference(
            "no route", "route", ex.status, 404, f"the emulator has no route {ex.method} {ex.path}")])
    engine = app.extensions["emulator"]
    secrets = {k.lower() for k, v in ex.headers.items() if k.lower() in SECRET_HEADERS or v == REDACTED}
    headers = {k: v for k, v in ex.headers.items()
               if k.lower() not in secrets and k.lower() not in _NOT_REPLAYED}
    body = Payload(ex.body.kind, ids.body(copy.deepcopy(ex.body.value))) if ex.body.kind == "json" else ex.body
    replay = Replay(ex, ids.path(ex.path), ids.query(ex.query), headers, body, secrets)
    account = account_of.get(creds.account_key(ex)) if ex.credentials != REJECTED else None
    if ex.credentials is not None:
        creds.apply(replay, account, client, prefix)
    engine.journal.clear()
    resp = client.open(prefix + quote(replay.path, safe="/:@!$&'()*+,;=~%"), method=replay.method,
                       query_string=replay.query, headers=replay.headers, data=replay.body.to_bytes())
    raw = resp.get_data()
    answer = Payload.from_bytes(raw, resp.content_type, redacted=False)
    creds.answered(replay, account, answer.value if answer.kind == "json" else None)
    entries = engine.journal.entries()
    notes = list(entries[-1]["notes"]) if entries else []
    compare = Comparison(ex.seq, ids, sent)
    if resp.status_code != ex.status:
        compare.out.append(Difference("status", "status", ex.status, resp.status_code,
                                      f"vendor body {_preview(_body_value(ex.response))}, "
                                      f"emulator body {_preview(_body_value(answer))}"))
    else:
        compare.bodies(ex.response, answer)
        compare.headers(ex.response_headers, dict(resp.headers))
    _explain(compare.out, notes)
    return Result(ex, endpoint, "differ" if compare.out else "agree", resp.status_code, compare.out, notes)


def _body_value(payload: Payload) -> Any:
    return payload.value if payload.kind != "none" else ABSENT


def _explain(differences: list[Difference], notes: list[dict]) -> None:
    """A key the emulator lacks or adds, where it noted that field, says what it did."""
    for d in differences:
        if d.what not in ("missing key", "extra key", "value", "type") or d.detail:
            continue
        leaf = re.split(r"[.\[]", d.where)[-1].rstrip("]").strip('"')
        for n in notes:
            field_leaf = re.split(r"[.\[]", str(n.get("field", "")))[-1].rstrip("]")
            if field_leaf and field_leaf == leaf:
                d.detail = f"emulator note [{n.get('kind')}] {n.get('field')}: {n.get('rule')}"
                break


# -- command line ----------------------------------------------------------------------------
def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "verify", help="replay a cassette against a fresh emulator and compare the answers",
        description="Replay the recorded requests in order against a fresh emulator and compare each answer "
                    "with the vendor's. Exit code 0: everything agrees; 1: something differs; 2: bad input.")
    parser.add_argument("directory", metavar="DIR", help="the cassette directory (contact-emulator record --out)")
    parser.add_argument("--vendor", help="the vendor the cassette must be of (default: the one it names)")
    parser.add_argument("--report", metavar="FILE", help="also write the report as JSON to FILE")
    parser.add_argument("--fixture", metavar="F", help="fixture whose accounts stand for the recorded credentials "
                                                       "(default: generated from 'empty')")
    parser.add_argument("--known", metavar="FILE", help="known differences: reported, not failing")
    parser.add_argument("--seed", default="0", help="seed of the emulator (default 0)")
    return parser


def run(args, fail) -> int:
    """``contact-emulator verify``; ``fail(message)`` prints one line and returns exit code 2."""
    from ..vendors import VENDOR_PACKAGES

    if args.vendor is not None and args.vendor not in VENDOR_PACKAGES:
        return fail(f"--vendor {args.vendor}: must be one of {', '.join(VENDOR_PACKAGES)}")
    try:
        seed = int(args.seed)
    except ValueError:
        return fail(f"--seed {args.seed}: must be an integer")
    if args.report:
        parent = Path(args.report).resolve().parent
        if not parent.is_dir():
            return fail(f"--report {args.report}: the directory {parent} does not exist")
    try:
        report = verify(args.directory, args.vendor, args.fixture, known=args.known, seed=seed)
    except CassetteError as exc:
        return fail(str(exc))
    print(report.table(), flush=True)
    if args.report:
        try:
            report.write(args.report)
        except OSError as exc:
            return fail(f"--report {args.report}: cannot be written ({exc.strerror or exc})")
    return 0 if report.ok else 1
