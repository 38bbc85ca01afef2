"""Dispatch by prefix and real host, trailing slashes, and error shapes (over the test client)."""
from __future__ import annotations

from .conftest import KEY_A


def test_prefix_and_trailing_slash_answer_directly(sample):
    plain = sample.post("/sample/contacts", json={"email": "ann@x.io"}, headers=KEY_A)
    slashed = sample.post("/sample/contacts/", json={"email": "ann@x.io"}, headers=KEY_A)
    assert plain.status_code == 201
    assert slashed.status_code == 200  # found by dedupe, not redirected
    assert slashed.json["id"] == plain.json["id"]
    assert sample.get("/_emulator/health/").status_code == 200


def test_real_host_reaches_vendor_without_prefix(sample, sample_engine):
    resp = sample.post("/contacts", json={"email": "host@x.io"}, headers={**KEY_A, "Host": "api.sample.test"})
    assert resp.status_code == 201
    # a host whose real API lives under an extra path prefix
    resp = sample.post("/api/contacts/", json={"email": "www@x.io"}, headers={**KEY_A, "Host": "WWW.sample.test:443"})
    assert resp.status_code == 201
    emails = {doc["email"] for _, doc in sample_engine.store.collection("sample", "a", "contacts").scan()}
    assert {"host@x.io", "www@x.io"} <= emails


def test_admin_is_reachable_on_a_vendor_host(sample):
    assert sample.get("/_emulator/health", headers={"Host": "api.sample.test"}).json["status"] == "ok"


def test_get_with_json_content_type_and_empty_body_is_fine(sample):
    resp = sample.get("/sample/echo", headers={**KEY_A, "Content-Type": "application/json"})
    assert resp.status_code == 200
    assert resp.json["body"] == {}


def test_unknown_vendor_route_is_404_in_vendor_shape_with_hint(sample):
    resp = sample.get("/sample/contact", headers=KEY_A)
    assert resp.status_code == 404
    assert resp.json["code"] == 404
    assert "closest known route: /sample/contacts" in resp.json["sample_error"]


def test_unknown_route_outside_vendors_is_emulator_shape(sample):
    resp = sample.get("/nowhere")
    assert resp.status_code == 404
    assert resp.json["status"] == 404
    assert "no route GET /nowhere" in resp.json["error"]


def test_wrong_method_is_405_with_allow(sample):
    resp = sample.delete("/sample/contacts", headers=KEY_A)
    assert resp.status_code == 405
    assert "POST" in resp.headers["Allow"]
    assert "method DELETE not allowed" in resp.json["sample_error"]


def test_malformed_json_is_400_and_stores_nothing(sample, sample_engine):
    before = len(sample_engine.store.collection("sample", "a", "contacts"))
    resp = sample.post("/sample/contacts", data=b'{"email": ', headers={**KEY_A, "Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json["sample_error"].startswith("malformed_json: request body is not valid JSON")
    assert len(sample_engine.store.collection("sample", "a", "contacts")) == before


def test_body_must_be_an_object(sample):
    resp = sample.post("/sample/contacts", json=[1, 2], headers=KEY_A)
    assert resp.status_code == 400
    assert "must be a JSON object" in resp.json["sample_error"]


def test_oversized_body_is_413(make_app):
    from .sample_vendor import SAMPLE, sample_fixture

    app = make_app(vendors=[SAMPLE], fixture=sample_fixture(0), max_body_bytes=1024)
    client = app.test_client()
    resp = client.post("/sample/contacts", json={"email": "a@x.io", "name": "x" * 2000}, headers=KEY_A)
    assert resp.status_code == 413
    assert "limit is 1024 bytes" in resp.json["sample_error"]
    assert len(app.extensions["emulator"].store.collection("sample", "a", "contacts")) == 0


def test_vendor_error_shape_and_status(sample):
    resp = sample.post("/sample/contacts", json={"email": "nope"}, headers=KEY_A)
    assert resp.status_code == 400
    assert resp.json == {"sample_error": "email: required, must contain @", "code": 400}
    assert sample.post("/sample/contacts", json={"email": "a@x.io"}).status_code == 401


def test_admin_errors_name_the_field(sample):
    resp = sample.post("/_emulator/clock", json={"advance": "soon"})
    assert resp.status_code == 400
    assert resp.json == {"status": 400, "error": "'advance' must be a number of seconds, got 'soon'"}
    assert sample.post("/_emulator/seed", json={"seed": "x"}).status_code == 400
    assert sample.post("/_emulator/seed", json={"fixture": "no-such-fixture"}).status_code == 400
    assert sample.get("/_emulator/state?vendor=nope").status_code == 404
    assert sample.post("/_emulator/reset", data="{", content_type="application/json").status_code == 400


def test_url_building_still_works_with_lazily_compiled_builders(sample_app):
    from flask import url_for

    with sample_app.test_request_context():
        assert url_for("emulator_admin.health") == "/_emulator/health"
        assert url_for("sample.show", contact_id=7) == "/sample/contacts/7"
        assert url_for("sample.show", contact_id=7, q="x") == "/sample/contacts/7?q=x"
