"""Over a real socket with ``requests``: the client's view, and concurrent read-modify-writes."""
from __future__ import annotations

import threading

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
