"""Once a minute, one at a time: the window on the emulator clock and the in-progress slot."""
from __future__ import annotations

import threading

import pytest
import requests

from emulator.vendors.dengage import VENDOR

from .conftest import BULK, LOGIN, PASSWORDS, bearer, body, contacts, data_state, dengage_fixture, login

T0 = "2026-03-01T10:00:00Z"
LIMITED = ("Too many concurrent requests. Call once a minute; next call allowed in {} s.")


@pytest.fixture
def limited(client, engine):
    """Headers of the ``limited`` account (the vendor's 60 s window), clock frozen at T0."""
    engine.clock.freeze(T0)
    return bearer(login(client, "limited"))


def send(client, auth, key, **kw):
    return client.post(BULK, json=body({"contact_key": key}, **kw), headers=auth)


def assert_limited(resp, wait: int):
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == str(wait)
    assert resp.get_json() == {"code": 10, "message": LIMITED.format(wait), "data": None}


def test_a_call_within_the_window_is_429_stores_nothing_and_does_not_move_it(client, engine, limited):
    assert send(client, limited, "C-1").status_code == 200
    before = data_state(client, "limited")
    engine.clock.advance(30)
    assert_limited(send(client, limited, "C-2"), 30)
    engine.clock.advance(29.5)
    assert_limited(send(client, limited, "C-3"), 1)
    assert data_state(client, "limited") == before
    engine.clock.advance(0.5)   # 60 s after the accepted call: the limited ones did not move the window
    assert send(client, limited, "C-4").status_code == 200
    engine.clock.advance(59)
    assert_limited(send(client, limited, "C-5"), 1)
    assert set(contacts(client, "limited")) == {"C-1", "C-4"}


def test_the_window_is_kept_in_the_state(client, engine, limited):
    send(client, limited, "C-1")
    engine.clock.advance(60)
    send(client, limited, "C-2")
    [limit] = data_state(client, "limited")["limits"]
    assert limit == {"name": "bulk_upsert", "last_start": "2026-03-01T10:01:00.000Z",
                     "last_start_epoch": limit["last_start_epoch"], "accepted_calls": 2}


def test_the_limit_comes_before_validation(client, engine, limited):
    send(client, limited, "C-1")
    engine.clock.advance(10)
    resp = client.post(BULK, json={"columns": "nonsense"}, headers=limited)
    assert_limited(resp, 50)


def test_a_rejected_call_does_not_move_the_window(client, engine, limited):
    send(client, limited, "C-1")
    engine.clock.advance(60)
    bad = client.post(BULK, json=body({"contact_key": "C-2", "vip": 1}), headers=limited)
    assert bad.status_code == 400
    engine.clock.advance(1)
    assert send(client, limited, "C-3").status_code == 200


def test_an_accepted_call_with_record_errors_moves_the_window(client, engine, limited):
    resp = client.post(BULK, json=body({"contact_key": "C-1", "name": 5}, throw=False), headers=limited)
    assert resp.status_code == 200 and resp.get_json()["data"]["errors"]
    engine.clock.advance(59)
    assert_limited(send(client, limited, "C-2"), 1)


def test_unauthenticated_calls_do_not_touch_the_window(client, engine, limited):
    assert client.post(BULK, json=body({"contact_key": "C-1"}), headers=bearer("nope")).status_code == 401
    assert send(client, limited, "C-1").status_code == 200


def test_the_window_is_per_account(make_app):
    app = make_app(vendors=[VENDOR], fixture=dengage_fixture("other", bulk_window_s=60))
    client = app.test_client()
    app.extensions["emulator"].clock.freeze(T0)
    limited, other = bearer(login(client, "limited")), bearer(login(client, "other"))
    assert send(client, limited, "C-1").status_code == 200
    assert send(client, other, "C-1").status_code == 200
    assert send(client, limited, "C-2").status_code == 429
    assert send(client, other, "C-2").status_code == 429


def test_the_window_length_is_a_setting(make_app):
    app = make_app(vendors=[VENDOR], fixture=dengage_fixture("limited", bulk_window_s=5))
    client = app.test_client()
    engine = app.extensions["emulator"]
    engine.clock.freeze(T0)
    auth = bearer(login(client, "limited"))
    assert send(client, auth, "C-1").status_code == 200
    engine.clock.advance(4)
    assert_limited(send(client, auth, "C-2"), 1)
    engine.clock.advance(1)
    assert send(client, auth, "C-2").status_code == 200


def test_window_zero_allows_back_to_back_calls(client, auth, engine):
    engine.clock.freeze(T0)
    for key in ("C-1", "C-2", "C-3"):
        assert send(client, auth, key).status_code == 200
    assert set(contacts(client)) == {"C-1", "C-2", "C-3"}


def test_reset_reopens_the_window(client, engine, limited):
    send(client, limited, "C-1")
    client.post("/_emulator/reset")
    auth = bearer(login(client, "limited"))
    assert send(client, auth, "C-2").status_code == 200


def test_a_call_while_another_is_in_progress_is_429(app, engine, live):
    """Call A takes the slot, then waits for the store lock (held here); call B gets 429."""
    server = live(app)
    token = requests.post(server.url + LOGIN, json={"userkey": "demo", "password": PASSWORDS["demo"]},
                          timeout=10).json()["access_token"]
    auth = bearer(token)
    backend = engine.backend("dengage", "demo")   # window 0: only the in-progress rule applies
    answers = {}

    def call_a():
        answers["a"] = requests.post(server.url + BULK, json=body({"contact_key": "A"}), headers=auth, timeout=30)

    with engine.store.transaction():
        worker = threading.Thread(target=call_a)
        worker.start()
        in_flight = threading.Event()
        for _ in range(2000):   # wait (bounded) until A holds the slot
            if backend.bulk_in_progress:
                in_flight.set()
                break
            in_flight.wait(0.005)
        assert in_flight.is_set(), "call A never reached the BulkUpsert slot"
        b = requests.post(server.url + BULK, json=body({"contact_key": "B"}), headers=auth, timeout=10)
        assert b.status_code == 429
        assert b.headers["Retry-After"] == "1"
        assert b.json()["code"] == 10
    worker.join(timeout=30)
    assert answers["a"].status_code == 200
    assert answers["a"].json()["data"]["inserted"] == ["A"]
    assert not backend.bulk_in_progress
    stored = {c["contact_key"] for _, c in engine.store.collection("dengage", "demo", "contacts").scan()}
    assert stored == {"A"}
    # the slot was released: the next call goes through
    assert requests.post(server.url + BULK, json=body({"contact_key": "C"}), headers=auth,
                         timeout=10).status_code == 200


def test_parallel_calls_on_a_live_server_exactly_one_succeeds(app, engine, live):
    server = live(app)
    engine.clock.freeze(T0)
    token = requests.post(server.url + LOGIN, json={"userkey": "limited", "password": PASSWORDS["limited"]},
                          timeout=10).json()["access_token"]
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results: list = [None] * threads_n

    def worker(i):
        session = requests.Session()
        records = [{"contact_key": f"T{i}-{n}", "name": f"n{n}"} for n in range(200)]
        barrier.wait(timeout=10)
        results[i] = session.post(server.url + BULK, json=body(*records), headers=bearer(token), timeout=30)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [429] * (threads_n - 1)
    winner = next(i for i, r in enumerate(results) if r.status_code == 200)
    for r in results:
        if r.status_code == 429:
            assert r.json()["code"] == 10 and int(r.headers["Retry-After"]) == 60
    stored = {c["contact_key"] for _, c in engine.store.collection("dengage", "limited", "contacts").scan()}
    assert stored == {f"T{winner}-{n}" for n in range(200)}
