"""eSputnik test apps: a fixture with several accounts, and helpers to call the API and read state."""
from __future__ import annotations

import copy

import pytest

from emulator.vendors.esputnik import VENDOR

API = "/esputnik/api/v1"
AUTH = ("demo", "esputnik-demo-key")
OTHER = ("", "other-key")
STRICT = ("user", "strict-key")
LEGACY = ("legacy", "legacy-key")
NO_LIMITS = {"duplicate_window_s": 0, "max_requests_per_second": 0}
FIELDS = [{"id": 12345, "name": "city", "type": "textfield", "group": "Personal"},
          {"id": 12346, "name": "birthday", "type": "date", "group": "Personal"},
          {"id": 12347, "name": "loyalty tier", "type": "combobox", "group": "Loyalty",
           "allowedValues": ["bronze", "silver", "gold"]}]  # as the shipped fixtures declare them
GROUPS = ["Subscribers", "Customers", {"name": "Active", "type": "Dynamic"}]

FIXTURE = {"vendors": {"esputnik": {"accounts": {
    # limits off: tests of other rules send the same body twice freely
    "demo": {"credentials": {"user": "demo", "api_key": "esputnik-demo-key"},
             "settings": {**NO_LIMITS, "groups": GROUPS, "fields": FIELDS}},
    "other": {"credentials": {"user": "other", "api_key": "other-key"}, "settings": dict(NO_LIMITS)},
    # the vendor's limits, as shipped
    "strict": {"credentials": {"user": "strict", "api_key": "strict-key"}, "settings": {"fields": FIELDS}},
    "legacy": {"credentials": {"user": "legacy", "api_key": "legacy-key"},
               "settings": {**NO_LIMITS, "legacy_add_contact_duplicates": True}},
}}}}


def esputnik_fixture(**demo_settings) -> dict:
    fixture = copy.deepcopy(FIXTURE)
    fixture["vendors"]["esputnik"]["accounts"]["demo"]["settings"].update(demo_settings)
    return fixture


@pytest.fixture
def app(make_app):
    """Only eSputnik, with the accounts above (the shared ``client``/``engine`` use it)."""
    return make_app(vendors=[VENDOR], fixture=FIXTURE)


def email(value: str) -> dict:
    return {"type": "email", "value": value}


def sms(value: str) -> dict:
    return {"type": "sms", "value": value}


def contact(*channels, **fields) -> dict:
    return {"channels": list(channels), **fields}


def account_state(client, account: str = "demo") -> dict:
    resp = client.get(f"/_emulator/state?vendor=esputnik&account={account}&limit=100000")  # every document
    assert resp.status_code == 200
    return resp.get_json()["vendors"]["esputnik"]["accounts"][account]


def stored(client, account: str = "demo") -> list[dict]:
    return account_state(client, account)["contacts"]


def by_email(client, account: str = "demo") -> dict:
    out = {}
    for doc in stored(client, account):
        for ch in doc["channels"]:
            if ch["type"] == "email":
                out[ch["value"]] = doc
    return out


def events(client, account: str = "demo") -> list[dict]:
    return account_state(client, account)["events"]


def journal(client) -> list[dict]:
    return client.get("/_emulator/requests?vendor=esputnik").get_json()["requests"]


def last_notes(client) -> list[dict]:
    return journal(client)[-1]["notes"]


def notes_for(client, rule_part: str) -> list[dict]:
    return [n for n in last_notes(client) if rule_part in n["rule"]]


def assert_error(resp, status: int, *words: str) -> dict:
    """The vendor's error shape, with the words that name the field and the rule."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"status", "message"} and body["status"] == status, body
    for word in words:
        assert word in body["message"], (word, body["message"])
    return body


def bulk(client, body: dict, auth=AUTH):
    """POST /contacts; returns (response, session id)."""
    resp = client.post(f"{API}/contacts", json=body, auth=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp, resp.get_json()["asyncSessionId"]


def status(client, session: str, auth=AUTH) -> dict:
    resp = client.get(f"{API}/importstatus/{session}", auth=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def run_bulk(client, body: dict, auth=AUTH) -> dict:
    """POST /contacts and return the finished import status."""
    _, session = bulk(client, body, auth)
    result = status(client, session, auth)
    assert result["status"] == "FINISHED", result
    return result


# -- one API over both transports: the Flask test client and a live server --------------------
class Answer:
    """A response read the same way from the test client and from ``requests``."""

    def __init__(self, status: int, headers, data: bytes):
        self.status_code, self.headers, self.data = status, headers, data

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def json(self):
        import json

        return json.loads(self.data) if self.data else None


class Api:
    """eSputnik's API and the emulator's state, over the test client or a live server."""

    def __init__(self, app, url: str | None = None):
        self.app, self.url = app, url
        self.client = app.test_client()
        if url:
            import requests

            self.session = requests.Session()

    def call(self, method: str, path: str, json=None, auth=AUTH, data=None, headers=None, prefix=API) -> Answer:
        full = (prefix or "") + path
        if self.url:
            resp = self.session.request(method, self.url + full, json=json, data=data, auth=auth, headers=headers,
                                        timeout=30)
            return Answer(resp.status_code, resp.headers, resp.content)
        resp = self.client.open(full, method=method, json=json, data=data, auth=auth, headers=headers)
        return Answer(resp.status_code, resp.headers, resp.get_data())

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.call("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    # -- the emulator's side ------------------------------------------------------------
    def state(self, account: str = "demo") -> dict:
        body = self.call("GET", f"/_emulator/state?vendor=esputnik&account={account}&limit=100000", auth=None, prefix="").json()
        return body["vendors"]["esputnik"]["accounts"][account]

    def notes(self) -> list[dict]:
        """The notes of the last eSputnik request."""
        entries = self.call("GET", "/_emulator/requests?vendor=esputnik", auth=None, prefix="").json()["requests"]
        return entries[-1]["notes"]

    def admin(self, method: str, path: str, json=None) -> Answer:
        return self.call(method, path, json=json, auth=None, prefix="")

    def add(self, body: dict, auth=AUTH) -> int:
        resp = self.post("/contact", body, auth=auth)
        assert resp.status_code == 200, resp.text
        return resp.json()["id"]

    def bulk(self, body: dict, auth=AUTH) -> dict:
        """POST /contacts, then the session's status (finished: the delay is 0)."""
        resp = self.post("/contacts", body, auth=auth)
        assert resp.status_code == 200, resp.text
        return self.get(f"/importstatus/{resp.json()['asyncSessionId']}", auth=auth).json()


@pytest.fixture(scope="module")
def shared_live():
    """One live server per module with the accounts above; reset before each test that uses it
    (starting and stopping a server per test costs half a second)."""
    from emulator import create_app
    from emulator.testing.live import LiveServer

    app = create_app({"fixture": FIXTURE}, vendors=[VENDOR])
    app.testing = True
    server = LiveServer(app).start()
    yield server
    server.stop()
    app.extensions["emulator"].close()


@pytest.fixture(params=["client", "live"])
def make_api(request, make_app, live):
    """``make_api(**demo_settings)`` -> an :class:`Api` on a fresh emulator, over the test
    client and over a live server (the test runs once each)."""

    def factory(**demo_settings) -> Api:
        if request.param == "live" and not demo_settings:
            server = request.getfixturevalue("shared_live")
            api = Api(server.app, server.url)
            api.admin("POST", "/_emulator/reset", {})
            api.admin("POST", "/_emulator/clock", {"real": True})
            return api
        app = make_app(vendors=[VENDOR], fixture=esputnik_fixture(**demo_settings))
        if request.param == "live":
            return Api(app, live(app).url)
        return Api(app)

    return factory


@pytest.fixture
def api(make_api) -> Api:
    return make_api()


def error_of(resp: Answer, status: int, *words: str) -> dict:
    """The vendor's error shape ``{status, message}``, with the words naming the field and the rule."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"status", "message"} and body["status"] == status, body
    for word in words:
        assert word in body["message"], (word, body["message"])
    return body
