"""Conformance rows: how long ``verify`` takes to replay and compare 1,000 recorded exchanges.

The cassette is recorded through the real recording proxy (called in-process) in front of a
live emulator standing in for Pushtech: creates, reads, updates, searches and small bulks,
with ids that later requests reuse. Verifying it against a fresh emulator must agree
everywhere (the row fails otherwise), so the figure is the cost of a full comparison.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

EXCHANGES = 1000
ACCOUNT = "/v2/account/demo"
AUTH = {"Authorization": "Token token=pushtech-demo-secret", "Accept": "application/json"}


def record(ctx, out: Path, n: int) -> None:
    """``n`` exchanges of a Pushtech client, recorded through the proxy into ``out``."""
    from werkzeug.test import Client

    from emulator.conformance.record import Recorder

    app = ctx.make_app(fixture="empty", vendors=None)
    with ctx.live(app) as server:
        proxy = Client(Recorder("pushtech", f"{server.url}/pushtech", out))  # the emulator as the vendor
        made: list[str] = []
        i = 0
        while i < n:
            step = i % 5
            if step == 0 or not made:
                resp = proxy.post(f"{ACCOUNT}/contact", headers=AUTH, json={
                    "email": f"bench{i}@example.com", "name_first": "Ann", "name_last": f"Lee {i}",
                    "phone_countrycode": "44", "phone_number": f"77{i:08d}", "tags": ["bench"]})
                made.append(resp.get_json()["id"])
            elif step == 1:
                proxy.get(f"{ACCOUNT}/contact/{made[-1]}", headers=AUTH)
            elif step == 2:
                proxy.put(f"{ACCOUNT}/contact/{made[-1]}", headers=AUTH, json={"city": f"Town {i}"})
            elif step == 3:
                proxy.get(f"{ACCOUNT}/contact", headers=AUTH, query_string={"email": f"bench{i - 3}@example.com"})
            else:
                resp = proxy.post(f"{ACCOUNT}/contact/bulk", headers=AUTH, json={"contacts": [
                    {"email": f"bulk{i}-{k}@example.com", "name_first": "Bo"} for k in range(3)]})
                i += 1
                if i < n:
                    proxy.get(f"{ACCOUNT}/contact/bulk/{resp.get_json()['bulk']['_id']}", headers=AUTH)
            i += 1


def rows(ctx) -> list[dict]:
    import emulator

    n = 200 if ctx.quick else EXCHANGES
    work = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    try:
        cassette = work / "pushtech"
        record(ctx, cassette, n)
        recorded = len(list(cassette.glob("*.json")))
        reports = []
        best = ctx.best_time(lambda: reports.append(emulator.verify(cassette)), repeat=3)
        report = reports[-1]
        if not report.ok:
            raise AssertionError(f"verify of a recording of the emulator itself differs:\n{report.table()[:2000]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    target = 10.0 * recorded / EXCHANGES
    return [
        ctx.row(f"verify: {recorded:,} recorded Pushtech exchanges (replay and compare)", best, "s",
                f"≤ {target:g}", best <= target),
        ctx.row("verify: per exchange", best / recorded * 1000, "ms"),
    ]
