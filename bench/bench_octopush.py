"""Octopush rows: single-contact create against the minimal Flask app, bulk cost vs store size."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

from emulator import create_app
from emulator.vendors.octopush import VENDOR, model

AUTH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
ROOT = Path(__file__).resolve().parent.parent
BULK = 500
CALLS = 8  # bulk calls per timed run


def _fixture() -> dict:
    """The shipped empty fixture, Octopush block only."""
    data = json.loads((ROOT / "fixtures" / "empty.json").read_text())
    return {"vendors": {"octopush": data["vendors"]["octopush"]}}


def _phones(start: int):
    """Distinct valid French mobile numbers (+3361xxxxxxx)."""
    return (f"+3361{n:07d}" for n in itertools.count(start))


def rows(ctx) -> list[dict]:
    out = []
    # -- single-contact create, live server, against the minimal Flask app -----------
    app = ctx.make_app(vendors=[VENDOR], fixture=_fixture())
    phones = _phones(0)
    with ctx.live(app) as server, ctx.minimal_live() as minimal_call:
        url = f"{server.url}/octopush/v1/public/contact/create"

        def body():
            return {"list_name": "Leads", "tag_name": "web",
                    "contacts": [{"phone_number": next(phones), "first_name": "Ann", "last_name": "Lee"}]}

        def create_one():
            resp = ctx.session().post(url, json=body(), headers=AUTH)
            assert resp.status_code == 201, resp.text

        ours, reference = ctx.interleaved_rates(create_one, lambda: minimal_call(json=body(), headers=AUTH))
    ratio = ours / reference
    out.append(ctx.row("minimal Flask app, live, 1 thread, the same request (call by call in turn with the row below)",
                       reference, "req/s"))
    out.append(ctx.row("octopush single-contact create, live, 1 thread", ours, "req/s"))
    out.append(ctx.row("octopush single-contact create / minimal Flask app (same run)", ratio, "×", "≥ 0.9",
                       ratio >= 0.9))

    # -- bulk create: per-contact cost into an empty store and into a 100k store -------
    big = 20_000 if ctx.quick else 100_000

    def make(stored: int):
        # not ctx.make_app: that keeps every app alive, and five dead 100k stores on the
        # heap would slow the collector down for the measurement that follows
        bulk_app = create_app({"fixture": _fixture()}, vendors=[VENDOR])
        engine = ctx.engine(bulk_app)
        backend = engine.backend("octopush", "demo")
        if stored:
            now = "2026-01-01T00:00:00.000Z"
            docs = []
            for phone in itertools.islice(_phones(5_000_000), stored):
                doc = model._new_contact(phone, now)
                doc["lists"] = ["Leads"]
                docs.append(doc)
            backend.contacts.write_many(docs)
        return backend

    def bulk(backend):
        fresh = _phones(9_000_000)
        for _ in range(CALLS):
            backend.create_contacts({"list_name": "Leads", "contacts": [
                {"phone_number": next(fresh), "first_name": "Ann"} for _ in range(BULK)]})

    empty_cost, big_cost = (t / (CALLS * BULK) for t in ctx.best_times_in_turn(
        bulk, [lambda: make(0), lambda: make(big)], repeat=5))
    out.append(ctx.row(f"octopush bulk create ({BULK} per call), empty store", empty_cost * 1e6, "µs/contact"))
    out.append(ctx.row(f"octopush bulk create ({BULK} per call), {big:,} stored", big_cost * 1e6, "µs/contact"))
    out.append(ctx.row(f"octopush bulk per-contact cost ratio {big:,} / empty", big_cost / empty_cost, "×", "≤ 1.2",
                       big_cost / empty_cost <= 1.2))
    return out
