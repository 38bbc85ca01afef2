"""Test-harness power over the sample vendor: faults in live and in-process modes,
in-process interception, lint notes and the verification helpers."""
from __future__ import annotations

import socket
import time

import pytest
import requests

from emulator import intercept
from emulator.core.journal import REDACTED
from emulator.testing.handle import EmulatorHandle
from emulator.testing.intercept import UnexpectedHost

from .conftest import KEY_A
from .sample_vendor import SAMPLE, sample_fixture


@pytest.fixture(params=["live", "in-process"])
def mode(request, make_app, live):
    """(handle, base URL of the sample vendor) in both modes."""
    app = make_app(vendors=[SAMPLE], fixture=sample_fixture(0))
    if request.param == "live":
        server = live(app)
        yield EmulatorHandle(app, server.url), f"{server.url}/sample"
    else:
        with intercept(app) as handle:
            yield handle, "https://api.sample.test"


def post_contact(base, email="ann@x.io", session=requests, **kw):
    return session.post(f"{base}/contacts", json={"email": email}, headers=KEY_A, **kw)


def test_one_shot_503_then_success_for_a_retrying_client(mode):
    handle, base = mode
    handle.faults.add(vendor="sample", method="POST", path="/contacts", status=503, times=1)
    attempts = []
    for _ in range(3):
        resp = post_contact(base)
        attempts.append(resp.status_code)
        if resp.status_code < 500:
            break
    assert attempts == [503, 201]
    assert handle.contacts("sample")[0]["email"] == "ann@x.io"
    faulted, ok = handle.requests(vendor="sample")
    assert faulted["fault"]["id"] == 1 and faulted["fault"]["effect"] == "status" and "fault" not in ok
    first = handle.faults.list()[0]
    assert first["fired"] == 1


def test_fault_body_defaults_to_the_vendor_error_shape(mode):
    handle, base = mode
    handle.faults.add(vendor="sample", path="/contacts", status=503)
    assert post_contact(base).json() == {"sample_error": "fault: forced by fault rule 1", "code": 503}
    handle.faults.clear()
    handle.faults.add(vendor="sample", path="/contacts", status=500, body={"custom": True})
    assert post_contact(base).json() == {"custom": True}
    assert handle.contacts("sample") == []  # nothing stored by faulted requests


def test_sticky_429(mode):
    handle, base = mode
    handle.faults.add(vendor="sample", path="/cont*", status=429)
    assert [post_contact(base, f"c{i}@x.io").status_code for i in range(4)] == [429] * 4
    handle.faults.clear()
    assert post_contact(base).status_code == 201


def test_300_ms_delay_is_observed_by_the_client(mode):
    handle, base = mode
    handle.faults.add(vendor="sample", path="/contacts", delay_ms=300, times=1)
    started = time.perf_counter()
    assert post_contact(base).status_code == 201
    assert time.perf_counter() - started >= 0.3
    assert handle.requests()[0]["fault"]["effect"] == "delay"


def test_a_delay_longer_than_the_client_timeout_times_out(mode):
    handle, base = mode
    handle.faults.add(vendor="sample", path="/contacts", delay_ms=1500, times=1)
    with pytest.raises(requests.Timeout):
        post_contact(base, timeout=0.3)


def test_dropped_connection_raises_in_the_client(mode):
    handle, base = mode
    handle.faults.add(vendor="sample", path="/contacts", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        post_contact(base)
    assert post_contact(base).status_code == 201
    dropped = handle.requests()[0]
    assert dropped["status"] is None and dropped["fault"]["effect"] == "drop"


def test_account_scoped_fault_fires_only_for_that_account(mode):
    handle, base = mode
    handle.faults.add(vendor="sample", path="/contacts", account="b", status=503)
    assert post_contact(base).status_code == 201  # account a
    resp = requests.post(f"{base}/contacts", json={"email": "x@x.io"}, headers={"X-Key": "key-b"})
    assert resp.status_code == 503


def test_fault_rules_are_validated(sample):
    bad = [({"status": 99}, "'status'"), ({"vendor": "nope", "status": 500}, "'vendor'"),
           ({"times": 0, "status": 500}, "'times'"), ({}, "needs an effect"),
           ({"drop": True, "status": 500}, "exclude"), ({"colour": "red"}, "unknown field")]
    for body, words in bad:
        resp = sample.post("/_emulator/faults", json=body)
        assert resp.status_code == 400 and words in resp.json["error"], (body, resp.json)
    assert sample.get("/_emulator/faults").json == {"faults": []}
    rule = sample.post("/_emulator/faults", json={"status": 500}).json
    assert sample.delete(f"/_emulator/faults/{rule['id']}").status_code == 200
    assert sample.delete(f"/_emulator/faults/{rule['id']}").status_code == 404


def test_reset_clears_faults(sample):
    sample.post("/_emulator/faults", json={"status": 500})
    sample.post("/_emulator/reset")
    assert sample.get("/_emulator/faults").json == {"faults": []}


def test_intercept_covers_module_calls_sessions_made_before_and_passes_other_hosts(make_app, httpserver):
    httpserver.expect_request("/elsewhere").respond_with_json({"real": True})
    app = make_app(vendors=[SAMPLE], fixture=sample_fixture(0))
    early = requests.Session()
    with intercept(app) as handle:
        assert requests.post("https://api.sample.test/contacts", json={"email": "m@x.io"},
                             headers=KEY_A).status_code == 201
        assert post_contact("https://www.sample.test/api", "s@x.io", session=early).status_code == 201
        assert requests.get(httpserver.url_for("/elsewhere")).json() == {"real": True}
        assert {c["email"] for c in handle.contacts("sample")} == {"m@x.io", "s@x.io"}
        assert handle.base_url("sample") == "https://api.sample.test"
    with pytest.raises(requests.ConnectionError):  # interception is over: the real host is not reachable
        requests.post("https://api.sample.test/contacts", json={}, timeout=0.5)


def test_intercept_keeps_requests_own_merging_and_puts_its_helpers_back(make_app, httpserver):
    """Session params, headers, cookies and proxies still merge as requests merges them."""
    import requests.models
    import requests.sessions

    originals = (requests.sessions.to_key_val_list, requests.models.to_key_val_list,
                 requests.sessions.Session.merge_environment_settings)
    httpserver.expect_request("/echo", query_string="a=1&b=2").respond_with_json({"ok": True})
    app = make_app(vendors=[SAMPLE], fixture=sample_fixture(0))
    with intercept(app) as handle:
        session = requests.Session()
        session.headers.update(KEY_A)
        session.params = {"a": "1"}
        session.cookies.set("visit", "yes")
        reply = session.post("https://api.sample.test/contacts", params={"b": "2"}, proxies={},
                             json={"email": "p@x.io"}, headers={"X-Trace": "t1"})
        assert reply.status_code == 201, reply.text
        entry = handle.requests(vendor="sample", method="POST")[-1]
        assert entry["query"] == {"a": "1", "b": "2"}
        assert entry["headers"]["X-Trace"] == "t1" and entry["headers"]["X-Key"] == KEY_A["X-Key"]
        assert entry["headers"]["Cookie"] == REDACTED  # the session's cookie was sent (and is redacted)
        assert session.get(httpserver.url_for("/echo"), params={"b": "2"}).json() == {"ok": True}
        with pytest.raises(ValueError, match="2-tuples"):
            requests.sessions.to_key_val_list("not pairs")
    assert (requests.sessions.to_key_val_list, requests.models.to_key_val_list,
            requests.sessions.Session.merge_environment_settings) == originals


def test_strict_interception_names_the_unexpected_host(make_app):
    app = make_app(vendors=[SAMPLE], fixture=sample_fixture(0))
    with intercept(app, strict=True), pytest.raises(UnexpectedHost, match="'example.org'"):
        requests.get("http://example.org/x")


def test_intercept_as_a_decorator_opens_no_socket(make_app, monkeypatch):
    app = make_app(vendors=[SAMPLE], fixture=sample_fixture(0))
    opened = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "listen", lambda *a: opened.append("listen"))
    monkeypatch.setattr(socket.socket, "connect", lambda s, *a: (opened.append(a), real_connect(s, *a))[1])

    @intercept(app)
    def code_under_test():
        return requests.post("https://api.sample.test/contacts", json={"email": "d@x.io"}, headers=KEY_A)

    assert code_under_test().status_code == 201
    assert opened == []


def test_lint_summarises_notes_and_assert_clean_names_them(mode):
    handle, base = mode
    post_contact(base, "clean@x.io")
    handle.assert_clean()  # a clean request passes
    post_contact(base, "Loud@X.io")
    summary = handle.lint()
    assert summary["total"] == 1
    field = summary["vendors"]["sample"]["POST /contacts"]["email"]
    assert field["count"] == 1 and field["rules"] == ["lower-cased"]
    assert field["examples"][0]["sent"] == "Loud@X.io" and field["examples"][0]["used"] == "loud@x.io"
    with pytest.raises(AssertionError) as failure:
        handle.assert_clean()
    assert "email sent 'Loud@X.io', used 'loud@x.io' (lower-cased)" in str(failure.value)
    handle.assert_clean(allow=["sample:email"])
    handle.assert_clean(allow=["lower-cased"])


def test_assert_called_counts_filters_bodies_and_shows_the_closest(mode):
    handle, base = mode
    post_contact(base, "one@x.io")
    post_contact(base, "two@x.io")
    assert len(handle.assert_called("sample", "POST", "/contacts", times=2)) == 2
    handle.assert_called("sample", "post", "/cont*", json_subset={"email": "two@x.io"})
    with pytest.raises(AssertionError) as failure:
        handle.assert_called("sample", "POST", "/contact", times=1)
    message = str(failure.value)
    assert "expected sample POST /contact 1 time(s), found 0" in message
    assert "POST /contacts -> 201" in message
    with pytest.raises(AssertionError, match="found 0"):
        handle.assert_called("sample", "POST", "/contacts", json_subset={"email": "three@x.io"})


def test_fake_payloads_are_valid_and_seeded(make_app):
    from emulator.seeding import faker_for
    from emulator.testing.pytest_plugin import make_fake_payload

    specs = {"sample": SAMPLE}
    one = make_fake_payload(specs, faker_for("tests/x.py::test_a", "fake_contact", ""), "sample", "bulk", n=4)
    again = make_fake_payload(specs, faker_for("tests/x.py::test_a", "fake_contact", ""), "sample", "bulk", n=4)
    other = make_fake_payload(specs, faker_for("tests/x.py::test_b", "fake_contact", ""), "sample", "bulk", n=4)
    assert one == again != other and len(one["contacts"]) == 4
    client = make_app(vendors=[SAMPLE], fixture=sample_fixture(0)).test_client()
    for contact in one["contacts"]:
        assert client.post("/sample/contacts", json=contact, headers=KEY_A).status_code == 201
    with pytest.raises(KeyError, match="no fake payload 'upload'"):
        make_fake_payload(specs, faker_for("x", "y", ""), "sample", "upload")


def test_openapi_document_is_valid_and_lists_every_vendor_route(sample):
    from openapi_spec_validator import validate

    doc = sample.get("/_emulator/openapi.json").json
    validate(doc)
    assert set(doc["paths"]) == {"/sample/contacts", "/sample/contacts/{contact_id}", "/sample/jobs",
                                 "/sample/jobs/{job_id}", "/sample/hooks", "/sample/notes", "/sample/echo"}
    get_one = doc["paths"]["/sample/contacts/{contact_id}"]["get"]
    assert get_one["parameters"][0]["schema"] == {"type": "integer"}
    assert "4XX" in get_one["responses"]


def test_openapi_takes_body_and_query_schemas_named_like_marshmallow_classes(make_app):
    import dataclasses

    from marshmallow import Schema, fields
    from openapi_spec_validator import validate

    class ContactQuerySchema(Schema):
        email = fields.String()

    class ContactSchema(Schema):
        email = fields.String(required=True)

    spec = dataclasses.replace(SAMPLE, openapi={"GET /echo": {"query": ContactQuerySchema},
                                                "POST /contacts": {"schema": ContactSchema, "status": 201},
                                                "POST /jobs": {"schema": ContactSchema()}})
    resp = make_app(vendors=[spec], fixture=sample_fixture(0)).test_client().get("/_emulator/openapi.json")
    assert resp.status_code == 200
    validate(resp.json)
    assert resp.json["paths"]["/sample/echo"]["get"]["parameters"] == [
        {"in": "query", "name": "email", "schema": {"type": "string"}, "required": False}]
    body = resp.json["paths"]["/sample/contacts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Contact"}
