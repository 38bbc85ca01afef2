"""Pushtech rows: bulk create per-contact cost into an empty store and into a 100k store."""
from __future__ import annotations

import json
from pathlib import Path

from emulator.vendors.pushtech import VENDOR

ROOT = Path(__file__).resolve().parent.parent
BULK = 5000


def _fixture() -> dict:
    """The shipped empty fixture, Pushtech block only."""
    data = json.loads((ROOT / "fixtures" / "empty.json").read_text())
    return {"vendors": {"pushtech": data["vendors"]["pushtech"]}}


def _contact(i: int, tag: str) -> dict:
    return {"user_id": f"{tag}-{i}", "email": f"{tag}{i}@example.com", "name_first": "Ann", "name_last": "Lee",
            "phone_countrycode": "44", "phone_number": f"77{i:08d}", "tags": ["web"], "language": "EN"}


def rows(ctx) -> list[dict]:
    big = 20_000 if ctx.quick else 100_000

    def make(stored: int):
        """A backend whose store holds ``stored`` contacts shaped as the model stores them."""
        engine = ctx.engine(ctx.make_app(vendors=[VENDOR], fixture=_fixture()))
        backend = engine.backend("pushtech", "demo")
        if stored:
            now = backend.now()
            backend.contacts.write_many(backend.new_contact(_contact(i, "seed"), now) for i in range(stored))
        return backend

    def bulk(backend):
        """One 5000-contact bulk, matching on user_id, through the request check and the job."""
        contacts = [_contact(i, "new") for i in range(BULK)]
        queued = backend.create_bulk({"contacts": contacts, "match_contact_user_id": True})
        backend.engine.jobs.run_due()
        done = backend.show_bulk(queued["bulk"]["_id"])["bulk"]
        assert done["status"] == "finished" and done["contacts_valid_count"] == BULK, done

    empty_cost = ctx.best_time(bulk, setup=lambda: make(0), repeat=3) / BULK
    big_cost = ctx.best_time(bulk, setup=lambda: make(big), repeat=3) / BULK
    ratio = big_cost / empty_cost
    return [
        ctx.row(f"pushtech bulk create ({BULK} per bulk), empty store", empty_cost * 1e6, "µs/contact"),
        ctx.row(f"pushtech bulk create ({BULK} per bulk), {big:,} stored", big_cost * 1e6, "µs/contact"),
        ctx.row(f"pushtech bulk per-contact cost ratio {big:,} / empty", ratio, "×", "≤ 1.2", ratio <= 1.2),
    ]
