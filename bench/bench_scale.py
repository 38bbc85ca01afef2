"""A million stored contacts (D·engage, account ``demo``; 100k with ``--quick``).

In memory: the admin state's page of 100, the dashboard's first page, an exact-key search
and a search no index answers, over a live server, and resident memory per 100k contacts.
Persistent (``serve --db`` in its own process): a fill in 1000-record BulkUpserts over
HTTP while compaction runs in the background (median and slowest call), then the stop and
the restart.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from bench_dengage import _fixture, _record, _stored  # the same account and records as the D·engage rows

from emulator.core import persistence
from emulator.vendors.dengage import VENDOR

ROOT = Path(__file__).resolve().parent.parent
RECORDS = 1000  # D·engage's most per BulkUpsert
READS = 21


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _median_ms(fn, reads: int = READS) -> float:
    fn()  # warm
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def rows(ctx) -> list[dict]:
    total = 100_000 if ctx.quick else 1_000_000
    return _in_memory_rows(ctx, total) + _persistent_rows(ctx, total)


# -- in memory --------------------------------------------------------------------------
def _in_memory_rows(ctx, total: int) -> list[dict]:
    gc.collect()
    app = ctx.make_app(vendors=[VENDOR], fixture=_fixture())
    backend = ctx.engine(app).backend("dengage", "demo")
    before = _rss_mib()
    now = "2026-01-01T00:00:00.000Z"
    for start in range(0, total, 10_000):  # documents shaped exactly as BulkUpsert stores an insert
        backend.contacts.write_many([_stored(backend, n, now) for n in range(start, start + 10_000)])
    gc.collect()
    per_100k = (_rss_mib() - before) / (total / 100_000)
    label = f"{total:,} D·engage contacts"
    middle = f"K-{total // 2:09d}"
    out = [ctx.row(f"resident memory per 100k contacts ({label}, in memory)", per_100k, "MiB", "≤ 150",
                   per_100k <= 150)]
    with ctx.live(app) as server:
        session = requests.Session()

        def get(path: str, **params):
            resp = session.get(server.url + path, params=params, timeout=60)
            assert resp.status_code == 200, resp.text[:300]
            return resp

        state = get("/_emulator/state", vendor="dengage", account="demo", kind="contacts", limit=100).json()
        assert len(state["vendors"]["dengage"]["accounts"]["demo"]["contacts"]) == 100
        assert state["counts"]["dengage"]["demo"]["contacts"] == total
        found = get("/_emulator/state", vendor="dengage", kind="contacts", contact_key=middle).json()
        assert found["counts"]["dengage"]["demo"]["contacts"] == 1
        assert middle in get("/_emulator/", vendor="dengage", account="demo", q=middle).text

        timings = [
            ("state page of 100 (kind=contacts&limit=100)", 50,
             lambda: get("/_emulator/state", vendor="dengage", account="demo", kind="contacts", limit=100)),
            (f"state, last page of 100 (offset {total - 100:,})", None,
             lambda: get("/_emulator/state", vendor="dengage", account="demo", kind="contacts", limit=100,
                         offset=total - 100)),
            ("state filtered by an index key (contact_key=)", None,
             lambda: get("/_emulator/state", vendor="dengage", kind="contacts", contact_key=middle)),
            ("dashboard first page (25 rows)", 50, lambda: get("/_emulator/", vendor="dengage", account="demo")),
            ("dashboard page of 100 rows", None, lambda: get("/_emulator/", vendor="dengage", size=100)),
            ("dashboard exact-key search (a contact key, index look-up)", 50,
             lambda: get("/_emulator/", vendor="dengage", account="demo", q=middle)),
            ("dashboard exact-key search (an email: no index, bounded scan)", None,
             lambda: get("/_emulator/", vendor="dengage", account="demo", q=f"lead{total // 2}@example.com")),
        ]
        for name, target, fn in timings:
            ms = _median_ms(fn)
            out.append(ctx.row(f"{name}, {label}", ms, "ms", f"≤ {target}" if target else None,
                               ms <= target if target else None))
    return out


# -- persistent -------------------------------------------------------------------------
def _serve(db: str, fixture: str, port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "emulator", "serve", "--port", str(port), "--db", db,
                             "--fixture", fixture, "--log-level", "warning"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}")
        try:
            if requests.get(url + "/_emulator/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.005)
    raise RuntimeError("serve did not answer its health check")


def _stop(proc: subprocess.Popen) -> float:
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    return time.perf_counter() - started


def _settled(db: str, compact_every: int = 50_000) -> bool:
    """No closed log waits for a merge, and the open log is under a compaction's worth of
    lines (counted: a stored document's line is longer than the record it came from)."""
    if persistence.log_segments(db):
        return False
    try:
        with open(db + ".wal", "rb") as fh:
            return fh.read().count(b"\n") < compact_every
    except FileNotFoundError:
        return True


def _growing_calls(calls: int) -> set[int]:
    """The calls that take the contacts table past a size where CPython doubles a dict's
    hash table (two thirds of a power of two): that call copies the table's dict and its
    index's (≈ 0.1 s each at 700k entries, in memory as much as with --db)."""
    limits = {2 ** k * 2 // 3 for k in range(14, 26)}
    return {i for i in range(calls) if any(i * RECORDS < limit <= (i + 1) * RECORDS for limit in limits)}


def _persistent_rows(ctx, total: int) -> list[dict]:
    label = f"{total:,} D·engage contacts, --db"
    with tempfile.TemporaryDirectory(prefix="emulator-bench-", dir=ROOT / "bench") as folder:
        db = os.path.join(folder, "store.json")
        fixture = os.path.join(folder, "fixture.json")
        Path(fixture).write_text(json.dumps(_fixture()))
        port = ctx.free_port()
        url = f"http://127.0.0.1:{port}"
        proc = _serve(db, fixture, port)
        try:
            _wait_healthy(url, proc)
            session = requests.Session()
            token = session.post(f"{url}/dengage/rest/login", json={"userkey": "demo", "password": "dengage-demo-password"},
                                 timeout=10).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            calls = []
            started = time.perf_counter()
            for call in range(total // RECORDS):
                records = [_record(call * RECORDS + i) for i in range(RECORDS)]
                body = json.dumps({"columns": list(records[0]), "contactDatas": records, "insertIfNotExists": True})
                before = time.perf_counter()
                resp = session.post(f"{url}/dengage/rest/bulk/contacts", data=body, headers=headers, timeout=120)
                calls.append(time.perf_counter() - before)
                assert resp.status_code == 200, resp.text[:300]
            fill = time.perf_counter() - started
            # the compaction process catches up with the log once the writes stop
            deadline = time.perf_counter() + 300
            while not _settled(db) and time.perf_counter() < deadline:
                time.sleep(0.2)
            settle = time.perf_counter() - started - fill
            stop = _stop(proc)
            spawned = time.perf_counter()
            proc = _serve(db, fixture, port)
            _wait_healthy(url, proc)
            healthy = time.perf_counter() - spawned
            key = f"K-{total - 1:09d}"
            token = session.post(f"{url}/dengage/rest/login", json={"userkey": "demo", "password": "dengage-demo-password"},
                                 timeout=60).json()["access_token"]
            read = session.get(f"{url}/dengage/rest/contacts/{key}", headers={"Authorization": f"Bearer {token}"},
                               timeout=60)
            first_read = time.perf_counter() - spawned
            assert read.status_code == 200 and read.json()["data"]["contacts"][0]["contact_key"] == key, read.text[:300]
        finally:
            if proc.poll() is None:
                _stop(proc)
    median = statistics.median(calls)
    slowest = max(calls)
    p99 = sorted(calls)[int(len(calls) * 0.99)]
    ratio = slowest / median
    growing = _growing_calls(len(calls))
    calm = max(t for i, t in enumerate(calls) if i not in growing)
    return [
        ctx.row(f"fill to {label}: {len(calls)} BulkUpserts of {RECORDS} over HTTP, total", fill, "s"),
        ctx.row(f"fill to {label}: median call", median * 1000, "ms"),
        ctx.row(f"fill to {label}: 99th percentile call", p99 * 1000, "ms"),
        ctx.row(f"fill to {label}: slowest call (the five slowest, call: ms: "
                + ", ".join(f"{i}: {t * 1000:.0f}" for i, t in sorted(enumerate(calls), key=lambda c: c[1])[-5:]) + ")",
                slowest * 1000, "ms"),
        ctx.row(f"fill to {label}: slowest / median call", ratio, "×", "≤ 3", ratio <= 3),
        ctx.row(f"fill to {label}: slowest / median call but the calls {', '.join(map(str, sorted(growing)))} "
                "(the table and its index outgrow their dict)", calm / median, "×", "≤ 3", calm / median <= 3),
        ctx.row(f"after the fill, compaction caught up in ({label})", settle, "s"),
        ctx.row(f"stop (SIGTERM to exit), {label}", stop * 1000, "ms"),
        ctx.row(f"restart to healthy, {label}", healthy, "s", "≤ 3", healthy <= 3),
        ctx.row(f"restart to the first contact read (its index built), {label}", first_read, "s"),
    ]
