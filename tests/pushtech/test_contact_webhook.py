"""The contact lifecycle webhook (account setting ``contact_webhook_url``): one signed event
per create, update and destroy by the API, retried like the bulk webhook."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket

import pytest
from werkzeug import Response

from emulator.vendors.pushtech import VENDOR

from .conftest import SECRETS, Api, pushtech_fixture, state

RETRY_DELAYS = [300, 300, 600, 600, 1800, 3600, 7200]


@pytest.fixture
def hooked(make_app, httpserver):
    """``hooked(status=200)`` -> (client, api) of an app whose ``demo`` account sends contact
    events to the test's receiver at ``/contacts``, answering ``status``."""

    def make(status: int = 200, url: str | None = None):
        if url is None:
            httpserver.expect_request("/contacts", method="POST").respond_with_data("", status=status)
            url = httpserver.url_for("/contacts")
        client = make_app(vendors=[VENDOR], fixture=pushtech_fixture(contact_webhook_url=url)).test_client()
        client.post("/_emulator/clock", json={"freeze": "2026-01-01T00:00:00Z"})
        return client, Api(client)

    return make


def deliveries(client) -> list[dict]:
    return client.get("/_emulator/webhooks?vendor=pushtech").get_json()["webhooks"]


def received(httpserver) -> list[dict]:
    return [request.get_json() for request, _ in httpserver.log]


def test_off_by_default(client, api):
    contact = api.create(email="a@example.com")
    api.put(f"/contact/{contact['id']}", {"city": "Oslo"})
    api.delete(f"/contact/{contact['id']}")
    assert deliveries(client) == []


def test_create_update_destroy_each_send_one_signed_event(hooked, httpserver):
    client, api = hooked()
    contact = api.create(email="ann@example.com", user_id="6712", city="Paris")
    api.put(f"/contact/{contact['id']}", {"city": "New York", "name_first": "Ann", "user_id": "6712"})
    api.delete(f"/contact/{contact['id']}")
    assert [d["state"] for d in deliveries(client)] == ["delivered"] * 3
    create, update, destroy = received(httpserver)
    shown = {**contact}
    assert create == {"account_id": "demo", "timestamp": 1767225600, "token": create["token"],
                      "action": "create", "origin": "api", "contact": shown}
    assert update == {"account_id": "demo", "timestamp": 1767225600, "token": update["token"],
                      "action": "update", "origin": "api",
                      "contact": {"id": contact["id"], "user_id": "6712",
                                  "changes": {"city": "New York", "name_first": "Ann"},
                                  "contact_url": f"http://localhost/pushtech/v2/account/demo/contact/{contact['id']}"}}
    assert destroy == {"account_id": "demo", "timestamp": 1767225600, "token": destroy["token"],
                       "action": "destroy", "origin": "api", "contact": {"id": contact["id"], "user_id": "6712"}}
    for (request, _), body in zip(httpserver.log, (create, update, destroy), strict=True):
        assert len(body["token"]) == 50 and body["token"].isalnum()
        expected = hmac.new(SECRETS["demo"].encode(), f"{body['timestamp']}{body['token']}".encode(),
                            hashlib.sha256).hexdigest()
        assert request.headers["Authorization"] == expected
        assert request.headers["Content-Type"] == "application/json"
    assert len({body["token"] for body in (create, update, destroy)}) == 3
    assert list(create) == ["account_id", "timestamp", "token", "action", "origin", "contact"]


def test_the_created_contact_is_as_get_returns_it(hooked, httpserver):
    client, api = hooked()
    contact = api.create(email="ann@example.com", phone="+447712345678", tags=["vip"],
                         email_validation={"validate": True})
    deliveries(client)
    [event] = received(httpserver)
    assert event["contact"] == api.get(f"/contact/{contact['id']}").get_json()
    assert event["contact"]["last_email_verified"] == "2026-01-01T00:00:00.000+00:00"


def test_update_changes_name_removed_fields_and_the_dropped_validation(hooked, httpserver):
    client, api = hooked()
    contact = api.create(email="a@example.com", city="Paris", email_validation={"validate": True})
    api.put(f"/contact/{contact['id']}", {"city": None, "email": "b@example.com"})
    api.put(f"/contact/{contact['id']}", {"email": "b@example.com"})  # nothing changes: still one event
    deliveries(client)
    _, changed, unchanged = received(httpserver)
    assert changed["contact"]["changes"] == {"email": "b@example.com", "city": None, "email_valid": None,
                                             "last_email_verified": None}
    assert changed["contact"]["user_id"] is None
    assert unchanged["contact"]["changes"] == {}


def test_contact_url_answers_the_contact(hooked, httpserver):
    client, api = hooked()
    contact = api.create(email="a@example.com")
    api.put(f"/contact/{contact['id']}", {"city": "Oslo"})
    deliveries(client)
    url = received(httpserver)[1]["contact"]["contact_url"]
    resp = client.get(url.removeprefix("http://localhost"), headers=api.headers)
    assert resp.status_code == 200 and resp.get_json()["city"] == "Oslo"


@pytest.mark.parametrize("host, path, url", [
    ("api.eu.cendyncrm.com", "/v2/account/demo/contact", "http://api.eu.cendyncrm.com/v2/account/demo/contact"),
    ("www.pushtech.com", "/api/v2/account/demo/contact", "http://www.pushtech.com/api/v2/account/demo/contact"),
])
def test_contact_url_follows_the_host_the_caller_used(hooked, httpserver, host, path, url):
    client, api = hooked()
    headers = {**api.headers, "Host": host}
    contact = client.post(path, json={"email": "a@example.com"}, headers=headers).get_json()
    client.put(f"{path}/{contact['id']}", json={"city": "Oslo"}, headers=headers)
    deliveries(client)
    assert received(httpserver)[1]["contact"]["contact_url"] == f"{url}/{contact['id']}"


def test_refused_requests_and_bulks_send_no_contact_event(hooked, httpserver):
    client, api = hooked()
    assert api.post("/contact", {"name_first": "nobody"}).status_code == 422
    assert api.put("/contact/ffffffffffffffffffffffff", {"city": "x"}).status_code == 404
    assert api.delete("/contact/nope").status_code == 404
    contact = api.create(email="a@example.com")
    assert api.put(f"/contact/{contact['id']}", {"gender": "x"}).status_code == 422
    httpserver.expect_request("/bulk").respond_with_data("", status=200)
    api.bulk([{"email": "b@example.com"}, {"email": "c@example.com"}], webhook_url=httpserver.url_for("/bulk"))
    hooks = deliveries(client)
    assert [h["url"].rsplit("/", 1)[1] for h in hooks] == ["contacts", "bulk"]
    # two receivers are called side by side: what each got, not which came first
    got = {request.path: request.get_json().get("action") for request, _ in httpserver.log}
    assert len(httpserver.log) == 2 and got == {"/contacts": "create", "/bulk": None}


def test_a_406_is_rejected_and_anything_else_retried_on_the_schedule(hooked, httpserver):
    client, api = hooked(status=406)
    api.create(email="a@example.com")
    client.post("/_emulator/clock", json={"advance": 86400})
    [delivery] = deliveries(client)
    assert delivery["state"] == "rejected" and [a["status"] for a in delivery["attempts"]] == [406]


def test_a_500_receiver_is_retried_like_the_bulk_webhook(hooked, httpserver):
    client, api = hooked(status=500)
    api.create(email="a@example.com")
    assert [a["status"] for a in deliveries(client)[0]["attempts"]] == [500]
    for n, delay in enumerate(RETRY_DELAYS, start=2):
        client.post("/_emulator/clock", json={"advance": delay - 1})
        assert len(deliveries(client)[0]["attempts"]) == n - 1
        client.post("/_emulator/clock", json={"advance": 1})
        assert len(deliveries(client)[0]["attempts"]) == n
    [delivery] = deliveries(client)
    assert delivery["state"] == "failed" and len(httpserver.log) == 8
    assert delivery["retry_delays_s"] == RETRY_DELAYS


def test_a_retry_that_succeeds_ends_the_delivery(hooked, httpserver):
    answers = iter([502, 200])
    httpserver.expect_request("/flaky").respond_with_handler(lambda request: Response("", status=next(answers)))
    client, api = hooked(url=httpserver.url_for("/flaky"))
    api.create(email="a@example.com")
    client.post("/_emulator/clock", json={"advance": 300})
    [delivery] = deliveries(client)
    assert delivery["state"] == "delivered" and [a["status"] for a in delivery["attempts"]] == [502, 200]


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_emulator_keeps_serving_when_the_receiver_is_down(hooked):
    client, api = hooked(url=f"http://127.0.0.1:{_unused_port()}/contacts")
    first = api.create(email="a@example.com")
    second = api.create(email="b@example.com")
    assert api.put(f"/contact/{first['id']}", {"city": "Oslo"}).status_code == 200
    assert api.delete(f"/contact/{second['id']}").status_code == 200
    hooks = deliveries(client)
    assert [h["state"] for h in hooks] == ["pending"] * 4
    assert all("error" in h["attempts"][0] for h in hooks)
    assert [c["email"] for c in state(client)["contacts"]] == ["a@example.com"]
    client.post("/_emulator/clock", json={"advance": 300})
    assert all(len(h["attempts"]) == 2 for h in deliveries(client))


def test_events_are_deterministic(make_app, httpserver):
    def run():
        client = make_app(vendors=[VENDOR], fixture=pushtech_fixture(
            contact_webhook_url="http://127.0.0.1:9/none"), seed=3).test_client()
        client.post("/_emulator/clock", json={"freeze": "2026-05-01T00:00:00Z"})
        api = Api(client)
        contact = api.create(email="a@example.com")
        api.put(f"/contact/{contact['id']}", {"city": "Oslo"})
        return json.dumps([h["payload"] for h in client.get("/_emulator/webhooks").get_json()["webhooks"]])

    assert run() == run()
