"""Asynchronous work on the emulator clock: queued jobs and outbound webhooks.

A job is data (vendor, account, kind, payload, due time) kept in the store, so it survives
a restart with ``--db``; the vendor registers a handler per kind. Handlers run outside the
store lock and take it (``engine.store.transaction()``) around their own writes. :meth:`Jobs.run_due` runs
every job whose due time has passed; the app calls it before answering any request and
after every clock change, and a live server also ticks it in the background. So a job
queued with delay 0 completes before the next request is answered, and a test observes
the result without sleeping.

A webhook delivery is also data (``_emulator:webhooks``). Attempts are made outside the
store lock; each is recorded with its time, status or error. A failed attempt is retried
after the next delay of the delivery's schedule, on the emulator clock.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

from .clock import iso

QUEUE = "_emulator:queue"
WEBHOOKS = "_emulator:webhooks"

JobHandler = Callable[[Any, dict], None]  # (core, job) -> None


class Jobs:
    """The job queue and the webhook sender of one emulator."""

    def __init__(self, core, webhook_timeout_s: float = 5.0):
        self.core = core
        self.handlers: dict[str, JobHandler] = {}
        self.webhook_timeout_s = webhook_timeout_s
        self._next_due: float | None = None
        self._next_delivery: float | None = None
        self._in_flight: set[int] = set()
        self._runner = threading.RLock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    # -- jobs ------------------------------------------------------------------------
    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler

    def enqueue(self, vendor: str, account: str, kind: str, payload: dict, delay_s: float = 0.0) -> dict:
        """Queue a job due ``delay_s`` seconds from now (emulator clock)."""
        if kind not in self.handlers:
            raise KeyError(f"no handler for job kind {kind!r}")
        core = self.core
        due = core.clock.time() + max(0.0, float(delay_s))
        job = {"vendor": vendor, "account": account, "kind": kind, "payload": payload,
               "due": due, "created": core.clock.time()}
        with core.store.transaction():
            job_id = core.store.named(QUEUE).insert(job)
            self._next_due = due if self._next_due is None else min(self._next_due, due)
        return {**job, "id": job_id}

    def pending(self) -> int:
        return len(self.core.store.named(QUEUE))

    def run_due(self) -> int:
        """Run due jobs, then make due webhook attempts. Returns the number of jobs run."""
        if self._next_due is None and self._next_delivery is None:
            return 0  # nothing queued: the usual case, on every request
        ran = 0
        now = self.core.clock.time()
        if self._next_due is not None and self._next_due <= now:
            ran = self._run_jobs(now)
        self.deliver_due()
        return ran

    def _run_jobs(self, now: float) -> int:
        """Take due jobs off the queue under the store lock, then run their handlers outside it.

        Handlers take the store lock for their own writes, so a job that waits on the
        network (an upload fetching a file) does not hold up other requests. One runner at a
        time keeps jobs in due order.
        """
        store, ran = self.core.store, 0
        with self._runner:
            while True:
                with store.transaction():
                    queue = store.named(QUEUE)
                    due = sorted((job["due"], doc_id) for doc_id, job in queue.scan() if job["due"] <= now)
                    picked = []
                    for _, doc_id in due:
                        job = queue.get(doc_id)
                        queue.remove(doc_id)
                        job["id"] = doc_id
                        picked.append(job)
                    remaining = [job["due"] for _, job in queue.scan()]
                    self._next_due = min(remaining) if remaining else None
                if not picked:
                    return ran
                for job in picked:
                    try:
                        self.handlers[job["kind"]](self.core, job)
                    except Exception:  # noqa: BLE001 - a failing job must not fail the request that ran it
                        logging.getLogger("emulator.jobs").exception("job %s (%s) failed", job["id"], job["kind"])
                    ran += 1

    def reload(self) -> None:
        """Recompute the next due time from the stored queue (after a reset or restore)."""
        remaining = [job["due"] for _, job in self.core.store.named(QUEUE).scan()]
        self._next_due = min(remaining) if remaining else None
        hooks = [d["next_attempt"] for _, d in self.core.store.named(WEBHOOKS).scan()
                 if d["state"] == "pending"]
        self._next_delivery = min(hooks) if hooks else None

    # -- webhooks --------------------------------------------------------------------
    def send_webhook(self, vendor: str, account: str, url: str, payload: Any, *,
                     headers: dict | None = None, retry_delays_s: list[float] = (),
                     success_statuses: list[int] | None = None, reject_statuses: list[int] = ()) -> int:
        """Queue a POST of ``payload`` as JSON to ``url``; returns the delivery id.

        An answer in ``success_statuses`` (default: any 2xx) is delivered, one in
        ``reject_statuses`` is rejected and not retried; anything else, or no answer, is
        retried after ``retry_delays_s[n]`` (emulator clock) until the schedule runs out.
        """
        now = self.core.clock.time()
        record = {"vendor": vendor, "account": account, "url": url, "payload": payload,
                  "headers": dict(headers or {}), "retry_delays_s": list(retry_delays_s),
                  "success_statuses": list(success_statuses) if success_statuses else None,
                  "reject_statuses": list(reject_statuses),
                  "state": "pending", "attempts": [], "created": self.core.clock.iso_now(),
                  "next_attempt": now}
        with self.core.store.transaction():
            delivery_id = self.core.store.named(WEBHOOKS).insert(record)
            self._next_delivery = now if self._next_delivery is None else min(self._next_delivery, now)
        return delivery_id

    def deliver_due(self) -> int:
        """Attempt every pending delivery whose time has come. Network I/O is done unlocked."""
        if self._next_delivery is None or self._next_delivery > self.core.clock.time():
            return 0
        store = self.core.store
        with store.transaction():
            now = self.core.clock.time()
            hooks = store.named(WEBHOOKS)
            due = [(doc_id, d) for doc_id, d in hooks.scan()
                   if d["state"] == "pending" and d["next_attempt"] <= now and doc_id not in self._in_flight]
            due = [(doc_id, dict(d)) for doc_id, d in due]
            self._in_flight.update(doc_id for doc_id, _ in due)
            pending = [d["next_attempt"] for i, d in hooks.scan()
                       if d["state"] == "pending" and i not in self._in_flight]
            self._next_delivery = min(pending) if pending else None
        for doc_id, delivery in due:
            try:
                self._attempt(doc_id, delivery)
            finally:
                self._in_flight.discard(doc_id)
        return len(due)

    def _attempt(self, doc_id: int, delivery: dict) -> None:
        import requests  # imported here: the start-up path does not need it

        started = time.perf_counter()
        attempt: dict[str, Any] = {"at": self.core.clock.iso_now()}
        status = None
        try:
            resp = requests.post(delivery["url"], json=delivery["payload"], headers=delivery["headers"],
                                 timeout=self.webhook_timeout_s)
            status = attempt["status"] = resp.status_code
            attempt["response"] = resp.text[:500]
        except requests.RequestException as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"[:300]
        attempt["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        store = self.core.store
        with store.transaction():
            hooks = store.named(WEBHOOKS)
            current = hooks.get(doc_id)
            if current is None:  # reset while the attempt was under way
                return
            attempts = current["attempts"] + [attempt]
            retries_done = len(attempts) - 1
            fields: dict[str, Any] = {"attempts": attempts}
            ok = current.get("success_statuses")
            if status is not None and (status in ok if ok else 200 <= status < 300):
                fields["state"] = "delivered"
            elif status is not None and status in current.get("reject_statuses", ()):
                fields["state"] = "rejected"
            elif retries_done < len(current["retry_delays_s"]):
                fields["next_attempt"] = self.core.clock.time() + current["retry_delays_s"][retries_done]
                nxt = fields["next_attempt"]
                self._next_delivery = nxt if self._next_delivery is None else min(self._next_delivery, nxt)
            else:
                fields["state"] = "failed"
            if fields.get("state"):
                fields["next_attempt"] = None
            hooks.update(doc_id, fields)

    def deliveries(self, vendor: str | None = None, account: str | None = None) -> list[dict]:
        out = []
        for doc_id, d in self.core.store.named(WEBHOOKS).scan():
            if (vendor and d["vendor"] != vendor) or (account and d["account"] != account):
                continue
            item = {"id": doc_id, **{k: v for k, v in d.items() if k != "next_attempt"}}
            item["next_attempt"] = iso_or_none(d.get("next_attempt"))
            out.append(item)
        return out

    # -- background ticking (live servers) -------------------------------------------
    def start_ticker(self, interval_s: float = 0.05) -> None:
        """Run due work every ``interval_s`` seconds in a daemon thread (live servers)."""
        if self._ticker is not None:
            return
        self._stop.clear()

        def loop():
            while not self._stop.wait(interval_s):
                try:
                    self.run_due()
                except Exception:  # noqa: BLE001 - a failing job must not kill the ticker
                    logging.getLogger("emulator.jobs").exception("background job failed")

        self._ticker = threading.Thread(target=loop, name="emulator-jobs", daemon=True)
        self._ticker.start()

    def stop_ticker(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            self._ticker = None


def iso_or_none(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    from datetime import datetime

    return iso(datetime.fromtimestamp(epoch, tz=UTC))
