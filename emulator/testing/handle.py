"""The handle a test gets: where the emulator is, what it stored, and its clock.

It speaks to the emulator through its admin API, over HTTP for a live server or straight
into the WSGI app in-process, so both fixtures offer the same narrow API.
"""
from __future__ import annotations

from typing import Any


class AdminError(AssertionError):
    """The admin API refused a call (shown with its status and message)."""


class BadArgument(KeyError, ValueError):
    """A handle method was given an argument it cannot use; the message names the argument.

    A ``KeyError`` (an unknown vendor or account is a failed look-up) and a ``ValueError``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _Transport:
    def __init__(self, app, url: str | None):
        self.app, self.url = app, url
        self._client = None if url else app.test_client()
        self._session = None

    def call(self, method: str, path: str, json: Any = None, params: dict | None = None) -> Any:
        if self.url:
            import requests

            if self._session is None:
                self._session = requests.Session()
            resp = self._session.request(method, self.url + path, json=json, params=params, timeout=30)
            status, body = resp.status_code, (resp.json() if resp.content else None)
        else:
            resp = self._client.open(path, method=method, json=json, query_string=params)
            status, body = resp.status_code, resp.get_json(silent=True)
        if status >= 400:
            raise AdminError(f"{method} {path} -> {status}: {body}")
        return body


class Clock:
    """The emulator clock: ``freeze()``, ``advance(seconds)``, ``real()``, ``now()``."""

    def __init__(self, transport: _Transport):
        self._t = transport

    def now(self) -> str:
        return self._t.call("GET", "/_emulator/clock")["now"]

    def state(self) -> dict:
        return self._t.call("GET", "/_emulator/clock")

    def freeze(self, at: str | None = None) -> dict:
        """Stop the clock (at ``at``, ISO 8601, or now)."""
        return self._t.call("POST", "/_emulator/clock", {"freeze": at})

    def advance(self, seconds: float) -> dict:
        return self._t.call("POST", "/_emulator/clock", {"advance": seconds})

    def real(self) -> dict:
        return self._t.call("POST", "/_emulator/clock", {"real": True})


class Faults:
    """Fault rules: ``add(vendor=, method=, path=, status=, body=, delay_ms=, drop=, times=, account=)``."""

    def __init__(self, transport: _Transport):
        self._t = transport

    def add(self, vendor: str | None = None, method: str | None = None, path: str = "*", **effect) -> dict:
        body = {"vendor": vendor, "method": method, "path": path, **effect}
        return self._t.call("POST", "/_emulator/faults", {k: v for k, v in body.items() if v is not None})

    def list(self) -> list[dict]:
        return self._t.call("GET", "/_emulator/faults")["faults"]

    def clear(self) -> None:
        self._t.call("DELETE", "/_emulator/faults")


def is_subset(subset: Any, value: Any) -> bool:
    """True when ``value`` contains ``subset``: dicts partially (nested too), lists as
    subsets in any order (each element of ``subset`` matched by a distinct element of
    ``value``), anything else by equality."""
    if isinstance(subset, dict):
        return isinstance(value, dict) and all(k in value and is_subset(v, value[k]) for k, v in subset.items())
    if isinstance(subset, list):
        if not isinstance(value, list) or len(subset) > len(value):
            return False
        fits = [[j for j, v in enumerate(value) if is_subset(s, v)] for s in subset]
        return _assign(fits, 0, set())
    return subset == value


def _assign(fits: list[list[int]], i: int, used: set[int]) -> bool:
    """Can elements ``i:`` each take a distinct candidate? (lists in bodies are short)"""
    if i == len(fits):
        return True
    for j in fits[i]:
        if j not in used:
            used.add(j)
            if _assign(fits, i + 1, used):
                return True
            used.discard(j)
    return False


def compile_allow(allow, vendors) -> list:
    """``assert_clean``'s ``allow`` entries as predicates over ``(vendor, note)``.

    An entry is a note kind (``"advice"``), a note's exact rule text, or a field-path glob,
    optionally after a served vendor's name and a colon (``"octopush:contacts[*].phone_number"``).
    In a glob ``*`` matches any run of characters and ``[*]`` any index; other brackets match
    themselves; the glob must match the whole path.
    """
    import re

    from ..core.journal import NOTE_KINDS

    if isinstance(allow, str):
        allow = [allow]
    try:
        entries = list(allow)
    except TypeError:
        raise BadArgument(f"allow must be a list of kinds, field globs or rule texts, got {allow!r}") from None
    checks = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry.strip():
            raise BadArgument(f"allow[{i}] must be a non-empty string (a kind, a field glob or a rule text), "
                              f"got {entry!r}")
        vendor, glob = None, entry
        head, sep, rest = entry.partition(":")
        if sep and re.fullmatch(r"[a-z][a-z0-9_-]*", head) and " " not in entry:
            if head not in vendors:
                raise BadArgument(f"allow[{i}] {entry!r}: {head!r} is not a served vendor "
                                  f"({', '.join(sorted(vendors))})")
            if not rest:
                raise BadArgument(f"allow[{i}] {entry!r}: a field glob must follow '{head}:'")
            vendor, glob = head, rest
        pattern = re.compile("".join(r"\[\d+\]" if part == "[*]" else ".*" if part == "*" else re.escape(part)
                                     for part in re.split(r"(\[\*\]|\*)", glob) if part))
        checks.append((entry, vendor, pattern, entry in NOTE_KINDS))
    return checks


def allowed(checks: list, vendor: str, item: dict) -> bool:
    field = item.get("field") or ""
    for entry, only, pattern, is_kind in checks:
        if is_kind and item.get("kind") == entry:
            return True
        if entry == item.get("rule"):
            return True
        if (only is None or only == vendor) and pattern.fullmatch(field):
            return True
    return False


class EmulatorHandle:
    """What ``contact_emulator`` and ``emulated_vendors`` give a test (see ``docs/handle.md``)."""

    def __init__(self, app, url: str | None = None):
        self.app = app
        self.url = url
        self._t = _Transport(app, url)
        self.clock = Clock(self._t)
        self.faults = Faults(self._t)

    @property
    def engine(self):
        return self.app.extensions["emulator"]

    # -- where and who -------------------------------------------------------------
    def base_url(self, vendor: str) -> str:
        """Base URL of a vendor: ``http://127.0.0.1:PORT/<vendor>`` for a live server, the
        vendor's real ``https://<host>`` when requests are intercepted in-process."""
        spec = self._vendor(vendor)
        if self.url:
            return f"{self.url}/{vendor}"
        host, extra = next(iter(spec.hosts.items()))
        return f"https://{host}{extra}"

    def credentials(self, vendor: str, account: str | None = None) -> dict:
        """The account's credentials as declared in the fixture."""
        return dict(self._account(vendor, account).credentials)

    # -- what is stored --------------------------------------------------------------
    def state(self, vendor: str | None = None, account: str | None = None, kind: str | None = None,
              limit: int | None = None, offset: int | None = None, **where) -> dict:
        """``GET /_emulator/state``: ``{"vendors": {v: {"accounts": {a: {kind: [docs]}}}}, "counts": ...}``;
        each collection answers ``limit`` documents (default 100) from ``offset`` on, ``counts``
        says how many it holds; ``where`` filters by index key (``email="ann@example.com"``)."""
        if vendor is not None:
            self._vendor(vendor)
            if account is not None:
                self._account(vendor, account)
        params = {k: v for k, v in {"vendor": vendor, "account": account, "kind": kind}.items() if v}
        params.update({k: v for k, v in {"limit": limit, "offset": offset}.items() if v is not None})
        params.update(where)
        return self._t.call("GET", "/_emulator/state", params=params)

    def collection(self, vendor: str, kind: str, account: str | None = None, limit: int | None = None,
                   offset: int | None = None, **where) -> list[dict]:
        """Stored documents of one kind (``contacts``, ``groups``, ``events`` ...) of an account,
        a page of ``limit`` (default 100) from ``offset``."""
        name = self._account(vendor, account).name
        kinds = self._vendor(vendor).collections
        if kind not in kinds:
            raise BadArgument(f"kind={kind!r}: {vendor} keeps {', '.join(kinds)}")
        return self.state(vendor, name, kind, limit, offset, **where)["vendors"][vendor]["accounts"][name].get(kind, [])

    def contacts(self, vendor: str, account: str | None = None, limit: int | None = None,
                 offset: int | None = None, **where) -> list[dict]:
        """Stored contacts of an account (default: the vendor's first account), oldest first, a
        page of ``limit`` (default 100) from ``offset``."""
        return self.collection(vendor, "contacts", account, limit, offset, **where)

    def events(self, vendor: str = "esputnik", account: str | None = None, limit: int | None = None,
               offset: int | None = None, **where) -> list[dict]:
        return self.collection(vendor, "events", account, limit, offset, **where)

    def orders(self, vendor: str = "esputnik", account: str | None = None, limit: int | None = None,
               offset: int | None = None, **where) -> list[dict]:
        """eSputnik: stored orders (``POST /orders``), one per ``externalOrderId``."""
        return self.collection(vendor, "orders", account, limit, offset, **where)

    def unsubscribed(self, vendor: str = "esputnik", account: str | None = None, limit: int | None = None,
                     offset: int | None = None, **where) -> list[str]:
        """eSputnik: the email addresses marked unsubscribed (``POST /emails/unsubscribed/add``)."""
        return [doc["email"] for doc in self.collection(vendor, "unsubscribed", account, limit, offset, **where)]

    def requests(self, vendor: str | None = None, method: str | None = None, path: str | None = None,
                 *, unmatched: bool | None = None) -> list[dict]:
        """Journal entries, newest last; ``path`` (the vendor's own path) may be a glob."""
        if vendor is not None:
            self._vendor(vendor)
        params = {k: v for k, v in {"vendor": vendor, "method": method, "path": path}.items() if v}
        if unmatched is not None:
            params["unmatched"] = "1" if unmatched else "0"
        return self._t.call("GET", "/_emulator/requests", params=params)["requests"]

    def unmatched(self, vendor: str | None = None) -> list[dict]:
        """Requests no route answered (a 404 "no route"): a wrong path or a typo'd base URL."""
        return self.requests(vendor, unmatched=True)

    def webhooks(self, vendor: str | None = None) -> list[dict]:
        if vendor is not None:
            self._vendor(vendor)
        params = {"vendor": vendor} if vendor else None
        return self._t.call("GET", "/_emulator/webhooks", params=params)["webhooks"]

    # -- verification ----------------------------------------------------------------
    def lint(self, vendor: str | None = None, kind: str | None = None) -> dict:
        """``GET /_emulator/lint``: notes per vendor, endpoint, field and kind."""
        from ..core.journal import NOTE_KINDS

        if vendor is not None:
            self._vendor(vendor)
        if kind is not None and kind not in NOTE_KINDS:
            raise BadArgument(f"kind={kind!r}: a note kind is one of {', '.join(NOTE_KINDS)}")
        params = {k: v for k, v in {"vendor": vendor, "kind": kind}.items() if v}
        return self._t.call("GET", "/_emulator/lint", params=params or None)

    def assert_clean(self, allow=(), vendor: str | None = None) -> None:
        """Fail when a request got a journal note of any kind that ``allow`` does not excuse.

        ``allow`` entries: a kind (``"advice"``), a field-path glob (``"contacts[*].phone_number"``,
        ``"*.email"``), optionally after a vendor (``"octopush:contacts[*].phone_number"``), or a
        note's exact rule text.
        """
        __tracebackhide__ = True
        checks = compile_allow(allow, self.engine.vendors)
        problems = []
        for entry in self.requests(vendor=vendor):
            for item in entry.get("notes") or ():
                if not allowed(checks, entry["vendor"], item):
                    problems.append(f"  {entry['vendor']} {entry['method']} {entry['path']}: {item.get('field')} "
                                    f"sent {item.get('sent')!r}, used {item.get('used')!r} "
                                    f"({item.get('rule')}) [{item.get('kind')}]")
        if problems:
            raise AssertionError(f"{len(problems)} journal note(s): fix-ups the real vendor would not report:\n"
                                 + "\n".join(problems))

    def assert_called(self, vendor: str, method: str, path: str, times: int | None = None,
                      json_subset: Any = None) -> list[dict]:
        """Assert the journal holds matching requests (``path`` may be a glob); returns them.

        ``times`` checks the exact count; ``json_subset`` keeps requests whose JSON body
        contains it (dicts partially, lists as subsets in any order). The failure message
        shows the nearest requests that were made.
        """
        __tracebackhide__ = True
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
            raise BadArgument(f"times must be a whole number ≥ 0 or None, got {times!r}")
        candidates = self.requests(vendor=vendor, method=method, path=path)
        if json_subset is not None:
            candidates = [e for e in candidates if is_subset(json_subset, e.get("body"))]
        if (times is None and candidates) or (times is not None and len(candidates) == times):
            return candidates
        want = f"{times} time(s)" if times is not None else "at least once"
        with_body = f" with a body containing {json_subset!r}" if json_subset is not None else ""
        raise AssertionError(f"expected {vendor} {method.upper()} {path} {want}{with_body}, found "
                             f"{len(candidates)}; nearest requests:\n"
                             + self._nearest(f"{method.upper()} {path}", self.requests(vendor=vendor)
                                             or self.requests()))

    def check(self) -> None:
        """Fail when a request of this test got no route (unmatched) or a 5xx that no fault
        rule asked for, like pytest-httpserver's ``check_assertions()``."""
        __tracebackhide__ = True
        bad = [e for e in self.requests() if e.get("unmatched")
               or (e.get("status") or 0) >= 500 and "fault" not in e]
        if bad:
            lines = "\n".join(f"  {e['vendor']} {e['method']} {e['path']} -> {e['status']}"
                              f"{' (no route)' if e.get('unmatched') else ''}: {_short(e.get('response'))}"
                              for e in bad)
            raise AssertionError(f"{len(bad)} request(s) no route answered or that failed with a 5xx:\n{lines}")

    @staticmethod
    def _nearest(target: str, made: list[dict], n: int = 5) -> str:
        import difflib

        if not made:
            return "  (no requests recorded)"
        keyed = {f"{e['method']} {e['path']}": e for e in reversed(made)}  # newest of each path
        closest = difflib.get_close_matches(target, list(keyed), n=n, cutoff=0.0)
        return "\n".join(f"  {key} -> {keyed[key]['status']} body={_short(keyed[key].get('body'))}"
                         for key in closest)

    # -- control ---------------------------------------------------------------------
    def reset(self, vendor: str | None = None, *, session: bool = False) -> None:
        """Drop stored data and reload the current fixture (one vendor, or all plus the
        journal and fault rules); ``session=True`` also puts back the session's fixture
        and seed and the real clock (what the fixtures do before every test)."""
        if vendor is not None:
            self._vendor(vendor)
        body: dict = {"vendor": vendor} if vendor else {}
        if session:
            body["session"] = True
        self._t.call("POST", "/_emulator/reset", body)

    def seed(self, seed: int, fixture: str | dict | None = None) -> None:
        """Reload with another seed (and fixture); lasts until the end of the test."""
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise BadArgument(f"seed must be an integer, got {seed!r}")
        if fixture is not None and not isinstance(fixture, (str, dict)):
            raise BadArgument(f"fixture must be a fixture name or a fixture object, got {fixture!r}")
        body: dict = {"seed": seed}
        if fixture is not None:
            body["fixture"] = fixture
        self._t.call("POST", "/_emulator/seed", body)

    def helper(self, vendor: str, action: str, **body) -> Any:
        """Call a vendor test helper: ``POST /_emulator/<vendor>/<action>``."""
        body["account"] = self._account(vendor, body.get("account")).name
        return self._t.call("POST", f"/_emulator/{vendor}/{action}", body)

    def confirm(self, email: str, account: str | None = None) -> Any:
        """eSputnik: the subscriber clicks the double opt-in link."""
        return self.helper("esputnik", "confirm", email=email, account=account)

    def blacklist(self, phone_numbers: list[str], account: str | None = None) -> Any:
        """Octopush: these numbers sent STOP."""
        if isinstance(phone_numbers, str):
            raise BadArgument(f"phone_numbers must be a list of numbers, got the string {phone_numbers!r}")
        return self.helper("octopush", "blacklist", phone_numbers=list(phone_numbers), account=account)

    def set_credits(self, validation_credits: int, account: str | None = None) -> Any:
        """Pushtech: set the account's email validation credits."""
        return self.helper("pushtech", "credits", validation_credits=validation_credits, account=account)

    # -- internals -------------------------------------------------------------------
    def _vendor(self, vendor: str):
        spec = self.engine.vendors.get(vendor) if isinstance(vendor, str) else None
        if spec is None:
            raise BadArgument(f"vendor={vendor!r} is not served; served: {', '.join(sorted(self.engine.vendors))}")
        return spec

    def _account(self, vendor: str, account: str | None):
        self._vendor(vendor)
        accounts = self.engine.accounts.get(vendor, {})
        if account is None:
            if not accounts:
                raise BadArgument(f"vendor={vendor!r}: the fixture declares no {vendor} account")
            return next(iter(accounts.values()))
        if account not in accounts:
            raise BadArgument(f"account={account!r}: no such {vendor} account; declared: {', '.join(accounts)}")
        return accounts[account]

    def __repr__(self) -> str:
        return f"<EmulatorHandle {self.url or 'in-process'}>"


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
