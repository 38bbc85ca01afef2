"""``contact-emulator verify`` / ``emulator.verify``: record a stand-in vendor through the proxy,
then replay against a fresh emulator: agree, differ (the report names the field), no route,
ids through the correspondence map, the recording's clock, bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

import emulator
from emulator.conformance.cassette import FORMAT, CassetteError, CassetteWriter
from emulator.core import outbound

from .conftest import (
    DENGAGE_PASSWORD,
    DENGAGE_TOKEN,
    DENGAGE_UPSERT,
    PUSHTECH_BULK,
    PUSHTECH_BULK_QUEUED,
    PUSHTECH_CONTACT,
    PUSHTECH_CREATED,
    dengage_pages,
    pushtech_token,
    recording,
)
from .test_record import one_line_error, run_cli


def record_dengage(httpserver, cassette) -> None:
    dengage_pages(httpserver)
    with recording("dengage", httpserver.url_for("/"), cassette) as (url, _):
        assert requests.post(f"{url}/rest/login", json={"userkey": "acme-api", "password": DENGAGE_PASSWORD}).ok
        assert requests.post(f"{url}/rest/bulk/contacts", json=DENGAGE_UPSERT,
                             headers={"Authorization": f"Bearer {DENGAGE_TOKEN}"}).ok
        assert requests.get(f"{url}/rest/contacts/C-1", params={"contactFields": "contact_key,name,email"},
                            headers={"Authorization": f"Bearer {DENGAGE_TOKEN}"}).ok
        assert requests.post(f"{url}/rest/bulk/contacts", json=DENGAGE_UPSERT,
                             headers={"Authorization": "Bearer expired-long-ago"}).status_code == 401
        assert requests.post(f"{url}/rest/login", json={"userkey": "acme-api", "password": "typo"}).status_code == 401


def exchange(seq: int, method: str, path: str, status: int, body=None, answer=None, vendor="pushtech", **request):
    """One hand-written exchange (as the cassette format documents it)."""
    out = {"format": FORMAT, "vendor": vendor, "seq": seq, "source": "test",
           "request": {"method": method, "path": path, "headers": {"Authorization": "***",
                                                                  "Content-Type": "application/json"},
                       "credentials": 1, **request},
           "response": {"status": status, "headers": {"Content-Type": "application/json"}}}
    if body is not None:
        out["request"]["body"] = body
    if answer is not None:
        out["response"]["body"] = answer
    return out


def write_cassette(directory, *exchanges) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for item in exchanges:
        (directory / f"{item['seq']:03d}.json").write_text(json.dumps(item))


def test_a_recording_of_the_documented_answers_agrees(httpserver, cassette):
    record_dengage(httpserver, cassette)
    report = emulator.verify(cassette)
    assert [r.outcome for r in report.results] == ["agree"] * 5, report.table()
    assert report.ok and report.vendor == "dengage"
    assert report.counts() == {"agree": 5, "differ": 0, "known": 0, "no route": 0}
    assert {row["endpoint"]: row["agree"] for row in report.endpoints()} == {
        "POST /rest/login": 2, "POST /rest/bulk/contacts": 2, "GET /rest/contacts/{contact_key}": 1}
    # the emulator lower-cased the email as the vendor did: an echoed value, compared
    shown = report.results[2]
    assert shown.status == 200 and shown.differences == []
    assert any(n["field"].endswith("email") and n["kind"] == "cast" for n in report.results[1].notes)


def test_a_stand_in_that_answers_differently_is_named_field_by_field(httpserver, cassette, tmp_path):
    """The stand-in upper-cases name_first in its answer and drops tags: the report names both
    fields with both values, the command exits 1 and the JSON report says the same."""
    answer = {**PUSHTECH_CREATED, "name_first": "JOHN"}
    del answer["tags"]
    httpserver.expect_request("/v2/account/acme/contact", method="POST").respond_with_json(answer, status=201)
    with recording("pushtech", httpserver.url_for("/"), cassette) as (url, _):
        requests.post(f"{url}/v2/account/acme/contact", json=PUSHTECH_CONTACT, headers=pushtech_token())
    report = emulator.verify(cassette)
    (result,) = report.results
    assert result.outcome == "differ" and not report.ok
    by_where = {d.where: d for d in result.differences}
    assert by_where["$.name_first"].what == "value"
    assert (by_where["$.name_first"].vendor, by_where["$.name_first"].emulator) == ("JOHN", "John")
    assert by_where["$.tags"].what == "extra key" and by_where["$.tags"].emulator == ["tag1", "tag2"]
    assert "$.id" not in by_where  # ids differ by nature: paired, not compared
    report_file = tmp_path / "report.json"
    done = run_cli("verify", str(cassette), "--report", str(report_file))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "$.name_first: value: vendor \"JOHN\", emulator \"John\"" in done.stdout
    assert "POST /v2/account/{account_id}/contact" in done.stdout
    data = json.loads(report_file.read_text())
    assert data["ok"] is False and data["summary"]["differ"] == 1
    (item,) = [d for d in data["exchanges"][0]["differences"] if d["where"] == "$.name_first"]
    assert item == {"what": "value", "where": "$.name_first", "vendor": "JOHN", "emulator": "John",
                    "detail": "a value the client sent, answered back"}


def test_an_endpoint_the_emulator_does_not_have_is_reported_as_no_route(httpserver, cassette):
    httpserver.expect_request("/v2/account/acme/segments").respond_with_json({"segments": []})
    httpserver.expect_request("/v2/account/acme/contact/bulk").respond_with_json(PUSHTECH_BULK_QUEUED, status=201)
    with recording("pushtech", httpserver.url_for("/"), cassette) as (url, _):
        requests.get(f"{url}/v2/account/acme/segments", headers=pushtech_token())
        requests.post(f"{url}/v2/account/acme/contact/bulk", json=PUSHTECH_BULK, headers=pushtech_token())
    report = emulator.verify(cassette)
    assert [r.outcome for r in report.results] == ["no route", "agree"], report.table()
    assert report.results[0].endpoint == "GET /v2/account/acme/segments"
    assert report.endpoints()[0]["no route"] == 1 and not report.ok
    done = run_cli("verify", str(cassette))
    assert done.returncode == 1 and "no route" in done.stdout


def test_ids_go_through_the_correspondence_map(httpserver, cassette):
    """The vendor's contact id is paired with the emulator's, put into the later paths, and
    must come back paired in the later answers."""
    vendor_id = PUSHTECH_CREATED["id"]
    httpserver.expect_request("/v2/account/acme/contact", method="POST").respond_with_json(PUSHTECH_CREATED, status=201)
    httpserver.expect_request(f"/v2/account/acme/contact/{vendor_id}", method="PUT").respond_with_json(
        {**PUSHTECH_CREATED, "city": "London"})
    with recording("pushtech", httpserver.url_for("/"), cassette) as (url, _):
        requests.post(f"{url}/v2/account/acme/contact", json=PUSHTECH_CONTACT, headers=pushtech_token())
        requests.put(f"{url}/v2/account/acme/contact/{vendor_id}", json={"city": "London"}, headers=pushtech_token())
    report = emulator.verify(cassette)
    create, update = report.results
    assert update.status == 200, report.table()  # the emulator's id was in the path: found, not a 404
    assert not [d for d in create.differences + update.differences if d.what in ("id", "value", "status")]
    emulator_id = report.correspondence[vendor_id]
    assert emulator_id != vendor_id and len(emulator_id) == 24
    assert "acme" not in report.correspondence  # the generated fixture's account is named as the recorded one


def test_a_vendor_id_that_does_not_stay_paired_differs(tmp_path):
    """Create answers one id, the read of that contact another: two vendor ids for one
    emulator id is a difference (the emulator keeps one contact where the vendor has two)."""
    cassette = tmp_path / "c"
    write_cassette(cassette,
                   exchange(1, "POST", "/v2/account/demo/contact", 201, PUSHTECH_CONTACT, PUSHTECH_CREATED),
                   exchange(2, "GET", "/v2/account/demo/contact/550aac3da096734ce5000001", 200,
                            answer={**PUSHTECH_CREATED, "id": "650aac3da096734ce5000009"}))
    report = emulator.verify(cassette)
    (problem,) = [d for d in report.results[1].differences if d.what == "id"]
    assert problem.where == "$.id" and "two vendor ids are one emulator id" in problem.detail


def test_a_single_item_sent_as_an_object_differs_in_array_ness(tmp_path):
    cassette = tmp_path / "c"
    write_cassette(cassette, exchange(
        1, "POST", "/v2/account/demo/contact/bulk", 201, PUSHTECH_BULK,
        {"bulk": {**PUSHTECH_BULK_QUEUED["bulk"], "contacts_webhook_extra_fields": "name_first"}}))
    report = emulator.verify(cassette)
    (problem,) = report.results[0].differences
    assert (problem.what, problem.where) == ("array-ness", "$.bulk.contacts_webhook_extra_fields")
    assert problem.detail == "the vendor sent a single item alone, not in an array"
    assert (problem.vendor, problem.emulator) == ("name_first", ["name_first"])
    listed = tmp_path / "listed"  # an object where the emulator lists one: the quirk of some vendors' lists
    write_cassette(listed, exchange(1, "POST", "/v2/account/demo/contact", 201, PUSHTECH_CONTACT, PUSHTECH_CREATED),
                   exchange(2, "GET", "/v2/account/demo/contact", 200, answer={"contacts": PUSHTECH_CREATED}))
    (problem,) = [d for d in emulator.verify(listed).results[1].differences if d.what == "array-ness"]
    assert problem.where == "$.contacts" and problem.vendor == PUSHTECH_CREATED
    assert problem.detail == "the vendor sent a single item alone, not in an array"


def test_the_recordings_timing_drives_the_emulator_clock(tmp_path):
    """eSputnik refuses the same subscribe body within 60 s: recorded 61 s apart both are
    accepted, and the replay agrees; recorded 5 s apart the vendor said 409, and so does the emulator."""
    body = {"contact": {"channels": [{"type": "email", "value": "ann@example.com"}]}}

    def subscribe(seq, at, status, answer):
        item = exchange(seq, "POST", "/api/v1/contact/subscribe", status, body, answer, vendor="esputnik")
        item["started_at"] = at
        return item

    apart = tmp_path / "apart"
    write_cassette(apart, subscribe(1, "2026-12-01T10:00:00.000Z", 200, {"id": 1}),
                   subscribe(2, "2026-12-01T10:01:01.000Z", 200, {"id": 1}))
    assert [r.status for r in emulator.verify(apart).results] == [200, 200]
    close = tmp_path / "close"
    write_cassette(close, subscribe(1, "2026-12-01T10:00:00.000Z", 200, {"id": 1}),
                   subscribe(2, "2026-12-01T10:00:05.000Z", 409, {"status": 409, "message": "Duplicated request"}))
    assert [r.status for r in emulator.verify(close).results] == [200, 409]


def test_rejected_and_missing_credentials_are_replayed_as_such(tmp_path):
    cassette = tmp_path / "c"
    rejected = exchange(1, "POST", "/v2/account/demo/contact", 401, PUSHTECH_CONTACT,
                        {"error": "authorization failure for account: demo"}, credentials="rejected")
    anonymous = exchange(2, "POST", "/v2/account/demo/contact", 401, PUSHTECH_CONTACT,
                         {"error": "authorization failure for account: demo"}, credentials=None)
    anonymous["request"]["headers"] = {"Content-Type": "application/json"}
    accepted = exchange(3, "POST", "/v2/account/demo/contact", 201, PUSHTECH_CONTACT, PUSHTECH_CREATED)
    write_cassette(cassette, rejected, anonymous, accepted)
    report = emulator.verify(cassette)
    assert [r.status for r in report.results] == [401, 401, 201]
    assert [d for r in report.results[:2] for d in r.differences] == []


def test_a_fixture_account_stands_for_the_recorded_one(tmp_path):
    """With --fixture, the first recorded Pushtech account is the fixture's first: the path is
    rewritten to it and the secret is the fixture's."""
    cassette = tmp_path / "c"
    write_cassette(cassette, exchange(1, "POST", "/v2/account/acme-prod/contact/bulk", 201, PUSHTECH_BULK,
                                      PUSHTECH_BULK_QUEUED))
    report = emulator.verify(cassette, fixture="empty")
    assert report.results[0].status == 201 and report.ok, report.table()
    assert report.correspondence["acme-prod"] == "demo"
    done = run_cli("verify", str(cassette), "--fixture", "empty")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fixture 'empty'" in done.stdout


def test_nothing_leaves_the_machine_while_replaying(httpserver, tmp_path):
    """A recorded bulk names a webhook: the emulator's job runs and its delivery fails at once
    instead of reaching the URL."""
    hook = httpserver.url_for("/hook")
    httpserver.expect_request("/hook").respond_with_data("ok")
    cassette = tmp_path / "c"
    bulk = {**PUSHTECH_BULK, "webhook_url": hook}
    queued = {"bulk": {**PUSHTECH_BULK_QUEUED["bulk"], "webhook_url": hook}}
    write_cassette(cassette, exchange(1, "POST", "/v2/account/demo/contact/bulk", 201, bulk, queued),
                   exchange(2, "GET", "/v2/account/demo/contact", 200, answer={"contacts": []}))
    report = emulator.verify(cassette)
    assert [r.status for r in report.results] == [201, 200]
    assert httpserver.log == []  # verify waited for the attempt: it was made, and refused
    assert requests.get(hook).text == "ok"  # outbound calls work again afterwards
    assert outbound.call("POST", hook, deadline_s=5).status == 200


def test_known_differences_are_reported_and_do_not_fail(tmp_path):
    cassette = tmp_path / "c"
    answer = {**PUSHTECH_CREATED, "name_first": "JOHN"}
    write_cassette(cassette, exchange(1, "POST", "/v2/account/demo/contact", 201, PUSHTECH_CONTACT, answer))
    found = emulator.verify(cassette)
    known = tmp_path / "known.json"
    known.write_text(json.dumps({"format": "contact-emulator-known-differences/1", "differences": [
        {"vendor": "pushtech", "file": "001.json", "what": d.what, "where": d.where, "reason": "test"}
        for d in found.results[0].differences] + [
        {"vendor": "pushtech", "file": "001.json", "what": "value", "where": "$.city", "reason": "fixed"},
        {"vendor": "esputnik", "file": "001.json", "what": "value", "where": "$.x", "reason": "another vendor"}]}))
    report = emulator.verify(cassette, known=known)
    assert report.ok and report.results[0].outcome == "known"
    assert [s["where"] for s in report.stale_known] == ["$.city"]
    done = run_cli("verify", str(cassette), "--known", str(known))
    assert done.returncode == 0 and "[known]" in done.stdout and "no longer seen" in done.stdout


# -- bad input: one line naming the file and the problem, exit code 2 --------------------------
def test_a_missing_cassette(tmp_path):
    one_line_error(run_cli("verify", str(tmp_path / "nowhere")), str(tmp_path / "nowhere"), "no such directory")
    with pytest.raises(CassetteError, match="no such directory"):
        emulator.verify(tmp_path / "nowhere")


def test_an_empty_or_unreadable_cassette(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(run_cli("verify", str(empty)), str(empty), "no exchange")
    (empty / "001.json").mkdir()  # a name verify must read and cannot
    one_line_error(run_cli("verify", str(empty)), "001.json", "cannot be read")


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json", "not valid JSON"),
    ('{"vendor": "pushtech", "seq": 1}', "format: must be"),
    ('["a list"]', "must hold a JSON object"),
    (json.dumps({**exchange(1, "POST", "/x", 200), "seq": 0}), "seq: must be an integer ≥ 1"),
    (json.dumps({**exchange(1, "POST", "/x", 200), "vendor": "mailchimp"}), "vendor: must be one of"),
    (json.dumps(exchange(1, "post", "/x", 200)), "request.method"),
    (json.dumps(exchange(1, "POST", "x", 200)), "request.path"),
    (json.dumps(exchange(1, "POST", "/x", 99)), "response.status"),
    (json.dumps(exchange(1, "POST", "/x", 200, credentials=0)), "request.credentials"),
    (json.dumps({**exchange(1, "POST", "/x", 200), "started_at": "yesterday"}), "started_at"),
])
def test_a_malformed_file(tmp_path, content, problem):
    cassette = tmp_path / "c"
    cassette.mkdir()
    (cassette / "001.json").write_bytes(content.encode())
    line = one_line_error(run_cli("verify", str(cassette)), "001.json", problem)
    assert line.startswith(f"contact-emulator: {cassette / '001.json'}: ")


def test_a_cassette_of_another_vendor(tmp_path):
    cassette = tmp_path / "c"
    write_cassette(cassette, exchange(1, "POST", "/v2/account/demo/contact", 201, vendor="pushtech"))
    one_line_error(run_cli("verify", str(cassette), "--vendor", "esputnik"), "001.json", "pushtech",
                   "--vendor is esputnik")
    write_cassette(cassette, exchange(2, "POST", "/api/v1/contact", 200, vendor="esputnik"))
    one_line_error(run_cli("verify", str(cassette)), "002.json", "esputnik", "one vendor per cassette")


def test_a_sequence_number_used_twice(tmp_path):
    cassette = tmp_path / "c"
    write_cassette(cassette, exchange(1, "POST", "/v2/account/demo/contact", 201))
    (cassette / "001-again.json").write_text(json.dumps(exchange(1, "POST", "/v2/account/demo/contact", 201)))
    one_line_error(run_cli("verify", str(cassette)), "seq 1 is also")


def test_a_fixture_with_too_few_accounts_or_none_at_all(tmp_path):
    cassette = tmp_path / "c"
    write_cassette(cassette, exchange(1, "POST", "/v2/account/a/contact", 201, PUSHTECH_CONTACT),
                   exchange(2, "POST", "/v2/account/b/contact", 201, PUSHTECH_CONTACT))
    one_line_error(run_cli("verify", str(cassette), "--fixture", "empty"), "--fixture", "2 pushtech accounts",
                   "declares 1")
    one_line_error(run_cli("verify", str(cassette), "--fixture", "no-such-fixture"), "--fixture no-such-fixture",
                   "not found")
    assert [r.status for r in emulator.verify(cassette).results] == [201, 201]  # generated: one account each


def test_bad_verify_flags(tmp_path):
    one_line_error(run_cli("verify", str(tmp_path), "--vendor", "mailchimp"), "--vendor mailchimp")
    one_line_error(run_cli("verify", str(tmp_path), "--seed", "x"), "--seed x")
    one_line_error(run_cli("verify", str(tmp_path), "--report", str(tmp_path / "no" / "r.json")), "--report")
    one_line_error(run_cli("verify"), "DIR")
    known = tmp_path / "known.json"
    known.write_text("[]")
    cassette = tmp_path / "c"
    write_cassette(cassette, exchange(1, "POST", "/v2/account/demo/contact", 201))
    one_line_error(run_cli("verify", str(cassette), "--known", str(known)), str(known), "format")


def test_the_recorder_and_verify_read_the_same_format(tmp_path):
    """What CassetteWriter writes, read_cassette reads (a file verify cannot read is never written)."""
    writer = CassetteWriter(tmp_path / "c", "pushtech")
    writer.write({"request": {"method": "GET", "path": "/v2/account/demo/contact", "headers": {}, "query": {},
                              "credentials": None},
                  "response": {"status": 401, "headers": {}, "body": {"error": "authorization failure for "
                                                                               "account: demo"}}})
    report = emulator.verify(tmp_path / "c")
    assert report.ok and report.results[0].status == 401
    assert os.listdir(tmp_path / "c") == ["000001.json"]


def test_verify_runs_as_a_module_too(tmp_path):
    cassette = tmp_path / "c"
    write_cassette(cassette, exchange(1, "POST", "/v2/account/demo/contact/bulk", 201, PUSHTECH_BULK,
                                      PUSHTECH_BULK_QUEUED))
    done = subprocess.run([sys.executable, "-m", "emulator", "verify", str(cassette)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("agree: 1 agree, 0 differ")


def _esputnik_client(base):
    auth = ("demo", "esputnik-demo-key")
    contact = {"channels": [{"type": "email", "value": "ann@example.com"}], "firstName": "Ann"}
    new = requests.post(f"{base}/api/v1/contact", json=contact, auth=auth).json()["id"]
    requests.get(f"{base}/api/v1/contact/{new}", auth=auth)
    requests.put(f"{base}/api/v1/contact/{new}", json={**contact, "lastName": "Lee"}, auth=auth)
    requests.get(f"{base}/api/v1/contacts", params={"email": "ann@example.com"}, auth=auth)
    session = requests.post(f"{base}/api/v1/contacts", auth=auth, json={
        "contacts": [{"channels": [{"type": "email", "value": "bob@example.com"}]}]}).json()["asyncSessionId"]
    requests.get(f"{base}/api/v1/importstatus/{session}", auth=auth)
    requests.get(f"{base}/api/v1/contact/{new}", auth=("demo", "wrong"))


def _octopush_client(base):
    auth = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
    requests.post(f"{base}/v1/public/contact/create", headers=auth, json={
        "list_name": "Leads", "contacts": [{"phone_number": "+33612345678", "first_name": 42}]})
    requests.delete(f"{base}/v1/public/contact/delete", headers=auth, json={"phone_numbers": ["+33612345678"]})
    requests.post(f"{base}/v1/public/contact/create", headers={**auth, "api-key": "wrong"}, json={"contacts": []})


def _dengage_client(base):
    token = requests.post(f"{base}/rest/login", json={"userkey": "demo", "password": "dengage-demo-password"}
                          ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    requests.post(f"{base}/rest/bulk/contacts", headers=bearer, json=DENGAGE_UPSERT)
    requests.get(f"{base}/rest/contacts/C-1", headers=bearer, params={"contactFields": "contact_key,email"})
    requests.post(f"{base}/rest/bulk/contacts", headers=bearer, json=DENGAGE_UPSERT)
    requests.post(f"{base}/rest/bulk/contacts", headers={"Authorization": "Bearer stale"}, json=DENGAGE_UPSERT)


def _pushtech_client(base):
    auth = {"Authorization": "Token token=pushtech-demo-secret"}
    new = requests.post(f"{base}/v2/account/demo/contact", headers=auth, json=PUSHTECH_CONTACT).json()["id"]
    requests.put(f"{base}/v2/account/demo/contact/{new}", headers=auth, json={"city": "London"})
    requests.get(f"{base}/v2/account/demo/contact", headers=auth, params={"email": PUSHTECH_CONTACT["email"]})
    bulk = requests.post(f"{base}/v2/account/demo/contact/bulk", headers=auth, json=PUSHTECH_BULK).json()
    requests.get(f"{base}/v2/account/demo/contact/bulk/{bulk['bulk']['_id']}", headers=auth)
    requests.delete(f"{base}/v2/account/demo/contact/{new}", headers=auth)
    requests.get(f"{base}/v2/account/demo/contact/{new}", headers={"Authorization": "Token token=wrong"})


@pytest.mark.parametrize(("vendor", "client"), [("esputnik", _esputnik_client), ("octopush", _octopush_client),
                                                ("dengage", _dengage_client), ("pushtech", _pushtech_client)])
def test_a_recording_of_the_emulator_itself_agrees(tmp_path, vendor, client):
    """An emulator recorded through the proxy, then verified against a fresh one: every
    exchange agrees (ids paired, credentials mapped, the clock replayed), whatever the rules."""
    from emulator import create_app
    from emulator.testing.live import LiveServer

    app = create_app({"fixture": "empty"})
    with LiveServer(app) as server, recording(vendor, f"{server.url}/{vendor}", tmp_path / "c") as (url, _):
        client(url)
    report = emulator.verify(tmp_path / "c")
    assert len(report.results) >= 3 and report.ok, report.table()
    assert {r.exchange.credentials for r in report.results} == {1, "rejected"}
