"""The emulator's state in one object: store, clock, journal, jobs, ids, accounts, backends.

One :class:`Engine` per app. Vendor backends (one per account, as in moto) reach the shared
machinery through it; the HTTP layer finds it as ``app.extensions["emulator"]``.
"""
from __future__ import annotations

import os
import threading
from typing import Any

from .accounts import Account, build_accounts, load_fixture
from .clock import Clock
from .faults import Faults
from .ids import COUNTERS, Ids
from .jobs import Jobs
from .journal import Journal
from .store import Index, Store, copy_json
from .vendor import VendorSpec

SEEDED = "_emulator:seeded"
"""One document: the fixture (its name and content) and the seed the store was filled from,
so a reopened persisted store keeps the accounts its data belongs to."""

STATE_LIMIT = 100
"""Documents per collection that :meth:`Engine.state` (``GET /_emulator/state``) answers
unless asked for more: a store of a million contacts answers a page, not the million."""

FIXTURE_EPOCH = "2026-01-01T00:00:00Z"
"""The time a fixture's data is created at (a fixture may set ``epoch``): same bytes every run."""


class Engine:
    def __init__(self, settings, vendors: list[VendorSpec]):
        self.settings = settings
        self.vendors: dict[str, VendorSpec] = {v.name: v for v in vendors}
        self.store = Store(settings.db)
        self.store.define_indexes(COUNTERS, {"name": Index(lambda d: d["name"])})
        for spec in vendors:
            for kind, indexes in spec.indexes.items():
                self.store.define_indexes(f"{spec.name}:{kind}", indexes)
        self.clock = Clock()
        self.journal = Journal(settings.journal_size, settings.journal_body_bytes, settings.journal_total_bytes)
        self.jobs = Jobs(self, webhook_timeout_s=settings.webhook_timeout_s)
        for spec in vendors:
            for kind, handler in spec.jobs.items():
                self.jobs.register(kind, handler)
        self.clock.listeners.append(self.jobs.run_due)
        self.seed = int(settings.seed)
        self.ids = Ids(self.store, self.seed)
        seeded = next((doc for _, doc in self.store.named(SEEDED).scan()), None) if self.store.existed else None
        # A reopened store keeps the fixture and seed its data came from, whatever is asked now.
        self.reopened = seeded is not None
        if seeded is not None:
            self.fixture_ref, self.fixture, self.seed = seeded["fixture"], seeded["content"], seeded["seed"]
            self.ids.seed = self.seed
        else:
            self.fixture_ref = settings.fixture
            self.fixture = load_fixture(settings.fixture)
        self.accounts = build_accounts(self.fixture, self.vendors)
        self._backends: dict[tuple[str, str], Any] = {}
        self._backends_lock = threading.Lock()
        self._initial: dict | None = None
        self._session: tuple | None = None  # (fixture_ref, fixture, accounts, seed, snapshot) at start
        self.faults = Faults(self.vendors)
        if self.store.existed:
            self.jobs.reload()  # an existing store is opened as it is
        else:
            self._populate()
            self._remember_session()

    def fixture_name(self) -> str:
        """The fixture's name or path as given, or ``(fixture object)``."""
        ref = self.fixture_ref
        return os.fspath(ref) if isinstance(ref, (str, os.PathLike)) else "(fixture object)"

    # -- accounts and backends -------------------------------------------------------
    def account(self, vendor: str, name: str) -> Account | None:
        return self.accounts.get(vendor, {}).get(name)

    def backend(self, vendor: str, account: str | Account):
        """The per-account backend of a vendor (created once, kept until reset/seed)."""
        name = account.name if isinstance(account, Account) else account
        key = (vendor, name)
        backend = self._backends.get(key)
        if backend is None:
            acct = self.account(vendor, name)
            if acct is None:
                raise KeyError(f"no {vendor} account {name!r}")
            with self._backends_lock:
                backend = self._backends.get(key)
                if backend is None:
                    backend = self.vendors[vendor].backend(self, acct)
                    self._backends[key] = backend
        return backend

    # -- fixture loading, reset, seed ------------------------------------------------
    def _populate(self) -> None:
        """Empty the store and load the fixture with the current seed; remember the result."""
        from .. import seeding  # Faker is imported there, and only if data is generated

        with self.store.transaction(), self.clock.pinned(self.fixture.get("epoch", FIXTURE_EPOCH)):
            self.store.clear()
            self._backends.clear()
            seeding.populate(self)
            self.store.named(SEEDED).insert({"fixture": self.fixture_name(), "seed": self.seed,
                                             "content": self.fixture})
            self._initial = self.store.snapshot()
        self.jobs.reload()

    def _remember_session(self) -> None:
        self._session = (self.fixture_ref, self.fixture, self.accounts, self.seed, self._initial)

    def reset(self, vendor: str | None = None) -> None:
        """Drop stored data and reload the current fixture (all vendors, or one).

        A full reset also clears the journal and the fault rules."""
        with self.store.transaction():
            if self._initial is None:
                self._populate()
            elif vendor is None:
                self.store.restore(self._initial)
            else:
                self.store.restore(self._initial, prefix=f"{vendor}:")
                self.ids.rewind(f"{vendor}:", self._initial)
            self._backends.clear()
            if vendor is None:
                self.journal.clear()
                self.faults.clear()
            self.jobs.reload()

    def reset_session(self) -> None:
        """Everything back to how the session started, in one call: the fixture and seed the
        emulator was started with (whatever ``reseed`` did since), its data, an empty
        journal, no fault rules and the real clock.

        The data comes from the snapshot taken once after the fixture was generated; only
        the tables written since are copied back (see :meth:`Store.restore`), so this costs
        what the last test touched, never a Faker run.
        """
        with self.store.transaction():
            if self._session is None:  # an existing store was opened: the fixture is loaded on first reset
                self._populate()
                self._remember_session()
            fixture_ref, fixture, accounts, seed, snapshot = self._session
            self.fixture_ref, self.fixture, self.accounts = fixture_ref, fixture, accounts
            self.seed = self.ids.seed = seed
            self._initial = snapshot
            self.store.restore(snapshot)
            self._backends.clear()
            self.journal.clear()
            self.faults.clear()
            self.jobs.reload()
        self.clock.real()

    def reseed(self, seed: int | None = None, fixture: Any = None) -> None:
        """Reset with another seed and/or fixture (kept until the next :meth:`reset_session`)."""
        with self.store.transaction():
            if fixture is not None:
                loaded = load_fixture(fixture)
                accounts = build_accounts(loaded, self.vendors)
                self.fixture_ref, self.fixture, self.accounts = fixture, loaded, accounts
            if seed is not None:
                self.seed = int(seed)
                self.ids.seed = self.seed
            self._populate()
            self.journal.clear()

    # -- state -----------------------------------------------------------------------
    def state(self, vendor: str | None = None, account: str | None = None, kind: str | None = None, *,
              limit: int = STATE_LIMIT, offset: int = 0, where: dict[str, Any] | None = None) -> dict:
        """``{"vendors": {v: {"accounts": {a: {kind: [docs]}}}}, "counts": {v: {a: {kind: n}}},
        "limit": limit, "offset": offset}``, narrowed to a vendor, account and kind if asked.

        Each collection answers at most ``limit`` documents from ``offset`` on, in the order
        they were first written, and ``counts`` tells how many it holds. ``where`` maps index
        names to keys (``{"email": "ann@example.com"}``): the documents are found through the
        store's indexes, and a kind without every one of those indexes is left out. What
        this costs follows the page, not the store (copies of the page's documents only).
        """
        self.jobs.run_due()
        out: dict = {"vendors": {}, "counts": {}, "limit": limit, "offset": offset}
        with self.store.lock:
            for name, spec in self.vendors.items():
                if vendor and name != vendor:
                    continue
                kinds = [k for k in spec.collections if (not kind or k == kind)
                         and all(index in spec.indexes.get(k, {}) for index in where or ())]
                accounts, counts = {}, {}
                for acct_name in self.accounts.get(name, {}):
                    if account and acct_name != account:
                        continue
                    docs, counts[acct_name] = {}, {}
                    for k in kinds:
                        coll = self.store.collection(name, acct_name, k)
                        docs[k], counts[acct_name][k] = _page(coll, limit, offset, where)
                    accounts[acct_name] = docs
                out["vendors"][name] = {"accounts": accounts}
                out["counts"][name] = counts
        return out

    def close(self) -> None:
        self.jobs.close()
        self.store.close()


def _page(coll, limit: int, offset: int, where: dict[str, Any] | None) -> tuple[list[dict], int]:
    """(copies of one page of documents, how many documents match) of a collection."""
    if not where:
        return [copy_json(doc) for _, doc in coll.page(offset, limit)], len(coll)
    ids: set[int] | None = None
    for index, key in where.items():
        found = set(coll.ids_with(index, key))
        if not found and isinstance(key, str) and key.lstrip("-").isdigit():
            found = set(coll.ids_with(index, int(key)))  # numeric ids arrive as query text
        ids = found if ids is None else ids & found
    matching = sorted(ids or ())
    return [copy_json(coll.peek(i)) for i in matching[offset:offset + limit]], len(matching)
