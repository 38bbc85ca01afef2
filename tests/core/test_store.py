"""The store: indexes, persistence (snapshot + write-ahead log), thread-safety."""
from __future__ import annotations

import json
import threading

import pytest
import requests
from tinydb import TinyDB

from emulator.core.store import DuplicateKey, Index, Store, collector_paused

from .conftest import KEY_A
from .sample_vendor import SAMPLE, sample_fixture


def make_store(path=None, **kw) -> Store:
    store = Store(path, **kw)
    store.define_indexes("v:contacts", {"email": Index(lambda d: d.get("email")),
                                        "tag": Index(lambda d: d.get("tags"), unique=False)})
    return store


def test_unique_and_multi_indexes_follow_writes():
    coll = make_store().collection("v", "a", "contacts")
    first = coll.insert({"email": "a@x.io", "tags": ["red", "blue"]})
    second = coll.insert({"email": "b@x.io", "tags": ["red"]})
    assert coll.find("email", "a@x.io").doc_id == first
    assert [d.doc_id for d in coll.find_all("tag", "red")] == [first, second]
    with pytest.raises(DuplicateKey):
        coll.insert({"email": "a@x.io"})
    with pytest.raises(DuplicateKey):
        coll.update(second, {"email": "a@x.io"})
    coll.update(first, {"email": "c@x.io", "tags": ["blue"]})
    assert coll.find("email", "a@x.io") is None and coll.find("email", "c@x.io").doc_id == first
    assert [d.doc_id for d in coll.find_all("tag", "red")] == [second]
    coll.remove(second)
    assert coll.find_all("tag", "red") == [] and len(coll) == 1
    with pytest.raises(DuplicateKey):
        coll.write_many([{"email": "z@x.io"}, {"email": "z@x.io"}])
    assert len(coll) == 1  # the refused bulk wrote nothing


def test_documents_returned_are_copies():
    coll = make_store().collection("v", "a", "contacts")
    doc_id = coll.insert({"email": "a@x.io", "tags": ["red"]})
    doc = coll.get(doc_id)
    doc["tags"].append("mutated")
    assert coll.get(doc_id)["tags"] == ["red"]


def test_write_many_inserts_and_replaces_in_one_operation():
    coll = make_store().collection("v", "a", "contacts")
    existing = coll.insert({"email": "a@x.io"})
    new_ids = coll.write_many(inserts=[{"email": "b@x.io"}, {"email": "c@x.io"}],
                              replaces={existing: {"email": "a@x.io", "name": "Ann"}})
    assert new_ids == [existing + 1, existing + 2]
    assert coll.find("email", "a@x.io")["name"] == "Ann"
    assert coll.insert({"email": "d@x.io"}) == existing + 3


def test_write_many_refuses_a_duplicate_and_writes_nothing():
    coll = make_store().collection("v", "a", "contacts")
    coll.write_many([{"email": "a@x", "tags": ["t"]}])
    with pytest.raises(DuplicateKey):
        coll.write_many([{"email": "b@x", "tags": []}, {"email": "a@x", "tags": []}])
    with pytest.raises(DuplicateKey):
        coll.write_many([{"email": "c@x", "tags": []}, {"email": "c@x", "tags": []}])
    assert sorted(d["email"] for d in coll.all()) == ["a@x"] and coll.find("email", "b@x") is None
    assert [d["email"] for d in coll.find_all("tag", "t")] == ["a@x"]
    assert coll.write_many([{"email": "d@x", "tags": []}]) == [2]  # a refused write used up no id


def test_write_many_replaces_and_inserts_in_one_call_with_index_upkeep():
    coll = make_store().collection("v", "a", "contacts")
    first, second = coll.write_many([{"email": "a@x", "tags": ["t"]}, {"email": "b@x", "tags": ["t", None]}])
    ids = coll.write_many([{"email": "c@x", "tags": ["u"]}],
                          {first: {"email": "a2@x", "tags": ["u"]}})
    assert ids == [3]
    assert coll.find("email", "a@x") is None and coll.find("email", "a2@x").doc_id == first
    assert [d.doc_id for d in coll.find_all("tag", "t")] == [second]
    assert sorted(d.doc_id for d in coll.find_all("tag", "u")) == [first, 3]
    with pytest.raises(DuplicateKey):  # a replace and an insert claiming one key
        coll.write_many([{"email": "z@x", "tags": []}], {second: {"email": "z@x", "tags": []}})
    assert coll.find("email", "z@x") is None and coll.find("email", "b@x").doc_id == second


def test_collector_paused_restores_the_collectors_state():
    import gc

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a program that disabled it keeps it disabled
    finally:
        gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("an import that fails")
    assert gc.isenabled()
    with collector_paused(size=3):  # a small load is left alone
        assert gc.isenabled()


def test_persistence_survives_a_restart(tmp_path):
    path = tmp_path / "store.json"
    store = make_store(path)
    coll = store.collection("v", "a", "contacts")
    with store.transaction():
        coll.insert({"email": "a@x.io"})
        coll.insert({"email": "b@x.io"})
    coll.update(1, {"name": "Ann"})
    coll.remove(2)
    # not compacted yet: the snapshot is empty and the log holds the writes
    assert json.loads(path.read_text()) == {}
    assert len((tmp_path / "store.json.wal").read_text().splitlines()) == 4
    reopened = make_store(path)  # as after a crash: replay the log
    again = reopened.collection("v", "a", "contacts")
    assert [dict(d) for d in again.all()] == [{"email": "a@x.io", "name": "Ann"}]
    assert again.find("email", "a@x.io").doc_id == 1
    assert again.insert({"email": "c@x.io"}) == 2  # ids go on from the stored ones
    reopened.close()
    # close compacts: the snapshot is a plain TinyDB file, the log is empty
    assert (tmp_path / "store.json.wal").read_text() == ""
    with TinyDB(path) as plain:
        assert sorted(d["email"] for d in plain.table("v:a:contacts").all()) == ["a@x.io", "c@x.io"]


def test_a_torn_last_log_line_is_ignored(tmp_path):
    path = tmp_path / "store.json"
    store = make_store(path)
    store.collection("v", "a", "contacts").insert({"email": "a@x.io"})
    with open(str(path) + ".wal", "a") as fh:
        fh.write('["put","v:a:contacts",2,{"email":"b@')  # crash in the middle of a write
    reopened = make_store(path)
    assert [d["email"] for d in reopened.collection("v", "a", "contacts").all()] == ["a@x.io"]


def test_compaction_replaces_the_snapshot_atomically(tmp_path):
    path = tmp_path / "store.json"
    store = make_store(path, compact_every=10)
    coll = store.collection("v", "a", "contacts")
    for i in range(25):
        coll.insert({"email": f"{i}@x.io"})
    assert len(json.loads(path.read_text())["v:a:contacts"]) == 20  # compacted twice
    assert len((tmp_path / "store.json.wal").read_text().splitlines()) == 5
    assert not (tmp_path / "store.json.tmp").exists()
    assert len(make_store(path).collection("v", "a", "contacts")) == 25


def test_app_store_persists_across_restart(make_app, tmp_path):
    db = str(tmp_path / "emulator.json")
    app = make_app(vendors=[SAMPLE], fixture=sample_fixture(2), db=db)
    app.test_client().post("/sample/contacts", json={"email": "kept@x.io"}, headers=KEY_A)
    app.extensions["emulator"].close()
    restarted = make_app(vendors=[SAMPLE], fixture=sample_fixture(5), db=db).test_client()
    contacts = restarted.get("/_emulator/state").json["vendors"]["sample"]["accounts"]["a"]["contacts"]
    assert [c["email"] for c in contacts][-1] == "kept@x.io"
    assert len(contacts) == 3  # an existing store is opened as it is: the fixture does not re-seed it
    restarted.post("/_emulator/reset")  # reset reloads the fixture the store was seeded from
    assert len(restarted.get("/_emulator/state").json["vendors"]["sample"]["accounts"]["a"]["contacts"]) == 2
    restarted.post("/_emulator/seed", json={"fixture": sample_fixture(5)})  # loading another one is asked for
    assert len(restarted.get("/_emulator/state").json["vendors"]["sample"]["accounts"]["a"]["contacts"]) == 5


def test_eight_threads_inserting_the_same_keys_store_no_duplicates():
    coll = make_store().collection("v", "a", "contacts")
    errors = []

    def worker():
        for i in range(50):
            try:
                coll.insert({"email": f"{i}@x.io"})
            except DuplicateKey:
                errors.append(i)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(coll) == 50 and len(errors) == 7 * 50
    assert sorted(d["email"] for d in coll.all()) == sorted(f"{i}@x.io" for i in range(50))


def test_concurrent_requests_on_a_live_server_never_duplicate(make_app, live):
    server = live(make_app(vendors=[SAMPLE], fixture=sample_fixture(0)))
    barrier = threading.Barrier(8)
    statuses = []

    def client():
        with requests.Session() as s:
            barrier.wait()
            for i in range(20):
                statuses.append(s.post(f"{server.url}/sample/contacts/", json={"email": f"same{i}@x.io"},
                                       headers=KEY_A).status_code)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(201) == 20 and statuses.count(200) == 7 * 20
    contacts = requests.get(f"{server.url}/_emulator/state").json()["vendors"]["sample"]["accounts"]["a"]["contacts"]
    assert len(contacts) == 20
