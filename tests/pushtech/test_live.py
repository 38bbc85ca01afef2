"""Over a real socket with ``requests``: the client's view, and concurrent read-modify-writes."""
from __future__ import annotations

import hashlib
import hmac
import re
import socket
import threading
import time

import pytest
import requests

from emulator.vendors.pushtech import VENDOR

from .conftest import SECRETS, pushtech_fixture

AUTH = {"Authorization": f"Token token={SECRETS['demo']}"}


@pytest.fixture
def server(make_app, live):
    return live(make_app(vendors=[VENDOR], fixture=pushtech_fixture(validation_credits=3)))


def _base(server) -> str:
    return f"{server.url}/pushtech/v2/account/demo"


def _in_threads(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_create_show_list_delete_with_requests(server):
    base = _base(server)
    created = requests.post(f"{base}/contact/", json={"email": "ann@example.com", "tags": ["a"]}, headers=AUTH)
    assert created.status_code == 201
    contact = created.json()
    assert requests.get(f"{base}/contact/{contact['id']}", headers=AUTH).json() == contact
    assert requests.get(f"{base}/contact", params={"email": "ann@example.com"}, headers=AUTH).json() == {
        "contacts": [contact]}
    assert requests.delete(f"{base}/contact/{contact['id']}", headers=AUTH).json() == contact
    denied = requests.get(f"{base}/balance/current", headers={"Authorization": "Token token=nope"})
    assert denied.status_code == 401 and denied.json() == {"error": "authorization failure for account: demo"}
    assert "WWW-Authenticate" not in denied.headers


def test_eight_threads_bulk_the_same_user_id_one_contact_is_stored(server):
    base = _base(server)
    body = {"match_contact_user_id": True, "contacts": [{"user_id": "same-user", "email": "same@example.com"}]}

    def send(_):
        with requests.Session() as session:
            return session.post(f"{base}/contact/bulk", json=body, headers=AUTH).status_code

    assert _in_threads(8, send) == [201] * 8
    state = requests.get(f"{server.url}/_emulator/state", params={"vendor": "pushtech", "account": "demo"}).json()
    account = state["vendors"]["pushtech"]["accounts"]["demo"]
    assert [c["user_id"] for c in account["contacts"]] == ["same-user"]
    assert sorted(b["status"] for b in account["bulks"]) == ["finished"] * 8


def test_eight_threads_spend_three_credits_exactly(server):
    base = _base(server)

    def send(i):
        body = {"email": f"c{i}@example.com", "email_validation": {"validate": True}}
        return requests.post(f"{base}/contact", json=body, headers=AUTH).status_code

    statuses = _in_threads(8, send)
    assert sorted(statuses) == [201] * 3 + [402] * 5
    state = requests.get(f"{server.url}/_emulator/state", params={"vendor": "pushtech"}).json()
    account = state["vendors"]["pushtech"]["accounts"]["demo"]
    assert len(account["contacts"]) == 3 and account["balance"][0]["validation_credits"] == 0


def test_eight_threads_single_create_each_gets_its_own_contact(server):
    base = _base(server)

    def send(_):
        return requests.post(f"{base}/contact", json={"email": "same@example.com"}, headers=AUTH).json()["id"]

    ids = _in_threads(8, send)
    assert len(set(ids)) == 8  # single create never deduplicates, and ids never collide
    listed = requests.get(f"{base}/contact", params={"email": "same@example.com"}, headers=AUTH).json()["contacts"]
    assert sorted(c["id"] for c in listed) == sorted(ids)


def _poll(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _notes(server) -> list[dict]:
    journal = requests.get(f"{server.url}/_emulator/requests", params={"vendor": "pushtech"}).json()["requests"]
    return [n for entry in journal for n in entry["notes"]]


def test_custom_fields_and_lists_over_a_socket(server):
    base = _base(server)
    field = requests.post(f"{base}/custom_fields", json={"name": "room", "label": "Room", "type": "number"},
                          headers=AUTH)
    assert field.status_code == 201 and field.json()["name"] == "room"
    listed = requests.post(f"{base}/lists/", json={"name": "VIP", "visibility": "private"}, headers=AUTH)
    assert listed.status_code == 201
    list_id = listed.json()["id"]
    contact = requests.post(f"{base}/contact", json={"email": "a@example.com", "room": 12,
                                                      "list_subscriptions": [{"list_id": list_id}]}, headers=AUTH)
    assert contact.status_code == 201 and _notes(server) == []
    assert requests.get(f"{base}/lists/{list_id}", headers=AUTH).json()["visibility"] == "private"
    assert [f["name"] for f in requests.get(f"{base}/custom_fields", headers=AUTH).json()["custom_fields"]] == [
        "favourite_colour", "score", "room"]
    refused = requests.put(f"{base}/lists/{list_id}", json={"name": ""}, headers=AUTH)
    assert refused.status_code == 422 and refused.json() == {"error": "name: is required (a non-empty string)"}
    assert requests.delete(f"{base}/lists/{list_id}", headers=AUTH).json() == {"message": "List successfully deleted"}
    assert requests.delete(f"{base}/custom_fields/{field.json()['_id']}", headers=AUTH).status_code == 200
    state = requests.get(f"{server.url}/_emulator/state", params={"vendor": "pushtech", "account": "demo"}).json()
    account = state["vendors"]["pushtech"]["accounts"]["demo"]
    assert [x["id"] for x in account["lists"]] == ["list-newsletter"]
    assert account["contacts"][0]["list_subscriptions"] == [{"list_id": list_id, "subscribed": True}]


def test_eight_threads_create_one_custom_field_name_once(server):
    base = _base(server)

    def send(i):
        return requests.post(f"{base}/custom_fields", json={"name": "same", "label": f"L{i}"}, headers=AUTH).json()

    answers = _in_threads(8, send)
    assert len({a["_id"] for a in answers}) == 1
    listed = requests.get(f"{base}/custom_fields", headers=AUTH).json()["custom_fields"]
    assert [f["name"] for f in listed].count("same") == 1


def test_timestamps_over_a_socket(server):
    base = _base(server)
    contact = requests.post(f"{base}/contact", json={"email": "a@example.com", "email_validation": {"validate": True}},
                            headers=AUTH).json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", contact["created_at"])
    assert contact["updated_at"] == contact["created_at"]
    assert contact["last_email_verified"] == contact["created_at"][:-1] + "+00:00"
    validation = requests.get(f"{base}/contact/{contact['id']}/email_validation", headers=AUTH).json()
    assert validation["last_email_verified"].endswith("+00:00")
    made = requests.post(f"{base}/lists", json={"name": "L"}, headers=AUTH).json()
    shown = requests.get(f"{base}/lists/{made['id']}", headers=AUTH).json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", shown["created_at"])


@pytest.fixture
def hooked_server(make_app, live, httpserver):
    httpserver.expect_request("/contacts", method="POST").respond_with_data("", status=200)
    app = make_app(vendors=[VENDOR],
                   fixture=pushtech_fixture(contact_webhook_url=httpserver.url_for("/contacts")))
    return live(app)


def test_the_lifecycle_webhook_over_sockets(hooked_server, httpserver):
    base = _base(hooked_server)
    contact = requests.post(f"{base}/contact", json={"email": "a@example.com", "user_id": "u1"}, headers=AUTH).json()
    requests.put(f"{base}/contact/{contact['id']}", json={"city": "New York"}, headers=AUTH)
    requests.delete(f"{base}/contact/{contact['id']}", headers=AUTH)
    assert _poll(lambda: len(httpserver.log) == 3)  # the outbound threads deliver: no further request needed
    create, update, destroy = (request.get_json() for request, _ in httpserver.log)
    assert (create["action"], update["action"], destroy["action"]) == ("create", "update", "destroy")
    assert create["contact"]["email"] == "a@example.com"
    assert update["contact"]["changes"] == {"city": "New York"}
    assert update["contact"]["contact_url"] == f"{base}/contact/{contact['id']}"
    assert destroy["contact"] == {"id": contact["id"], "user_id": "u1"}
    for request, _ in httpserver.log:
        body = request.get_json()
        signature = hmac.new(SECRETS["demo"].encode(), f"{body['timestamp']}{body['token']}".encode(),
                             hashlib.sha256).hexdigest()
        assert request.headers["Authorization"] == signature
    hooks = requests.get(f"{hooked_server.url}/_emulator/webhooks", params={"vendor": "pushtech"}).json()["webhooks"]
    assert [h["state"] for h in hooks] == ["delivered"] * 3


def test_a_receiver_that_is_down_does_not_stop_the_server(make_app, live):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = live(make_app(vendors=[VENDOR],
                           fixture=pushtech_fixture(contact_webhook_url=f"http://127.0.0.1:{port}/down")))
    base = _base(server)
    statuses = [requests.post(f"{base}/contact", json={"email": f"c{i}@example.com"}, headers=AUTH).status_code
                for i in range(5)]
    assert statuses == [201] * 5

    def attempted():
        hooks = requests.get(f"{server.url}/_emulator/webhooks").json()["webhooks"]
        return len(hooks) == 5 and all(h["attempts"] for h in hooks)

    assert _poll(attempted)
    hooks = requests.get(f"{server.url}/_emulator/webhooks").json()["webhooks"]
    assert all(h["state"] == "pending" and "error" in h["attempts"][0] for h in hooks)
    assert len(requests.get(f"{base}/contact", headers=AUTH).json()["contacts"]) == 5
