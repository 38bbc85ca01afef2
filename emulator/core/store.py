"""The emulator's store: TinyDB tables, unique indexes, one lock, crash-safe persistence.

Tables are named ``<vendor>:<account>:<kind>`` (``esputnik:demo:contacts``); the
emulator's own tables start with ``_emulator:``.

Two things TinyDB does not do for us:

* **Constant-cost writes.** TinyDB's ``Table._update_table`` converts every document id
  of the table on each write, so a write costs O(table size). :class:`IndexedTable`
  applies an update to the raw table through a key-converting view instead, so a write
  costs O(documents touched).
* **Look-ups that do not scan.** Each collection keeps dict indexes (declared per kind by
  the vendor) beside its table, updated under the same lock as the write.

Persistence (``path`` given) is a snapshot plus a write-ahead log
(:mod:`emulator.core.persistence` has the files):

* ``PATH.wal`` gets one JSON line per changed document (``["put", table, id, doc]``,
  ``["del", table, id]``, ``["drop", table]``), written and fsynced once per transaction.
  Replaying a line twice gives the same result, so replay needs no bookkeeping.
* A transaction's lines go to the log in one ``write`` call, then one fsync. Its changes
  are applied in memory as it runs and undone if the append fails (a full disk, a
  read-only file system): the transaction then raises :class:`StoreWriteFailed`, the log
  is cut back to where the append began, and nothing of the write remains, in memory or
  on disk. Readers that hold the lock (state, snapshots) never see a write whose append
  has not succeeded.
* When the log grows past ``compact_every`` lines it is rotated (renamed ``PATH.wal.<n>``,
  under the lock) and a background process merges the snapshot ``PATH`` and the closed
  logs from the files into a new snapshot (a TinyDB JSON file), renamed over ``PATH``: no
  request waits on it.
  A crash at any point leaves the old or the new snapshot plus logs, and a torn last log
  line is ignored on replay.
"""
from __future__ import annotations

import errno
import gc
import json
import logging
import os
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from tinydb import TinyDB
from tinydb.storages import MemoryStorage
from tinydb.table import Document, Table

from . import persistence

KeyFn = Callable[[dict], Any]

FREEZE_BATCH = 500
"""After a write of at least this many documents, the store's documents are moved out of
the cyclic garbage collector's sight (``gc.freeze``): stored documents are long-lived by
nature, and a full collection walks every tracked object, so without this the cost of a
write grows with the size of the store."""


def _settle(count: int) -> None:
    if count >= FREEZE_BATCH:
        gc.freeze()


PAUSE_AT = 100
"""Bulk loads of at least this many documents run with the collector paused."""


class collector_paused:  # noqa: N801 - used like a function: ``with collector_paused(n):``
    """Pause the cyclic garbage collector for a bulk load of ``size`` documents (smaller
    loads than :data:`PAUSE_AT` are left alone).

    A bulk import allocates thousands of documents that live as long as the store; the
    collector walking them over and over while they are built is pure cost (an eighth of
    an import's time). Nothing is lost: collection resumes when the block ends, and the
    previous state is restored (a program that disabled the collector keeps it disabled).
    A class, not a generator: single-contact writes go through it too.
    """

    __slots__ = ("paused",)

    def __init__(self, size: int = PAUSE_AT):
        self.paused = size >= PAUSE_AT and gc.isenabled()

    def __enter__(self) -> None:
        if self.paused:
            gc.disable()

    def __exit__(self, *exc) -> None:
        if self.paused:
            gc.enable()


def copy_json(value):
    """A deep copy of a JSON-shaped value (much cheaper than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: copy_json(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


DISK_CONDITIONS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                   errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
                   errno.EPERM: "permission denied", errno.ENOENT: "the directory does not exist",
                   errno.EIO: "an I/O error", errno.EFBIG: "the file is too large"}


def disk_condition(exc: OSError) -> str:
    """``the disk is full (ENOSPC)``: what an OSError says about the disk, in words."""
    code = errno.errorcode.get(exc.errno or 0)
    words = DISK_CONDITIONS.get(exc.errno or 0) or exc.strerror or str(exc)
    return f"{words} ({code})" if code else words


class StoreWriteFailed(Exception):
    """The log append of a transaction failed: the transaction was undone, nothing is stored."""

    def __init__(self, path: str, exc: OSError | str):
        condition = exc if isinstance(exc, str) else disk_condition(exc)
        super().__init__(f"the emulator could not save this write: {condition} writing {path}; nothing was stored")
        self.condition = condition


class StoreUnavailable(OSError):
    """The store cannot be opened or written at start (a missing, read-only or full
    directory ...); ``strerror`` says the condition in words, ``filename`` is the store."""

    def __init__(self, path: str, exc: OSError):
        super().__init__(exc.errno, disk_condition(exc), path)

    def __str__(self) -> str:
        return f"cannot use the store {self.filename}: {self.strerror}"


class DuplicateKey(Exception):
    """A write would give two documents the same key in a unique index."""

    def __init__(self, table: str, index: str, key: Hashable, doc_id: int):
        super().__init__(f"{table}: {index}={key!r} already belongs to document {doc_id}")
        self.table, self.index, self.key, self.doc_id = table, index, key, doc_id


@dataclass(frozen=True)
class Index:
    """A dict index over one kind of document.

    ``key`` maps a document to None (not indexed), one hashable key, or a list/tuple/set
    of keys. ``unique`` indexes refuse a second document with the same key.
    """

    key: KeyFn
    unique: bool = True

    def keys_of(self, doc: dict) -> tuple:
        return self.split(self.key(doc))

    @staticmethod
    def split(value) -> tuple:
        """What ``key`` answered, as a tuple of keys."""
        if value is None:
            return ()
        if isinstance(value, (list, tuple, set, frozenset)):
            return tuple(value) if None not in value else tuple([k for k in value if k is not None])
        return (value,)


class _IntKeyView(MutableMapping):
    """The raw (string-keyed) table seen with int keys; remembers what it touched, the
    index keys each touched document had before the operation changed it (``before``),
    and, inside a persistent store's transaction, each touched document as it was
    (``undo``: the transaction's undo list, or None)."""

    __slots__ = ("raw", "touched", "removed", "cleared", "before", "keys_of", "name", "undo")

    def __init__(self, raw: dict, keys_of: Callable[[dict], dict] | None = None, name: str = "",
                 undo: list | None = None):
        self.raw = raw
        self.touched: set[int] = set()
        self.removed: set[int] = set()
        self.cleared = False
        self.before: dict[int, dict[str, tuple]] = {}
        self.keys_of = keys_of
        self.name = name
        self.undo = undo

    def _remember(self, doc_id: int, doc: dict) -> None:
        if self.keys_of is not None and doc_id not in self.before:
            self.before[doc_id] = self.keys_of(doc)

    def _keep_for_undo(self, doc_id: int, old) -> None:
        """Note what document ``doc_id`` was (``_MISSING``: none) on the undo list."""
        self.undo.append((_DOC, self.name, self.raw, str(doc_id), old))

    def __getitem__(self, doc_id):
        doc = self.raw[str(doc_id)]
        doc_id = int(doc_id)
        if self.undo is not None and doc_id not in self.touched:
            self._keep_for_undo(doc_id, copy_json(doc))  # updated in place: keep a copy
        self._remember(doc_id, doc)  # TinyDB updates documents in place after a get
        self.touched.add(doc_id)
        return doc

    def __setitem__(self, doc_id, doc):
        doc_id = int(doc_id)
        old = self.raw.get(str(doc_id))
        if old is not None:
            self._remember(doc_id, old)
        if self.undo is not None:
            self._keep_for_undo(doc_id, _MISSING if old is None else old)
        self.raw[str(doc_id)] = doc
        self.touched.add(doc_id)
        self.removed.discard(doc_id)

    def __delitem__(self, doc_id):
        doc_id = int(doc_id)
        old = self.raw[str(doc_id)]
        self._remember(doc_id, old)
        if self.undo is not None:
            self._keep_for_undo(doc_id, old)
        del self.raw[str(doc_id)]
        self.removed.add(doc_id)
        self.touched.discard(doc_id)

    def __contains__(self, doc_id):
        return str(doc_id) in self.raw

    def __iter__(self):
        return (int(k) for k in list(self.raw))

    def __len__(self):
        return len(self.raw)

    def clear(self):
        if self.undo is not None:
            self.undo.append((_CLEARED, self.name, self.raw, dict(self.raw)))
        self.raw.clear()
        self.cleared = True
        self.touched.clear()
        self.removed.clear()


class IndexedTable(Table):
    """A TinyDB table whose writes cost O(documents touched), not O(table)."""

    def __init__(self, storage, name, cache_size=0, persist_empty=False):
        super().__init__(storage, name, cache_size=0, persist_empty=persist_empty)
        self.on_change: Callable[[_IntKeyView], None] | None = None
        self.keys_of: Callable[[dict], dict] | None = None
        self.store: Store | None = None

    def _get_next_id(self):
        undo = self.store._undo if self.store is not None else None
        if undo is not None:
            undo.append((_NEXT_ID, self, self._next_id))
        return super()._get_next_id()

    def _update_table(self, updater):
        tables = self._storage.read()
        if tables is None:
            tables = {}
            self._storage.write(tables)
        undo = self.store._undo if self.store is not None else None
        raw = tables.get(self.name)
        if raw is None:
            if undo is not None:
                undo.append((_TABLE, tables, self.name, _MISSING))
            raw = tables[self.name] = {}
        view = _IntKeyView(raw, self.keys_of, self.name, undo)
        updater(view)
        if self.on_change is not None:
            self.on_change(view)


class _Storage(MemoryStorage):
    """In-memory TinyDB storage whose ``write`` is O(1) (the dict is shared)."""

    def write(self, data):
        self.memory = data


class _Database(TinyDB):
    table_class = IndexedTable


class Collection:
    """One table plus its indexes. Documents returned are copies: change them freely."""

    def __init__(self, store: Store, name: str, indexes: dict[str, Index]):
        self.store = store
        self.name = name
        self.table: IndexedTable = store.db.table(name)
        self.table.on_change = self._changed
        self.table.keys_of = self._keys
        self.table.store = store
        self.indexes = indexes
        self._maps: dict[str, dict] = {}
        self._rebuild()

    # -- indexes -------------------------------------------------------------------
    # A document's index keys are worked out from the document itself when it is written,
    # and from the stored document just before a write replaces or changes it (the
    # ``before`` of the table view, ``write_many``'s look at the raw table): nothing per
    # document is kept besides the index dicts, so opening a store builds only those.
    def _rebuild(self) -> None:
        """Index every stored document (on open, after a clear or a restore)."""
        raw = self._raw()
        with collector_paused(len(raw)):
            self._maps = {name: _index_map(index, raw) for name, index in self.indexes.items()}
        _settle(len(raw))

    def _raw(self) -> dict:
        tables = self.store.db.storage.read() or {}
        return tables.get(self.name, {})

    def _keys(self, doc: dict) -> dict[str, tuple]:
        """Index name -> the document's keys in that index."""
        return {name: index.keys_of(doc) for name, index in self.indexes.items()}

    def _index_add(self, doc_id: int, doc: dict, keys: dict[str, tuple] | None = None) -> None:
        """Index ``doc`` (``keys``: its :meth:`_keys`, when the caller has them already)."""
        if keys is None:
            keys = self._keys(doc)
        maps = self._maps
        for name, index in self.indexes.items():
            m = maps[name]
            if index.unique:
                for key in keys[name]:
                    m[key] = doc_id
            else:  # an insertion-ordered dict as a set: removal is O(1), not O(members)
                for key in keys[name]:
                    ids = m.get(key)
                    if ids is None:
                        m[key] = {doc_id: None}
                    else:
                        ids[doc_id] = None

    def _index_remove(self, doc_id: int, keys: dict[str, tuple] | None) -> None:
        """Drop ``doc_id`` from the indexes under ``keys`` (the keys it had when indexed)."""
        if not keys:
            return
        for name, doc_keys in keys.items():
            index, m = self.indexes[name], self._maps[name]
            for key in doc_keys:
                if index.unique:
                    if m.get(key) == doc_id:
                        del m[key]
                else:
                    ids = m.get(key)
                    if ids is not None:
                        ids.pop(doc_id, None)
                        if not ids:
                            del m[key]

    def _check_unique(self, doc_id: int | None, doc: dict, pending: dict | None = None,
                      keys: dict[str, tuple] | None = None) -> None:
        for name, index in self.indexes.items():
            if not index.unique:
                continue
            m = self._maps[name]
            for key in (index.keys_of(doc) if keys is None else keys[name]):
                owner = m.get(key)
                if owner is not None and owner != doc_id:
                    raise DuplicateKey(self.name, name, key, owner)
                if pending is not None:
                    other = pending.setdefault(name, {}).setdefault(key, doc_id)
                    if other != doc_id:
                        raise DuplicateKey(self.name, name, key, other)

    def _changed(self, view: _IntKeyView) -> None:
        store = self.store
        if view.cleared:
            self._rebuild()
            store._log(["drop", self.name])
        before = view.before
        for doc_id in view.removed:
            self._index_remove(doc_id, before.get(doc_id))
            store._log(["del", self.name, doc_id])
        raw = view.raw
        for doc_id in view.touched:
            doc = raw.get(str(doc_id))
            if doc is None:
                continue
            self._index_remove(doc_id, before.get(doc_id))
            self._index_add(doc_id, doc)
            store._log(["put", self.name, doc_id, doc])

    # -- reads -----------------------------------------------------------------------
    def get(self, doc_id: int) -> Document | None:
        raw = self._raw().get(str(doc_id))
        return None if raw is None else Document(copy_json(raw), int(doc_id))

    def peek(self, doc_id: int) -> dict | None:
        """The stored document itself, not a copy: read only."""
        return self._raw().get(str(doc_id))

    def set_fields_unindexed(self, doc_id: int, fields: dict) -> None:
        """Set fields that no index of this kind reads, without index upkeep (hot counters)."""
        with self.store.transaction():
            table = self._raw()
            raw = table[str(doc_id)]
            undo = self.store._undo
            if undo is not None:
                undo.append((_DOC, self.name, table, str(doc_id), copy_json(raw)))
            raw.update(fields)
            self.store._log(["put", self.name, doc_id, raw])

    def find(self, index: str, key: Hashable) -> Document | None:
        """The document with ``key`` in a unique index (no scan)."""
        found = self._found(index, key)
        return None if found is None else Document(copy_json(found[1]), found[0])

    def peek_by(self, index: str, key: Hashable) -> dict | None:
        """The stored document with ``key`` in a unique index, not a copy: read only."""
        found = self._found(index, key)
        return None if found is None else found[1]

    def _found(self, index: str, key: Hashable) -> tuple[int, dict] | None:
        """(id, stored document) for ``key``. Safe without the lock: when a write (a reset)
        replaces the document between the index look-up and the read, the answer is None,
        never another document."""
        doc_id = self._maps[index].get(key)
        doc = None if doc_id is None else self._raw().get(str(doc_id))
        if doc is None or key not in self.indexes[index].keys_of(doc):
            return None
        return doc_id, doc

    def find_id(self, index: str, key: Hashable) -> int | None:
        return self._maps[index].get(key)

    def find_all(self, index: str, key: Hashable) -> list[Document]:
        """Every document with ``key`` in a non-unique index, oldest first (no scan)."""
        ids = self._maps[index].get(key) or []
        keys_of = self.indexes[index].keys_of
        found = (self.get(i) for i in list(ids))  # a reset may replace them meanwhile: keep true matches only
        return [doc for doc in found if doc is not None and key in keys_of(doc)]

    def ids_with(self, index: str, key: Hashable) -> list[int]:
        """Ids of every document with ``key`` in an index, unique or not (no scan)."""
        found = self._maps[index].get(key)
        if found is None:
            return []
        return [found] if self.indexes[index].unique else list(found)

    def page(self, offset: int = 0, limit: int | None = None, newest_first: bool = False) -> list[tuple[int, dict]]:
        """(id, document) pairs of one page, in the order they were first written (or the
        reverse): it costs what the page skips and holds, not what the table holds. The
        documents are the stored ones: read only, under the store lock."""
        raw = self._raw()
        keys = reversed(raw) if newest_first else iter(raw)
        return [(int(key), raw[key]) for key in islice(keys, offset, None if limit is None else offset + limit)]

    def all(self) -> list[Document]:
        return [Document(copy_json(doc), int(k)) for k, doc in self._raw().items()]

    def scan(self) -> Iterator[tuple[int, dict]]:
        """(id, document) pairs without copying: read only, for searches and exports."""
        for key, doc in list(self._raw().items()):
            yield int(key), doc

    def __len__(self) -> int:
        return len(self._raw())

    def __contains__(self, doc_id: int) -> bool:
        return str(doc_id) in self._raw()

    # -- writes (take the store lock; callers doing read-modify-write hold a transaction)
    def insert(self, doc: dict) -> int:
        with self.store.transaction():
            self._check_unique(None, doc)
            return self.table.insert(doc)

    def insert_many(self, docs: Iterable[dict]) -> list[int]:
        docs = list(docs)
        with self.store.transaction():
            pending: dict = {}
            for i, doc in enumerate(docs):
                self._check_unique(-1 - i, doc, pending)
            ids = self.table.insert_multiple(docs)
        _settle(len(docs))
        return ids

    def replace(self, doc_id: int, doc: dict) -> None:
        """Replace the whole document ``doc_id``."""
        with self.store.transaction():
            self._check_unique(doc_id, doc)
            self.table.update(lambda stored: (stored.clear(), stored.update(doc)), doc_ids=[doc_id])

    def update(self, doc_id: int, fields: dict) -> None:
        """Set top-level ``fields`` of document ``doc_id``."""
        with self.store.transaction():
            current = self._raw().get(str(doc_id))
            if current is None:
                raise KeyError(doc_id)
            self._check_unique(doc_id, {**current, **fields})
            self.table.update(fields, doc_ids=[doc_id])

    def write_many(self, inserts: Iterable[dict] = (), replaces: dict[int, dict] | None = None) -> list[int]:
        """Insert and replace many documents in one operation (bulk imports, and the
        single-contact writes of the hot paths: it goes straight to the raw table)."""
        # None for a document to insert: it gets its id once every document passed
        docs = [(doc_id, dict(doc)) for doc_id, doc in (replaces or {}).items()]
        docs += [(None, dict(doc)) for doc in inserts]
        store = self.store
        with store.transaction():
            # every document is checked before any is written: a refused write stores nothing
            pending: dict = {}
            checked = []
            for i, (doc_id, doc) in enumerate(docs):
                keys = self._keys(doc)
                self._check_unique(-1 - i if doc_id is None else doc_id, doc, pending, keys)
                checked.append((doc_id, doc, keys))
            table = self.table
            first = table._get_next_id()  # only now: a refused write must not use up an id
            new_ids: list[int] = []
            tables = store.db.storage.read()
            undo = store._undo
            raw = tables.get(self.name)
            if raw is None:
                if undo is not None:
                    undo.append((_TABLE, tables, self.name, _MISSING))
                raw = tables[self.name] = {}
            for doc_id, doc, keys in checked:
                if doc_id is None:
                    doc_id = first + len(new_ids)
                    new_ids.append(doc_id)
                else:
                    old = raw.get(str(doc_id))
                    if old is not None:
                        self._index_remove(doc_id, self._keys(old))
                if undo is not None:
                    undo.append((_DOC, self.name, raw, str(doc_id), raw.get(str(doc_id), _MISSING)))
                raw[str(doc_id)] = doc
                self._index_add(doc_id, doc, keys)
                store._log(["put", self.name, doc_id, doc])
            table._next_id = first + len(new_ids)
        _settle(len(docs))
        return new_ids

    def remove(self, doc_id: int) -> None:
        with self.store.transaction():
            self.table.remove(doc_ids=[doc_id])

    def clear(self) -> None:
        with self.store.transaction():
            self.table.truncate()


_SCALAR_KEYS = frozenset({str, int, float})


def _index_map(index: Index, raw: dict) -> dict:
    """The dict of ``index`` over a raw table, as :meth:`Collection._index_add` builds it
    document by document; a unique index of one plain key per document is built in one
    pass of C loops (opening a store of a million contacts)."""
    keys = list(map(index.key, raw.values()))
    if index.unique and set(map(type, keys)) <= _SCALAR_KEYS:
        return dict(zip(keys, map(int, raw), strict=True))
    m: dict = {}
    split = index.split
    for doc_id, value in zip(map(int, raw), keys, strict=True):
        for k in split(value):
            if index.unique:
                m[k] = doc_id
            else:
                ids = m.get(k)
                if ids is None:
                    m[k] = {doc_id: None}
                else:
                    ids[doc_id] = None
    return m


class Store:
    """All tables of one emulator, one re-entrant lock, optional persistence."""

    def __init__(self, path: str | os.PathLike | None = None, *, compact_every: int = 50_000):
        self.lock = threading.RLock()
        self.path = os.fspath(path) if path else None
        self.compact_every = compact_every
        self._index_specs: dict[str, dict[str, Index]] = {}
        self._collections: dict[str, Collection] = {}
        self._depth = 0
        self._pending: list[str] = []
        self._undo: list | None = None
        """What the running transaction changed, to undo it if its log append fails
        (persistent stores only: an in-memory store has no append to fail)."""
        self._broken: str | None = None
        self._wal_lines = 0
        self._wal = None
        self._compactor: persistence.Compactor | None = None
        self._merged_upto = self._rotated_upto = 0  # closed logs: merged into the snapshot / written
        self._transaction = _Transaction(self)
        self._base: dict | None = None  # the last snapshot taken or restored ...
        self._touched: set[str] = set()  # ... and the tables written since
        self.db = _Database(storage=_Storage)
        self.db.storage.write({})
        self.existed = False
        if self.path:
            try:
                _probe_directory(self.path)
                self._open_files()
            except OSError as exc:
                raise StoreUnavailable(self.path, exc) from None

    # -- declaration -----------------------------------------------------------------
    def define_indexes(self, kind_key: str, indexes: dict[str, Index]) -> None:
        """Declare the indexes of a kind; ``kind_key`` is ``<vendor>:<kind>``."""
        self._index_specs[kind_key] = dict(indexes)

    def collection(self, vendor: str, account: str, kind: str) -> Collection:
        return self.named(f"{vendor}:{account}:{kind}")

    def named(self, name: str) -> Collection:
        coll = self._collections.get(name)
        if coll is None:
            with self.lock:
                coll = self._collections.get(name)
                if coll is None:
                    parts = name.split(":")
                    spec_key = f"{parts[0]}:{parts[-1]}"
                    coll = Collection(self, name, self._index_specs.get(spec_key, {}))
                    self._collections[name] = coll
        return coll

    def table_names(self) -> list[str]:
        return sorted((self.db.storage.read() or {}).keys())

    # -- transactions ----------------------------------------------------------------
    def transaction(self) -> _Transaction:
        """Hold the lock; log lines written inside are made durable once, at the end."""
        return self._transaction

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Call ``undo`` if the running transaction is undone (its log append failed): for
        state kept outside the store that the transaction changed. In-memory stores never
        undo, so the call is dropped there."""
        if self._undo is not None:
            self._undo.append((_CALL, undo))

    def _log(self, entry: list) -> None:
        self._touched.add(entry[1])
        if self._wal is not None:
            self._pending.append(json.dumps(entry, separators=(",", ":"), ensure_ascii=False))

    def _commit(self) -> None:
        """Append the transaction's lines to the log; undo the transaction if that fails."""
        lines, self._pending = self._pending, []
        path = self.path + ".wal"
        if self._broken is not None:
            self._rollback()
            raise StoreWriteFailed(path, self._broken)
        try:
            self._append(("\n".join(lines) + "\n").encode("utf-8"))
        except OSError as exc:
            self._rollback()
            raise StoreWriteFailed(path, exc) from None
        self._wal_lines += len(lines)
        if self._wal_lines >= self.compact_every:
            try:
                self.compact()
            except OSError as exc:  # the append is durable: the write stands, the log keeps growing
                logging.getLogger("emulator.store").warning("compaction failed, will retry: %s", disk_condition(exc))

    def _append(self, data: bytes) -> None:
        """Write ``data`` at the end of the log in one call and fsync it; on failure, cut the
        log back to where it was (a partial append would otherwise be replayed on start)."""
        fd = self._wal.fileno()
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            written = os.write(fd, data)
            while written < len(data):  # a short write: only when the disk is filling up
                written += os.write(fd, data[written:])
            os.fsync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, start)
            except OSError:
                self._broken = (f"{disk_condition(exc)}; the log could not be cut back after that failed "
                                "write, so the emulator refuses writes until it is restarted")
            raise

    def _rollback(self) -> None:
        """Undo every change of the running transaction (newest first), fixing the indexes
        as each document goes back (a table replaced or cleared is re-indexed whole)."""
        undo, self._undo = self._undo or [], None
        self._pending = []
        rebuild: set[str] = set()
        for entry in reversed(undo):
            kind = entry[0]
            if kind is _DOC:
                _, name, raw, key, old = entry
                coll = self._collections.get(name)
                current = raw.get(key)
                if coll is not None and current is not None:
                    coll._index_remove(int(key), coll._keys(current))
                if old is _MISSING:
                    raw.pop(key, None)
                else:
                    raw[key] = old
                    if coll is not None:
                        coll._index_add(int(key), old)
            elif kind is _NEXT_ID:
                entry[1]._next_id = entry[2]
            elif kind is _CALL:
                entry[1]()
            elif kind is _TABLES:
                _, tables, old = entry
                rebuild.update(tables)
                rebuild.update(old)
                tables.clear()
                tables.update(old)
            elif kind is _TABLE:
                _, tables, name, old = entry
                if old is _MISSING:
                    tables.pop(name, None)
                else:
                    tables[name] = old
                rebuild.add(name)
            else:  # _CLEARED
                _, name, raw, old = entry
                raw.clear()
                raw.update(old)
                rebuild.add(name)
        for name in rebuild:
            coll = self._collections.get(name)
            if coll is not None:
                coll._rebuild()

    # -- whole-store operations ------------------------------------------------------
    def snapshot(self) -> dict:
        """A deep copy of every table, for a fast :meth:`restore`.

        The store remembers it: restoring this same snapshot later copies back only the
        tables written since (copy-on-reset), so a reset costs what the test touched, not
        what the fixture holds. Treat the snapshot as read only.
        """
        with self.lock:
            data = {name: copy_json(raw) for name, raw in (self.db.storage.read() or {}).items()}
            self._base, self._touched = data, set()
            return data

    def restore(self, data: dict, *, prefix: str | None = None) -> None:
        """Replace all tables (or those whose name starts with ``prefix``) by ``data``.

        When ``data`` is the snapshot the store was last taken at or restored to, only the
        tables written since are replaced (each by a copy of its snapshot, its indexes
        rebuilt); every other table already holds the snapshot's documents, in its order.
        """
        with self.transaction():
            tables = self.db.storage.read() or {}
            undo = self._undo
            if undo is not None:  # a failed append puts the tables back, in their order
                undo.append((_TABLES, tables, dict(tables)))
                self.on_rollback(self._remembering(self._base, set(self._touched)))
            if data is self._base:
                names = {n for n in self._touched if prefix is None or n.startswith(prefix)}
            else:
                names = {n for n in (*tables, *data) if prefix is None or n.startswith(prefix)}
            for name in sorted(names):
                raw = data.get(name)
                if name in tables:
                    self._log(["drop", name])
                    if raw is None:
                        del tables[name]
                if raw is not None:
                    tables[name] = copy_json(raw)  # in place: the table keeps its position
                    for key, doc in raw.items():
                        self._log(["put", name, int(key), doc])
            if prefix is None and list(tables) != list(data):  # a table dropped and made again
                ordered = {name: tables[name] for name in data}
                tables.clear()
                tables.update(ordered)
            self.db.storage.write(tables)
            self.db.clear_cache()
            for name in names:
                coll = self._collections.get(name)
                if coll is not None:
                    if undo is not None:
                        undo.append((_NEXT_ID, coll.table, coll.table._next_id))
                    coll.table._next_id = None
                    coll._rebuild()
            if data is self._base or prefix is None:
                self._base = data
                self._touched -= names
            else:  # the tables now hold ``data``, which may differ from the remembered snapshot
                self._touched |= names

    def _remembering(self, base: dict | None, touched: set) -> Callable[[], None]:
        """Put back what the store remembers of its snapshot (for an undone restore)."""
        def undo() -> None:
            self._base, self._touched = base, touched
        return undo

    def clear(self, prefix: str | None = None) -> None:
        self.restore({}, prefix=prefix)

    # -- persistence (emulator.core.persistence has the files) -------------------------
    def _open_files(self) -> None:
        with collector_paused():
            opened = persistence.open_files(self.path)
        self.existed = opened.existed
        self.db.storage.write(opened.tables)
        _settle(sum(map(len, opened.tables.values())))
        self._wal = open(self.path + ".wal", "a", encoding="utf-8")
        self._wal_lines = opened.wal_lines
        self._merged_upto = opened.generation
        self._rotated_upto = opened.last_segment
        self._compactor = persistence.Compactor(self.path, on_end=self._compaction_ended)
        if self._rotated_upto > self._merged_upto or self._wal_lines >= self.compact_every:
            self.compact()

    def compact(self, wait: bool = False) -> None:
        """Merge the log into a new snapshot, in a background process.

        Under the lock only the log is rotated (closed, renamed ``PATH.wal.<n>``, a new one
        opened); another process then merges the snapshot and the closed logs from the
        files, so no request waits on it. One compaction runs at a time: while it runs the
        log just grows, and one that ends with the log past ``compact_every`` lines starts
        the next.
        ``wait`` blocks until the snapshot is written (tests, tools) and raises if it failed.
        """
        if self._wal is None:
            return
        while True:
            with self.lock:
                busy = self._compactor.running()
                if not busy:
                    self._reap()
                    if self._wal_lines:
                        self._rotate()
                    if self._rotated_upto > self._merged_upto:
                        self._compactor.start(self._rotated_upto)
                target = self._rotated_upto
            if not wait:
                return
            self._compactor.wait()
            with self.lock:
                self._reap()
            if not busy:
                if self._merged_upto < target:
                    raise RuntimeError(f"compaction of {self.path} failed: see the log")
                return
            # a compaction started by a flush ended: go round and merge what came after it

    def _rotate(self) -> None:
        wal = self.path + ".wal"
        seq = self._rotated_upto + 1
        rotated = f"{wal}.{seq}"
        self._wal.close()
        try:
            os.replace(wal, rotated)
            try:
                self._wal = open(wal, "a", encoding="utf-8")
            except OSError:
                os.replace(rotated, wal)
                raise
        except OSError:  # no room for a new log (a full disk): go on appending to this one
            self._wal = open(wal, "a", encoding="utf-8")
            raise
        persistence.fsync_dir(wal)  # the rename and the new log survive a crash
        self._rotated_upto, self._wal_lines = seq, 0

    def _compaction_ended(self) -> None:
        """Start the next compaction at once when the log grew past ``compact_every`` lines
        while the last one ran (a store written without a pause catches up)."""
        with self.lock:
            if self._wal is not None and self._reap() == 0 and self._wal_lines >= self.compact_every:
                self.compact()

    def _reap(self) -> int | None:
        """The status of a compaction that ended since the last look (None: none did)."""
        status = self._compactor.finished()
        if status == 0:
            self._merged_upto = max(self._merged_upto, self._compactor.upto)
        return status

    def close(self) -> None:
        """Stop at once: a compaction under way is ended (its logs stay and are replayed on
        open). A small store (under :data:`CLOSE_SNAPSHOT_DOCS` documents) is written as a
        snapshot first, so its files are one snapshot and an empty log."""
        if self._wal is None:
            return
        with self.lock:
            self._compactor.stop()
            self._reap()
            tables = self.db.storage.read() or {}
            if (self._wal_lines or self._rotated_upto > self._merged_upto) and \
                    sum(map(len, tables.values())) < CLOSE_SNAPSHOT_DOCS:
                try:
                    with persistence.file_lock(self.path):
                        tmp = persistence.write_snapshot(self.path, tables, self._rotated_upto)
                        persistence.install_snapshot(self.path, tmp, self._rotated_upto)
                        self._wal.truncate(0)
                except OSError as exc:  # the logs hold every write already: they are replayed on open
                    logging.getLogger("emulator.store").warning("no snapshot written on close: %s",
                                                                disk_condition(exc))
            self._wal.close()
            self._wal = None


CLOSE_SNAPSHOT_DOCS = 20_000
"""Below this many stored documents, :meth:`Store.close` writes the snapshot (a few tens of
milliseconds); above, it leaves the logs to be replayed on open and stops at once."""


class _Transaction:
    """The store's re-entrant transaction (a class: cheaper than a generator context)."""

    __slots__ = ("store",)

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> Store:
        store = self.store
        store.lock.acquire()
        if store._depth == 0 and store._wal is not None:
            store._undo = []
        store._depth += 1
        return store

    def __exit__(self, *exc) -> None:
        store = self.store
        try:
            store._depth -= 1
            if store._depth == 0:
                if store._pending:
                    store._commit()
                store._undo = None
        finally:
            if store._depth == 0:
                store._undo = None
            store.lock.release()


_MISSING = object()
"""In an undo entry: the document or table did not exist before."""
_DOC, _TABLE, _TABLES, _CLEARED, _NEXT_ID, _CALL = "doc", "table", "tables", "cleared", "next_id", "call"
"""Undo entries: ``(_DOC, table name, raw table, key, old document)``, ``(_TABLE, tables,
name, old raw table)``, ``(_TABLES, tables, old tables)`` (all of them, in their order),
``(_CLEARED, name, raw table, old contents)``, ``(_NEXT_ID, table, old next id)``,
``(_CALL, function)``."""


def _probe_directory(path: str) -> None:
    """Write, fsync and remove a small file beside ``path``: a read-only, full or missing
    directory fails here, at start, rather than on the first acknowledged write."""
    probe = path + ".probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"\0" * 4096)
        os.fsync(fd)
    finally:
        os.close(fd)
        os.unlink(probe)
