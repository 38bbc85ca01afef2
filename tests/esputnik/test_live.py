"""Against a live server: a client in the style of the common Python one (module-level ``requests``
calls, Basic auth, every path with a trailing slash), concurrency, and the pytest handle over HTTP."""
from __future__ import annotations

import threading

import pytest
import requests
from requests.auth import HTTPBasicAuth

from emulator.testing.handle import EmulatorHandle

from .conftest import FIXTURE, contact, email, sms

pytestmark = pytest.mark.live


class SlashClient:
    """Every path ends with ``/``; JSON content type on every call, GETs included."""

    def __init__(self, base: str, user: str, key: str):
        self.base = base  # http://127.0.0.1:PORT/esputnik/api/
        self.auth = HTTPBasicAuth(user, key)
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def url(self, path: str) -> str:
        return f"{self.base}v1/{path}/"

    def get(self, path, **params):
        return requests.get(self.url(path), params=params, auth=self.auth, headers=self.headers, timeout=10)

    def post(self, path, body=None):
        return requests.post(self.url(path), json=body, auth=self.auth, headers=self.headers, timeout=10)

    def put(self, path, body):
        return requests.put(self.url(path), json=body, auth=self.auth, headers=self.headers, timeout=10)

    def delete(self, path, **params):
        return requests.delete(self.url(path), params=params, auth=self.auth, headers=self.headers, timeout=10)


@pytest.fixture
def server(make_app, live):
    from emulator.vendors.esputnik import VENDOR

    app = make_app(vendors=[VENDOR], fixture=FIXTURE)
    return live(app)


def test_a_trailing_slash_basic_auth_client_works_unchanged(server, httpserver):
    api = SlashClient(f"{server.url}/esputnik/api/", "demo", "esputnik-demo-key")
    handle = EmulatorHandle(server.app, server.url)

    resp = api.post("contact/subscribe", {"contact": contact(email("live@example.com"), firstName="Live"),
                                          "groups": ["Subscribers"], "formType": "live"})
    assert resp.status_code == 200, resp.text
    subscribed = resp.json()["id"]
    assert handle.events("esputnik", "demo")[0]["type"] == "subscribeFromApi-live"
    handle.confirm("live@example.com", account="demo")

    added = api.post("contact", contact(email("add@example.com"), sms("380501112233"))).json()["id"]
    assert api.put(f"contact/{added}", {"firstName": "Added"}).text == f"Contact with id='{added}' has been updated"
    shown = api.get(f"contact/{subscribed}").json()
    assert shown["channels"][0] == {"type": "email", "value": "live@example.com", "confirmed": True}
    assert [c["id"] for c in api.get("contacts", email="add@example.com").json()] == [added]

    session = api.post("contacts", {"contacts": [contact(email("bulk@example.com"))], "dedupeOn": "email",
                                    "restoreDeleted": False}).json()["asyncSessionId"]
    result = api.get(f"importstatus/{session}").json()
    assert result["status"] == "FINISHED" and len(result["mapping"]) == 1

    httpserver.expect_request("/c.csv").respond_with_data("email,firstName\ncsv@example.com,Csv\n")
    upload = api.post("contacts/upload", {"link": httpserver.url_for("/c.csv")}).json()["asyncSessionId"]
    assert api.get(f"importstatus/{upload}").json()["status"] == "FINISHED"

    groups = {g["name"]: g["id"] for g in api.get("groups").json()}
    attach = api.post(f"group/{groups['Customers']}/contacts/attach", {"contactIds": [added, subscribed]})
    assert attach.json() == {"processed": [added, subscribed], "notFound": []}
    assert api.post(f"group/{groups['Customers']}/contacts/detach", {}).status_code == 200

    assert api.delete(f"contact/{added}").text == f"Contact with id='{added}' has been deleted"
    emails = {c["channels"][0]["value"] for c in handle.contacts("esputnik", "demo") if not c["deleted"]}
    assert emails == {"live@example.com", "bulk@example.com", "csv@example.com"}
    # nothing was redirected: every answer came straight from the route
    paths = [e["path"] for e in handle.requests(vendor="esputnik")]
    assert all(p.startswith("/api/v1/") and not p.endswith("/") for p in paths)
    assert api.get("groups").history == []


def test_empty_user_name_and_wrong_key_live(server):
    ok = SlashClient(f"{server.url}/esputnik/api/", "", "esputnik-demo-key").get("groups")
    assert ok.status_code == 200
    bad = SlashClient(f"{server.url}/esputnik/api/", "demo", "nope").get("groups")
    assert bad.status_code == 401 and bad.json() == {"status": 401, "message": "Unauthorized"}


def _race(url: str, auth: tuple, body: dict, threads: int = 8) -> list[requests.Response]:
    barrier = threading.Barrier(threads)
    answers: list = [None] * threads

    def send(i):
        with requests.Session() as session:
            barrier.wait()
            answers[i] = session.post(url, json=body, auth=auth, timeout=10)

    workers = [threading.Thread(target=send, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return answers


@pytest.mark.parametrize("path", ["contact", "contact/subscribe"])
def test_eight_threads_sending_the_same_contact_store_one(server, path):
    body = contact(email("race@example.com"), sms("380501112233"), firstName="Race")
    if path == "contact/subscribe":
        body = {"contact": body}
    answers = _race(f"{server.url}/esputnik/api/v1/{path}", ("demo", "esputnik-demo-key"), body)
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.json()["id"] for a in answers}) == 1
    handle = EmulatorHandle(server.app, server.url)
    assert len(handle.contacts("esputnik", "demo")) == 1


def test_eight_identical_requests_with_the_duplicate_window_on(server):
    answers = _race(f"{server.url}/esputnik/api/v1/contact", ("strict", "strict-key"),
                    contact(email("race@example.com")))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    assert all("Duplicated request" in a.json()["message"] for a in answers if a.status_code == 409)
    assert len(EmulatorHandle(server.app, server.url).contacts("esputnik", "strict")) == 1


def test_eight_threads_bulk_importing_the_same_contact(server):
    body = {"contacts": [contact(email("bulkrace@example.com"))], "dedupeOn": "email"}
    answers = _race(f"{server.url}/esputnik/api/v1/contacts", ("demo", "esputnik-demo-key"), body)
    assert [a.status_code for a in answers] == [200] * 8
    handle = EmulatorHandle(server.app, server.url)
    sessions = handle.collection("esputnik", "sessions", "demo")
    assert len(sessions) == 8 and all(s["status"] == "FINISHED" for s in sessions)
    assert len(handle.contacts("esputnik", "demo")) == 1
