"""The journal keeps secrets out of every read, and keeps its memory bounded.

Redaction covers what is not JSON (a login cut short, a form-encoded body), URLs with a
password wherever they surface (body, notes, query), and notes on credential fields. Memory:
bodies are kept whole up to a per-entry budget and within a total one, views are built on
each read and never kept, and ``limit`` is applied before any view is built.
"""
from __future__ import annotations

import base64
import gc
import json
import tracemalloc

import pytest

from emulator.core.journal import Recorded
from emulator.settings import Settings

ESPUTNIK_AUTH = {"Authorization": "Basic " + base64.b64encode(b"demo:esputnik-demo-key").decode()}
LOGIN = "/dengage/rest/login"
UPLOAD = "/esputnik/api/v1/contacts/upload"


def every_read(client) -> str:
    """The journal, the lint summary and the dashboard, as one text."""
    parts = []
    for path in ("/_emulator/requests", "/_emulator/requests?limit=1", "/_emulator/lint", "/_emulator/"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.data[:300])
        parts.append(resp.get_data(as_text=True))
    return "\n".join(parts)


# -- redaction ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, content_type", [
    (b'{"userkey": "demo", "password": "dengage-demo-password', "application/json"),    # cut short
    (b'{"userkey": "demo", "password": "dengage-demo-password"', "application/json"),   # no closing brace
    (b'{"userkey": "demo", "password": "dengage-demo-password", }', "application/json"),  # trailing comma
    (b'{"userkey": "demo", "password": "dengage-demo-password", "x": NaN}', "application/json"),
    (b'{"password": "dengage-demo-password", "userkey": "demo", "note": "\\ud800"}', "application/json"),
    (b"userkey=demo&password=dengage-demo-password", "application/x-www-form-urlencoded"),
    (b"password=dengage-demo-password", "text/plain"),
])
def test_a_login_that_is_not_json_is_journaled_without_its_password(client, raw, content_type):
    resp = client.post(LOGIN, data=raw, content_type=content_type)
    assert resp.status_code == 400
    shown = every_read(client)
    assert "dengage-demo-password" not in shown and "dengage-demo-pass" not in shown
    entry = client.get("/_emulator/requests").json["requests"][-1]
    assert "***" in entry["body"]


def test_a_login_cut_by_the_per_entry_budget_is_journaled_without_its_password(make_app):
    client = make_app(journal_body_bytes=40).test_client()
    client.post(LOGIN, json={"userkey": "demo", "password": "dengage-demo-password"})
    entry = client.get("/_emulator/requests").json["requests"][-1]
    assert entry["truncated"]["body"]["kept"] == 40
    assert entry["body"].startswith('{"userkey": "demo", "password": "***"')
    assert "dengage-demo" not in every_read(client)


@pytest.mark.parametrize("link, secret", [
    ("https://user:s3cret@127.0.0.1:9/contacts.csv", "s3cret"),
    ("https://user:s3c@ret@127.0.0.1:9/contacts.csv", "ret@"),        # an "@" in the password
    ("https://user:s3c:ret@127.0.0.1:9/contacts.csv?x=a@b", "ret@"),  # a ":" in it, an "@" in the query
    ("HTTPS://:s3cret@127.0.0.1:9/", "s3cret"),                         # no user name
])
def test_an_upload_links_password_is_masked_in_every_read(client, link, secret):
    body = {"link": link, "groupNames": ["Customers"]}
    assert client.post(UPLOAD, json=body, headers=ESPUTNIK_AUTH).status_code == 200
    client.post(UPLOAD, data=json.dumps(body)[:-3], headers=ESPUTNIK_AUTH, content_type="application/json")  # cut
    shown = every_read(client)
    assert secret not in shown and "s3c" not in shown
    entries = client.get("/_emulator/requests").json["requests"]
    assert entries[-2]["body"]["link"].startswith(link[:link.index("://") + 3])
    assert ":***@127.0.0.1:9/" in entries[-2]["body"]["link"] and ":***@127.0.0.1:9/" in entries[-1]["body"]


def test_a_link_cut_inside_its_password_is_masked(make_app):
    client = make_app(journal_body_bytes=30).test_client()
    body = {"link": "https://user:s3cret-that-runs-long@127.0.0.1:9/contacts.csv", "groupNames": ["Customers"]}
    client.post(UPLOAD, json=body, headers=ESPUTNIK_AUTH)
    entry = client.get("/_emulator/requests").json["requests"][-1]
    assert entry["body"] == '{"link": "https://user:***'  # cut at 30 bytes, inside the password
    assert "s3cret" not in every_read(client)


def test_notes_on_credential_fields_and_credential_query_parameters_are_masked(client):
    # D·engage ignores unknown login keys (and notes them); one is a second secret
    resp = client.post(LOGIN + "?api_key=query-secret&page=2",
                       json={"userkey": "demo", "password": "dengage-demo-password", "api_secret": "note-secret",
                             "callback": "https://user:url-secret@example.com/x"})
    assert resp.status_code == 200
    entry = client.get("/_emulator/requests").json["requests"][-1]
    notes = {n["field"]: n for n in entry["notes"]}
    assert notes["api_secret"]["sent"] == "***"
    assert notes["callback"]["sent"] == "https://user:***@example.com/x"
    assert entry["query"] == {"api_key": "***", "page": "2"}
    assert entry["response"]["access_token"] == "***"
    shown = every_read(client)
    for secret in ("query-secret", "note-secret", "url-secret", "dengage-demo-password", resp.json["access_token"]):
        assert secret not in shown


# -- bounded bodies -------------------------------------------------------------------------

def test_the_two_budgets_are_settings_with_environment_variables():
    env = {"EMULATOR_JOURNAL_BODY_BYTES": "4096", "EMULATOR_JOURNAL_TOTAL_BYTES": "1048576"}
    settings = Settings.from_env(env)
    assert (settings.journal_body_bytes, settings.journal_total_bytes) == (4096, 1048576)
    defaults = Settings()
    assert defaults.journal_body_bytes == 1024 * 1024 and defaults.journal_total_bytes == 64 * 1024 * 1024


def _big_create(client, n: int, size: int):
    """An Octopush create whose body is about ``size`` bytes (refused: no credentials)."""
    body = json.dumps({"n": n, "pad": "x" * size}).encode()
    return client.post("/octopush/v1/public/contact/create", data=body, content_type="application/json")


def test_a_body_over_the_per_entry_budget_keeps_only_its_first_bytes(make_app):
    client = make_app(journal_body_bytes=1000).test_client()
    assert _big_create(client, 0, 5000).status_code == 401
    assert _big_create(client, 1, 500).status_code == 401
    big, small = client.get("/_emulator/requests").json["requests"]
    assert big["truncated"] == {"body": {"bytes": 5019, "kept": 1000, "by": "EMULATOR_JOURNAL_BODY_BYTES"}}
    assert big["body"] == '{"n": 0, "pad": "' + "x" * 983
    assert "truncated" not in small and small["body"] == {"n": 1, "pad": "x" * 500}


def test_the_journal_keeps_at_most_the_total_budget_of_bodies(make_app):
    app = make_app(journal_total_bytes=20_000)
    client = app.test_client()
    journal = app.extensions["emulator"].journal
    for n in range(50):
        _big_create(client, n, 1000)
        assert journal.body_bytes_held() <= 20_000
    entries = client.get("/_emulator/requests").json["requests"]
    assert len(entries) == 50  # every entry stays; the oldest give up their bodies
    kept = [e for e in entries if e["body"] is not None]
    assert 10 <= len(kept) < 20 and [e["body"]["n"] for e in kept] == list(range(50 - len(kept), 50))
    dropped = entries[0]
    assert dropped["body"] is None and dropped["response"] is None
    assert dropped["truncated"]["body"] == {"bytes": 1019, "kept": 0, "by": "EMULATOR_JOURNAL_TOTAL_BYTES"}
    assert (dropped["status"], dropped["path"]) == (401, "/v1/public/contact/create")


def test_the_body_budget_follows_the_ring_and_a_clear(make_app):
    app = make_app(journal_size=5, journal_total_bytes=1_000_000)
    client = app.test_client()
    journal = app.extensions["emulator"].journal
    for n in range(20):
        _big_create(client, n, 1000)
    held = journal.body_bytes_held()
    entries = client.get("/_emulator/requests").json["requests"]
    assert [e["body"]["n"] for e in entries] == [15, 16, 17, 18, 19]
    assert held == sum(len(json.dumps(e["body"])) + len(json.dumps(e["response"])) for e in entries)
    client.delete("/_emulator/requests")
    assert journal.body_bytes_held() == 0


def test_a_large_body_the_route_never_read_is_not_read_whole(make_app):
    """A refused upload of 8 MiB: the journal reads only the bytes it keeps."""
    app = make_app(journal_body_bytes=1024)
    client = app.test_client()
    resp = client.post("/octopush/v1/public/contact/create", data=b"{" + b" " * (8 * 1024 * 1024) + b"}",
                       content_type="application/json")  # 401 before the route reads the body
    assert resp.status_code == 401
    entry = client.get("/_emulator/requests").json["requests"][-1]
    assert entry["truncated"]["body"]["bytes"] == 8 * 1024 * 1024 + 2 and entry["truncated"]["body"]["kept"] == 1024


# -- views: built when read, only as many as asked for, never kept ---------------------------

@pytest.fixture
def counted_views(monkeypatch):
    built = []
    original = Recorded.view

    def view(self, *args, **kwargs):
        built.append(self.seq)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Recorded, "view", view)
    return built


def test_limit_builds_only_the_views_it_returns(client, counted_views):
    for n in range(30):
        _big_create(client, n, 10)
    counted_views.clear()
    entries = client.get("/_emulator/requests?limit=1").json["requests"]
    assert [e["body"]["n"] for e in entries] == [29] and len(counted_views) == 1
    counted_views.clear()
    entries = client.get("/_emulator/requests?limit=3&method=POST").json["requests"]
    assert [e["body"]["n"] for e in entries] == [27, 28, 29] and len(counted_views) == 3
    counted_views.clear()
    client.get("/_emulator/")
    assert len(counted_views) <= 25  # the dashboard lists the newest 25


def test_reading_the_journal_keeps_no_view(make_app):
    """Reading 100 entries of 100 KB JSON bodies must not leave their parsed views behind."""
    app = make_app(journal_size=100)
    client = app.test_client()
    body = json.dumps({"contacts": [{"phone_number": f"+3361234{i:04d}", "first_name": "Ann"} for i in range(2000)]})
    assert len(body) > 100_000
    for _ in range(100):
        client.post("/octopush/v1/public/contact/create", data=body, content_type="application/json")
    client.get("/_emulator/requests?vendor=esputnik")  # warm up the route; no octopush view built
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        resp = client.get("/_emulator/requests")
        assert resp.status_code == 200 and resp.json["count"] == 100
        del resp
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # the parsed views are several times the 11 MB of bodies; what stays must be far less
    assert retained < 1_000_000, retained


def test_a_note_does_not_keep_a_large_sent_value_alive(client, engine):
    """The unknown key of a refused login is noted; its 500 KB value is cut in the note."""
    client.post(LOGIN, json={"userkey": "demo", "password": "wrong", "pad": "x" * 500_000})
    entry = client.get("/_emulator/requests").json["requests"][-1]
    note = [n for n in entry["notes"] if n["field"] == "pad"][0]
    assert note["sent"] == "x" * 2048 + "... (500000 characters)"
    assert note["kind"] == "ignored" and note["used"] is None


def test_the_dashboard_shows_no_stored_url_password(client):
    """A Pushtech bulk's webhook URL with user info: the page shows the bulk and the delivery
    without the password."""
    resp = client.post("/pushtech/v2/account/demo/contact/bulk", headers={"Authorization": "Token token=pushtech-demo-secret"},
                       json={"webhook_url": "http://hooks:hook-secret@127.0.0.1:9/hook",
                             "contacts": [{"email": "ann@example.com"}]})
    assert resp.status_code == 201
    for path in ("/_emulator/", "/_emulator/?vendor=pushtech&account=demo&kind=bulks"):
        page = client.get(path).get_data(as_text=True)
        assert "hook-secret" not in page and "hooks:***@127.0.0.1:9/hook" in page
    assert "hook-secret" not in every_read(client)
