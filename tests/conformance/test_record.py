"""``contact-emulator record``: the proxy forwards, answers unchanged, redacts, writes one file
per exchange (a stand-in vendor on a loopback port answers like the vendor pages)."""
from __future__ import annotations

import base64
import gzip
import json
import os
import re
import subprocess
import sys
import time

import pytest
import requests
from werkzeug.wrappers import Response

from emulator.conformance.cassette import FORMAT, read_cassette

from .conftest import (
    DENGAGE_PASSWORD,
    DENGAGE_TOKEN,
    DENGAGE_UPSERT,
    PUSHTECH_BULK,
    PUSHTECH_BULK_QUEUED,
    PUSHTECH_SECRET,
    dengage_pages,
    pushtech_token,
    recording,
)


def files(directory) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def all_text(directory) -> str:
    return "\n".join(p.read_text() for p in sorted(directory.iterdir()))


def test_the_proxy_forwards_the_request_and_answers_the_vendors_response_unchanged(httpserver, cassette):
    raw_answer = json.dumps(PUSHTECH_BULK_QUEUED, indent=1).encode()  # the vendor's own bytes, spacing included
    httpserver.expect_request("/v2/account/acme/contact/bulk", method="POST").respond_with_response(Response(
        raw_answer, status=201, headers={"Content-Type": "application/json; charset=utf-8", "X-Request-Id": "r-81",
                                         "Set-Cookie": "session=s3cr3t-cookie; HttpOnly"}))
    body = json.dumps(PUSHTECH_BULK).encode()
    with recording("pushtech", httpserver.url_for("/"), cassette) as (url, _):
        resp = requests.post(f"{url}/v2/account/acme/contact/bulk?trace=1", data=body,
                             headers={**pushtech_token(), "Content-Type": "application/json", "X-Client": "crm-sync"})
    assert resp.status_code == 201
    assert resp.content == raw_answer
    assert resp.headers["X-Request-Id"] == "r-81" and resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.headers["Set-Cookie"] == "session=s3cr3t-cookie; HttpOnly"  # the client gets it, the file does not
    (seen, _), = httpserver.log
    assert seen.path == "/v2/account/acme/contact/bulk" and seen.query_string == b"trace=1"
    assert seen.get_data() == body
    assert seen.headers["Authorization"] == f"Token token={PUSHTECH_SECRET}"
    assert seen.headers["X-Client"] == "crm-sync"
    assert "python-requests" in seen.headers["User-Agent"]  # the client's, not a second one added by the proxy


def test_each_exchange_is_one_file_with_a_sequence_number_and_the_documented_fields(httpserver, cassette):
    httpserver.expect_request("/v2/account/acme/contact/bulk", method="POST").respond_with_json(
        PUSHTECH_BULK_QUEUED, status=201, headers={"X-Request-Id": "r-1"})
    httpserver.expect_request("/v2/account/acme/contact/bulk/550aac3da096734ce5000002").respond_with_json(
        {"bulk": {**PUSHTECH_BULK_QUEUED["bulk"], "status": "finished"}})
    with recording("pushtech", httpserver.url_for("/"), cassette) as (url, _):
        requests.post(f"{url}/v2/account/acme/contact/bulk", json=PUSHTECH_BULK, headers=pushtech_token())
        requests.get(f"{url}/v2/account/acme/contact/bulk/550aac3da096734ce5000002", params={"a": ["1", "2"]},
                     headers=pushtech_token())
    assert sorted(p.name for p in cassette.iterdir()) == ["000001.json", "000002.json"]
    first, second = files(cassette)
    assert first["format"] == FORMAT and first["vendor"] == "pushtech" and first["seq"] == 1 and second["seq"] == 2
    assert first["source"].startswith(f"recorded from {httpserver.url_for('/').rstrip('/')}")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", first["started_at"])
    assert isinstance(first["elapsed_ms"], float) and first["elapsed_ms"] >= 0
    request = first["request"]
    assert request["method"] == "POST" and request["path"] == "/v2/account/acme/contact/bulk"
    assert request["query"] == {} and request["body"] == PUSHTECH_BULK
    assert request["headers"]["Authorization"] == "***" and request["headers"]["Content-Type"] == "application/json"
    assert request["credentials"] == 1
    response = first["response"]
    assert response["status"] == 201 and response["body"] == PUSHTECH_BULK_QUEUED
    assert response["headers"]["X-Request-Id"] == "r-1"
    assert second["request"]["method"] == "GET" and second["request"]["query"] == {"a": ["1", "2"]}
    assert "body" not in second["request"] and second["response"]["body"]["bulk"]["status"] == "finished"
    assert [e.seq for e in read_cassette(cassette)] == [1, 2]  # what verify reads


def test_the_files_never_hold_a_credential(httpserver, cassette):
    """Basic auth, a token header, a password in the body, an API key in the query, the token
    the vendor hands out and a cookie it sets: none of them reaches a file."""
    dengage_pages(httpserver)
    httpserver.expect_request("/api/v1/contact", method="POST").respond_with_response(Response(
        b'{"id": 95064156}', status=200, content_type="application/json",
        headers={"Set-Cookie": "JSESSIONID=cookie-secret-42"}))
    basic = base64.b64encode(b"acme:esputnik-real-key-9d1").decode()
    with recording("dengage", httpserver.url_for("/"), cassette / "dengage") as (url, _):
        requests.post(f"{url}/rest/login", json={"userkey": "acme-api", "password": DENGAGE_PASSWORD})
        requests.post(f"{url}/rest/bulk/contacts?api_key=query-secret-3e", json=DENGAGE_UPSERT,
                      headers={"Authorization": f"Bearer {DENGAGE_TOKEN}"})
    with recording("esputnik", httpserver.url_for("/"), cassette / "esputnik") as (url, _):
        requests.post(f"{url}/api/v1/contact", json={"channels": [{"type": "email", "value": "a@b.co"}]},
                      headers={"Authorization": f"Basic {basic}"})
    text = all_text(cassette / "dengage") + all_text(cassette / "esputnik")
    for secret in (DENGAGE_PASSWORD, DENGAGE_TOKEN, "query-secret-3e", basic, "esputnik-real-key-9d1",
                   "cookie-secret-42"):
        assert secret not in text, secret
    login, upsert = files(cassette / "dengage")
    assert login["request"]["body"] == {"userkey": "acme-api", "password": "***"}
    assert login["response"]["body"]["access_token"] == "***"
    assert upsert["request"]["query"] == {"api_key": "***"}
    assert files(cassette / "esputnik")[0]["response"]["headers"]["Set-Cookie"] == "***"


def test_credentials_are_numbered_and_a_token_belongs_to_the_login_that_got_it(httpserver, cassette):
    dengage_pages(httpserver)
    with recording("dengage", httpserver.url_for("/"), cassette) as (url, _):
        requests.post(f"{url}/rest/login", json={"userkey": "acme-api", "password": DENGAGE_PASSWORD})
        requests.post(f"{url}/rest/bulk/contacts", json=DENGAGE_UPSERT,
                      headers={"Authorization": f"Bearer {DENGAGE_TOKEN}"})
        requests.post(f"{url}/rest/login", json={"userkey": "acme-api", "password": "not-the-password"})
        requests.post(f"{url}/rest/bulk/contacts", json=DENGAGE_UPSERT, headers={"Authorization": "Bearer stale"})
        requests.get(f"{url}/rest/contacts/C-1")  # no credentials at all
    assert [f["request"]["credentials"] for f in files(cassette)] == [1, 1, "rejected", "rejected", None]


def test_a_compressed_answer_goes_back_as_sent_and_is_kept_decoded(httpserver, cassette):
    payload = json.dumps(PUSHTECH_BULK_QUEUED).encode()
    httpserver.expect_request("/v2/account/acme/contact/bulk").respond_with_response(Response(
        gzip.compress(payload), status=201, content_type="application/json", headers={"Content-Encoding": "gzip"}))
    with recording("pushtech", httpserver.url_for("/"), cassette) as (url, _):
        resp = requests.post(f"{url}/v2/account/acme/contact/bulk", json=PUSHTECH_BULK, headers=pushtech_token(),
                             stream=True)
        raw = resp.raw.read(decode_content=False)
    assert resp.headers["Content-Encoding"] == "gzip" and gzip.decompress(raw) == payload
    assert files(cassette)[0]["response"]["body"] == PUSHTECH_BULK_QUEUED


def test_the_emulator_prefix_is_accepted_too(httpserver, cassette):
    httpserver.expect_request("/v2/account/acme/contact/bulk").respond_with_json(PUSHTECH_BULK_QUEUED, status=201)
    with recording("pushtech", httpserver.url_for("/"), cassette) as (url, _):
        assert requests.post(f"{url}/pushtech/v2/account/acme/contact/bulk", json=PUSHTECH_BULK,
                             headers=pushtech_token()).status_code == 201
    assert files(cassette)[0]["request"]["path"] == "/v2/account/acme/contact/bulk"


def test_a_body_over_the_cap_is_refused_and_nothing_is_forwarded_or_written(httpserver, cassette):
    httpserver.expect_request("/v2/account/acme/contact/bulk").respond_with_json({}, status=201)
    with recording("pushtech", httpserver.url_for("/"), cassette, max_body_bytes=100) as (url, _):
        resp = requests.post(f"{url}/v2/account/acme/contact/bulk", json=PUSHTECH_BULK, headers=pushtech_token())
    assert resp.status_code == 413 and resp.json()["error"].startswith("contact-emulator record: request body over 100")
    assert httpserver.log == [] and list(cassette.glob("*.json")) == []


def test_an_answer_over_the_cap_is_a_502_and_nothing_is_written(httpserver, cassette):
    httpserver.expect_request("/v2/account/acme/contact/bulk").respond_with_data(b"x" * 5000, status=201)
    with recording("pushtech", httpserver.url_for("/"), cassette, max_body_bytes=1000) as (url, _):
        resp = requests.post(f"{url}/v2/account/acme/contact/bulk", json={}, headers=pushtech_token())
    assert resp.status_code == 502 and "over 1000 bytes" in resp.json()["error"]
    assert list(cassette.glob("*.json")) == []


def test_a_vendor_slower_than_the_timeout_is_a_504_and_nothing_is_written(httpserver, cassette):
    def slow(request):
        time.sleep(1.5)
        return Response(b"{}", status=201, content_type="application/json")

    httpserver.expect_request("/v2/account/acme/contact/bulk").respond_with_handler(slow)
    with recording("pushtech", httpserver.url_for("/"), cassette, timeout_s=0.3) as (url, _):
        resp = requests.post(f"{url}/v2/account/acme/contact/bulk", json={}, headers=pushtech_token())
    assert resp.status_code == 504 and "did not answer within 0.3 s" in resp.json()["error"]
    assert list(cassette.glob("*.json")) == []


def test_an_unreachable_vendor_is_a_502(cassette):
    with recording("pushtech", "http://127.0.0.1:9", cassette, timeout_s=2) as (url, _):
        resp = requests.post(f"{url}/v2/account/acme/contact/bulk", json={})
    assert resp.status_code == 502 and "cannot be reached" in resp.json()["error"]
    assert list(cassette.glob("*.json")) == []


def test_recording_again_into_a_cassette_continues_its_numbers(httpserver, cassette):
    httpserver.expect_request("/v2/account/acme/contact/bulk").respond_with_json(PUSHTECH_BULK_QUEUED, status=201)
    for _ in range(2):
        with recording("pushtech", httpserver.url_for("/"), cassette) as (url, _):
            requests.post(f"{url}/v2/account/acme/contact/bulk", json=PUSHTECH_BULK, headers=pushtech_token())
    assert [f["seq"] for f in files(cassette)] == [1, 2]


# -- the command ---------------------------------------------------------------------------
def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
    return subprocess.run([sys.executable, "-m", "emulator", *args], capture_output=True, text=True,
                          timeout=timeout, env=clean)


def one_line_error(done: subprocess.CompletedProcess, *names: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == "" and "Traceback" not in done.stderr, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def test_the_record_command_serves_on_loopback_and_writes_the_exchanges(httpserver, cassette):
    httpserver.expect_request("/v2/account/acme/contact/bulk").respond_with_json(PUSHTECH_BULK_QUEUED, status=201)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "record", "--vendor", "pushtech", "--upstream",
                             httpserver.url_for("/"), "--out", str(cassette), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean)
    try:
        banner = proc.stdout.readline()
        match = re.search(r"through http://127\.0\.0\.1:(\d+) to ", banner)
        assert match, banner
        url = f"http://127.0.0.1:{match.group(1)}"
        resp = requests.post(f"{url}/v2/account/acme/contact/bulk", json=PUSHTECH_BULK, headers=pushtech_token())
        assert resp.status_code == 201 and resp.json() == PUSHTECH_BULK_QUEUED
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "pushtech POST /v2/account/acme/contact/bulk 201" in err and "-> 000001.json" in err
    assert PUSHTECH_SECRET not in err + out + all_text(cassette)
    assert [e.path for e in read_cassette(cassette)] == ["/v2/account/acme/contact/bulk"]


@pytest.mark.parametrize(("args", "names"), [
    (["--vendor", "mailchimp"], ["--vendor mailchimp", "esputnik"]),
    (["--upstream", "ftp://esputnik.com"], ["--upstream", "http(s) URL"]),
    (["--upstream", "https://esputnik.com/?x=1"], ["--upstream", "no query"]),
    (["--port", "99999"], ["--port 99999", "0–65535"]),
    (["--timeout-s", "0"], ["--timeout-s 0", "> 0"]),
    (["--max-body-bytes", "-5"], ["--max-body-bytes -5", "≥ 1"]),
])
def test_bad_record_flags_are_one_line_and_exit_code_2(tmp_path, args, names):
    base = {"--vendor": "esputnik", "--upstream": "https://esputnik.com", "--out": str(tmp_path / "c")}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    one_line_error(run_cli("record", *[x for pair in base.items() for x in pair]), *names)


def test_record_into_a_file_or_another_vendors_cassette_is_refused(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("not a directory")
    one_line_error(run_cli("record", "--vendor", "esputnik", "--upstream", "https://esputnik.com", "--out",
                           str(plain)), "--out", str(plain), "not a directory")
    other = tmp_path / "octopush-cassette"
    other.mkdir()
    (other / "000001.json").write_text(json.dumps({"format": FORMAT, "vendor": "octopush", "seq": 1}))
    one_line_error(run_cli("record", "--vendor", "esputnik", "--upstream", "https://esputnik.com", "--out",
                           str(other)), str(other), "octopush")


def test_record_on_a_port_in_use_says_so(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        line = one_line_error(run_cli("record", "--vendor", "esputnik", "--upstream", "https://esputnik.com",
                                      "--out", str(tmp_path / "c"), "--port", str(port)))
    assert f"port {port} is in use" in line
