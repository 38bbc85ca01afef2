"""Serving while outbound calls hang: the latency of one request with an upload fetching
from a link that sends a byte every 2 s and a webhook waiting on a receiver that never
answers, against the same request with nothing pending.

Rounds alternate (idle, pending, idle, pending); a pending round starts a fresh upload and
webhook and ends them by closing their peers, so every idle round is really idle.
"""
from __future__ import annotations

import itertools
import statistics
import time

from emulator.core.accounts import load_fixture

ADD = "/esputnik/api/v1/contact"
AUTH = ("demo", "esputnik-demo-key")
PUSHTECH = "/pushtech/v2/account/demo"
PUSHTECH_AUTH = {"Authorization": "Token token=pushtech-demo-secret"}


def rows(ctx) -> list[dict]:
    from tests.harness.served import SlowLink, silent_receiver  # run.py puts the project root on the path

    fixture = load_fixture("empty")
    settings = fixture["vendors"]["esputnik"]["accounts"]["demo"].setdefault("settings", {})
    settings.update(upload_timeout_s=120, duplicate_window_s=0, max_requests_per_second=0)
    app = ctx.make_app(fixture=fixture, webhook_timeout_s=120)
    calls = 100 if ctx.quick else 400
    serial = itertools.count()
    with ctx.live(app) as server:
        session = ctx.session()

        def add() -> float:
            body = {"channels": [{"type": "email", "value": f"bench{next(serial)}@example.com"}]}
            started = time.perf_counter()
            resp = session.post(server.url + ADD, json=body, auth=AUTH, timeout=30)
            took = time.perf_counter() - started
            assert resp.status_code == 200, resp.text
            return took

        def round_of() -> float:
            for _ in range(20):
                add()
            return statistics.median(add() for _ in range(calls))

        idle, pending = [], []
        for _ in range(2):
            idle.append(round_of())
            link = SlowLink()
            with silent_receiver() as silent:
                upload = session.post(server.url + "/esputnik/api/v1/contacts/upload", auth=AUTH, timeout=30,
                                      json={"link": link.url})
                hook = session.post(server.url + PUSHTECH + "/contact/bulk", headers=PUSHTECH_AUTH, timeout=30,
                                    json={"contacts": [{"email": "b@example.com"}], "webhook_url": silent})
                assert upload.status_code == 200 and hook.status_code == 201, (upload.text, hook.text)
                deadline = time.monotonic() + 10
                while not link.connections and time.monotonic() < deadline:
                    time.sleep(0.01)
                pending.append(round_of())
                still = session.get(server.url + "/_emulator/webhooks?wait=0", timeout=30).json()["webhooks"]
                assert link.connections and still[-1]["attempts"] == [], "the calls ended before the round did"
            link.close()
    idle_ms, pending_ms = statistics.median(idle) * 1000, statistics.median(pending) * 1000
    ratio = pending_ms / idle_ms
    return [
        ctx.row("eSputnik single add, live, idle: median latency", idle_ms, "ms"),
        ctx.row("eSputnik single add, live, while an upload (a byte every 2 s) and a webhook to a silent "
                "target are pending: median latency", pending_ms, "ms"),
        ctx.row("latency while an upload and a silent webhook are pending / idle", ratio, "×", "≤ 2", ratio <= 2),
    ]
