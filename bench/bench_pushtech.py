"""Pushtech rows: a single create live against the minimal Flask app; bulk create per-contact cost
into an empty store and into a 100k store."""
from __future__ import annotations

import gc
import json
from pathlib import Path

from emulator import create_app
from emulator.vendors.pushtech import VENDOR

ROOT = Path(__file__).resolve().parent.parent
BULK = 5000
CALLS = 2


def _fixture() -> dict:
    """The shipped empty fixture, Pushtech block only."""
    data = json.loads((ROOT / "fixtures" / "empty.json").read_text())
    return {"vendors": {"pushtech": data["vendors"]["pushtech"]}}


def _contact(i: int, tag: str) -> dict:
    return {"user_id": f"{tag}-{i}", "email": f"{tag}{i}@example.com", "name_first": "Ann", "name_last": "Lee",
            "phone_countrycode": "44", "phone_number": f"77{i:08d}", "tags": ["web"], "language": "EN"}


def _single_rows(ctx) -> list[dict]:
    """One ``POST /contact`` over a live server against the minimal app, call by call in turn."""
    app = ctx.make_app(vendors=[VENDOR], fixture=_fixture())
    numbers = iter(range(10**9))
    with ctx.live(app) as server, ctx.minimal_live() as minimal_call:
        headers = {"Authorization": "Token token=pushtech-demo-secret"}
        url = f"{server.url}/pushtech/v2/account/demo/contact"

        def create_one():
            resp = ctx.session().post(url, json=_contact(next(numbers), "live"), headers=headers)
            assert resp.status_code == 201, resp.text

        ours, reference = ctx.interleaved_rates(
            create_one, lambda: minimal_call(json=_contact(next(numbers), "live"), headers=headers))
    return ctx.versus_minimal_rows("pushtech single create", ours, reference, 0.8)


def rows(ctx) -> list[dict]:
    out = _single_rows(ctx)
    big = 20_000 if ctx.quick else 100_000

    def make(stored: int):
        """A backend whose store holds ``stored`` contacts shaped as the model stores them.

        Not ctx.make_app: that keeps every app alive, and dead 100k stores on the heap would
        slow the garbage collector down during the measurements that follow. What is stored
        before the measurement is frozen out of the collector (``gc.freeze``): a full
        collection walks every live object, so its cost follows the size of the heap, not
        the work of the store, and it would land at random inside one timed run or another.
        """
        gc.unfreeze()  # let the previous run's app be collected
        gc.collect()
        engine = ctx.engine(create_app({"fixture": _fixture()}, vendors=[VENDOR]))
        backend = engine.backend("pushtech", "demo")
        if stored:
            now = backend.now()
            backend.contacts.write_many(backend.new_contact(_contact(i, "seed"), now) for i in range(stored))
        gc.freeze()
        return backend

    def bulk(backend):
        """Two 5000-contact bulks, matching on user_id, through the request check and the job."""
        for call in range(CALLS):
            contacts = [_contact(i, f"new{call}-") for i in range(BULK)]
            queued = backend.create_bulk({"contacts": contacts, "match_contact_user_id": True})
            backend.engine.jobs.run_due()
            done = backend.show_bulk(queued["bulk"]["_id"])["bulk"]
            assert done["status"] == "finished" and done["contacts_valid_count"] == BULK, done

    # best of seven, the two stores alternating, so a drift of the machine's speed during
    # the run weighs on both sides alike
    empty_best = big_best = float("inf")
    for _ in range(7):
        empty_best = min(empty_best, ctx.best_time(bulk, setup=lambda: make(0), repeat=1))
        big_best = min(big_best, ctx.best_time(bulk, setup=lambda: make(big), repeat=1))
    gc.unfreeze()
    empty_cost, big_cost = empty_best / (CALLS * BULK), big_best / (CALLS * BULK)
    ratio = big_cost / empty_cost
    return out + [
        ctx.row(f"pushtech bulk create ({BULK} per bulk), empty store", empty_cost * 1e6, "µs/contact"),
        ctx.row(f"pushtech bulk create ({BULK} per bulk), {big:,} stored", big_cost * 1e6, "µs/contact"),
        ctx.row(f"pushtech bulk per-contact cost ratio {big:,} / empty", ratio, "×", "≤ 1.2", ratio <= 1.2),
    ]
