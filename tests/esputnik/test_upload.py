"""POST /contacts/upload: the CSV is fetched by the session's job; a failing link is an ERROR session."""
from __future__ import annotations

import base64
import socket

import pytest

from .conftest import API, AUTH, account_state, assert_error, by_email, contact, email, events, journal, status

CSV = ("email,sms,firstName,lastName,externalCustomerId,town,region,address,postcode,field_12345,nickname\n"
       "ann@example.com,+380 50 111 22 33,Ann,Lee,crm-1,London,West,First str. 1,12345,Kyiv,annie\n"
       "BOB@example.com,,Bob,,,,,,,,\n"
       "\n"
       "not-an-email,,Bad,,,,,,,,\n")


def upload(client, body, auth=AUTH) -> str:
    resp = client.post(f"{API}/contacts/upload", json=body, auth=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert set(resp.get_json()) == {"asyncSessionId"}
    return resp.get_json()["asyncSessionId"]


def with_credentials(url: str, user: str = "files", password: str = "s3cret") -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest}"


def test_upload_imports_the_csv_like_a_bulk_call(client, httpserver):
    auth = "Basic " + base64.b64encode(b"files:s3cret").decode()
    httpserver.expect_request("/contacts.csv", headers={"Authorization": auth}).respond_with_data(
        CSV.encode("utf-8"), content_type="text/csv")
    session = upload(client, {"link": with_credentials(httpserver.url_for("/contacts.csv")),
                              "groupNames": ["Customers"], "eventKeyForNewContacts": "uploaded"})
    result = status(client, session)
    assert result["status"] == "FINISHED", result
    docs = by_email(client)
    ann = docs["ann@example.com"]
    assert ann["channels"] == [{"type": "email", "value": "ann@example.com", "confirmed": True},
                               {"type": "sms", "value": "380501112233"}]
    assert (ann["firstName"], ann["lastName"], ann["externalCustomerId"]) == ("Ann", "Lee", "crm-1")
    assert ann["address"] == {"region": "West", "town": "London", "address": "First str. 1", "postcode": "12345"}
    assert ann["fields"] == [{"id": 12345, "value": "Kyiv"}]
    assert [g["name"] for g in ann["groups"]] == ["Customers"]
    assert docs["bob@example.com"]["lastName"] is None
    assert result["mapping"] == [{"dedupeValue": "ann@example.com", "contactId": ann["id"]},
                                 {"dedupeValue": "bob@example.com", "contactId": docs["bob@example.com"]["id"]}]
    assert [(f["index"], f["errorCode"]) for f in result["failedContacts"]] == [(2, "INVALID_EMAIL")]
    assert [e["type"] for e in events(client)] == ["uploaded", "uploaded"]
    [session_doc] = account_state(client)["sessions"]
    assert session_doc["kind"] == "upload"
    assert "s3cret" not in session_doc["link"] and "files:***@" in session_doc["link"]
    notes = {(n["field"], n["rule"]) for n in session_doc["notes"]}
    assert ("column nickname", "unknown CSV column ignored") in notes
    assert ("contacts[1].channels[0].value", "email lower-cased (matched case-insensitively)") in notes
    # the link's password never reaches the journal
    assert "s3cret" not in str(journal(client))


def test_upload_updates_existing_contacts_by_dedupe(client, httpserver):
    client.post(f"{API}/contact", json=contact(email("ann@example.com"), firstName="Old"), auth=AUTH)
    httpserver.expect_request("/c.csv").respond_with_data("email,firstName\nann@example.com,New\n")
    result = status(client, upload(client, {"link": httpserver.url_for("/c.csv"), "dedupeOn": "email"}))
    assert result["status"] == "FINISHED"
    [doc] = account_state(client)["contacts"]
    assert doc["firstName"] == "New"


def test_upload_waits_for_the_processing_delay(make_app, httpserver):
    from emulator.vendors.esputnik import VENDOR

    from .conftest import esputnik_fixture

    client = make_app(vendors=[VENDOR], fixture=esputnik_fixture(processing_delay_s=10)).test_client()
    client.post("/_emulator/clock", json={"freeze": "2026-01-05T00:00:00Z"})
    httpserver.expect_request("/c.csv").respond_with_data("email\nlater@example.com\n")
    session = upload(client, {"link": httpserver.url_for("/c.csv")})
    assert status(client, session)["status"] == "PROCESSING"
    assert len(httpserver.log) == 0
    client.post("/_emulator/clock", json={"advance": 10})
    assert status(client, session)["status"] == "FINISHED"
    assert list(by_email(client)) == ["later@example.com"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("case, words", [
    ("404", ["answered HTTP 404"]),
    ("500", ["answered HTTP 500"]),
    ("unreachable", ["could not be fetched", "ConnectionError"]),
    ("html", ["not a contact CSV", "no known column"]),
    ("binary", ["not UTF-8"]),
    ("nul", ["NUL"]),
    ("empty", ["file is empty"]),
    ("too large", ["larger than the 2000-byte cap"]),
])
def test_a_failing_link_makes_an_error_session_never_a_500(make_app, httpserver, case, words):
    from emulator.vendors.esputnik import VENDOR

    from .conftest import esputnik_fixture

    client = make_app(vendors=[VENDOR], fixture=esputnik_fixture(upload_max_bytes=2000)).test_client()
    link = httpserver.url_for("/file.csv")
    if case == "404":
        httpserver.expect_request("/file.csv").respond_with_data("missing", status=404)
    elif case == "500":
        httpserver.expect_request("/file.csv").respond_with_data("oops", status=500)
    elif case == "unreachable":
        link = f"http://127.0.0.1:{_closed_port()}/file.csv"
    elif case == "html":
        httpserver.expect_request("/file.csv").respond_with_data("<!doctype html><html><body>Login</body></html>",
                                                                 content_type="text/html")
    elif case == "binary":
        httpserver.expect_request("/file.csv").respond_with_data(b"\x89PNG\r\n\x1a\n\xff\xfe\xfa")
    elif case == "nul":
        httpserver.expect_request("/file.csv").respond_with_data(b"email\x00\nx@example.com\n")
    elif case == "empty":
        httpserver.expect_request("/file.csv").respond_with_data(b"")
    else:
        httpserver.expect_request("/file.csv").respond_with_data(b"email\n" + b"a@example.com\n" * 200)
    session = upload(client, {"link": link})
    resp = client.get(f"{API}/importstatus/{session}", auth=AUTH)
    assert resp.status_code == 200
    result = resp.get_json()
    assert result["status"] == "ERROR" and result["mapping"] == []
    for word in words:
        assert word in result["error"], result["error"]
    assert account_state(client)["contacts"] == []


def test_the_upload_timeout_is_an_account_setting(make_app):
    from emulator.vendors.esputnik import VENDOR

    from .conftest import esputnik_fixture

    # a server that takes the connection and never answers: the read times out
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        link = f"http://127.0.0.1:{silent.getsockname()[1]}/slow.csv"
        client = make_app(vendors=[VENDOR], fixture=esputnik_fixture(upload_timeout_s=0.05)).test_client()
        result = status(client, upload(client, {"link": link}))
    assert result["status"] == "ERROR" and "no complete answer within the 0.05 s deadline" in result["error"]


@pytest.mark.parametrize("body, words", [
    ({}, ["link is required"]),
    ({"link": ""}, ["link is required"]),
    ({"link": ["http://x/a.csv"]}, ["link is required"]),
    ({"link": "ftp://files.example.com/a.csv"}, ["http or https"]),
    ({"link": "file:///etc/passwd"}, ["http or https"]),
    ({"link": "not a url"}, ["http or https"]),
    ({"link": "https://u:pw@files.example.com/a.csv", "dedupeOn": "phone"}, ["dedupeOn"]),
    ({"link": "https://files.example.com/a.csv", "groupNames": ["Active"]}, ["Dynamic"]),
    ({"link": "https://files.example.com/a.csv", "eventKeyForNewContacts": "a,b"}, ["eventKeyForNewContacts"]),
])
def test_bad_upload_requests_are_400_and_start_no_session(client, body, words):
    body_error = assert_error(client.post(f"{API}/contacts/upload", json=body, auth=AUTH), 400, *words)
    assert "pw@" not in body_error["message"]
    assert account_state(client)["sessions"] == []
