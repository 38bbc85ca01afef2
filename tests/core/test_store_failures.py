"""A failed log append changes nothing: not in memory, not after a restart (a failing storage stub).

The real thing (a full tmpfs, a read-only one) is in ``tests/harness/test_disk.py``.
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from emulator import create_app
from emulator.core import store as store_module
from emulator.core.store import Index, Store, StoreUnavailable, StoreWriteFailed

FULL = OSError(errno.ENOSPC, "No space left on device")


def make_store(path) -> Store:
    store = Store(path)
    store.define_indexes("v:contacts", {"email": Index(lambda d: d.get("email")),
                                        "tag": Index(lambda d: d.get("tags"), unique=False)})
    return store


def fail_appends(store: Store, error: OSError = FULL) -> None:
    def append(data: bytes) -> None:
        raise error
    store._append = append


def indexes(coll) -> dict:
    return {name: {k: (dict(v) if isinstance(v, dict) else v) for k, v in m.items()} for name, m in coll._maps.items()}


OPERATIONS = {
    "insert": lambda s, c, ids: c.insert({"email": "new@x.io", "tags": ["t"]}),
    "update": lambda s, c, ids: c.update(ids[0], {"email": "changed@x.io", "tags": ["u"]}),
    "replace": lambda s, c, ids: c.replace(ids[1], {"email": "b@x.io", "tags": []}),
    "write_many": lambda s, c, ids: c.write_many([{"email": "n1@x.io"}, {"email": "n2@x.io"}],
                                                 {ids[0]: {"email": "a2@x.io", "tags": ["t", "u"]}}),
    "remove": lambda s, c, ids: c.remove(ids[0]),
    "clear": lambda s, c, ids: c.clear(),
    "unindexed fields": lambda s, c, ids: c.set_fields_unindexed(ids[0], {"count": 7}),
    "new table": lambda s, c, ids: s.collection("v", "other", "contacts").insert({"email": "o@x.io"}),
    "restore (reset)": lambda s, c, ids: s.restore({}),
    "several in one transaction": lambda s, c, ids: (c.insert({"email": "x@x.io"}), c.update(ids[1], {"n": 1}),
                                                     c.remove(ids[0]), c.write_many([{"email": "y@x.io"}])),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_failed_append_undoes_the_transaction_in_memory_and_on_disk(tmp_path, operation):
    path = tmp_path / "store.json"
    store = make_store(path)
    coll = store.collection("v", "a", "contacts")
    ids = coll.write_many([{"email": "a@x.io", "tags": ["t"]}, {"email": "b@x.io", "tags": ["t", "u"]}])
    before, maps, wal = store.snapshot(), indexes(coll), (tmp_path / "store.json.wal").read_bytes()
    fail_appends(store)
    with pytest.raises(StoreWriteFailed, match=r"the disk is full \(ENOSPC\).*nothing was stored"):
        with store.transaction():
            OPERATIONS[operation](store, coll, ids)
    assert store.snapshot() == before
    assert indexes(coll) == maps
    assert (tmp_path / "store.json.wal").read_bytes() == wal
    del store._append  # the disk has room again: the next write works and takes the next id
    assert coll.insert({"email": "c@x.io"}) == ids[-1] + 1
    reopened = make_store(path)  # as after kill -9: no close, no compaction
    raw = reopened.snapshot()["v:a:contacts"]
    assert sorted(d["email"] for d in raw.values()) == ["a@x.io", "b@x.io", "c@x.io"]
    assert "v:other:contacts" not in reopened.snapshot()


def test_a_failed_fsync_cuts_the_log_back(tmp_path, monkeypatch):
    store = make_store(tmp_path / "store.json")
    coll = store.collection("v", "a", "contacts")
    coll.insert({"email": "a@x.io"})
    size = os.path.getsize(tmp_path / "store.json.wal")

    def fsync(fd):
        raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(store_module.os, "fsync", fsync)
    with pytest.raises(StoreWriteFailed, match=r"an I/O error \(EIO\)"):
        coll.insert({"email": "b@x.io"})
    monkeypatch.undo()
    assert os.path.getsize(tmp_path / "store.json.wal") == size  # the written but unsynced line is gone
    assert [d["email"] for d in make_store(tmp_path / "store.json").collection("v", "a", "contacts").all()] == ["a@x.io"]


def test_a_log_that_cannot_be_cut_back_refuses_every_later_write(tmp_path, monkeypatch):
    store = make_store(tmp_path / "store.json")
    coll = store.collection("v", "a", "contacts")

    def broken(fd, length):
        raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(store_module.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    monkeypatch.setattr(store_module.os, "ftruncate", broken)
    with pytest.raises(StoreWriteFailed):
        coll.insert({"email": "a@x.io"})
    monkeypatch.undo()
    with pytest.raises(StoreWriteFailed, match="refuses writes until it is restarted"):
        coll.insert({"email": "b@x.io"})
    assert len(coll) == 0


# -- over HTTP: the vendor's 5xx shape, nothing stored ------------------------------------
def _esputnik(client):
    return client.post("/esputnik/api/v1/contact", auth=("demo", "esputnik-demo-key"),
                       json={"channels": [{"type": "email", "value": "disk@example.com"}]})


def _octopush(client):
    return client.post("/octopush/v1/public/contact/create", json={"contacts": [{"phone_number": "+33612345678"}]},
                       headers={"api-login": "demo@example.com", "api-key": "octopush-demo-key"})


def _pushtech(client):
    return client.post("/pushtech/v2/account/demo/contact", json={"email": "disk@example.com"},
                       headers={"Authorization": "Token token=pushtech-demo-secret"})


def _dengage(client, token):
    return client.post("/dengage/rest/bulk/contacts", headers={"Authorization": f"Bearer {token}"},
                       json={"columns": ["contact_key", "email"], "insertIfNotExists": True,
                             "contactDatas": [{"contact_key": "DISK-1", "email": "disk@example.com"}]})


def _pushtech_bulk(client):
    return client.post("/pushtech/v2/account/demo/contact/bulk", json={"contacts": [{"email": "bulk@example.com"}]},
                       headers={"Authorization": "Token token=pushtech-demo-secret"})


WRITES = {"esputnik": _esputnik, "octopush": _octopush, "pushtech": _pushtech, "dengage": _dengage,
          "pushtech bulk": _pushtech_bulk}
ERROR_FIELD = {"esputnik": "message", "octopush": "message", "pushtech": "error", "dengage": "message",
               "pushtech bulk": "error"}


@pytest.mark.parametrize("vendor", sorted(WRITES))
def test_a_write_the_disk_refuses_is_the_vendors_503_and_stores_nothing(tmp_path, vendor):
    db = str(tmp_path / "store.json")
    app = create_app({"fixture": "empty", "db": db})
    client = app.test_client()
    write = WRITES[vendor]
    if vendor == "dengage":
        token = client.post("/dengage/rest/login", json={"userkey": "demo", "password": "dengage-demo-password"}
                            ).get_json()["access_token"]
        write = lambda c: _dengage(c, token)  # noqa: E731
    before = client.get("/_emulator/state").get_json()
    fail_appends(app.extensions["emulator"].store)
    resp = write(client)
    assert resp.status_code == 503, resp.get_data(as_text=True)
    message = resp.get_json()[ERROR_FIELD[vendor]]
    assert "the disk is full (ENOSPC)" in message and "nothing was stored" in message, resp.get_json()
    assert client.get("/_emulator/state").get_json() == before
    assert app.extensions["emulator"].jobs.pending() == 0
    # as after kill -9 (the engine is not closed): a new process opens the same files
    again = create_app({"fixture": "empty", "db": db})
    assert again.test_client().get("/_emulator/state").get_json() == before
    again.extensions["emulator"].close()
    del app.extensions["emulator"].store._append  # the disk has room again
    assert write(client).status_code in (200, 201)
    assert client.get("/_emulator/state").get_json() != before


def test_a_missing_store_directory_is_a_one_line_error_at_start(tmp_path):
    with pytest.raises(StoreUnavailable, match=r"the directory does not exist \(ENOENT\)"):
        Store(tmp_path / "nowhere" / "store.json")
    proc = subprocess.run([sys.executable, "-m", "emulator", "serve", "--fixture", "empty",
                           "--db", str(tmp_path / "nowhere" / "store.json")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "the directory does not exist (ENOENT)" in proc.stderr


def test_a_log_rotation_the_disk_refuses_keeps_the_write_and_the_log(tmp_path, monkeypatch):
    """The append is durable before a compaction starts: a rotation that fails (no room for
    a new log file) leaves the write acknowledged and the store appending to the same log."""
    path = tmp_path / "store.json"
    store = Store(path, compact_every=3)
    coll = store.collection("v", "a", "contacts")
    real_open = open

    def no_new_file(name, *args, **kwargs):
        if str(name).endswith(".wal") and not os.path.exists(name):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(name, *args, **kwargs)
    monkeypatch.setattr("builtins.open", no_new_file)
    ids = [coll.insert({"email": f"{n}@x.io"}) for n in range(5)]  # past compact_every: rotations are tried
    monkeypatch.undo()
    assert not list(tmp_path.glob("store.json.wal.*"))  # each failed rotation was put back
    assert [d["email"] for d in coll.all()] == [f"{n}@x.io" for n in range(5)]
    reopened = Store(path)  # as after kill -9
    assert sorted(int(k) for k in reopened.snapshot()["v:a:contacts"]) == ids
    store.close()
    reopened.close()


def test_a_snapshot_the_disk_refuses_mid_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    from emulator.core import persistence

    path = str(tmp_path / "store.json")
    written = []

    def write(self, data: bytes) -> None:
        written.append(data)
        if len(written) > 1:
            raise FULL

    monkeypatch.setattr(persistence._SyncedWriter, "write", write)
    with pytest.raises(OSError) as failure:
        persistence.write_snapshot(path, {"v:contacts": {1: {"email": "a@x.io"}}}, 3)
    assert failure.value.errno == errno.ENOSPC
    assert len(written) == 2  # it failed after starting the file
    assert list(tmp_path.iterdir()) == []
