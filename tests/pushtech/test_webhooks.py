"""The bulk webhook: documented payload, HMAC signature, 200/406/other outcomes, retries on the clock."""
from __future__ import annotations

import hashlib
import hmac
import socket

from werkzeug import Response

from .conftest import SECRETS, Api, state

RETRY_DELAYS = [300, 300, 600, 600, 1800, 3600, 7200]


def webhooks(client) -> list[dict]:
    return client.get("/_emulator/webhooks?vendor=pushtech").get_json()["webhooks"]


def finish(client, api, contacts, **options):
    """Post a bulk with a frozen clock and let its job run; returns the bulk."""
    client.post("/_emulator/clock", json={"freeze": "2026-01-01T00:00:00Z"})
    bulk = api.bulk(contacts, **options)
    assert api.get(f"/contact/bulk/{bulk['_id']}").get_json()["bulk"]["status"] == "finished"
    return bulk


def test_payload_is_the_documented_shape_and_signed(client, api, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    api.create(email="old@example.com", user_id="u1")
    finish(client, api, [
        {"user_id": "u1", "email": "ann@example.com", "name_first": "Ann", "city": "Paris"},
        {"email": "bob@example.com", "phone": "+447712345678"},
        {"name_first": "nobody"},
    ], webhook_url=httpserver.url_for("/hook"), match_contact_user_id=True,
        contacts_webhook_extra_fields=["name_first", "city"])
    [delivery] = webhooks(client)  # waits for the attempt (made off the request path)
    assert len(httpserver.log) == 1
    request, response = httpserver.log[0]
    assert response.status_code == 200
    payload = request.get_json()
    contacts = {c["email"]: c for c in state(client)["contacts"]}
    assert payload == {
        "account_id": "demo", "timestamp": 1767225600, "token": payload["token"],
        "contacts_valid_count": 2, "contacts_failed_count": 1,
        "valid_contacts": [
            {"_id": contacts["ann@example.com"]["id"], "user_id": "u1", "email": "ann@example.com",
             "phone_countrycode": None, "phone_number": None, "name_first": "Ann", "city": "Paris"},
            {"_id": contacts["bob@example.com"]["id"], "user_id": None, "email": "bob@example.com",
             "phone_countrycode": "44", "phone_number": "7712345678", "name_first": None, "city": None},
        ],
        "failed_contacts": [{"contact": {"name_first": "nobody"},
                             "errors": ["either email or phone (phone_countrycode and phone_number) is required"]}],
    }
    assert len(payload["token"]) == 50 and payload["token"].isalnum()
    expected = hmac.new(SECRETS["demo"].encode(), f"{payload['timestamp']}{payload['token']}".encode(),
                        hashlib.sha256).hexdigest()
    assert request.headers["Authorization"] == expected
    assert delivery["state"] == "delivered" and len(delivery["attempts"]) == 1
    assert delivery["attempts"][0]["status"] == 200
    assert state(client)["bulks"][0]["webhook_delivery"] == delivery["id"]


def test_no_webhook_without_a_url(client, api):
    finish(client, api, [{"email": "a@example.com"}])
    finish(client, api, [{"email": "b@example.com"}], webhook_url="")
    assert webhooks(client) == []


def test_a_406_receiver_rejects_once_and_is_not_retried(client, api, httpserver):
    httpserver.expect_request("/hook").respond_with_data("no thanks", status=406)
    finish(client, api, [{"email": "a@example.com"}], webhook_url=httpserver.url_for("/hook"))
    client.post("/_emulator/clock", json={"advance": 86400})
    [delivery] = webhooks(client)
    assert delivery["state"] == "rejected"
    assert [a["status"] for a in delivery["attempts"]] == [406]
    assert len(httpserver.log) == 1


def test_a_500_receiver_is_retried_on_the_vendor_schedule(client, api, httpserver):
    httpserver.expect_request("/hook").respond_with_data("boom", status=500)
    finish(client, api, [{"email": "a@example.com"}], webhook_url=httpserver.url_for("/hook"))
    assert [a["status"] for a in webhooks(client)[0]["attempts"]] == [500]
    for n, delay in enumerate(RETRY_DELAYS, start=2):
        client.post("/_emulator/clock", json={"advance": delay - 1})
        assert len(webhooks(client)[0]["attempts"]) == n - 1  # not yet
        client.post("/_emulator/clock", json={"advance": 1})
        assert len(webhooks(client)[0]["attempts"]) == n
    [delivery] = webhooks(client)
    assert delivery["state"] == "failed" and delivery["next_attempt"] is None
    assert len(httpserver.log) == 8
    assert [a["at"] for a in delivery["attempts"]][:3] == [
        "2026-01-01T00:00:00.000Z", "2026-01-01T00:05:00.000Z", "2026-01-01T00:10:00.000Z"]
    client.post("/_emulator/clock", json={"advance": 86400})
    assert len(webhooks(client)[0]["attempts"]) == 8


def test_a_retry_that_succeeds_ends_the_delivery(client, api, httpserver):
    answers = iter([500, 502, 200])
    httpserver.expect_request("/hook").respond_with_handler(lambda request: Response("", status=next(answers)))
    finish(client, api, [{"email": "a@example.com"}], webhook_url=httpserver.url_for("/hook"))
    client.post("/_emulator/clock", json={"advance": 300})
    client.post("/_emulator/clock", json={"advance": 300})
    client.post("/_emulator/clock", json={"advance": 3600})
    [delivery] = webhooks(client)
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 502, 200]


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_receiver_that_is_down_records_errors_and_the_emulator_keeps_serving(client, api):
    url = f"http://127.0.0.1:{_unused_port()}/hook"
    finish(client, api, [{"email": "a@example.com"}], webhook_url=url)
    [delivery] = webhooks(client)
    assert delivery["state"] == "pending"
    assert "error" in delivery["attempts"][0] and "status" not in delivery["attempts"][0]
    assert api.create(email="still@example.com")["email"] == "still@example.com"
    client.post("/_emulator/clock", json={"advance": 300})
    assert len(webhooks(client)[0]["attempts"]) == 2
    assert Api(client, "other").get("/balance/current").status_code == 200
    for delay in RETRY_DELAYS[1:]:
        client.post("/_emulator/clock", json={"advance": delay})
    delivery = webhooks(client)[0]
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 8
    assert all("error" in a for a in delivery["attempts"])
