"""Outbound calls never stall other requests, end by a total deadline, and never reach the admin API.

The peers: a "slow link" that answers one byte every 2 s (no read ever times out, so only
a total deadline ends the call) and a "silent" webhook receiver that takes the connection
and never answers. While they hold their calls, other requests are timed.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug import Response

from emulator.core.accounts import load_fixture

from .served import SlowLink, silent_receiver

ESPUTNIK = "/esputnik/api/v1"
ESPUTNIK_AUTH = ("demo", "esputnik-demo-key")
PUSHTECH = "/pushtech/v2/account/demo"
PUSHTECH_AUTH = {"Authorization": "Token token=pushtech-demo-secret"}
QUICK_S = 1.5
"""What "answered at once" means here: far under the stalls of 5 s (one silent webhook)
and 25.7 s (a byte every 2 s) these calls used to cause, with room for a busy machine."""


@pytest.fixture
def slow_link():
    link = SlowLink()
    yield link
    link.close()


@pytest.fixture
def silent_url():
    with silent_receiver() as url:
        yield url


def timed(call) -> float:
    started = time.monotonic()
    resp = call()
    took = time.monotonic() - started
    assert resp.status_code < 500, resp.text
    return took


def test_a_slow_upload_link_and_a_silent_webhook_stall_no_other_request(make_app, live, slow_link, silent_url):
    fixture = load_fixture("default")
    fixture["vendors"]["esputnik"]["accounts"]["demo"]["settings"]["upload_timeout_s"] = 3
    server = live(make_app(fixture=fixture, webhook_timeout_s=2))
    url = server.url
    started = time.monotonic()
    session = requests.post(f"{url}{ESPUTNIK}/contacts/upload", auth=ESPUTNIK_AUTH, json={"link": slow_link.url},
                            timeout=5).json()["asyncSessionId"]
    for n in range(5):  # five deliveries to the silent receiver (five URLs: attempts to one URL take turns)
        bulk = requests.post(f"{url}{PUSHTECH}/contact/bulk", headers=PUSHTECH_AUTH, timeout=5,
                             json={"contacts": [{"email": f"b{n}@example.com"}], "webhook_url": f"{silent_url}{n}"})
        assert bulk.status_code == 201
    deadline = time.monotonic() + 10
    while slow_link.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert slow_link.connections == 1  # the upload is fetching, and its job is due

    calls = [lambda: requests.get(f"{url}/_emulator/health", timeout=10)] * 4 + [
        lambda: requests.post(f"{url}{ESPUTNIK}/contact", auth=ESPUTNIK_AUTH, timeout=10,
                              json={"channels": [{"type": "email", "value": "quick@example.com"}]}),
        lambda: requests.post(f"{url}{PUSHTECH}/contact", headers=PUSHTECH_AUTH, timeout=10,
                              json={"email": "quick@example.com"}),
        lambda: requests.get(f"{url}/_emulator/state", timeout=10),
        lambda: requests.get(f"{url}/_emulator/", timeout=10),
        lambda: requests.get(f"{url}{PUSHTECH}/contact/bulk/{bulk.json()['bulk']['_id']}", headers=PUSHTECH_AUTH,
                             timeout=10),
    ]
    with ThreadPoolExecutor(len(calls)) as pool:
        took = list(pool.map(timed, calls))
    assert max(took) < QUICK_S, took

    # the status read of the upload waits for its outcome: the total deadline, not a read timeout
    result = requests.get(f"{url}{ESPUTNIK}/importstatus/{session}", auth=ESPUTNIK_AUTH, timeout=30).json()
    assert result["status"] == "ERROR" and "no complete answer within the 3 s deadline" in result["error"], result
    assert time.monotonic() - started < 3 + 4

    # every first attempt ends at the 2 s deadline; then a clock advance makes five retries due
    hooks = requests.get(f"{url}/_emulator/webhooks?vendor=pushtech&wait=20", timeout=30).json()["webhooks"]
    assert [len(h["attempts"]) for h in hooks] == [1] * 5
    assert all("within the 2 s deadline" in h["attempts"][0]["error"] for h in hooks), hooks[0]["attempts"]
    assert timed(lambda: requests.post(f"{url}/_emulator/clock", json={"advance": 300}, timeout=10)) < QUICK_S
    assert timed(lambda: requests.get(f"{url}/_emulator/health", timeout=10)) < QUICK_S
    hooks = requests.get(f"{url}/_emulator/webhooks?vendor=pushtech&wait=20", timeout=30).json()["webhooks"]
    assert [len(h["attempts"]) for h in hooks] == [2] * 5 and {h["state"] for h in hooks} == {"pending"}


def test_a_webhooks_read_can_be_told_not_to_wait(make_app, live, silent_url):
    server = live(make_app(webhook_timeout_s=5))
    bulk = requests.post(f"{server.url}{PUSHTECH}/contact/bulk", headers=PUSHTECH_AUTH, timeout=5,
                         json={"contacts": [{"email": "b@example.com"}], "webhook_url": silent_url})
    assert bulk.status_code == 201
    took = timed(lambda: requests.get(f"{server.url}/_emulator/webhooks?wait=0", timeout=10))
    assert took < QUICK_S
    [hook] = requests.get(f"{server.url}/_emulator/webhooks?wait=0", timeout=10).json()["webhooks"]
    assert hook["state"] == "pending" and hook["attempts"] == []  # under way, not recorded yet


ADMIN_URLS = ["http://127.0.0.1:8080/_emulator/reset", "http://localhost/_emulator/reset/",
              "http://emulator:8080/%5Femulator/reset", "http://127.0.0.1:8080//_emulator/reset",
              "http://127.0.0.1:8080/files/../_emulator/reset", "https://esputnik.com/_emulator",
              "http://user:pw@127.0.0.1:8080/_emulator/seed"]


@pytest.mark.parametrize("target", ADMIN_URLS)
def test_a_webhook_at_the_emulators_admin_api_is_the_vendors_bad_url_error(client, target):
    resp = client.post(f"{PUSHTECH}/contact/bulk", headers=PUSHTECH_AUTH,
                       json={"contacts": [{"email": "b@example.com"}], "webhook_url": target})
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["error"].startswith("webhook_url: must be an http or https URL")
    state = client.get("/_emulator/state?vendor=pushtech&account=demo").get_json()
    assert state["vendors"]["pushtech"]["accounts"]["demo"]["bulks"] == []


@pytest.mark.parametrize("target", ADMIN_URLS)
def test_an_upload_link_at_the_emulators_admin_api_is_the_vendors_bad_url_error(client, target):
    resp = client.post(f"{ESPUTNIK}/contacts/upload", auth=ESPUTNIK_AUTH, json={"link": target})
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["message"].startswith("link must be an http or https URL")
    assert "pw@" not in resp.get_json()["message"]
    state = client.get("/_emulator/state?vendor=esputnik&account=demo").get_json()
    assert state["vendors"]["esputnik"]["accounts"]["demo"]["sessions"] == []


def test_a_redirect_to_the_admin_api_is_not_followed(make_app, live, httpserver):
    server = live(make_app())
    reset = f"{server.url}/_emulator/reset"
    httpserver.expect_request("/hook").respond_with_handler(
        lambda request: Response("", status=307, headers={"Location": reset}))
    httpserver.expect_request("/c.csv").respond_with_handler(
        lambda request: Response("", status=302, headers={"Location": reset}))
    api = f"{server.url}{ESPUTNIK}"
    requests.post(f"{api}/contact", auth=ESPUTNIK_AUTH, timeout=5,
                  json={"channels": [{"type": "email", "value": "kept@example.com"}]})
    requests.post(f"{server.url}{PUSHTECH}/contact/bulk", headers=PUSHTECH_AUTH, timeout=5,
                  json={"contacts": [{"email": "b@example.com"}], "webhook_url": httpserver.url_for("/hook")})
    session = requests.post(f"{api}/contacts/upload", auth=ESPUTNIK_AUTH, timeout=5,
                            json={"link": httpserver.url_for("/c.csv")}).json()["asyncSessionId"]
    result = requests.get(f"{api}/importstatus/{session}", auth=ESPUTNIK_AUTH, timeout=30).json()
    assert result["status"] == "ERROR" and "the emulator's own admin API: not called" in result["error"]
    [hook] = requests.get(f"{server.url}/_emulator/webhooks", timeout=30).json()["webhooks"]
    assert "the emulator's own admin API: not called" in hook["attempts"][0]["error"]
    emails = [ch["value"] for c in requests.get(f"{server.url}/_emulator/state?vendor=esputnik", timeout=5).json()[
        "vendors"]["esputnik"]["accounts"]["demo"]["contacts"] for ch in c["channels"]]
    assert "kept@example.com" in emails  # no reset happened
