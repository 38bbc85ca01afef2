"""Acknowledged work survives kill -9: queued jobs and webhook deliveries are durable until done.

A served emulator with ``--db`` is killed with SIGKILL right after it answered a bulk
(while the job is queued or half done), then started again on the same files: the job
runs again on start and completes with every contact, and its webhook is delivered.
"""
from __future__ import annotations

import time

import requests
from werkzeug import Response

from .served import Served, poll

PUSHTECH = "/pushtech/v2/account/demo"
PUSHTECH_AUTH = {"Authorization": "Token token=pushtech-demo-secret"}
ESPUTNIK = "/esputnik/api/v1"
ESPUTNIK_AUTH = ("demo", "esputnik-demo-key")


def serve(tmp_path):
    return Served("--fixture", "empty", "--db", str(tmp_path / "store.json"), log=tmp_path / "serve.log")


def state(url: str, vendor: str) -> dict:
    return requests.get(f"{url}/_emulator/state?vendor={vendor}&account=demo&limit=100000", timeout=30).json()[
        "vendors"][vendor]["accounts"]["demo"]


def test_a_pushtech_bulk_acknowledged_then_kill_9_completes_after_restart(tmp_path, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_handler(lambda request: Response("ok"))
    bulks = []
    for n, pause_s in enumerate((0.0, 0.2)):  # killed at once, and (most likely) mid-import
        with serve(tmp_path) as server:
            contacts = [{"email": f"r{n}-{i}@example.com", "user_id": f"r{n}-{i}"} for i in range(5000)]
            resp = requests.post(f"{server.url}{PUSHTECH}/contact/bulk", headers=PUSHTECH_AUTH, timeout=60,
                                 json={"contacts": contacts, "webhook_url": httpserver.url_for("/hook")})
            assert resp.status_code == 201, resp.text
            bulks.append(resp.json()["bulk"]["_id"])
            time.sleep(pause_s)
            server.proc.kill()  # kill -9, right after the acknowledgement
        with serve(tmp_path) as server:
            for bulk_id in bulks:
                done = poll(lambda b=bulk_id: requests.get(f"{server.url}{PUSHTECH}/contact/bulk/{b}",
                                                           headers=PUSHTECH_AUTH, timeout=30).json()["bulk"],
                            until=lambda bulk: bulk["status"] == "finished")
                assert done["contacts_valid_count"] == 5000
            stored = state(server.url, "pushtech")["contacts"]
            assert len(stored) == 5000 * (n + 1)  # every contact, none twice
            assert len({c["user_id"] for c in stored}) == len(stored)
            hooks = requests.get(f"{server.url}/_emulator/webhooks?vendor=pushtech", timeout=30).json()["webhooks"]
            assert [h["state"] for h in hooks] == ["delivered"] * len(bulks)
    delivered = [request.get_json()["contacts_valid_count"] for request, _ in httpserver.log]
    assert len(delivered) >= len(bulks) and set(delivered) == {5000}  # at least once each


def test_an_esputnik_import_acknowledged_then_kill_9_completes_after_restart(tmp_path):
    sessions = []
    for n, pause_s in enumerate((0.0, 0.15)):
        with serve(tmp_path) as server:
            contacts = [{"channels": [{"type": "email", "value": f"r{n}-{i}@example.com"}]} for i in range(3000)]
            resp = requests.post(f"{server.url}{ESPUTNIK}/contacts", auth=ESPUTNIK_AUTH, timeout=60,
                                 json={"contacts": contacts, "dedupeOn": "email"})
            assert resp.status_code == 200, resp.text
            sessions.append(resp.json()["asyncSessionId"])
            time.sleep(pause_s)
            server.proc.kill()
        with serve(tmp_path) as server:
            for session in sessions:
                result = requests.get(f"{server.url}{ESPUTNIK}/importstatus/{session}", auth=ESPUTNIK_AUTH,
                                      timeout=60).json()
                assert result["status"] == "FINISHED" and len(result["mapping"]) == 3000, result["status"]
            emails = [ch["value"] for c in state(server.url, "esputnik")["contacts"] for ch in c["channels"]]
            assert len(emails) == len(set(emails)) == 3000 * (n + 1)
