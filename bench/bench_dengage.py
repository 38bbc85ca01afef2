"""D·engage rows: a one-record BulkUpsert live against the minimal Flask app; a 1000-record BulkUpsert
into an empty store and into a store of 100k contacts."""
from __future__ import annotations

import json
from pathlib import Path

from emulator.vendors.dengage import VENDOR

ROOT = Path(__file__).resolve().parent.parent
RECORDS = 1000
CALLS = 4


def _fixture() -> dict:
    """The shipped empty fixture, D·engage block only, without the once-a-minute window."""
    data = json.loads((ROOT / "fixtures" / "empty.json").read_text())
    block = data["vendors"]["dengage"]
    block["accounts"]["demo"]["settings"]["bulk_window_s"] = 0
    return {"vendors": {"dengage": block}}


def _record(n: int) -> dict:
    """A record with the columns both public callers send (already lower-cased: no notes)."""
    return {"contact_key": f"K-{n:09d}", "name": "Ann", "surname": "Lee", "email": f"lead{n}@example.com",
            "email_permission": True, "gsm": "+905551112233", "gsm_permission": False, "city": "Izmir",
            "country": "TR"}


def _stored(backend, n: int, now: str) -> dict:
    """A contact shaped exactly as the model stores an inserted record."""
    doc = {**dict.fromkeys(backend.column_names), **_record(n), "contact_status": "A", "email_status": "A",
           "gsm_status": "A"}
    doc["created_at"] = doc["updated_at"] = now
    return doc


def _single_rows(ctx) -> list[dict]:
    """A one-record BulkUpsert over a live server against the minimal app, call by call in turn."""
    app = ctx.make_app(vendors=[VENDOR], fixture=_fixture())
    keys = iter(range(10**9))
    with ctx.live(app) as server, ctx.minimal_live() as minimal_call:
        token = ctx.session().post(f"{server.url}/dengage/rest/login",
                                   json={"userkey": "demo", "password": "dengage-demo-password"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{server.url}/dengage/rest/bulk/contacts"

        def body():
            record = _record(next(keys))
            return {"columns": list(record), "contactDatas": [record], "insertIfNotExists": True,
                    "throwExceptionIfInvalidRecord": True}

        def upsert_one():
            resp = ctx.session().post(url, json=body(), headers=headers)
            assert resp.status_code == 200, resp.text

        ours, reference = ctx.interleaved_rates(upsert_one, lambda: minimal_call(json=body(), headers=headers))
    return ctx.versus_minimal_rows("dengage one-record BulkUpsert", ours, reference, 0.8)


def rows(ctx) -> list[dict]:
    out = _single_rows(ctx)
    big = 20_000 if ctx.quick else 100_000

    def make(stored: int):
        app = ctx.make_app(vendors=[VENDOR], fixture=_fixture())
        backend = ctx.engine(app).backend("dengage", "demo")
        if stored:
            now = "2026-01-01T00:00:00.000Z"
            backend.contacts.write_many([_stored(backend, n, now) for n in range(stored)])
        return backend

    def bulk(backend):
        start = 500_000_000
        for call in range(CALLS):
            records = [_record(start + call * RECORDS + i) for i in range(RECORDS)]
            payload = {"columns": list(records[0]), "contactDatas": records, "insertIfNotExists": True,
                       "throwExceptionIfInvalidRecord": True}
            with backend.bulk_call() as started:
                data = backend.bulk_upsert(payload, started)
            assert len(data["inserted"]) == RECORDS and not data["errors"]

    empty, full = (t / (CALLS * RECORDS) for t in ctx.best_times_in_turn(bulk, [lambda: make(0), lambda: make(big)],
                                                                         repeat=5))
    ratio = full / empty
    return out + [
        ctx.row(f"dengage BulkUpsert ({RECORDS} records per call), empty store", empty * 1e6, "µs/record"),
        ctx.row(f"dengage BulkUpsert ({RECORDS} records per call), {big:,} stored", full * 1e6, "µs/record"),
        ctx.row(f"dengage BulkUpsert per-record cost ratio {big:,} / empty", ratio, "×", "≤ 1.2", ratio <= 1.2),
    ]

