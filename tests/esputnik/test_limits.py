"""The real API's limits: a repeated body within 60 s is 409; more than 200 requests a second is 429."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import API, AUTH, STRICT, assert_error, contact, email, stored

BODIES = {
    "/contact/subscribe": {"contact": contact(email("dup@example.com"))},
    "/contact": contact(email("dup@example.com")),
    "/contacts": {"contacts": [contact(email("dup@example.com"))]},
}


@pytest.fixture
def frozen(client, engine):
    engine.clock.freeze("2026-02-01T00:00:00Z")
    return engine.clock


@pytest.mark.parametrize("path", sorted(BODIES))
def test_a_byte_identical_body_within_the_window_is_409(client, frozen, path):
    raw = json.dumps(BODIES[path])
    first = client.post(API + path, data=raw, content_type="application/json", auth=STRICT)
    assert first.status_code == 200
    state = client.get("/_emulator/state?vendor=esputnik&account=strict").get_json()
    frozen.advance(59)
    again = client.post(API + path, data=raw, content_type="application/json", auth=STRICT)
    assert_error(again, 409, "Duplicated request")
    assert client.get("/_emulator/state?vendor=esputnik&account=strict").get_json() == state
    # the same content spelled differently is another request
    respaced = client.post(API + path, data=json.dumps(BODIES[path], indent=1), content_type="application/json",
                           auth=STRICT)
    assert respaced.status_code == 200
    frozen.advance(1)
    assert client.post(API + path, data=raw, content_type="application/json", auth=STRICT).status_code == 200


def test_a_refused_request_is_not_remembered(client, frozen):
    bad = {"contact": {"channels": []}}
    for _ in range(2):
        assert client.post(f"{API}/contact/subscribe", json=bad, auth=STRICT).status_code == 400


def test_the_window_is_per_account_and_per_operation(client, frozen):
    body = contact(email("same@example.com"))
    assert client.post(f"{API}/contact", json=body, auth=STRICT).status_code == 200
    assert client.post(f"{API}/contact", json=body, auth=("", "other-key")).status_code == 200
    assert client.put(f"{API}/contact/{stored(client, 'strict')[0]['id']}", json=body, auth=STRICT).status_code == 200


def test_the_shipped_default_is_on(make_app):
    from emulator.vendors.esputnik import VENDOR

    shipped = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "empty.json").read_text())
    client = make_app(vendors=[VENDOR], fixture={"vendors": {"esputnik": shipped["vendors"]["esputnik"]}}).test_client()
    body = contact(email("ship@example.com"))
    assert client.post(f"{API}/contact", json=body, auth=AUTH).status_code == 200
    assert client.post(f"{API}/contact", json=body, auth=AUTH).status_code == 409


def test_zero_turns_the_window_off(client):
    body = contact(email("off@example.com"))
    for _ in range(3):
        assert client.post(f"{API}/contact", json=body, auth=AUTH).status_code == 200


def test_more_than_the_limit_in_one_second_is_429(make_app):
    from emulator.vendors.esputnik import VENDOR

    from .conftest import esputnik_fixture

    client = make_app(vendors=[VENDOR], fixture=esputnik_fixture(max_requests_per_second=3)).test_client()
    client.post("/_emulator/clock", json={"freeze": "2026-02-01T00:00:00.100Z"})
    for _ in range(3):
        assert client.get(f"{API}/groups", auth=AUTH).status_code == 200
    before = stored(client)
    resp = client.post(f"{API}/contact", json=contact(email("late@example.com")), auth=AUTH)
    assert_error(resp, 429, "Too many requests", "3")
    assert stored(client) == before
    # another account has its own budget
    assert client.get(f"{API}/groups", auth=("", "other-key")).status_code == 200
    client.post("/_emulator/clock", json={"advance": 0.9})
    assert client.post(f"{API}/contact", json=contact(email("late@example.com")), auth=AUTH).status_code == 200


def test_the_shipped_rate_limit_is_200(client, frozen):
    for _ in range(200):
        assert client.get(f"{API}/groups", auth=STRICT).status_code == 200
    assert_error(client.get(f"{API}/groups", auth=STRICT), 429, "200")
    frozen.advance(1)
    assert client.get(f"{API}/groups", auth=STRICT).status_code == 200


def test_zero_turns_the_rate_limit_off(client, frozen):
    for _ in range(250):
        assert client.get(f"{API}/groups", auth=AUTH).status_code == 200
