"""The handle a test gets: where the emulator is, what it stored, and its clock.

It speaks to the emulator through its admin API, over HTTP for a live server or straight
into the WSGI app in-process, so both fixtures offer the same narrow API.
"""
from __future__ import annotations

from typing import Any


class AdminError(AssertionError):
    """The admin API refused a call (shown with its status and message)."""


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


def _is_subset(subset: Any, value: Any) -> bool:
    if isinstance(subset, dict):
        return isinstance(value, dict) and all(k in value and _is_subset(v, value[k]) for k, v in subset.items())
    if isinstance(subset, list):
        return isinstance(value, list) and len(subset) == len(value) and all(
            _is_subset(s, v) for s, v in zip(subset, value, strict=True))
    return subset == value


class EmulatorHandle:
    """What ``contact_emulator`` and ``emulated_vendors`` give a test."""

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
    def state(self, vendor: str | None = None, account: str | None = None) -> dict:
        params = {k: v for k, v in {"vendor": vendor, "account": account}.items() if v}
        return self._t.call("GET", "/_emulator/state", params=params)

    def collection(self, vendor: str, kind: str, account: str | None = None) -> list[dict]:
        name = self._account(vendor, account).name
        return self.state(vendor, name)["vendors"][vendor]["accounts"][name].get(kind, [])

    def contacts(self, vendor: str, account: str | None = None) -> list[dict]:
        """Stored contacts of an account (default: the vendor's first account)."""
        return self.collection(vendor, "contacts", account)

    def events(self, vendor: str = "esputnik", account: str | None = None) -> list[dict]:
        return self.collection(vendor, "events", account)

    def orders(self, vendor: str = "esputnik", account: str | None = None) -> list[dict]:
        """eSputnik: stored orders (``POST /orders``), one per ``externalOrderId``."""
        return self.collection(vendor, "orders", account)

    def unsubscribed(self, vendor: str = "esputnik", account: str | None = None) -> list[str]:
        """eSputnik: the email addresses marked unsubscribed (``POST /emails/unsubscribed/add``)."""
        return [doc["email"] for doc in self.collection(vendor, "unsubscribed", account)]

    def requests(self, vendor: str | None = None, method: str | None = None, path: str | None = None) -> list[dict]:
        """Journal entries, newest last; ``path`` may be a glob."""
        params = {k: v for k, v in {"vendor": vendor, "method": method, "path": path}.items() if v}
        return self._t.call("GET", "/_emulator/requests", params=params)["requests"]

    def webhooks(self, vendor: str | None = None) -> list[dict]:
        params = {"vendor": vendor} if vendor else None
        return self._t.call("GET", "/_emulator/webhooks", params=params)["webhooks"]

    # -- verification ----------------------------------------------------------------
    def lint(self, vendor: str | None = None) -> dict:
        """What lenient vendors silently cast, reformatted or ignored, per endpoint and field."""
        return self._t.call("GET", "/_emulator/lint", params={"vendor": vendor} if vendor else None)

    def assert_clean(self, allow: tuple | list = (), vendor: str | None = None) -> None:
        """Fail when any request needed a silent fix-up, listing each one.

        ``allow`` entries excuse notes by field (``"first_name"``), vendor and field
        (``"octopush:first_name"``) or rule (``"lower-cased"``).
        """
        allowed = set(allow)
        problems = []
        for entry in self.requests(vendor=vendor):
            for item in entry.get("notes") or ():
                keys = {item.get("field"), f"{entry['vendor']}:{item.get('field')}", item.get("rule")}
                if keys & allowed:
                    continue
                problems.append(f"  {entry['vendor']} {entry['method']} {entry['path']}: {item.get('field')} "
                                f"sent {item.get('sent')!r}, used {item.get('used')!r} ({item.get('rule')})")
        if problems:
            raise AssertionError(f"{len(problems)} silent fix-up(s) the real vendor would not report:\n"
                                 + "\n".join(problems))

    def assert_called(self, vendor: str, method: str, path: str, times: int | None = None,
                      json_subset: Any = None) -> list[dict]:
        """Assert the journal holds matching requests (``path`` may be a glob); returns them.

        ``times`` checks the exact count; ``json_subset`` keeps requests whose JSON body
        contains it. The failure message shows the closest requests that were made.
        """
        candidates = self.requests(vendor=vendor, method=method, path=path)
        if json_subset is not None:
            candidates = [e for e in candidates if _is_subset(json_subset, e.get("body"))]
        if (times is None and candidates) or (times is not None and len(candidates) == times):
            return candidates
        want = f"{times} time(s)" if times is not None else "at least once"
        made = self.requests(vendor=vendor) or self.requests()
        import difflib

        target = f"{method.upper()} {path}"
        lines = [f"{e['method']} {e['path']} -> {e['status']} body={e.get('body')!r}"[:300] for e in made]
        closest = difflib.get_close_matches(target, lines, n=5, cutoff=0.0) if lines else []
        detail = "\n".join(f"  {line}" for line in closest) or "  (no requests recorded)"
        raise AssertionError(f"expected {vendor} {target} {want}"
                             f"{' with body containing ' + repr(json_subset) if json_subset is not None else ''}, "
                             f"found {len(candidates)}; closest requests:\n{detail}")

    # -- control ---------------------------------------------------------------------
    def reset(self, vendor: str | None = None) -> None:
        self._t.call("POST", "/_emulator/reset", {"vendor": vendor} if vendor else {})

    def seed(self, seed: int, fixture: str | dict | None = None) -> None:
        body: dict = {"seed": seed}
        if fixture is not None:
            body["fixture"] = fixture
        self._t.call("POST", "/_emulator/seed", body)

    def helper(self, vendor: str, action: str, **body) -> Any:
        """Call a vendor test helper: ``POST /_emulator/<vendor>/<action>``."""
        body.setdefault("account", self._account(vendor, body.get("account")).name)
        return self._t.call("POST", f"/_emulator/{vendor}/{action}", body)

    def confirm(self, email: str, account: str | None = None) -> Any:
        """eSputnik: the subscriber clicks the double opt-in link."""
        return self.helper("esputnik", "confirm", email=email, account=account)

    def blacklist(self, phone_numbers: list[str], account: str | None = None) -> Any:
        """Octopush: these numbers sent STOP."""
        return self.helper("octopush", "blacklist", phone_numbers=list(phone_numbers), account=account)

    def set_credits(self, validation_credits: int, account: str | None = None) -> Any:
        """Pushtech: set the account's email validation credits."""
        return self.helper("pushtech", "credits", validation_credits=validation_credits, account=account)

    # -- internals -------------------------------------------------------------------
    def _vendor(self, vendor: str):
        spec = self.engine.vendors.get(vendor)
        if spec is None:
            raise KeyError(f"unknown vendor {vendor!r}; served: {', '.join(sorted(self.engine.vendors))}")
        return spec

    def _account(self, vendor: str, account: str | None):
        self._vendor(vendor)
        accounts = self.engine.accounts.get(vendor, {})
        if account is None:
            if not accounts:
                raise KeyError(f"the fixture declares no {vendor} account")
            return next(iter(accounts.values()))
        if account not in accounts:
            raise KeyError(f"no {vendor} account {account!r}; declared: {', '.join(accounts)}")
        return accounts[account]

    def __repr__(self) -> str:
        return f"<EmulatorHandle {self.url or 'in-process'}>"
