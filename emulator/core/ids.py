"""Deterministic ids: the same seed and the same sequence of requests give the same ids.

Each namespace (``pushtech:demo:contact`` ...) has its own counter, kept in the store so
that reset and persistence keep it; an id is a hash of (seed, namespace, counter), so ids
in one namespace do not depend on traffic in another.
"""
from __future__ import annotations

import hashlib
import uuid

COUNTERS = "_emulator:counters"


class Ids:
    def __init__(self, store, seed: int = 0):
        self.store = store
        self.seed = seed
        self._bases: dict[tuple[int, str], int] = {}  # (seed, namespace) -> offset

    def counter(self, namespace: str) -> int:
        """The next value (1, 2, 3 ...) of a namespace's counter (kept in the store)."""
        coll = self.store.named(COUNTERS)
        with self.store.transaction():
            doc_id = coll.find_id("name", namespace)
            if doc_id is None:
                coll.insert({"name": namespace, "value": 1})
                return 1
            value = coll.peek(doc_id)["value"] + 1
            coll.set_fields_unindexed(doc_id, {"value": value})
            return value

    def rewind(self, prefix: str, snapshot: dict) -> None:
        """Put the counters of namespaces starting with ``prefix`` back to their values in a
        store ``snapshot`` (a one-vendor reset gives the same ids as a full one)."""
        initial = {doc["name"]: doc["value"] for doc in snapshot.get(COUNTERS, {}).values()}
        coll = self.store.named(COUNTERS)
        with self.store.transaction():
            for doc_id, doc in list(coll.scan()):
                if not doc["name"].startswith(prefix):
                    continue
                if doc["name"] in initial:
                    coll.set_fields_unindexed(doc_id, {"value": initial[doc["name"]]})
                else:
                    coll.remove(doc_id)

    def _digest(self, namespace: str) -> bytes:
        n = self.counter(namespace)
        return hashlib.sha256(f"{self.seed}:{namespace}:{n}".encode()).digest()

    def hex24(self, namespace: str) -> str:
        """A 24-hex-character id (the shape of a MongoDB ObjectId)."""
        return self._digest(namespace).hex()[:24]

    def uuid(self, namespace: str) -> str:
        return str(uuid.UUID(bytes=self._digest(namespace)[:16], version=4))

    def number(self, namespace: str, start: int = 1) -> int:
        """A sequential integer id, offset by a seed-dependent base."""
        offset = self._bases.get((self.seed, namespace))
        if offset is None:
            digest = hashlib.sha256(f"{self.seed}:{namespace}".encode()).digest()
            offset = self._bases[self.seed, namespace] = (int.from_bytes(digest[:3], "big") % 1000) * 1000
        return start + offset + self.counter(namespace)

    def token(self, namespace: str, length: int = 50) -> str:
        """A random-looking alphanumeric token, deterministic per seed."""
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        out, digest = [], self._digest(namespace)
        while len(out) < length:
            for byte in digest:
                out.append(alphabet[byte % len(alphabet)])
            digest = hashlib.sha256(digest).digest()
        return "".join(out[:length])
