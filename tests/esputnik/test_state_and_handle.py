"""Issue items 8 and 9: orders, events and unsubscribed addresses in /_emulator/state, on the
handle (in-process and over HTTP) and on the dashboard, reset with the rest; the new endpoints in
the OpenAPI document; fake payloads for each endpoint that takes one."""
from __future__ import annotations

import pytest

from emulator.seeding import faker_for
from emulator.testing.handle import EmulatorHandle
from emulator.testing.pytest_plugin import make_fake_payload
from emulator.vendors.esputnik import VENDOR

from .conftest import FIXTURE, contact, email

ORDER = {"externalOrderId": "o-1", "email": "buyer@example.com", "totalCost": 10, "status": "DELIVERED",
         "date": "2026-05-01T10:00:00Z", "currency": "EUR"}


def fill(api) -> None:
    assert api.post("/orders", {"orders": [ORDER]}).status_code == 200
    assert api.post("/event", {"eventTypeKey": "viewed", "keyValue": "k-1"}).status_code == 200
    assert api.post("/emails/unsubscribed/add", {"emails": ["gone@example.com"]}).status_code == 200


def test_state_shows_orders_events_and_unsubscribed_and_reset_empties_them(api):
    fill(api)
    state = api.state()
    assert [o["externalOrderId"] for o in state["orders"]] == ["o-1"]
    assert [e["type"] for e in state["events"]] == ["orderDELIVERED", "viewed"]
    assert [u["email"] for u in state["unsubscribed"]] == ["gone@example.com"]
    assert api.admin("POST", "/_emulator/reset", {"vendor": "esputnik"}).status_code == 200
    state = api.state()
    assert state["orders"] == state["events"] == state["unsubscribed"] == state["contacts"] == []


@pytest.mark.parametrize("over_http", [False, True])
def test_the_handle_reads_them(make_app, live, over_http):
    app = make_app(vendors=[VENDOR], fixture=FIXTURE)
    handle = EmulatorHandle(app, live(app).url if over_http else None)
    from .conftest import Api

    api = Api(app, handle.url)
    fill(api)
    assert [o["externalOrderId"] for o in handle.orders("esputnik", "demo")] == ["o-1"]
    assert [e["key"] for e in handle.events("esputnik", "demo")] == ["o-1", "k-1"]
    assert handle.unsubscribed("esputnik", "demo") == ["gone@example.com"]
    handle.reset()
    assert handle.orders() == handle.events() == handle.unsubscribed() == []


def test_the_dashboard_lists_the_new_collections(api):
    fill(api)
    overview = api.admin("GET", "/_emulator/?vendor=esputnik&account=demo&kind=orders")
    assert overview.status_code == 200
    page = overview.text
    for kind in ("orders", "events", "unsubscribed"):
        assert f"kind={kind}" in page
    assert "o-1" in page
    assert "gone@example.com" in api.admin("GET", "/_emulator/?vendor=esputnik&account=demo&kind=unsubscribed").text


def test_the_openapi_document_describes_the_new_bodies_and_queries(client):
    doc = client.get("/_emulator/openapi.json").get_json()
    paths = doc["paths"]
    for path in ("orders", "event", "emails/unsubscribed/add", "emails/unsubscribed/delete"):
        operation = paths[f"/esputnik/api/v1/{path}"]["post"]
        assert "requestBody" in operation and operation["security"] == [{"esputnik_basic": []}]
    for path in ("groups", "group/{group_id}/contacts", "contacts/email", "addressbooks"):
        assert "get" in paths[f"/esputnik/api/v1/{path}"]
    schemas = doc["components"]["schemas"]
    assert {"externalOrderId", "totalCost", "status", "date"} <= set(schemas["EsputnikOrder"]["required"])
    assert set(schemas["EsputnikContact"]["properties"]) >= {"contactKey", "addressBookId"}
    assert set(schemas["EsputnikChannel"]["properties"]) >= {"device", "webPushSubscription"}
    assert schemas["esputnik_error"]["required"] == ["status", "message"]


def test_every_fake_payload_is_accepted_by_its_endpoint(client):
    specs = {"esputnik": VENDOR}
    fake = faker_for(3, "esputnik", "payloads")
    auth = ("demo", "esputnik-demo-key")
    for endpoint, path in (("orders", "/orders"), ("event", "/event"), ("unsubscribed", "/emails/unsubscribed/add"),
                           ("unsubscribed", "/emails/unsubscribed/delete"), ("contact", "/contact"),
                           ("subscribe", "/contact/subscribe"), ("bulk", "/contacts")):
        body = make_fake_payload(specs, fake, "esputnik", endpoint, n=3)
        resp = client.post(f"/esputnik/api/v1{path}", json=body, auth=auth)
        assert resp.status_code == 200, (endpoint, resp.get_data(as_text=True))
    state = client.get("/_emulator/state?vendor=esputnik&account=demo").get_json()["vendors"]["esputnik"][
        "accounts"]["demo"]
    assert len(state["orders"]) == 3 and len(state["unsubscribed"]) == 3  # the delete named other addresses


def test_the_state_survives_a_persistent_store_restart(make_app, tmp_path):
    db = tmp_path / "state.json"
    app = make_app(vendors=[VENDOR], fixture=FIXTURE, db=str(db))
    client = app.test_client()
    auth = ("demo", "esputnik-demo-key")
    client.post("/esputnik/api/v1/orders", json={"orders": [ORDER]}, auth=auth)
    client.post("/esputnik/api/v1/emails/unsubscribed/add", json={"emails": ["gone@example.com"]}, auth=auth)
    client.post("/esputnik/api/v1/contact", json=contact(email("kept@example.com")), auth=auth)
    app.extensions["emulator"].close()
    again = make_app(vendors=[VENDOR], fixture=FIXTURE, db=str(db)).test_client()
    state = again.get("/_emulator/state?vendor=esputnik&account=demo").get_json()["vendors"]["esputnik"][
        "accounts"]["demo"]
    assert [o["externalOrderId"] for o in state["orders"]] == ["o-1"]
    assert [u["email"] for u in state["unsubscribed"]] == ["gone@example.com"]
    # the indexes are rebuilt: the order is replaced, the address not listed twice
    again.post("/esputnik/api/v1/orders", json={"orders": [{**ORDER, "status": "CANCELLED"}]}, auth=auth)
    again.post("/esputnik/api/v1/emails/unsubscribed/add", json={"emails": ["gone@example.com"]}, auth=auth)
    state = again.get("/_emulator/state?vendor=esputnik&account=demo").get_json()["vendors"]["esputnik"][
        "accounts"]["demo"]
    assert [o["status"] for o in state["orders"]] == ["CANCELLED"] and len(state["unsubscribed"]) == 1
