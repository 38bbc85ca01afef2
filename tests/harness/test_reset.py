"""The per-test reset restores the session's fixture byte for byte, in every vendor, from a
snapshot taken once (never by generating the fixture again)."""
from __future__ import annotations

import json
import re

import pytest

from emulator import create_app
from emulator.core.store import Index, Store

from .vendor_calls import OCTOPUSH, write_everywhere


def raw_tables(engine) -> str:
    """Every table of the store as stored (documents, ids and their order)."""
    return json.dumps(engine.store.db.storage.read(), ensure_ascii=False)


def visible(engine) -> str:
    return json.dumps(engine.state(), ensure_ascii=False)


@pytest.fixture
def session(make_app):
    app = make_app(fixture="default", seed=7)
    engine = app.extensions["emulator"]
    return app, engine, raw_tables(engine), visible(engine)


def test_reset_session_restores_every_vendor_byte_for_byte_after_writes(session):
    app, engine, tables, state = session
    client = app.test_client()
    write_everywhere(client)
    assert raw_tables(engine) != tables
    touched = {name.split(":")[0] for name in engine.store._touched}
    assert {"esputnik", "octopush", "dengage", "pushtech", "_emulator"} <= touched
    engine.reset_session()
    assert raw_tables(engine) == tables
    assert visible(engine) == state
    # and a second round of the same writes stores the same bytes as the first
    engine.clock.freeze("2026-06-01T00:00:00Z")
    write_everywhere(client)
    first_round = raw_tables(engine)
    engine.reset_session()
    engine.clock.freeze("2026-06-01T00:00:00Z")
    write_everywhere(client)
    timing = re.compile(r'"duration_ms": [0-9.]+')  # how long the webhook attempt took
    assert timing.sub("", raw_tables(engine)) == timing.sub("", first_round)


def test_reset_session_does_not_generate_the_fixture_again(session, monkeypatch):
    from emulator import seeding

    app, engine, tables, _ = session
    write_everywhere(app.test_client())
    monkeypatch.setattr(seeding, "populate", lambda engine: pytest.fail("the fixture was generated again"))
    engine.reset_session()
    assert raw_tables(engine) == tables


def test_reset_session_copies_back_only_the_tables_written(session):
    app, engine, tables, _ = session
    before = dict(engine.store.db.storage.read())
    resp = app.test_client().post("/octopush/v1/public/contact/create", headers=OCTOPUSH,
                                  json={"contacts": [{"phone_number": "+33612345678"}]})
    assert resp.status_code == 201
    engine.reset_session()
    after = engine.store.db.storage.read()
    assert raw_tables(engine) == tables
    kept = {name for name in after if after[name] is before.get(name)}
    assert "esputnik:demo:contacts" in kept and "pushtech:demo:contacts" in kept
    assert "octopush:demo:contacts" not in kept  # replaced by a copy of the snapshot


def test_reset_session_undoes_seed_and_fixture_changes(session):
    app, engine, tables, state = session
    client = app.test_client()
    assert client.post("/_emulator/seed", json={"seed": 42, "fixture": "empty"}).status_code == 200
    assert engine.state("octopush")["vendors"]["octopush"]["accounts"]["demo"]["contacts"] == []
    write_everywhere(client)
    assert client.post("/_emulator/reset", json={"session": True}).json == {
        "status": "ok", "reset": "session", "seed": 7, "fixture": "default"}
    assert (raw_tables(engine), visible(engine), engine.seed) == (tables, state, 7)


def test_reset_session_clears_journal_faults_and_clock_in_one_call(session):
    app, engine, _, _ = session
    client = app.test_client()
    client.post("/_emulator/faults", json={"vendor": "octopush", "status": 500})
    client.post("/_emulator/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    client.post("/octopush/v1/public/contact/create", headers=OCTOPUSH, json={"contacts": []})
    assert len(engine.journal) == 1 and engine.faults and engine.clock.frozen
    assert client.post("/_emulator/reset", json={"session": True}).status_code == 200
    assert len(engine.journal) == 0 and not engine.faults and not engine.clock.frozen
    assert engine.clock.state()["offset_s"] == 0
    rule = client.post("/_emulator/faults", json={"status": 500}).json
    assert rule["id"] == 1  # numbering starts again too


def test_one_vendor_reset_and_full_reset_still_reload_the_current_fixture(session):
    app, engine, tables, _ = session
    client = app.test_client()
    client.post("/_emulator/seed", json={"seed": 3})
    seeded = raw_tables(engine)
    write_everywhere(client)
    client.post("/_emulator/reset", json={"vendor": "octopush"})
    octopush = engine.state("octopush")
    client.post("/_emulator/reset")
    assert raw_tables(engine) == seeded != tables  # the seed of this test stays until the session reset
    assert engine.state("octopush") == octopush


def test_reset_session_of_a_persistent_store_survives_a_restart(tmp_path):
    db = tmp_path / "store.json"
    app = create_app({"fixture": "default", "db": str(db)})
    engine = app.extensions["emulator"]
    tables = raw_tables(engine)
    write_everywhere(app.test_client())
    engine.reset_session()
    engine.close()
    reopened = create_app({"fixture": "default", "db": str(db)}).extensions["emulator"]
    try:
        assert raw_tables(reopened) == tables
    finally:
        reopened.close()


def test_store_restore_of_its_snapshot_touches_only_written_tables():
    store = Store()
    store.define_indexes("v:contacts", {"email": Index(lambda d: d["email"])})
    a, b = store.collection("v", "a", "contacts"), store.collection("v", "b", "contacts")
    a.insert({"email": "a@x.io"})
    b.insert({"email": "b@x.io"})
    snap = store.snapshot()
    untouched = store.db.storage.read()["v:b:contacts"]
    a.insert({"email": "a2@x.io"})
    a.update(1, {"email": "changed@x.io"})
    store.named("v:c:contacts").insert({"email": "new@x.io"})
    store.restore(snap)
    assert store.db.storage.read() == {"v:a:contacts": {"1": {"email": "a@x.io"}},
                                       "v:b:contacts": {"1": {"email": "b@x.io"}}}
    assert store.db.storage.read()["v:b:contacts"] is untouched
    assert a.find("email", "a@x.io").doc_id == 1 and a.find("email", "changed@x.io") is None
    assert a.insert({"email": "again@x.io"}) == 2  # ids continue from the snapshot's
    assert len(store.named("v:c:contacts")) == 0
    store.restore(snap)
    assert snap == {"v:a:contacts": {"1": {"email": "a@x.io"}}, "v:b:contacts": {"1": {"email": "b@x.io"}}}


def test_restoring_another_snapshot_replaces_every_table():
    store = Store()
    coll = store.named("v:a:contacts")
    coll.insert({"n": 1})
    first = store.snapshot()
    coll.insert({"n": 2})
    second = store.snapshot()
    store.named("v:b:contacts").insert({"n": 3})
    store.restore(first)
    assert store.db.storage.read() == first
    store.restore(second, prefix="v:a:")
    assert store.db.storage.read() == second
    store.restore(first)
    assert store.db.storage.read() == first
