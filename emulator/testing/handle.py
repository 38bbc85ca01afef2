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


class EmulatorHandle:
    """What ``contact_emulator`` and ``emulated_vendors`` give a test."""

    def __init__(self, app, url: str | None = None):
        self.app = app
        self.url = url
        self._t = _Transport(app, url)
        self.clock = Clock(self._t)

    @property
    def engine(self):
        return self.app.extensions["emulator"]

    # -- where and who -------------------------------------------------------------
    def base_url(self, vendor: str) -> str:
        """Base URL of a vendor through the emulator: ``http://127.0.0.1:PORT/<vendor>``."""
        self._vendor(vendor)
        return f"{self.url or 'http://localhost'}/{vendor}"

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

    def requests(self, vendor: str | None = None, method: str | None = None, path: str | None = None) -> list[dict]:
        """Journal entries, newest last; ``path`` may be a glob."""
        params = {k: v for k, v in {"vendor": vendor, "method": method, "path": path}.items() if v}
        return self._t.call("GET", "/_emulator/requests", params=params)["requests"]

    def webhooks(self, vendor: str | None = None) -> list[dict]:
        params = {"vendor": vendor} if vendor else None
        return self._t.call("GET", "/_emulator/webhooks", params=params)["webhooks"]

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
