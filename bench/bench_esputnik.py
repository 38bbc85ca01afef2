"""eSputnik rows: single add against the minimal Flask app (1 and 8 client threads), the
per-contact cost of a 3000-contact bulk import and the per-order cost of a 1000-order
``POST /orders``, each into an empty store and into a 100k store."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

from emulator.vendors.esputnik import VENDOR, model, schemas

AUTH = ("demo", "esputnik-demo-key")
ROOT = Path(__file__).resolve().parent.parent
BULK = 3000
ORDERS = 1000
LIMITS_OFF = {"duplicate_window_s": 0, "max_requests_per_second": 0}


def _fixture() -> dict:
    """The shipped empty fixture, eSputnik block only, with the per-account limits turned off."""
    block = json.loads((ROOT / "fixtures" / "empty.json").read_text())["vendors"]["esputnik"]
    block["accounts"]["demo"]["settings"].update(LIMITS_OFF)
    return {"vendors": {"esputnik": block}}


def _stored_contacts(backend, count: int) -> None:
    """``count`` contacts written straight into the collection, shaped as the model stores them."""
    customers = backend.groups.find("name", "Customers")
    group = [{"id": customers["id"], "name": "Customers", "type": "Static"}]
    docs = []
    for n in range(count):
        doc = model.new_contact(50_000_000 + n, "2026-01-01T00:00:00.000Z")
        doc["firstName"] = "Ann"
        doc["channels"] = [{"type": "email", "value": f"stored{n}@example.com", "confirmed": True},
                           {"type": "sms", "value": f"3805{n:08d}"}]
        doc["groups"] = [dict(g) for g in group]
        docs.append(doc)
    backend.contacts.write_many(docs)


def _stored_orders(backend, count: int) -> None:
    """``count`` orders of the stored contacts, shaped as the model stores them."""
    item = {"externalItemId": "SKU-1", "name": "Mug", "category": "Kitchen", "quantity": 1, "cost": 12.5,
            "url": "https://shop.example.com/p/1", "imageUrl": "https://shop.example.com/i/1.jpg", "description": None}
    docs = []
    for n in range(count):
        doc = dict.fromkeys(schemas.ORDER_STORED)
        doc.update(externalOrderId=f"stored-{n}", totalCost=12.5, status="DELIVERED", currency="EUR",
                   date="2026-01-01T00:00:00+00:00", email=f"stored{n}@example.com", items=[dict(item)],
                   contactId=50_000_000 + n, updated="2026-01-01T00:00:00.000Z")
        docs.append(doc)
    backend.orders.write_many(docs)


def rows(ctx) -> list[dict]:
    out = []
    # -- single add, live server, against the minimal Flask app ---------------------------
    app = ctx.make_app(vendors=[VENDOR], fixture=_fixture())
    counter = itertools.count()
    with ctx.live(app) as server, ctx.minimal_live() as minimal_call:
        url = f"{server.url}/esputnik/api/v1/contact"

        def body():
            return {"firstName": "Ann", "lastName": "Lee",
                    "channels": [{"type": "email", "value": f"ann{next(counter)}@example.com"}]}

        def add_one():
            resp = ctx.session().post(url, json=body(), auth=AUTH)
            assert resp.status_code == 200, resp.text

        def reference_one():  # the same request, to the minimal app
            minimal_call(json=body(), auth=AUTH)

        for threads in (1, 8):
            if threads == 1:
                ours, reference = ctx.interleaved_rates(add_one, reference_one)
                how = "call by call in turn"
            else:
                ours, reference = ctx.paired_rates(add_one, reference_one, threads=threads)
                how = "in rounds in turn"
            ratio = ours / reference
            out.append(ctx.row(f"minimal Flask app, live, {threads} thread(s), the same request ({how} with the row below)",
                               reference, "req/s"))
            out.append(ctx.row(f"esputnik single add, live, {threads} thread(s)", ours, "req/s"))
            out.append(ctx.row(f"esputnik single add, {threads} thread(s) / minimal Flask app (same run)", ratio, "×",
                               "≥ 0.9", ratio >= 0.9))

    # -- bulk: per-contact cost into an empty store and into a 100k store ------------------
    big = 20_000 if ctx.quick else 100_000

    def make(stored: int):
        bulk_app = ctx.make_app(vendors=[VENDOR], fixture=_fixture())
        backend = ctx.engine(bulk_app).backend("esputnik", "demo")
        if stored:
            _stored_contacts(backend, stored)
        return bulk_app.test_client()

    fresh = itertools.count()

    def bulk(client):
        body = {"contacts": [{"firstName": "Bob", "channels": [{"type": "email", "value": f"new{next(fresh)}@example.com"},
                                                               {"type": "sms", "value": "380501112233"}]}
                             for _ in range(BULK)],
                "dedupeOn": "email", "groupNames": ["Customers"], "eventKeyForNewContacts": "imported"}
        resp = client.post("/esputnik/api/v1/contacts", json=body, auth=AUTH)
        session = resp.get_json()["asyncSessionId"]
        done = client.get(f"/esputnik/api/v1/importstatus/{session}", auth=AUTH).get_json()  # runs the import
        assert done["status"] == "FINISHED" and len(done["mapping"]) == BULK, done.get("error")

    empty_cost, big_cost = (t / BULK for t in ctx.best_times_in_turn(bulk, [lambda: make(0), lambda: make(big)],
                                                                     repeat=5))
    ratio = big_cost / empty_cost
    out.append(ctx.row(f"esputnik bulk ({BULK} per call), empty store", empty_cost * 1e6, "µs/contact"))
    out.append(ctx.row(f"esputnik bulk ({BULK} per call), {big:,} stored", big_cost * 1e6, "µs/contact"))
    out.append(ctx.row(f"esputnik bulk per-contact cost ratio {big:,} / empty", ratio, "×", "≤ 1.2", ratio <= 1.2))

    # -- orders: per-order cost of a 1000-order POST /orders, empty store and 100k stored ---
    def make_orders(stored: int):
        orders_app = ctx.make_app(vendors=[VENDOR], fixture=_fixture())
        backend = ctx.engine(orders_app).backend("esputnik", "demo")
        if stored:
            _stored_contacts(backend, stored)
            _stored_orders(backend, stored)
        return orders_app.test_client()

    def orders(client):
        # new orders of new customers in both stores: every order looks up its contact and creates one
        batch = next(fresh)
        body = {"orders": [{"externalOrderId": f"o{batch}-{i}", "externalCustomerId": f"c{batch}-{i}",
                            "email": f"buyer{batch}-{i}@example.com", "phone": "380501112233", "firstName": "Ann",
                            "totalCost": 25.5, "status": "DELIVERED", "date": "2026-05-01T10:00:00+03:00",
                            "currency": "EUR",
                            "items": [{"externalItemId": "SKU-1", "name": "Mug", "quantity": 2, "cost": 12.75,
                                       "url": "https://shop.example.com/p/1",
                                       "imageUrl": "https://shop.example.com/i/1.jpg"}]}
                           for i in range(ORDERS)]}
        resp = client.post("/esputnik/api/v1/orders", json=body, auth=AUTH)
        assert resp.status_code == 200 and resp.data == b"", resp.get_data(as_text=True)

    empty_cost, big_cost = (t / ORDERS for t in ctx.best_times_in_turn(
        orders, [lambda: make_orders(0), lambda: make_orders(big)], repeat=5))
    ratio = big_cost / empty_cost
    out.append(ctx.row(f"esputnik orders ({ORDERS} per call), empty store", empty_cost * 1e6, "µs/order"))
    out.append(ctx.row(f"esputnik orders ({ORDERS} per call), {big:,} contacts and orders stored", big_cost * 1e6,
                       "µs/order"))
    out.append(ctx.row(f"esputnik orders per-order cost ratio {big:,} / empty", ratio, "×", "≤ 1.2", ratio <= 1.2))
    return out
