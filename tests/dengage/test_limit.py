"""Once a minute, one at a time: the in-progress slot (429 always) and the window on the
emulator clock, whose treatment is the account's ``once_a_minute`` setting (note, enforce, off)."""
from __future__ import annotations

import threading

import pytest
import requests

from emulator.core.accounts import FixtureError
from emulator.vendors.dengage import VENDOR
from emulator.vendors.dengage.model import ADVICE

from .conftest import (
    BULK,
    LOGIN,
    PASSWORDS,
    bearer,
    body,
    contacts,
    data_state,
    dengage_fixture,
    journal,
    last_notes,
    login,
)

T0 = "2026-03-01T10:00:00Z"
LIMITED = ("Too many concurrent requests. Call once a minute; next call allowed in {} s.")


def advice(seconds: float) -> dict:
    return {"field": "", "sent": seconds, "used": None, "rule": ADVICE, "kind": "advice"}


@pytest.fixture
def limited(client, engine):
    """Headers of the ``limited`` account (the vendor's 60 s window, once_a_minute: note), clock frozen at T0."""
    engine.clock.freeze(T0)
    return bearer(login(client, "limited"))


@pytest.fixture
def enforced(client, engine):
    """Headers of the ``enforced`` account (60 s window, once_a_minute: enforce), clock frozen at T0."""
    engine.clock.freeze(T0)
    return bearer(login(client, "enforced"))


def account_with(make_app, account: str, **settings):
    """(client, engine, auth headers) of ``account`` with ``settings`` changed, clock frozen at T0."""
    app = make_app(vendors=[VENDOR], fixture=dengage_fixture(account, **settings))
    client, engine = app.test_client(), app.extensions["emulator"]
    engine.clock.freeze(T0)
    return client, engine, bearer(login(client, account))


def send(client, auth, key, **kw):
    return client.post(BULK, json=body({"contact_key": key}, **kw), headers=auth)


def assert_limited(resp, wait: int):
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == str(wait)
    assert resp.get_json() == {"code": 10, "message": LIMITED.format(wait), "data": None}


# -- once_a_minute: note (the default) ---------------------------------------------------------

def test_a_sequential_call_within_the_window_is_served_with_an_advice_note(client, engine, limited):
    assert send(client, limited, "C-1").status_code == 200
    assert last_notes(client) == []
    engine.clock.advance(30)
    resp = send(client, limited, "C-2")
    assert resp.status_code == 200
    assert resp.get_json()["data"]["inserted"] == ["C-2"]
    assert last_notes(client) == [advice(30)]
    engine.clock.advance(59.5)   # 59.5 s after the advised call: it moved the window too
    assert send(client, limited, "C-3").status_code == 200
    assert last_notes(client) == [advice(59.5)]
    engine.clock.advance(60)
    assert send(client, limited, "C-4").status_code == 200
    assert last_notes(client) == []
    assert set(contacts(client, "limited")) == {"C-1", "C-2", "C-3", "C-4"}
    [limit] = data_state(client, "limited")["limits"]
    assert limit["accepted_calls"] == 4 and limit["last_start"] == "2026-03-01T10:02:29.500Z"


def test_back_to_back_calls_at_the_same_instant_are_all_served(client, engine, limited):
    for key in ("C-1", "C-2", "C-3"):
        assert send(client, limited, key).status_code == 200
    assert [e["notes"] for e in journal(client) if e["path"] == "/rest/bulk/contacts"] == [
        [], [advice(0)], [advice(0)]]


def test_a_rejected_call_is_not_advised_and_does_not_move_the_window(client, engine, limited):
    send(client, limited, "C-1")
    engine.clock.advance(10)
    bad = client.post(BULK, json=body({"contact_key": "C-2", "email_permission": 1}), headers=limited)
    assert bad.status_code == 400
    assert all(n["kind"] != "advice" for n in last_notes(client))
    engine.clock.advance(10)
    assert send(client, limited, "C-3").status_code == 200
    assert last_notes(client) == [advice(20)]   # measured from C-1, the last accepted call


def test_the_window_length_is_a_setting_in_note_mode(make_app):
    client, engine, auth = account_with(make_app, "limited", bulk_window_s=5)
    assert send(client, auth, "C-1").status_code == 200
    engine.clock.advance(4)
    assert send(client, auth, "C-2").status_code == 200
    assert last_notes(client) == [advice(4)]
    engine.clock.advance(5)
    assert send(client, auth, "C-3").status_code == 200
    assert last_notes(client) == []


# -- once_a_minute: off --------------------------------------------------------------------------

def test_off_serves_calls_within_the_window_without_a_note(make_app):
    client, _, auth = account_with(make_app, "limited", once_a_minute="off")
    for key in ("C-1", "C-2"):
        assert send(client, auth, key).status_code == 200
        assert last_notes(client) == []
    assert set(contacts(client, "limited")) == {"C-1", "C-2"}


@pytest.mark.parametrize("value", ["Enforce", "strict", "", None, True, 1])
def test_an_unknown_once_a_minute_value_stops_start_up_naming_the_setting(make_app, value):
    with pytest.raises(FixtureError, match="settings.once_a_minute must be one of note, enforce, off"):
        make_app(vendors=[VENDOR], fixture=dengage_fixture("limited", once_a_minute=value))


# -- once_a_minute: enforce ----------------------------------------------------------------------

def test_enforced_a_call_within_the_window_is_429_stores_nothing_and_does_not_move_it(client, engine, enforced):
    assert send(client, enforced, "C-1").status_code == 200
    before = data_state(client, "enforced")
    engine.clock.advance(30)
    assert_limited(send(client, enforced, "C-2"), 30)
    engine.clock.advance(29.5)
    assert_limited(send(client, enforced, "C-3"), 1)
    assert data_state(client, "enforced") == before
    engine.clock.advance(0.5)   # 60 s after the accepted call: the limited ones did not move the window
    assert send(client, enforced, "C-4").status_code == 200
    assert last_notes(client) == []   # enforced: a served call is outside the window, nothing to advise
    engine.clock.advance(59)
    assert_limited(send(client, enforced, "C-5"), 1)
    assert set(contacts(client, "enforced")) == {"C-1", "C-4"}


def test_the_window_is_kept_in_the_state(client, engine, enforced):
    send(client, enforced, "C-1")
    engine.clock.advance(60)
    send(client, enforced, "C-2")
    [limit] = data_state(client, "enforced")["limits"]
    assert limit == {"name": "bulk_upsert", "last_start": "2026-03-01T10:01:00.000Z",
                     "last_start_epoch": limit["last_start_epoch"], "accepted_calls": 2}


def test_enforced_the_limit_comes_before_validation(client, engine, enforced):
    send(client, enforced, "C-1")
    engine.clock.advance(10)
    resp = client.post(BULK, json={"columns": "nonsense"}, headers=enforced)
    assert_limited(resp, 50)


def test_enforced_a_rejected_call_does_not_move_the_window(client, engine, enforced):
    send(client, enforced, "C-1")
    engine.clock.advance(60)
    bad = client.post(BULK, json=body({"contact_key": "C-2", "vip": 1}), headers=enforced)
    assert bad.status_code == 400
    engine.clock.advance(1)
    assert send(client, enforced, "C-3").status_code == 200


def test_enforced_an_accepted_call_with_record_errors_moves_the_window(client, engine, enforced):
    resp = client.post(BULK, json=body({"contact_key": "C-1", "name": 5}, throw=False), headers=enforced)
    assert resp.status_code == 200 and resp.get_json()["data"]["errors"]
    engine.clock.advance(59)
    assert_limited(send(client, enforced, "C-2"), 1)


def test_unauthenticated_calls_do_not_touch_the_window(client, engine, enforced):
    assert client.post(BULK, json=body({"contact_key": "C-1"}), headers=bearer("nope")).status_code == 401
    assert send(client, enforced, "C-1").status_code == 200


def test_the_window_is_per_account(make_app):
    app = make_app(vendors=[VENDOR], fixture=dengage_fixture("other", bulk_window_s=60, once_a_minute="enforce"))
    client = app.test_client()
    app.extensions["emulator"].clock.freeze(T0)
    enforced, other, limited = (bearer(login(client, a)) for a in ("enforced", "other", "limited"))
    assert send(client, enforced, "C-1").status_code == 200
    assert send(client, other, "C-1").status_code == 200
    assert send(client, limited, "C-1").status_code == 200
    assert last_notes(client) == []   # limited's first call: another account's calls do not count
    assert send(client, enforced, "C-2").status_code == 429
    assert send(client, other, "C-2").status_code == 429


def test_the_window_length_is_a_setting_when_enforced(make_app):
    client, engine, auth = account_with(make_app, "enforced", bulk_window_s=5)
    assert send(client, auth, "C-1").status_code == 200
    engine.clock.advance(4)
    assert_limited(send(client, auth, "C-2"), 1)
    engine.clock.advance(1)
    assert send(client, auth, "C-2").status_code == 200


def test_window_zero_allows_back_to_back_calls_without_notes(client, auth, engine):
    engine.clock.freeze(T0)
    for key in ("C-1", "C-2", "C-3"):
        assert send(client, auth, key).status_code == 200
        assert last_notes(client) == []
    assert set(contacts(client)) == {"C-1", "C-2", "C-3"}


def test_reset_reopens_the_window(client, engine, enforced):
    send(client, enforced, "C-1")
    client.post("/_emulator/reset")
    auth = bearer(login(client, "enforced"))
    assert send(client, auth, "C-2").status_code == 200


# -- one at a time (every mode) ------------------------------------------------------------------

def hold_in_progress(monkeypatch, backend):
    """Make the account's next BulkUpsert wait, inside its slot, until the returned event is set."""
    release, entered = threading.Event(), threading.Event()
    real = backend.bulk_upsert

    def waiting(*args, **kwargs):
        entered.set()
        assert release.wait(30), "the call in progress was never released"
        return real(*args, **kwargs)

    monkeypatch.setattr(backend, "bulk_upsert", waiting)
    return entered, release


@pytest.mark.parametrize("account, mode, retry_after", [
    ("demo", "note", 1), ("limited", "note", 1), ("limited", "off", 1), ("enforced", "enforce", 60)])
def test_a_call_while_another_is_in_progress_is_429(make_app, live, monkeypatch, account, mode, retry_after):
    """Call A is held inside the account's slot; call B meets it and gets 429, in every mode."""
    app = make_app(vendors=[VENDOR], fixture=dengage_fixture(account, once_a_minute=mode))
    engine = app.extensions["emulator"]
    engine.clock.freeze(T0)
    server = live(app)
    token = requests.post(server.url + LOGIN, json={"userkey": account, "password": PASSWORDS[account]},
                          timeout=10).json()["access_token"]
    auth = bearer(token)
    backend = engine.backend("dengage", account)
    entered, release = hold_in_progress(monkeypatch, backend)
    answers = {}

    def call_a():
        answers["a"] = requests.post(server.url + BULK, json=body({"contact_key": "A"}), headers=auth, timeout=30)

    worker = threading.Thread(target=call_a)
    worker.start()
    try:
        assert entered.wait(10), "call A never reached the BulkUpsert slot"
        assert backend.bulk_in_progress
        before = data_state(app.test_client(), account)
        b = requests.post(server.url + BULK, json=body({"contact_key": "B"}), headers=auth, timeout=10)
        assert b.status_code == 429
        assert b.headers["Retry-After"] == str(retry_after)
        assert b.json() == {"code": 10, "message": LIMITED.format(retry_after), "data": None}
        assert data_state(app.test_client(), account) == before
    finally:
        release.set()
        worker.join(timeout=30)
    assert answers["a"].status_code == 200
    assert answers["a"].json()["data"]["inserted"] == ["A"]
    assert not backend.bulk_in_progress
    monkeypatch.undo()
    stored = {c["contact_key"] for _, c in engine.store.collection("dengage", account, "contacts").scan()}
    assert stored == {"A"}
    # the slot was released: the next call is served (note and off) or waits for the window (enforce)
    engine.clock.advance(60)
    assert requests.post(server.url + BULK, json=body({"contact_key": "C"}), headers=auth,
                         timeout=10).status_code == 200


@pytest.mark.parametrize("account, retry_after", [("limited", 1), ("enforced", 60)])
def test_parallel_calls_on_a_live_server_exactly_one_succeeds(app, engine, live, account, retry_after):
    server = live(app)
    engine.clock.freeze(T0)
    token = requests.post(server.url + LOGIN, json={"userkey": account, "password": PASSWORDS[account]},
                          timeout=10).json()["access_token"]
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results: list = [None] * threads_n
    release = threading.Event()
    backend = engine.backend("dengage", account)
    real = backend.bulk_upsert

    def held(*args, **kwargs):   # the winner stays in progress until every other call was answered
        release.wait(30)
        return real(*args, **kwargs)

    backend.bulk_upsert = held

    def worker(i):
        session = requests.Session()
        records = [{"contact_key": f"T{i}-{n}", "name": f"n{n}"} for n in range(200)]
        barrier.wait(timeout=10)
        results[i] = session.post(server.url + BULK, json=body(*records), headers=bearer(token), timeout=30)
        if results[i].status_code == 429 and sum(r is not None for r in results) == threads_n - 1:
            release.set()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
    finally:
        release.set()
        del backend.bulk_upsert
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [429] * (threads_n - 1)
    winner = next(i for i, r in enumerate(results) if r.status_code == 200)
    for r in results:
        if r.status_code == 429:
            assert r.json()["code"] == 10 and int(r.headers["Retry-After"]) == retry_after
    stored = {c["contact_key"] for _, c in engine.store.collection("dengage", account, "contacts").scan()}
    assert stored == {f"T{winner}-{n}" for n in range(200)}
