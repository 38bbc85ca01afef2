"""Hostile input at every vendor: refused in the vendor's own shape, nothing stored, and every
read (state, journal, dashboard, lint, OpenAPI) still answers strict JSON or a page.

Each case sends one request built from a vendor's own write endpoint with one value (or the
whole body, or an auth header) replaced by something JSON or HTTP does not allow, then reads
everything back.
"""
from __future__ import annotations

import base64
import http.client
import json

import pytest

ESPUTNIK_AUTH = {"Authorization": "Basic " + base64.b64encode(b"demo:esputnik-demo-key").decode()}
OCTOPUSH_AUTH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
PUSHTECH_AUTH = {"Authorization": "Token token=pushtech-demo-secret"}

# Each vendor's write endpoint, with %s where one hostile value goes.
TEMPLATES = {
    "esputnik": ("POST", "/esputnik/api/v1/contact",
                 b'{"firstName": %s, "channels": [{"type": "email", "value": "hostile@example.com"}]}'),
    "octopush": ("POST", "/octopush/v1/public/contact/create",
                 b'{"contacts": [{"phone_number": "+33612345678", "first_name": %s}]}'),
    "dengage": ("POST", "/dengage/rest/bulk/contacts",
                b'{"columns": ["contact_key", "name"], "insertIfNotExists": true, '
                b'"contactDatas": [{"contact_key": "HOSTILE-1", "name": %s}]}'),
    # a custom field: Pushtech stores any value of an undeclared key as given
    "pushtech": ("POST", "/pushtech/v2/account/demo/contact", b'{"email": "hostile@example.com", "custom": %s}'),
}

HOSTILE_VALUES = {
    "escaped lone high surrogate": b'"\\ud800"',
    "escaped lone low surrogate": b'"a\\udc00b"',
    "surrogate bytes ED A0 80": b'"a\xed\xa0\x80b"',
    "lone surrogate in a key": b'{"\\udbff": "x"}',
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "-Infinity": b"-Infinity",
    "1e400": b"1e400",
    "-1e400": b"-1e400",
    "arrays nested 500 deep": b"[" * 500 + b"]" * 500,
    "objects nested 500 deep": b'{"a": ' * 500 + b"1" + b"}" * 500,
    "arrays nested 64 deep in the body": b"[" * 64 + b"]" * 64,  # the body itself is one more level
    "nested 100,000 deep": b"[" * 100_000,
}


def error_shape(vendor: str, body: dict) -> bool:
    """The vendor's own error body (see each vendor's errors.py and README section)."""
    if vendor == "esputnik":
        return set(body) == {"status", "message"} and isinstance(body["message"], str)
    if vendor == "octopush":
        return {"code", "message"} <= set(body) and isinstance(body["message"], str)
    if vendor == "dengage":
        return {"code", "message"} <= set(body) and body["code"] != 0
    return set(body) == {"error"} and isinstance(body["error"], str)


def vendor_headers(client, vendor: str) -> dict:
    if vendor == "esputnik":
        return dict(ESPUTNIK_AUTH)
    if vendor == "octopush":
        return dict(OCTOPUSH_AUTH)
    if vendor == "pushtech":
        return dict(PUSHTECH_AUTH)
    token = client.post("/dengage/rest/login", json={"userkey": "demo", "password": "dengage-demo-password"})
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


def strict_json(resp):
    """The response body read as RFC 8259 JSON: UTF-8, no NaN or Infinity."""
    def refuse(name):
        raise AssertionError(f"{name} in a JSON answer")

    text = resp.data.decode("utf-8")  # strict: a lone surrogate's bytes would fail here
    return json.loads(text, parse_constant=refuse)


def state(client) -> dict:
    resp = client.get("/_emulator/state")
    assert resp.status_code == 200, resp.data[:300]
    return strict_json(resp)


def assert_every_read_survives(client, vendor: str) -> dict:
    """Every read path answers: state, journal (whole, limited, filtered), lint, OpenAPI,
    the dashboard and the vendor's collection on it. Returns the journal."""
    state(client)
    journal = client.get("/_emulator/requests")
    assert journal.status_code == 200, journal.data[:300]
    for path in ("/_emulator/requests?limit=1", f"/_emulator/requests?vendor={vendor}", "/_emulator/lint",
                 "/_emulator/openapi.json", "/_emulator/webhooks"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.data[:300])
        strict_json(resp)
    for path in ("/_emulator/", f"/_emulator/?vendor={vendor}&account=demo&kind=contacts",
                 f"/_emulator/?vendor={vendor}&account=demo&kind=contacts&q=a"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.data[:300])
        page.data.decode("utf-8")
    return strict_json(journal)


@pytest.mark.parametrize("value", list(HOSTILE_VALUES), ids=list(HOSTILE_VALUES))
@pytest.mark.parametrize("vendor", list(TEMPLATES))
def test_a_hostile_value_is_refused_and_every_read_survives(client, vendor, value):
    method, path, template = TEMPLATES[vendor]
    headers = {**vendor_headers(client, vendor), "Content-Type": "application/json"}
    before = state(client)
    resp = client.open(path, method=method, data=template % HOSTILE_VALUES[value], headers=headers)
    assert resp.status_code == 400, resp.data[:300]
    body = strict_json(resp)
    assert error_shape(vendor, body), body
    message = json.dumps(body)
    assert "request body is not valid JSON" in message
    assert state(client) == before  # nothing stored
    journal = assert_every_read_survives(client, vendor)
    last = journal["requests"][-1]
    assert (last["vendor"], last["path"], last["status"]) == (vendor, path.split(f"/{vendor}", 1)[1], 400)


@pytest.mark.parametrize("vendor", list(TEMPLATES))
def test_the_message_names_the_field_and_the_rule(client, vendor):
    method, path, template = TEMPLATES[vendor]
    headers = {**vendor_headers(client, vendor), "Content-Type": "application/json"}
    field = {"esputnik": "firstName", "octopush": "contacts[0].first_name", "dengage": "contactDatas[0].name",
             "pushtech": "custom"}[vendor]
    surrogate = json.dumps(client.open(path, method=method, data=template % b'"\\ud800"', headers=headers).get_json())
    assert f"{field} holds a lone UTF-16 surrogate \\\\ud800" in surrogate
    deep = json.dumps(client.open(path, method=method, data=template % (b"[" * 80 + b"]" * 80),
                                  headers=headers).get_json())
    assert f"{field}[0][0]" in deep and "nests deeper than 64 levels" in deep
    nan = json.dumps(client.open(path, method=method, data=template % b"NaN", headers=headers).get_json())
    assert "NaN is not a JSON value" in nan


def test_a_value_just_within_the_depth_limit_is_stored_and_read_back(client):
    """64 levels in all (the body is the first): accepted, stored, and every read shows it."""
    method, path, template = TEMPLATES["pushtech"]
    value = b"[" * 63 + b'"deep"' + b"]" * 63
    resp = client.open(path, method=method, data=template % value, headers=PUSHTECH_AUTH,
                       content_type="application/json")
    assert resp.status_code == 201, resp.data[:300]
    contact_id = resp.get_json()["id"]
    stored = [c for c in state(client)["vendors"]["pushtech"]["accounts"]["demo"]["contacts"] if c["id"] == contact_id]
    custom = stored[0]["custom"]
    for _ in range(62):
        custom = custom[0]
    assert custom == ["deep"]
    assert client.get(f"/pushtech/v2/account/demo/contact/{contact_id}", headers=PUSHTECH_AUTH).status_code == 200
    assert_every_read_survives(client, "pushtech")


def test_escaped_surrogate_pairs_and_escaped_backslashes_are_fine(client):
    """A pair of surrogate escapes is one character (an emoji); ``\\\\ud800`` is text."""
    method, path, template = TEMPLATES["pushtech"]
    resp = client.open(path, method=method, data=template % b'["\\ud83d\\ude00", "\\\\ud800"]', headers=PUSHTECH_AUTH,
                       content_type="application/json")
    assert resp.status_code == 201, resp.data
    assert resp.get_json()["custom"] == ["\U0001f600", "\\ud800"]
    assert_every_read_survives(client, "pushtech")


# -- a null body where an object is required -------------------------------------------------

def _existing(client, vendor: str) -> str:
    contacts = state(client)["vendors"][vendor]["accounts"]["demo"]["contacts"]
    return str(contacts[0]["id"])


NULL_BODY = {
    "esputnik": lambda c: ("PUT", f"/esputnik/api/v1/contact/{_existing(c, 'esputnik')}"),
    "pushtech": lambda c: ("PUT", f"/pushtech/v2/account/demo/contact/{_existing(c, 'pushtech')}"),
    "octopush": lambda c: ("POST", "/octopush/v1/public/contact/create"),
    "dengage": lambda c: ("POST", "/dengage/rest/bulk/contacts"),
}


@pytest.mark.parametrize("vendor", list(NULL_BODY))
def test_a_null_body_is_refused_where_an_object_is_required(client, vendor):
    method, path = NULL_BODY[vendor](client)
    headers = {**vendor_headers(client, vendor), "Content-Type": "application/json"}
    before = state(client)
    resp = client.open(path, method=method, data=b"null", headers=headers)
    assert resp.status_code == 400, resp.data[:300]
    assert error_shape(vendor, resp.get_json())
    assert "request body must be a JSON object, got null" in json.dumps(resp.get_json())
    assert state(client) == before
    assert_every_read_survives(client, vendor)


# -- query strings and headers that reach the journal -----------------------------------------

QUERIES = {
    "esputnik": ("GET", "/esputnik/api/v1/contacts?email=%ED%A0%80&firstname=%ff%fe", ESPUTNIK_AUTH),
    "octopush": ("POST", "/octopush/v1/public/contact/create?x=%ED%A0%80", OCTOPUSH_AUTH),
    "dengage": ("GET", "/dengage/rest/contacts/%ED%A0%80?contactFields=%ED%A0%80", None),
    "pushtech": ("GET", "/pushtech/v2/account/demo/contact?email=%ED%A0%80&name_first=%C3", PUSHTECH_AUTH),
}


@pytest.mark.parametrize("vendor", list(QUERIES))
def test_undecodable_paths_queries_and_headers_never_break_a_read(client, vendor):
    method, path, headers = QUERIES[vendor]
    headers = {**(headers or vendor_headers(client, vendor)), "X-Trace": "\xed\xa0\x80\xff"}  # raw bytes, as WSGI has them
    resp = client.open(path, method=method, headers=headers, data=b"{}", content_type="application/json")
    assert resp.status_code < 500, resp.data[:300]
    journal = assert_every_read_survives(client, vendor)
    assert journal["requests"][-1]["vendor"] == vendor


# -- auth headers that are not ASCII -----------------------------------------------------------

def _latin1(text: str) -> str:
    """What a WSGI server hands the app for a header sent as UTF-8 bytes."""
    return text.encode("utf-8").decode("latin-1")


NON_ASCII_AUTH = {
    "esputnik": [("GET", "/esputnik/api/v1/groups", {"Authorization": _latin1("Basic é")}),
                 ("GET", "/esputnik/api/v1/groups", {"Authorization": "Basic " + base64.b64encode(b"demo:\xe9").decode()}),
                 ("GET", "/esputnik/api/v1/groups", {"Authorization": _latin1("Basic ZGVtbzrp€")})],
    "octopush": [("POST", "/octopush/v1/public/contact-list/create",
                  {"api-login": "demo@example.com", "api-key": _latin1("octopush-demo-kéy")}),
                 ("POST", "/octopush/v1/public/contact-list/create", {"api-login": _latin1("démo"), "api-key": "é"})],
    "dengage": [("POST", "/dengage/rest/bulk/contacts", {"Authorization": _latin1("Bearer é")}),
                ("POST", "/dengage/rest/bulk/contacts", {"Authorization": _latin1("Bearér x")})],
    "pushtech": [("GET", "/pushtech/v2/account/demo/contact", {"Authorization": _latin1("Token token=é")}),
                 ("GET", "/pushtech/v2/account/demo/contact", {"Authorization": _latin1('Token token="pushtech-demo-secrét"')})],
}


@pytest.mark.parametrize("vendor", list(NON_ASCII_AUTH))
def test_a_non_ascii_auth_header_is_the_vendors_401(client, vendor):
    for method, path, headers in NON_ASCII_AUTH[vendor]:
        resp = client.open(path, method=method, headers=headers, json={"list_name": "x"})
        assert resp.status_code == 401, (headers, resp.status_code, resp.data[:300])
        assert error_shape(vendor, resp.get_json()), resp.data
    journal = assert_every_read_survives(client, vendor)
    assert all(e["headers"].get("Authorization", "***") == "***" and e["headers"].get("Api-Key", "***") == "***"
               for e in journal["requests"])


def test_non_ascii_auth_bytes_over_a_live_socket_are_401(app, live):
    """The same through a real server: the header bytes are UTF-8, not ASCII."""
    server = live(app)
    cases = [("GET", "/esputnik/api/v1/groups", [(b"Authorization", b"Basic \xc3\xa9")], 401),
             ("POST", "/octopush/v1/public/contact-list/create",
              [(b"api-login", b"demo@example.com"), (b"api-key", b"\xc3\xa9\xed\xa0\x80")], 401),
             ("POST", "/dengage/rest/bulk/contacts", [(b"Authorization", b"Bearer \xc3\xa9")], 401),
             ("GET", "/pushtech/v2/account/demo/contact", [(b"Authorization", b"Token token=\xc3\xa9")], 401)]
    for method, path, headers, status in cases:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        conn.putrequest(method, path)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", "2")
        conn.endheaders(b"{}")
        resp = conn.getresponse()
        assert resp.status == status, (path, resp.status, resp.read()[:300])
        resp.read()
        conn.close()
    client = app.test_client()
    for vendor in ("esputnik", "octopush", "dengage", "pushtech"):
        assert_every_read_survives(client, vendor)


# -- values that reached the store some other way ----------------------------------------------

def test_reads_survive_values_that_reached_the_store_without_a_request(client, engine):
    """An older store file or a fixture can hold what a request can no longer bring in: reads
    still answer, in strict JSON (a surrogate as its escape, NaN as null)."""
    contacts = engine.store.collection("pushtech", "demo", "contacts")
    deep: list = ["bottom"]
    for _ in range(300):
        deep = [deep]
    with engine.store.transaction():
        contacts.insert({"id": "0" * 24, "email": "old@example.com", "lone": "a\ud800b", "nan": float("nan"),
                         "inf": float("inf"), "deep": deep})
    resp = client.get("/_emulator/state?vendor=pushtech")
    assert resp.status_code == 200 and b'"a\\ud800b"' in resp.data  # the escape, in UTF-8 text
    found = [c for c in strict_json(resp)["vendors"]["pushtech"]["accounts"]["demo"]["contacts"] if c["id"] == "0" * 24]
    assert found[0]["lone"] == "a\ud800b" and found[0]["nan"] is None and found[0]["inf"] is None
    resp = client.get("/pushtech/v2/account/demo/contact/" + "0" * 24, headers=PUSHTECH_AUTH)
    assert resp.status_code == 200
    strict_json(resp)
    assert_every_read_survives(client, "pushtech")


# -- CSV text that reaches the store -----------------------------------------------------------

@pytest.mark.parametrize("cell, stored", [
    (b"a\xed\xa0\x80b", None),            # a surrogate's bytes: the file is not UTF-8, nothing stored
    (b"NaN", "NaN"),                       # text in a CSV stays text
    (b"\\ud800", "\\ud800"),
    (b"[" * 200, "[" * 200),
])
def test_csv_cells_never_store_what_a_read_cannot_answer(client, httpserver, cell, stored):
    httpserver.expect_request("/contacts.csv").respond_with_data(
        b"email,firstName,field_12345\nhostile@example.com,Ann," + cell + b"\n", content_type="text/csv")
    before = state(client)
    resp = client.post("/esputnik/api/v1/contacts/upload", json={"link": httpserver.url_for("/contacts.csv")},
                       headers=ESPUTNIK_AUTH)
    assert resp.status_code == 200, resp.data
    session = client.get(f"/esputnik/api/v1/importstatus/{resp.get_json()['asyncSessionId']}",
                         headers=ESPUTNIK_AUTH).get_json()
    contacts = state(client)["vendors"]["esputnik"]["accounts"]["demo"]["contacts"]
    if stored is None:
        assert session["status"] == "ERROR" and "not UTF-8" in session["error"]
        assert contacts == before["vendors"]["esputnik"]["accounts"]["demo"]["contacts"]
    else:
        assert session["status"] == "FINISHED", session
        [new] = [c for c in contacts if c["channels"][0]["value"] == "hostile@example.com"]
        assert new["fields"] == [{"id": 12345, "value": stored}]
    assert_every_read_survives(client, "esputnik")
