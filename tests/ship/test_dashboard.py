"""The dashboard page ``GET /_emulator/`` and its form endpoints, over HTTP."""
from __future__ import annotations

import re
from html import unescape

import pytest
import requests

from tests.core.sample_vendor import SAMPLE, sample_fixture

KEY_A = {"X-Key": "key-a"}
FROZEN = "2026-03-01T12:00:00Z"


@pytest.fixture
def sample_app(make_app):
    return make_app(vendors=[SAMPLE], fixture=sample_fixture(contacts=30))


@pytest.fixture
def client(sample_app):
    return sample_app.test_client()


@pytest.fixture
def eng(sample_app):
    return sample_app.extensions["emulator"]


def page(client, query: str = "") -> str:
    resp = client.get(f"/_emulator/{query}")
    assert resp.status_code == 200, resp.data
    assert resp.mimetype == "text/html"
    return resp.get_data(as_text=True)


def rows(html: str) -> list[str]:
    """The text of each row of the documents table."""
    body = re.search(r'<table id="documents".*?<tbody>(.*?)</tbody>', html, re.S)
    if body is None:
        return []
    return [unescape(re.sub(r"<[^>]+>", " ", row)) for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


def contacts(client, account: str = "a") -> list[dict]:
    state = client.get(f"/_emulator/state?vendor=sample&account={account}").get_json()
    return state["vendors"]["sample"]["accounts"][account]["contacts"]


def banner(html: str, kind: str) -> str | None:
    found = re.search(rf'<div class="banner {kind}"[^>]*>(.*?)</div>', html, re.S)
    return unescape(found.group(1)) if found else None


# -- the page --------------------------------------------------------------------------
def test_the_page_answers_with_and_without_the_trailing_slash(client):
    assert client.get("/_emulator").status_code == 200
    html = page(client)
    assert "<title>contact-api-emulator · Sample / a</title>" in html


def test_the_page_lists_every_vendor_and_account_with_collection_counts(client):
    html = page(client)
    assert re.search(r'class="account current" href="[^"]*">a\s*<span>30 contacts · 0 jobs</span>', html)
    assert re.search(r'>b\s*<span>0 contacts · 0 jobs</span>', html)
    assert 'id="reset-sample"' in html


def test_contacts_are_paged_newest_first(client, eng):
    first = rows(page(client, "?size=10"))
    assert len(first) == 10
    stored = contacts(client)
    assert str(stored[-1]["id"]) in first[0] and str(stored[-10]["id"]) in first[-1]
    html = page(client, "?size=10&page=3")
    assert len(rows(html)) == 10 and "21–30 of 30 · page 3 of 3" in html
    assert 'rel="prev"' in html and 'rel="next"' not in html
    assert "21–30 of 30" in page(client, "?size=10&page=99")  # past the end: the last page
    assert "1–25 of 30" in page(client, "?page=abc&size=7")  # nonsense: defaults


def test_search_matches_email_case_insensitively_and_numbers(client):
    created = client.post("/sample/contacts", json={"email": "Findme@Example.org", "name": "Zed"}, headers=KEY_A)
    assert created.status_code == 201
    found = rows(page(client, "?q=FINDME@example"))
    assert len(found) == 1 and "findme@example.org" in found[0]
    by_id = rows(page(client, f"?q={created.get_json()['id']}"))
    assert len(by_id) == 1 and "findme@example.org" in by_id[0]
    html = page(client, "?q=no-such-thing")
    assert rows(html) == [] and "No contacts match “no-such-thing”." in unescape(html)


def summary(html: str) -> str:
    return " ".join(unescape(re.search(r'<span class="muted" id="search-summary">(.*?)</span>', html, re.S)
                             .group(1)).split())


def test_a_page_reads_only_the_documents_it_shows(client, monkeypatch):
    """The first page (and an exact-key search) never walks the collection of contacts."""
    from emulator.core.store import Collection

    for name in ("scan", "all"):
        def walk(self, *args, _original=getattr(Collection, name)):
            assert not self.name.endswith(":contacts"), "the whole collection of contacts was read"
            return _original(self, *args)

        monkeypatch.setattr(Collection, name, walk)
    assert len(rows(page(client))) == 25
    email = contacts(client)[3]["email"]
    assert len(rows(page(client, f"?q={email.upper()}"))) == 1


def test_exact_keys_are_found_through_the_indexes(make_app):
    """An email in any case, a phone number as people type it, a contact key, an id."""
    app = make_app(fixture="empty")
    client = app.test_client()
    octopush = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
    assert client.post("/octopush/v1/public/contact/create", headers=octopush,
                       json={"contacts": [{"phone_number": "+33612345678"}, {"phone_number": "+33612345679"}]}
                       ).status_code == 201
    html = page(client, "?vendor=octopush&account=demo&q=%2B33 6 12 34 56 78")
    assert [r.split()[0] for r in rows(html)] == ["+33612345678"]
    assert summary(html).startswith("1 contacts with phone “+33 6 12 34 56 78” (exact key, from the index)")
    pushtech = {"Authorization": "Token token=pushtech-demo-secret"}
    made = [client.post("/pushtech/v2/account/demo/contact", json={"email": e}, headers=pushtech).get_json()
            for e in ["ann@example.com", "bob@example.com", "ann@example.com"]]
    html = page(client, "?vendor=pushtech&account=demo&q=ANN@Example.com")
    assert len(rows(html)) == 2 and summary(html).startswith("2 contacts with email “ANN@Example.com”")
    assert len(rows(page(client, f"?vendor=pushtech&account=demo&q={made[1]['id']}"))) == 1
    # the same search inside every value instead (bounded scan): the link on the page
    html = page(client, "?vendor=pushtech&account=demo&q=ann@example.com&scan=1")
    assert len(rows(html)) == 2 and summary(html) == "2 contacts containing “ann@example.com”, newest first"


def test_a_search_no_index_answers_is_bounded_and_says_so(client, monkeypatch):
    from emulator.admin import dashboard

    monkeypatch.setattr(dashboard, "SEARCH_SCAN", 10)
    monkeypatch.setattr(dashboard, "SEARCH_MATCHES", 4)
    html = page(client, "?q=@&size=10")
    assert len(rows(html)) == 4
    assert summary(html).startswith("first 4 matches for “@”, newest first (the search stops there")
    oldest = contacts(client)[0]["name"]
    html = page(client, f"?q={oldest}")
    assert rows(html) == [] and "No match for “" + oldest + "” in the newest 10 of 30 contacts." in unescape(html)
    newest = contacts(client)[-1]["name"]
    html = page(client, f"?q={newest}")
    assert len(rows(html)) >= 1 and summary(html).startswith(f"first {len(rows(html))} matches for “{newest}” in the newest 10 of 30 contacts")


def test_other_collections_have_their_own_tab(client):
    queued = client.post("/sample/jobs", json={"contacts": []}, headers=KEY_A)
    assert queued.status_code == 202
    html = page(client, "?kind=jobs")
    assert re.search(r'class="current" href="[^"]*kind=jobs[^"]*">jobs <span class="muted">1</span>', html)
    found = rows(html)
    assert len(found) == 1 and queued.get_json()["job_id"] in found[0] and "done" in found[0]


def test_unknown_vendor_account_or_collection_falls_back_with_a_message(client):
    html = page(client, "?vendor=nope&account=zz&kind=widgets")
    assert banner(html, "bad") == ("unknown vendor 'nope'; vendor 'sample' has no account 'zz'; "
                                    "Sample has no collection 'widgets'")
    assert len(rows(html)) == 25
    html = page(client, "?vendor=sample&account=zz")
    assert banner(html, "bad") == "vendor 'sample' has no account 'zz'"


def test_everything_shown_is_escaped(client):
    payload = {"email": "x@example.com", "name": '<script>alert("name")</script>'}
    assert client.post("/sample/contacts", json=payload, headers=KEY_A).status_code == 201
    html = page(client, '?q=<img src=x onerror=alert(1)>&error=<b>boom</b>')
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>boom</b>" not in html
    assert "&lt;b&gt;boom&lt;/b&gt;" in html
    html = page(client, "?q=alert")
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html


def test_journal_requests_are_listed_with_their_notes(client):
    client.post("/sample/contacts", json={"email": "Loud@Example.com"}, headers=KEY_A)
    client.post("/sample/contacts", json={"email": "bad"}, headers=KEY_A)
    html = unescape(page(client))
    section = html[html.index('id="requests"'):html.index('id="webhooks"')]
    assert "newest first, 2 of 2 in the journal" in section
    assert section.index("400") < section.index("201")  # newest first
    assert 'email: "Loud@Example.com" → "loud@example.com" (lower-cased)' in section


def test_webhook_deliveries_are_listed_with_their_state(client, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    sent = client.post("/sample/hooks", json={"url": httpserver.url_for("/hook")}, headers=KEY_A)
    assert sent.status_code == 202
    client.get("/_emulator/webhooks")  # waits for the attempt, made off the request path (the page does not wait)
    html = page(client)
    section = html[html.index('id="webhooks"'):]
    assert httpserver.url_for("/hook") in section
    assert re.search(r'<td class="state-delivered">delivered</td><td>1</td><td class="v">200</td>', section)


def test_the_clock_is_shown(client, eng):
    eng.clock.freeze(FROZEN)
    html = page(client)
    assert '<b id="clock-now">2026-03-01T12:00:00.000Z</b>' in html and "<b>frozen</b>" in html
    assert 'value="real">Real time</button>' in html


def test_a_page_without_vendors_still_renders(make_app):
    html = page(make_app(vendors=[], fixture={"vendors": {}}).test_client())
    assert "No vendor is served." in html and 'id="documents"' not in html


# -- the forms -------------------------------------------------------------------------
def test_reset_form_reloads_the_fixture_and_redirects_back_with_a_notice(client):
    client.post("/sample/contacts", json={"email": "gone@example.com"}, headers=KEY_A)
    back = "/_emulator/?vendor=sample&account=a&q=gone"
    resp = client.post("/_emulator/dashboard/reset", data={"back": back})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/_emulator/?vendor=sample&account=a&q=gone&notice=Reset+every+vendor%3A+fixture+reloaded%2C+journal+cleared."
    assert len(contacts(client)) == 30 and all(c["email"] != "gone@example.com" for c in contacts(client))
    assert client.get("/_emulator/requests").get_json()["count"] == 0
    html = page(client, resp.headers["Location"].removeprefix("/_emulator/"))
    assert banner(html, "ok") == "Reset every vendor: fixture reloaded, journal cleared."
    assert "No contacts match “gone”." in unescape(html)


def test_reset_form_for_one_vendor_keeps_the_journal(client):
    client.post("/sample/contacts", json={"email": "gone@example.com"}, headers=KEY_A)
    resp = client.post("/_emulator/dashboard/reset", data={"vendor": "sample"})
    assert resp.status_code == 303 and "Reset+Sample" in resp.headers["Location"]
    assert len(contacts(client)) == 30
    assert client.get("/_emulator/requests").get_json()["count"] == 1


def test_reset_form_refuses_an_unknown_vendor_and_changes_nothing(client):
    client.post("/sample/contacts", json={"email": "kept@example.com"}, headers=KEY_A)
    resp = client.post("/_emulator/dashboard/reset", data={"vendor": "nope"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/_emulator/?error=unknown+vendor+%27nope%27"
    assert len(contacts(client)) == 31


def test_clock_form_advances_freezes_and_returns_to_real_time(client, eng):
    eng.clock.freeze(FROZEN)
    resp = client.post("/_emulator/dashboard/clock", data={"action": "advance", "seconds": "3600"})
    assert resp.status_code == 303 and "notice=Clock+advanced+by+3600+s." in resp.headers["Location"]
    assert client.get("/_emulator/clock").get_json()["now"] == "2026-03-01T13:00:00.000Z"
    assert client.post("/_emulator/dashboard/clock", data={"action": "real"}).status_code == 303
    assert client.get("/_emulator/clock").get_json()["frozen"] is False
    assert client.post("/_emulator/dashboard/clock", data={"action": "freeze"}).status_code == 303
    assert client.get("/_emulator/clock").get_json()["frozen"] is True


def test_clock_form_advance_runs_due_jobs(make_app):
    app = make_app(vendors=[SAMPLE], fixture=sample_fixture())
    client = app.test_client()
    app.extensions["emulator"].clock.freeze(FROZEN)
    job_id = client.post("/sample/jobs", json={"contacts": [{"email": "later@example.com"}]},
                         headers={"X-Key": "key-b"}).get_json()["job_id"]  # account b: 30 s delay
    assert "queued" in rows(page(client, "?account=b&kind=jobs"))[0]
    client.post("/_emulator/dashboard/clock", data={"action": "advance", "seconds": "30"})
    assert job_id in rows(page(client, "?account=b&kind=jobs"))[0] and "done" in rows(page(client, "?account=b&kind=jobs"))[0]
    assert [c["email"] for c in contacts(client, "b")] == ["later@example.com"]


@pytest.mark.parametrize("form", [
    {"action": "advance", "seconds": "abc"},
    {"action": "advance", "seconds": "nan"},
    {"action": "advance", "seconds": "inf"},
    {"action": "advance"},
    {"action": "rewind"},
    {},
])
def test_clock_form_refuses_bad_input_and_leaves_the_clock(client, eng, form):
    eng.clock.freeze(FROZEN)
    resp = client.post("/_emulator/dashboard/clock", data=form)
    assert resp.status_code == 303 and "error=" in resp.headers["Location"]
    html = page(client, "?" + resp.headers["Location"].split("?", 1)[1])
    assert banner(html, "bad").startswith(("advance: seconds must be a number", "clock: action must be"))
    assert client.get("/_emulator/clock").get_json()["now"] == "2026-03-01T12:00:00.000Z"


@pytest.mark.parametrize("back", ["https://elsewhere.example/x", "//elsewhere.example/", "/sample/contacts"])
def test_forms_only_redirect_back_to_the_dashboard(client, back):
    resp = client.post("/_emulator/dashboard/clock", data={"action": "freeze", "back": back})
    assert resp.status_code == 303 and resp.headers["Location"].startswith("/_emulator/?notice=")


@pytest.mark.parametrize("headers", [{"Origin": "http://elsewhere.example"}, {"Sec-Fetch-Site": "cross-site"}])
def test_forms_posted_from_another_site_are_refused(client, headers):
    client.post("/sample/contacts", json={"email": "kept@example.com"}, headers=KEY_A)
    resp = client.post("/_emulator/dashboard/reset", data={}, headers=headers)
    assert resp.status_code == 403
    assert resp.get_json() == {"status": 403, "error": "dashboard actions are accepted only from the dashboard's own origin"}
    assert len(contacts(client)) == 31


def test_forms_posted_from_the_page_itself_are_accepted(client):
    resp = client.post("/_emulator/dashboard/clock", data={"action": "freeze"},
                       headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert resp.status_code == 303


def test_forms_answer_405_to_get(client):
    assert client.get("/_emulator/dashboard/reset").status_code == 405


# -- over a real socket ----------------------------------------------------------------
@pytest.mark.live
def test_live_page_search_and_reset_with_requests(make_app, live):
    server = live(make_app(vendors=[SAMPLE], fixture=sample_fixture()))
    created = requests.post(f"{server.url}/sample/contacts", json={"email": "live@example.com"}, headers=KEY_A,
                            timeout=5)
    assert created.status_code == 201
    html = requests.get(f"{server.url}/_emulator/", params={"q": "live@"}, timeout=5).text
    assert len(rows(html)) == 1 and "live@example.com" in rows(html)[0]
    session = requests.Session()
    resp = session.post(f"{server.url}/_emulator/dashboard/reset", data={"back": "/_emulator/?q=live@"},
                        headers={"Origin": server.url}, timeout=5)
    assert resp.history[0].status_code == 303 and resp.status_code == 200
    assert "No contacts match “live@”." in unescape(resp.text)
    assert len(requests.get(f"{server.url}/_emulator/state", timeout=5).json()["vendors"]["sample"]["accounts"]["a"]["contacts"]) == 3
