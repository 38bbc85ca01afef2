"""The emulator clock, async jobs on it, and webhook deliveries with retries."""
from __future__ import annotations

import socket

import pytest

from emulator.core.clock import Clock, iso, iso_epoch, parse_instant

from .conftest import KEY_A, KEY_B


def test_clock_freeze_advance_real_over_admin_api(sample):
    assert sample.get("/_emulator/clock").json["frozen"] is False
    frozen = sample.post("/_emulator/clock", json={"freeze": "2026-03-01T10:00:00Z"}).json
    assert frozen["now"] == "2026-03-01T10:00:00.000Z" and frozen["frozen"] is True
    assert sample.get("/_emulator/clock").json["now"] == "2026-03-01T10:00:00.000Z"  # stands still
    assert sample.post("/_emulator/clock", json={"advance": 90}).json["now"] == "2026-03-01T10:01:30.000Z"
    real = sample.post("/_emulator/clock", json={"real": True}).json
    assert real["frozen"] is False and real["offset_s"] == 0
    assert sample.post("/_emulator/clock", json={"freeze": "yesterday"}).status_code == 400
    assert sample.post("/_emulator/clock", json={"advance": 1, "real": True}).status_code == 400


def test_clock_from_python():
    clock = Clock()
    clock.freeze("2026-01-01T00:00:00+02:00")
    assert clock.now().isoformat() == "2025-12-31T22:00:00+00:00"
    clock.advance(3600)
    assert clock.time() == parse_instant("2025-12-31T23:00:00Z").timestamp()
    clock.real()
    clock.advance(100)  # while real: an offset
    assert clock.state()["offset_s"] == 100
    with clock.pinned("2020-01-01T00:00:00Z"):
        assert clock.now().year == 2020
    assert clock.now().year >= 2026


def test_iso_epoch_writes_what_iso_of_a_datetime_writes():
    """The cheap stamp of the hot paths, against ``iso(datetime.fromtimestamp(...))``: random
    instants, the edges of a millisecond and of a second, and seconds in turn (its memo)."""
    import random
    from datetime import UTC, datetime

    rng = random.Random(7)
    instants = [rng.uniform(0, 4_102_444_800) for _ in range(20_000)]
    instants += [1767225600 + k + f for k in range(3) for f in (0.0, 0.0004995, 0.0005, 0.9994999, 0.9995, 0.9999996)]
    instants += [1767225600.25, 1767225599.75, 1767225600.25]
    instants += [-1.25, -0.0004, -86_400.9995, -631_152_000.5]  # before 1970 (a clock set far back)
    for t in instants:
        assert iso_epoch(t) == iso(datetime.fromtimestamp(t, tz=UTC)), t
    clock = Clock()
    clock.freeze("2026-03-01T10:00:00.123Z")
    assert clock.iso_now() == "2026-03-01T10:00:00.123Z"


def test_job_with_no_delay_completes_before_the_next_request(sample):
    job = sample.post("/sample/jobs", json={"contacts": [{"email": "j@x.io"}]}, headers=KEY_A).json["job_id"]
    assert sample.get(f"/sample/jobs/{job}", headers=KEY_A).json["status"] == "done"


def test_job_completes_when_the_clock_passes_its_delay(sample, sample_engine):
    sample.post("/_emulator/clock", json={"freeze": "2026-03-01T10:00:00Z"})
    job = sample.post("/sample/jobs", json={"contacts": [{"email": "late@x.io"}]}, headers=KEY_B).json["job_id"]
    assert sample.get(f"/sample/jobs/{job}", headers=KEY_B).json["status"] == "queued"
    sample.post("/_emulator/clock", json={"advance": 29})
    assert sample.get(f"/sample/jobs/{job}", headers=KEY_B).json["status"] == "queued"
    sample.post("/_emulator/clock", json={"advance": 1})  # the clock change itself runs due jobs
    assert sample_engine.jobs.pending() == 0
    assert sample.get(f"/sample/jobs/{job}", headers=KEY_B).json["status"] == "done"
    contacts = sample.get("/_emulator/state?account=b").json["vendors"]["sample"]["accounts"]["b"]["contacts"]
    assert [c["email"] for c in contacts] == ["late@x.io"]


def test_pending_jobs_are_dropped_by_reset(sample, sample_engine):
    sample.post("/_emulator/clock", json={"freeze": "2026-03-01T10:00:00Z"})
    sample.post("/sample/jobs", json={"contacts": [{"email": "late@x.io"}]}, headers=KEY_B)
    assert sample_engine.jobs.pending() == 1
    sample.post("/_emulator/reset")
    assert sample_engine.jobs.pending() == 0


def test_webhook_delivered(sample, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    sample.post("/sample/hooks", json={"url": httpserver.url_for("/hook")}, headers=KEY_A)
    sample.get("/_emulator/health")  # any request runs due deliveries
    (delivery,) = sample.get("/_emulator/webhooks").json["webhooks"]
    assert delivery["state"] == "delivered" and len(delivery["attempts"]) == 1
    assert delivery["attempts"][0]["status"] == 200
    request, _ = httpserver.log[0]
    assert request.get_json() == {"hello": "world"}
    assert request.headers["Authorization"] == "secret-signature"


def test_webhook_rejected_is_not_retried(sample, httpserver):
    httpserver.expect_request("/hook").respond_with_data("no", status=406)
    sample.post("/sample/hooks", json={"url": httpserver.url_for("/hook")}, headers=KEY_A)
    sample.post("/_emulator/clock", json={"advance": 3600})
    (delivery,) = sample.get("/_emulator/webhooks").json["webhooks"]
    assert delivery["state"] == "rejected" and [a["status"] for a in delivery["attempts"]] == [406]


def test_webhook_retries_on_the_emulator_clock_then_fails(sample, httpserver):
    httpserver.expect_request("/hook").respond_with_data("boom", status=500)
    sample.post("/_emulator/clock", json={"freeze": "2026-03-01T10:00:00Z"})
    sample.post("/sample/hooks", json={"url": httpserver.url_for("/hook")}, headers=KEY_A)
    hooks = sample.get("/_emulator/webhooks").json["webhooks"]
    assert len(hooks[0]["attempts"]) == 1 and hooks[0]["state"] == "pending"
    assert hooks[0]["next_attempt"] == "2026-03-01T10:01:00.000Z"
    sample.post("/_emulator/clock", json={"advance": 59})
    assert len(sample.get("/_emulator/webhooks").json["webhooks"][0]["attempts"]) == 1
    sample.post("/_emulator/clock", json={"advance": 1})
    assert len(sample.get("/_emulator/webhooks").json["webhooks"][0]["attempts"]) == 2
    sample.post("/_emulator/clock", json={"advance": 120})
    (delivery,) = sample.get("/_emulator/webhooks").json["webhooks"]
    assert delivery["state"] == "failed"
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 500]
    assert len(httpserver.log) == 3


def test_webhook_to_a_receiver_that_is_down_is_recorded(sample):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sample.post("/sample/hooks", json={"url": f"http://127.0.0.1:{port}/hook"}, headers=KEY_A)
    (delivery,) = sample.get("/_emulator/webhooks").json["webhooks"]
    assert delivery["state"] == "pending"
    assert "ConnectionError" in delivery["attempts"][0]["error"]
    assert sample.get("/_emulator/health").status_code == 200


def test_unknown_job_kind_is_refused(sample_engine):
    with pytest.raises(KeyError):
        sample_engine.jobs.enqueue("sample", "a", "nope", {})
