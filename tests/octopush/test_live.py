"""Over a real socket with ``requests``: the public caller, concurrency, and in-process interception."""
from __future__ import annotations

import threading

import requests

from emulator.testing.intercept import intercept

from .conftest import AUTH

PUBLIC_CALLER = {"list_name": "Leads",
                 "contacts": [{"phone_number": "+33612345678", "first_name": "Ann", "last_name": "Lee"}],
                 "tag_name": "web"}


def state(base: str) -> dict:
    return requests.get(f"{base}/_emulator/state", params={"vendor": "octopush", "account": "demo"},
                        timeout=10).json()["vendors"]["octopush"]["accounts"]["demo"]


def test_public_caller_over_http_twice_leaves_one_contact(app, live):
    server = live(app)
    url = f"{server.url}/octopush/v1/public/contact/create"
    for expected in ({"contacts_created": 1, "contacts_updated": 0}, {"contacts_created": 0, "contacts_updated": 1}):
        resp = requests.post(url, json=PUBLIC_CALLER, headers=AUTH, timeout=10)
        assert resp.status_code == 201
        assert {k: resp.json()[k] for k in expected} == expected
    stored = state(server.url)
    assert [(c["phone_number"], c["lists"], c["tags"]) for c in stored["contacts"]] == [
        ("+33612345678", ["Leads"], ["web"])]


def test_eight_threads_sending_the_same_contact_store_one(app, live):
    server = live(app)
    url = f"{server.url}/octopush/v1/public/contact/create/"
    barrier = threading.Barrier(8)
    statuses = []

    def send(i):
        body = {"list_name": f"L{i}", "contacts": [{"phone_number": "06 12 34 56 78", "first_name": f"T{i}"}]}
        with requests.Session() as session:
            barrier.wait()
            statuses.append(session.post(url, json=body, headers=AUTH, timeout=10).json()["contacts_created"])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [0] * 7 + [1]
    stored = state(server.url)
    assert len(stored["contacts"]) == 1
    assert sorted(stored["contacts"][0]["lists"]) == sorted(f"L{i}" for i in range(8))
    assert sorted(d["name"] for d in stored["lists"]) == sorted(["Newsletter"] + [f"L{i}" for i in range(8)])


def test_delete_and_list_endpoints_over_http(app, live):
    server = live(app)
    base = f"{server.url}/octopush/v1/public"
    requests.post(f"{base}/contact/create", json={**PUBLIC_CALLER, "contacts": [
        {"phone_number": "+33612345678"}, {"phone_number": "+33612345679"}]}, headers=AUTH, timeout=10)
    resp = requests.delete(f"{base}/contact/delete", json={"phone_numbers": ["+33612345678"]}, headers=AUTH,
                           timeout=10)
    assert resp.status_code == 204 and resp.content == b""
    resp = requests.post(f"{base}/contact-list/empty", json={"list_name": "Leads", "delete_contacts": True},
                         headers=AUTH, timeout=10)
    assert resp.json() == {"list_name": "Leads", "contacts_detached": 1, "contacts_deleted": 1}
    resp = requests.post(f"{base}/contact-list/create", json={"list_name": "Fresh"}, headers=AUTH, timeout=10)
    assert resp.status_code == 201
    stored = state(server.url)
    assert stored["contacts"] == []
    assert [d["name"] for d in stored["lists"]] == ["Newsletter", "Leads", "Fresh"]
    resp = requests.post(f"{base}/contact/create", data="{oops", headers={**AUTH, "Content-Type": "application/json"},
                         timeout=10)
    assert resp.status_code == 400 and resp.json()["code"] == 100


def test_list_delete_and_the_numbered_codes_over_http(app, live):
    server = live(app)
    base = f"{server.url}/octopush/v1/public"

    def call(method, path, body):
        return requests.request(method, f"{base}{path}", json=body, headers=AUTH, timeout=10)

    assert call("POST", "/contact/create", PUBLIC_CALLER).status_code == 201
    before = state(server.url)
    cases = [
        ("POST", "/contact/create", {"contacts": []}, 110),
        ("POST", "/contact/create", {"contacts": [{"phone_number": "abc"}]}, 117),
        ("POST", "/contact/create", {"contacts": [{"phone_number": f"+336123{i:05d}"} for i in range(501)]}, 305),
        ("DELETE", "/contact/delete", {"list_name": "Leads"}, 110),
        ("DELETE", "/contact/delete", {"phone_numbers": ["12"]}, 117),
        ("DELETE", "/contact/delete", {"phone_numbers": [f"+336123{i:05d}" for i in range(201)]}, 305),
        ("DELETE", "/contact/delete", {"phone_numbers": ["+33612345678"], "list_name": "Nope"}, 303),
        ("POST", "/contact-list/create", {"list_name": "Leads"}, 302),
        ("POST", "/contact-list/empty", {"list_name": "Nope"}, 303),
        ("DELETE", "/contact-list/delete", {"list_name": "Nope"}, 303),
    ]
    for method, path, body, code in cases:
        resp = call(method, path, body)
        assert (resp.status_code, resp.json()["code"]) == (400, code), (path, resp.json())
    assert state(server.url) == before
    resp = call("DELETE", "/contact-list/delete", {"list_name": "Leads"})
    assert resp.status_code == 204 and resp.content == b""
    stored = state(server.url)
    assert [d["name"] for d in stored["lists"]] == ["Newsletter"]
    assert [(c["phone_number"], c["lists"]) for c in stored["contacts"]] == [("+33612345678", [])]


def test_code_calling_the_real_host_reaches_the_emulator_in_process(app):
    with intercept(app, strict=True) as handle:
        resp = requests.post("https://api.octopush.com/v1/public/contact/create", json=PUBLIC_CALLER,
                             headers=AUTH, timeout=10)
        assert resp.status_code == 201
        assert [c["phone_number"] for c in handle.contacts("octopush", "demo")] == ["+33612345678"]
        handle.blacklist(["+33612345678"], account="demo")
        assert handle.contacts("octopush", "demo")[0]["blacklisted"] is True
