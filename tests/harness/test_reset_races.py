"""Reads and writes that race with resets see the old or the new state: never a 5xx.

A live server gets, for ``EMULATOR_RACE_SECONDS`` (30) seconds, creates, bulk imports and
their status reads for every vendor, D·engage logins and calls with their tokens, state,
journal, dashboard and webhook reads, and a reset about every 0.2 s, with the interpreter switching threads
far more often than usual.
"""
from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
from collections import Counter

import requests

SECONDS = float(os.environ.get("EMULATOR_RACE_SECONDS", "30"))
ESPUTNIK = "/esputnik/api/v1"
ESPUTNIK_AUTH = ("demo", "esputnik-demo-key")
OCTOPUSH = "/octopush/v1/public"
OCTOPUSH_AUTH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
PUSHTECH = "/pushtech/v2/account/demo"
PUSHTECH_AUTH = {"Authorization": "Token token=pushtech-demo-secret"}
DENGAGE = "/dengage/rest"


def test_a_mixed_workload_with_resets_never_gets_a_5xx(make_app, live, caplog):
    url = live(make_app(fixture="default")).url
    stop = threading.Event()
    counts: Counter = Counter()
    errors: list[str] = []
    serial = itertools.count()

    def check(kind: str, resp: requests.Response) -> requests.Response:
        counts[kind] += 1
        if resp.status_code >= 500:
            errors.append(f"{kind}: {resp.status_code} {resp.text[:300]}")
        return resp

    def esputnik(session: requests.Session):
        n = next(serial)
        resp = check("create", session.post(f"{url}{ESPUTNIK}/contact", auth=ESPUTNIK_AUTH,
                                            json={"channels": [{"type": "email", "value": f"e{n}@example.com"}]}))
        if resp.status_code == 200:
            check("get", session.get(f"{url}{ESPUTNIK}/contact/{resp.json()['id']}", auth=ESPUTNIK_AUTH))
        resp = check("bulk", session.post(f"{url}{ESPUTNIK}/contacts", auth=ESPUTNIK_AUTH, json={
            "contacts": [{"channels": [{"type": "email", "value": f"b{n}-{i}@example.com"}]} for i in range(20)],
            "groupNames": ["Customers"]}))
        if resp.status_code == 200:
            check("status", session.get(f"{url}{ESPUTNIK}/importstatus/{resp.json()['asyncSessionId']}",
                                        auth=ESPUTNIK_AUTH))

    def octopush(session: requests.Session):
        n = next(serial)
        check("create", session.post(f"{url}{OCTOPUSH}/contact/create", headers=OCTOPUSH_AUTH, json={
            "list_name": "Race", "contacts": [{"phone_number": f"+336{n % 100_000_000:08d}"}]}))

    def pushtech(session: requests.Session):
        n = next(serial)
        resp = check("create", session.post(f"{url}{PUSHTECH}/contact", headers=PUSHTECH_AUTH,
                                            json={"email": f"p{n}@example.com", "user_id": f"u{n}"}))
        if resp.status_code == 201:
            check("get", session.get(f"{url}{PUSHTECH}/contact/{resp.json()['id']}", headers=PUSHTECH_AUTH))
        resp = check("bulk", session.post(f"{url}{PUSHTECH}/contact/bulk", headers=PUSHTECH_AUTH, json={
            "contacts": [{"email": f"pb{n}-{i}@example.com", "user_id": f"u{n}-{i}"} for i in range(20)],
            "match_contact_user_id": True}))
        if resp.status_code == 201:
            check("status", session.get(f"{url}{PUSHTECH}/contact/bulk/{resp.json()['bulk']['_id']}",
                                        headers=PUSHTECH_AUTH))

    token = {}

    def dengage(session: requests.Session):
        if "value" not in token or next(serial) % 5 == 0:
            resp = check("login", session.post(f"{url}{DENGAGE}/login",
                                               json={"userkey": "demo", "password": "dengage-demo-password"}))
            if resp.status_code == 200:
                token["value"] = resp.json()["access_token"]
        n = next(serial)
        auth = {"Authorization": f"Bearer {token.get('value', 'none')}"}
        check("bulk", session.post(f"{url}{DENGAGE}/bulk/contacts", headers=auth, json={
            "columns": ["contact_key", "email"], "insertIfNotExists": True,
            "contactDatas": [{"contact_key": f"K{n}", "email": f"d{n}@example.com"}]}))
        check("get", session.get(f"{url}{DENGAGE}/contacts/K{n - 10}", headers=auth))

    def reads(session: requests.Session):
        for path in ("/_emulator/state", "/_emulator/requests?limit=20", "/_emulator/", "/_emulator/webhooks?wait=0",
                     "/_emulator/state?vendor=esputnik&account=demo", "/_emulator/lint"):
            check("read", session.get(f"{url}{path}"))

    def resets(session: requests.Session):
        n = next(serial)
        body = {} if n % 3 else {"vendor": ("esputnik", "octopush", "dengage", "pushtech")[n % 4]}
        check("reset", session.post(f"{url}/_emulator/reset", json=body))
        stop.wait(0.2)

    def loop(work):
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    work(session)
                except requests.RequestException as exc:
                    errors.append(f"{work.__name__}: {type(exc).__name__}: {exc}")

    workers = [threading.Thread(target=loop, args=(w,)) for w in
               (esputnik, esputnik, octopush, pushtech, pushtech, dengage, dengage, dengage, reads, reads, resets)]
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads take turns far more often than usual: races show up sooner
    try:
        for w in workers:
            w.start()
        time.sleep(SECONDS)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=60)
        sys.setswitchinterval(switching)
    # with the tracebacks the server logged; no job failed either (they run off the request path)
    failures = [logging.Formatter().format(r) for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [] and failures == [], "\n".join(errors[:5] + failures[:3])
    assert counts["reset"] >= 2 * SECONDS, counts  # about four a second
    assert min(counts[k] for k in ("create", "get", "bulk", "status", "login", "read")) >= SECONDS, counts
