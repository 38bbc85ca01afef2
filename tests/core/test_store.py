"""The store: indexes, persistence (snapshot + write-ahead log), thread-safety."""
from __future__ import annotations

import glob
import json
import marshal
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
from tinydb import TinyDB

from emulator.core import persistence
from emulator.core.persistence import read_snapshot
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
    # not compacted yet: no snapshot, the log holds the writes
    assert not path.exists()
    assert len((tmp_path / "store.json.wal").read_text().splitlines()) == 4
    reopened = make_store(path)  # as after a crash: replay the log
    again = reopened.collection("v", "a", "contacts")
    assert [dict(d) for d in again.all()] == [{"email": "a@x.io", "name": "Ann"}]
    assert again.find("email", "a@x.io").doc_id == 1
    assert again.insert({"email": "c@x.io"}) == 2  # ids go on from the stored ones
    reopened.close()
    # a small store is written as a snapshot on close, and its log emptied
    assert (tmp_path / "store.json.wal").read_text() == ""
    tables, generation = read_snapshot(str(path))
    assert sorted(d["email"] for d in tables["v:a:contacts"].values()) == ["a@x.io", "c@x.io"]
    assert [d["email"] for d in make_store(path).collection("v", "a", "contacts").all()] == ["a@x.io", "c@x.io"]


def test_indexes_follow_writes_to_documents_read_back_from_disk(tmp_path):
    """Documents loaded on open carry no remembered keys: each kind of write finds the old
    keys in the stored document before it changes it."""
    path = tmp_path / "store.json"
    coll = make_store(path).collection("v", "a", "contacts")
    coll.write_many([{"email": f"{i}@x.io", "tags": ["t", f"t{i}"]} for i in range(5)])
    coll = make_store(path).collection("v", "a", "contacts")
    coll.update(1, {"email": "new0@x.io", "tags": ["u"]})
    coll.replace(2, {"email": "new1@x.io", "tags": []})
    coll.remove(3)
    coll.write_many(replaces={4: {"email": "new3@x.io", "tags": ["u"]}})
    assert [coll.find("email", f"{i}@x.io") for i in range(4)] == [None] * 4
    assert [coll.find_id("email", f"new{i}@x.io") for i in (0, 1, 3)] == [1, 2, 4]
    assert [d.doc_id for d in coll.find_all("tag", "t")] == [5]
    assert sorted(d.doc_id for d in coll.find_all("tag", "u")) == [1, 4]
    assert coll.find_all("tag", "t2") == [] and [d.doc_id for d in coll.find_all("tag", "t4")] == [5]
    coll.insert({"email": "0@x.io"})  # the old key is free again
    with pytest.raises(DuplicateKey):
        coll.insert({"email": "new0@x.io"})


def test_a_torn_last_log_line_is_ignored_and_cut_off(tmp_path):
    path = tmp_path / "store.json"
    store = make_store(path)
    store.collection("v", "a", "contacts").insert({"email": "a@x.io"})
    with open(str(path) + ".wal", "a") as fh:
        fh.write('["put","v:a:contacts",2,{"email":"b@')  # crash in the middle of a write
    reopened = make_store(path)
    coll = reopened.collection("v", "a", "contacts")
    assert [d["email"] for d in coll.all()] == ["a@x.io"]
    coll.insert({"email": "c@x.io"})  # appended after the cut: read back on the next open
    assert [d["email"] for d in make_store(path).collection("v", "a", "contacts").all()] == ["a@x.io", "c@x.io"]


def test_compaction_writes_a_snapshot_from_the_closed_logs(tmp_path):
    path = tmp_path / "store.json"
    store = make_store(path, compact_every=10)
    coll = store.collection("v", "a", "contacts")
    for i in range(25):
        coll.insert({"email": f"{i}@x.io"})
    store.compact(wait=True)
    tables, generation = read_snapshot(str(path))
    assert len(tables["v:a:contacts"]) == 25 and generation >= 2
    assert persistence.log_segments(str(path)) == []  # every closed log was merged and deleted
    assert (tmp_path / "store.json.wal").read_text() == ""
    assert not list(tmp_path.glob("store.json.tmp*"))
    coll.insert({"email": "late@x.io"})
    reopened = make_store(path).collection("v", "a", "contacts")
    assert len(reopened) == 26 and reopened.find("email", "late@x.io").doc_id == 26


def test_writes_go_on_while_a_compaction_runs(tmp_path):
    """The compaction process needs no lock of the server's: while it is held up (here at
    its last step, by the test holding the files' lock), writes keep being acknowledged."""
    path = tmp_path / "store.json"
    store = make_store(path, compact_every=1_000_000)
    coll = store.collection("v", "a", "contacts")
    coll.write_many([{"email": f"{i}@x.io"} for i in range(2000)])
    with persistence.file_lock(str(path)):
        store.compact()
        for i in range(200):
            coll.insert({"email": f"during{i}@x.io"})
        assert store._compactor.running()  # still waiting for the files' lock
    store.compact(wait=True)
    assert len(read_snapshot(str(path))[0]["v:a:contacts"]) >= 2000
    assert len(make_store(path).collection("v", "a", "contacts")) == 2200


WRITER = """
import sys
from emulator.core.store import Index, Store
store = Store(sys.argv[1], compact_every=400)
store.define_indexes("v:contacts", {"email": Index(lambda d: d["email"])})
coll = store.collection("v", "a", "contacts")
n = len(coll)
while True:
    ids = coll.write_many([{"email": f"{n + k}@x.io", "n": n + k, "pad": "x" * 300} for k in range(50)])
    n += 50
    print(ids[-1], flush=True)  # acknowledged: written and fsynced
"""


def test_kill_9_during_compaction_loses_no_acknowledged_write(tmp_path):
    """A writer is killed (SIGKILL) while a compaction is under way -- first while a closed
    log waits for its merge, then while the compaction process writes the new snapshot --
    and every write it acknowledged is there after a restart."""
    path = str(tmp_path / "store.json")
    phases = [lambda: persistence.log_segments(path), lambda: glob.glob(glob.escape(path) + ".tmp.*")]
    for under_way in phases * 2:
        proc = subprocess.Popen([sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE, text=True)
        acked = 0
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                acked = int(proc.stdout.readline())
                if acked > 3000 and under_way():
                    break
            else:
                raise AssertionError("no compaction seen under way")
        finally:
            proc.send_signal(signal.SIGKILL)
            rest = proc.communicate()[0].split()
            acked = int(rest[-1]) if rest else acked
        coll = make_store(path).collection("v", "a", "contacts")
        assert len(coll) >= acked
        assert all(coll.get(i)["n"] == i - 1 for i in range(1, acked + 1))
        assert coll.find_id("email", f"{acked - 1}@x.io") == acked


def test_the_snapshot_is_a_tinydb_json_file(tmp_path):
    """``--db PATH`` is a TinyDB JSON file: plain TinyDB and plain json read every table and
    document, across compactions that update, delete, drop and leave tables untouched."""
    path = tmp_path / "store.json"
    store = make_store(path, compact_every=10)
    contacts, other, gone = (store.collection("v", "a", kind) for kind in ("contacts", "other", "gone"))
    contacts.write_many([{"email": f"{i}@x.io", "tags": ["t"], "text": 'é "quoted"\n,\n}'} for i in range(30)])
    other.insert({"n": 10 ** 30})  # beyond 64 bits: written and read back exactly
    gone.insert({"n": 1})
    store.compact(wait=True)
    contacts.update(3, {"email": "new3@x.io"})
    contacts.remove(5)
    gone.clear()
    contacts.insert({"email": "late@x.io"})
    store.compact(wait=True)  # "v:a:other" is copied as it was, "v:a:contacts" line by line
    expected = {name: {str(k): v for k, v in raw.items()} for name, raw in store.db.storage.read().items()}
    assert expected.pop("v:a:gone") == {} and len(expected["v:a:contacts"]) == 30  # emptied: on disk dropped
    with TinyDB(str(path)) as db:
        assert set(db.tables()) == {*expected, persistence.SNAPSHOT_TABLE}
        for name, docs in expected.items():
            assert {str(d.doc_id): dict(d) for d in db.table(name).all()} == docs
    on_disk = json.loads(path.read_text(encoding="utf-8"))
    assert on_disk.pop(persistence.SNAPSHOT_TABLE) == {"1": {"generation": store._merged_upto}}
    assert on_disk == expected and list(on_disk["v:a:contacts"]) == list(expected["v:a:contacts"])
    reopened = make_store(path)
    assert reopened.db.storage.read() == expected
    assert reopened.collection("v", "a", "contacts").find_id("email", "new3@x.io") == 3


def test_a_file_tinydb_wrote_opens_and_is_replaced_at_the_next_compaction(tmp_path):
    """Older versions (and TinyDB itself) write the whole document on one line; it opens
    (generation 0) and the next compaction writes the line layout."""
    path = tmp_path / "store.json"
    with TinyDB(str(path)) as db:
        db.table("v:a:contacts").insert({"email": "old@x.io", "tags": []})
    (tmp_path / "store.json.wal").write_text('["put","v:a:contacts",2,{"email":"wal@x.io","tags":[]}]\n')
    store = make_store(path)
    coll = store.collection("v", "a", "contacts")
    assert [d["email"] for d in coll.all()] == ["old@x.io", "wal@x.io"]
    store.compact(wait=True)
    assert path.read_text().startswith('{"_emulator:snapshot":{"1":{"generation":1}},\n')
    assert read_snapshot(str(path)) == ({"v:a:contacts": {"1": {"email": "old@x.io", "tags": []},
                                                          "2": {"email": "wal@x.io", "tags": []}}}, 1)


def test_a_marshal_snapshot_of_an_unreleased_version_is_read_and_replaced(tmp_path):
    """For a while the snapshot was written in marshal format (a header line, a JSON line
    with its generation, the tables): such a file opens with its generation, and the next
    compaction replaces it by TinyDB JSON."""
    path = tmp_path / "store.json"
    tables = {"v:a:contacts": {"1": {"email": "old@x.io", "tags": ["t"]}}}
    path.write_bytes(persistence.MAGIC + b'{"generation": 4, "marshal": 4, "python": "3.11"}\n'
                     + marshal.dumps(tables))
    (tmp_path / "store.json.wal.4").write_text('["put","v:a:contacts",9,{"email":"merged@x.io","tags":[]}]\n')
    (tmp_path / "store.json.wal.5").write_text('["put","v:a:contacts",2,{"email":"later@x.io","tags":[]}]\n')
    store = make_store(path)
    coll = store.collection("v", "a", "contacts")
    assert [d["email"] for d in coll.all()] == ["old@x.io", "later@x.io"]  # log 4 was in the snapshot
    assert coll.find_all("tag", "t")[0].doc_id == 1
    store.compact(wait=True)
    with TinyDB(str(path)) as db:
        assert [d["email"] for d in db.table("v:a:contacts").all()] == ["old@x.io", "later@x.io"]
    assert read_snapshot(str(path))[1] == 5


def test_closed_logs_already_in_the_snapshot_are_dropped_on_open(tmp_path):
    """A crash after the new snapshot was renamed in and before its logs were deleted: the
    leftovers are not replayed again (they would be harmless) and are deleted."""
    path = str(tmp_path / "store.json")
    with open(path + ".wal.1", "w") as fh:
        fh.write('["put","v:a:contacts",1,{"email":"stale@x.io","tags":[]}]\n')
    tmp = persistence.write_snapshot(path, {"v:a:contacts": {"1": {"email": "kept@x.io", "tags": []}}}, 1)
    os.replace(tmp, path)
    with open(path + ".wal.2", "w") as fh:
        fh.write('["put","v:a:contacts",2,{"email":"later@x.io","tags":[]}]\n')
    coll = make_store(path).collection("v", "a", "contacts")
    assert [d["email"] for d in coll.all()] == ["kept@x.io", "later@x.io"]
    assert [seq for seq, _ in persistence.log_segments(path)] == [2]  # merged by the compaction it started


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
