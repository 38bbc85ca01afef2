"""Live server and ``requests``: the public callers' wire shape, re-login on 401, concurrency."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests

from emulator.vendors.dengage import VENDOR

from .conftest import BULK, LOGIN, PASSWORDS, bearer

ROOT = Path(__file__).resolve().parents[2]


def shipped(name: str) -> dict:
    """A shipped fixture, D·engage block only (the demo account as users get it)."""
    data = json.loads((ROOT / "fixtures" / f"{name}.json").read_text())
    return {"vendors": {"dengage": data["vendors"]["dengage"]}}


class Caller:
    """What both public callers do: log in, BulkUpsert with columns = keys of the first
    record and insertIfNotExists true; on 401 log in again once and retry."""

    def __init__(self, base: str, userkey: str, password: str):
        self.base, self.userkey, self.password = base, userkey, password
        self.session = requests.Session()
        self.token: str | None = None
        self.logins = 0

    def login(self) -> None:
        resp = self.session.post(f"{self.base}/rest/login", json={"userkey": self.userkey, "password": self.password},
                                 timeout=10)
        resp.raise_for_status()
        self.token = resp.json()["access_token"]
        self.logins += 1

    def upsert(self, records: list[dict], throw: bool) -> requests.Response:
        if self.token is None:
            self.login()
        payload = {"columns": list(records[0].keys()), "contactDatas": records, "insertIfNotExists": True,
                   "throwExceptionIfInvalidRecord": throw}
        resp = self._post(payload)
        if resp.status_code == 401:
            self.login()
            resp = self._post(payload)
        return resp

    def _post(self, payload):
        return self.session.post(f"{self.base}/rest/bulk/contacts", json=payload,
                                 headers={"Authorization": f"Bearer {self.token}",
                                          "Content-Type": "application/json"}, timeout=10)


def lead(n: int, **extra) -> dict:
    return {"contact_key": f"lead-{n}", "name": "Ann", "surname": "Lee", "email": f"Lead{n}@Example.com",
            "email_permission": True, "gsm": "+905551112233", "gsm_permission": False, "city": "Izmir",
            "country": "TR", **extra}


def stored(engine, account="demo") -> dict:
    return {c["contact_key"]: c for _, c in engine.store.collection("dengage", account, "contacts").scan()}


@pytest.mark.parametrize("throw", [True, False])
def test_public_callers_wire_shape_works_unchanged(make_app, live, throw):
    app = make_app(vendors=[VENDOR], fixture=shipped("empty"))
    engine = app.extensions["emulator"]
    engine.clock.freeze("2026-03-01T10:00:00Z")
    server = live(app)
    caller = Caller(f"{server.url}/dengage", "demo", "dengage-demo-password")
    resp = caller.upsert([lead(1), lead(2)], throw)
    assert resp.status_code == 200
    answer = resp.json()
    assert answer["code"] == 0
    assert answer["data"]["inserted"] == ["lead-1", "lead-2"]
    assert answer["data"]["updated"] == [] and answer["data"]["errors"] == []
    engine.clock.advance(60)   # the demo account keeps the vendor's once-a-minute window
    resp = caller.upsert([lead(2, name="Anna"), lead(3)], throw)
    assert resp.json()["data"] == {"inserted": ["lead-3"], "updated": ["lead-2"], "errors": [], "warnings": []}
    contacts = stored(engine)
    assert set(contacts) == {"lead-1", "lead-2", "lead-3"}
    assert contacts["lead-2"]["name"] == "Anna" and contacts["lead-2"]["email"] == "lead2@example.com"
    assert contacts["lead-1"]["email_status"] == "A" and contacts["lead-1"]["contact_status"] == "A"
    assert caller.logins == 1


def test_public_callers_see_invalid_records_the_way_their_flag_asks(make_app, live):
    app = make_app(vendors=[VENDOR], fixture=shipped("empty"))
    engine = app.extensions["emulator"]
    engine.clock.freeze("2026-03-01T10:00:00Z")
    server = live(app)
    caller = Caller(f"{server.url}/dengage", "demo", "dengage-demo-password")
    records = [lead(1), lead(2, email="x" * 300)]
    rejected = caller.upsert(records, throw=True)
    assert rejected.status_code == 400 and rejected.json()["code"] == 11
    assert stored(engine) == {}
    kept = caller.upsert(records, throw=False)   # a rejected call does not move the window
    assert kept.status_code == 200
    assert kept.json()["data"]["inserted"] == ["lead-1"]
    assert [e["index"] for e in kept.json()["data"]["errors"]] == [1]
    assert set(stored(engine)) == {"lead-1"}


def test_a_caller_that_logs_in_again_once_on_401_succeeds(make_app, live):
    app = make_app(vendors=[VENDOR], fixture=shipped("default"))
    engine = app.extensions["emulator"]
    engine.clock.freeze("2026-03-01T10:00:00Z")
    server = live(app)
    caller = Caller(f"{server.url}/dengage", "demo", "dengage-demo-password")
    assert caller.upsert([lead(1)], throw=False).status_code == 200
    engine.clock.advance(3600)   # the token expired, and the window is open again
    resp = caller.upsert([lead(2)], throw=False)
    assert resp.status_code == 200
    assert resp.json()["data"]["inserted"] == ["lead-2"]
    assert caller.logins == 2
    # the 401 was answered in between, in the vendor's words
    statuses = [(e["path"], e["status"]) for e in engine.journal.entries(vendor="dengage")]
    assert statuses[-3:] == [("/rest/bulk/contacts", 401), ("/rest/login", 200), ("/rest/bulk/contacts", 200)]
    assert {"lead-1", "lead-2"} <= set(stored(engine))
    assert len(stored(engine)) == 7   # the default fixture's 5 generated contacts, plus the two leads


def test_eight_threads_sending_the_same_contact_store_one(app, engine, live):
    """Window 0: calls that meet one in progress get 429 and retry; one contact in the end."""
    server = live(app)
    token = requests.post(server.url + LOGIN, json={"userkey": "demo", "password": PASSWORDS["demo"]},
                          timeout=10).json()["access_token"]
    barrier = threading.Barrier(8)
    outcomes: list = [None] * 8

    def worker(i):
        session = requests.Session()
        payload = {"columns": ["contact_key", "name", "email"], "insertIfNotExists": True,
                   "contactDatas": [{"contact_key": "same", "name": f"t{i}", "email": "Same@X.io"}]}
        barrier.wait(timeout=10)
        limited = 0
        for _ in range(10_000):
            resp = session.post(server.url + BULK, json=payload, headers=bearer(token), timeout=30)
            if resp.status_code != 429:
                break
            limited += 1
        outcomes[i] = (resp.status_code, resp.json()["data"], limited)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert all(o is not None and o[0] == 200 for o in outcomes)
    assert sum(len(o[1]["inserted"]) for o in outcomes) == 1
    assert sum(len(o[1]["updated"]) for o in outcomes) == 7
    contacts = stored(engine)
    assert list(contacts) == ["same"] and contacts["same"]["email"] == "same@x.io"


def test_two_accounts_call_in_parallel_without_limiting_each_other(app, engine, live):
    server = live(app)
    results = {}

    def worker(account):
        session = requests.Session()
        token = session.post(server.url + LOGIN, json={"userkey": account, "password": PASSWORDS[account]},
                             timeout=10).json()["access_token"]
        payload = {"columns": ["contact_key"], "insertIfNotExists": True,
                   "contactDatas": [{"contact_key": f"{account}-{n}"} for n in range(300)]}
        results[account] = session.post(server.url + BULK, json=payload, headers=bearer(token), timeout=30)

    workers = [threading.Thread(target=worker, args=(a,)) for a in ("demo", "other", "limited")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert {a: r.status_code for a, r in results.items()} == {"demo": 200, "other": 200, "limited": 200}
    for account in ("demo", "other", "limited"):
        assert len(stored(engine, account)) == 300
        assert all(key.startswith(account) for key in stored(engine, account))
