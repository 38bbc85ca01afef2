"""Webhook delivery records are bounded: ended ones beyond DELIVERIES_KEPT go, pending ones stay;
attempts to one receiver are made one at a time, in order."""
from __future__ import annotations

import time

from werkzeug import Response

from emulator.core import jobs
from emulator.core.clock import parse_instant

from .conftest import KEY_A


def hooks(sample) -> list[dict]:
    return sample.get("/_emulator/webhooks").json["webhooks"]


def test_ended_deliveries_beyond_the_bound_are_dropped_oldest_first(sample, httpserver, monkeypatch):
    monkeypatch.setattr(jobs, "DELIVERIES_KEPT", 3)
    httpserver.expect_request("/ok").respond_with_data("ok")
    httpserver.expect_request("/down").respond_with_data("no", status=500)
    sample.post("/_emulator/clock", json={"freeze": "2026-03-01T10:00:00Z"})
    pending = sample.post("/sample/hooks", json={"url": httpserver.url_for("/down")}, headers=KEY_A).json["delivery"]
    sent = [sample.post("/sample/hooks", json={"url": httpserver.url_for("/ok")}, headers=KEY_A).json["delivery"]
            for _ in range(5)]
    kept = hooks(sample)
    assert [h["id"] for h in kept] == [pending, *sent[-3:]]  # the newest three ended, and the pending one
    assert [h["state"] for h in kept] == ["pending", "delivered", "delivered", "delivered"]
    # one attempt each (the frozen clock holds the retry back); two receivers are called side by side
    assert sorted(request.path for request, _ in httpserver.log) == ["/down"] + ["/ok"] * 5


def test_attempts_to_one_receiver_are_made_one_at_a_time_in_the_order_they_were_queued(sample, httpserver):
    def slow(request):
        time.sleep(0.05)
        return Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(slow)
    for _ in range(6):
        assert sample.post("/sample/hooks", json={"url": httpserver.url_for("/hook")}, headers=KEY_A).status_code == 202
    delivered = sorted(hooks(sample), key=lambda h: h["id"])
    assert [h["state"] for h in delivered] == ["delivered"] * 6
    started = [parse_instant(h["attempts"][0]["at"]).timestamp() for h in delivered]
    gaps = [b - a for a, b in zip(started, started[1:], strict=False)]
    assert min(gaps) >= 0.045, gaps  # each began after the one before it had its answer
