"""Asynchronous work on the emulator clock: queued jobs and outbound webhooks.

A job is data (vendor, account, kind, payload, due time) kept in the store; the vendor
registers a handler per kind. A job is removed from the queue only in the transaction that
writes its result, so a crash (even kill -9) leaves it queued, and it runs again when the
store is opened: its result was never written, so the second run is the only one.

**Where work runs.** Jobs run on one worker thread (``emulator-jobs``), in due order,
never inside a request. A request (all but the health check) waits until the jobs that
were due when it arrived have run, at most :data:`SETTLE_TIMEOUT_S`: a job queued with
delay 0 has completed before the next request is answered, and a test observes the result
without sleeping. Network work (a webhook attempt, the fetch step of an
:class:`OutboundJob`) runs on a pool of :data:`OUTBOUND_THREADS` threads, outside every
lock, with a total deadline per call (:mod:`emulator.core.outbound`). No request waits
for it except the reads of its outcome: ``GET /_emulator/webhooks``
(:meth:`Jobs.wait_deliveries`) and a status read that calls :meth:`Jobs.wait_for`. A clock
change starts due deliveries and returns.

A webhook delivery is also data (``_emulator:webhooks``), kept until it ends (delivered,
rejected or out of retries); then at most :data:`DELIVERIES_KEPT` ended deliveries are
kept, the oldest dropped first. A failed attempt is retried after the next delay of the
delivery's schedule on the emulator clock, counted from the time the attempt was due, not
from when a thread got to it: the schedule does not depend on thread timing, and a clock
advance over several delays (or a restart after a while) makes each attempt it passed, in
turn, as that much time passing would. Attempts to one receiver URL are made one at a time, oldest first: a receiver
gets its events in order. An attempt under way when the process dies is made again on
start (at least once).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from . import outbound
from .clock import iso
from .store import StoreWriteFailed, copy_json

QUEUE = "_emulator:queue"
WEBHOOKS = "_emulator:webhooks"

OUTBOUND_THREADS = 4
"""Webhook attempts and upload fetches under way at once; more wait their turn."""
SETTLE_TIMEOUT_S = 30.0
"""The longest a request waits for the jobs due when it arrived (then it is answered anyway)."""
DELIVERIES_KEPT = 500
"""Ended webhook deliveries kept (pending ones are always kept)."""
RESPONSE_KEPT = 500
"""Characters of a receiver's answer kept in the attempt."""
STORE_RETRY_S = 1.0
"""After a failed store write (a full disk), work is tried again this much later."""

log = logging.getLogger("emulator.jobs")

JobHandler = Callable[[Any, dict], None]  # (core, job) -> None


@dataclass(frozen=True)
class OutboundJob:
    """A job with a network step.

    ``fetch(core, job)`` runs on an outbound thread, outside every lock; it must bound its
    own time (:func:`emulator.core.outbound.call` does). Then ``finish(core, job, fetched)``
    runs on the job worker, inside the transaction that removes the job; ``fetched.result()``
    returns what ``fetch`` returned or raises what it raised. After a crash the job fetches
    again.
    """

    fetch: Callable[[Any, dict], Any]
    finish: Callable[[Any, dict, Future], None]


class Jobs:
    """The job queue, its worker thread and the webhook sender of one emulator."""

    def __init__(self, core, webhook_timeout_s: float = 5.0, outbound_threads: int = OUTBOUND_THREADS):
        self.core = core
        self.handlers: dict[str, JobHandler | OutboundJob] = {}
        self.webhook_timeout_s = webhook_timeout_s
        self.outbound_threads = outbound_threads
        self._next_due: float | None = None       # earliest due time in the queue
        self._next_delivery: float | None = None  # earliest attempt due that is not under way
        self._fetches: dict[int, Future] = {}     # job id -> its fetch step (OutboundJob)
        self._in_flight: set[int] = set()         # delivery ids with an attempt under way
        self._generation = 0                      # bumped when the state is replaced (reset)
        self._cv = threading.Condition()
        self._wake = False
        self._closed = False
        self._worker: threading.Thread | None = None
        self._pool = None

    # -- jobs ------------------------------------------------------------------------
    def register(self, kind: str, handler: JobHandler | OutboundJob) -> None:
        self.handlers[kind] = handler

    def enqueue(self, vendor: str, account: str, kind: str, payload: dict, delay_s: float = 0.0,
                subject: str | None = None) -> dict:
        """Queue a job due ``delay_s`` seconds from now (emulator clock).

        ``subject`` names what the job completes (a session id), for :meth:`wait_for`.
        """
        if kind not in self.handlers:
            raise KeyError(f"no handler for job kind {kind!r}")
        core = self.core
        due = core.clock.time() + max(0.0, float(delay_s))
        job = {"vendor": vendor, "account": account, "kind": kind, "payload": payload,
               "due": due, "created": core.clock.time()}
        if subject is not None:
            job["subject"] = subject
        with core.store.transaction():
            job_id = core.store.named(QUEUE).insert(job)
            self._next_due = due if self._next_due is None else min(self._next_due, due)
        self._kick()
        return {**job, "id": job_id}

    def pending(self) -> int:
        return len(self.core.store.named(QUEUE))

    def run_due(self, timeout_s: float = SETTLE_TIMEOUT_S) -> bool:
        """Have the worker run the jobs due now and wait for them (not for network work);
        start due webhook attempts. Returns at once when nothing is due (the usual case, on
        every request); False if the jobs were still running after ``timeout_s``."""
        next_due, next_delivery = self._next_due, self._next_delivery
        if next_due is None and next_delivery is None:
            return True
        now = self.core.clock.time()
        if next_due is None or next_due > now:
            if next_delivery is not None and next_delivery <= now:
                self._kick()
            return True
        return self._wait(lambda: not self._local_due(now), timeout_s)

    def wait_for(self, subject: str, timeout_s: float = SETTLE_TIMEOUT_S) -> bool:
        """Wait until no due job has ``subject``, network step included (the status read of
        an upload session waits for its file; the fetch's own deadline bounds the wait)."""
        if self._next_due is None:
            return True
        now = self.core.clock.time()
        queue = self.core.store.named(QUEUE)

        def busy() -> bool:
            return any(job.get("subject") == subject and job["due"] <= now for _, job in queue.scan())

        return self._wait(lambda: not busy(), timeout_s)

    def _local_due(self, target: float) -> bool:
        """A job due at ``target`` that is not waiting on the network."""
        for doc_id, job in self.core.store.named(QUEUE).scan():
            if job["due"] <= target:
                fetch = self._fetches.get(doc_id)
                if fetch is None or fetch.done():
                    return True
        return False

    def _wait(self, done: Callable[[], bool], timeout_s: float) -> bool:
        if done():
            return True
        if self.core.store.lock._is_owned():  # the worker needs the lock this thread holds
            return False
        end = time.monotonic() + timeout_s
        with self._cv:
            self._wake = True
            self._ensure_worker()
            self._cv.notify_all()
            while not done():
                left = end - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._cv.wait(min(left, 1.0))
        return True

    def reload(self) -> None:
        """Recompute due times from the stored queue and deliveries (after a reset, a
        restore or a start on an existing store); work under way for the old state is
        forgotten (its outcome is dropped when it ends)."""
        self._generation += 1
        self._fetches = {}
        self._in_flight = set()
        remaining = [job["due"] for _, job in self.core.store.named(QUEUE).scan()]
        self._next_due = min(remaining) if remaining else None
        hooks = [d["next_attempt"] for _, d in self.core.store.named(WEBHOOKS).scan()
                 if d["state"] == "pending"]
        self._next_delivery = min(hooks) if hooks else None
        if remaining or hooks:
            self._kick()

    # -- the worker ------------------------------------------------------------------
    def _kick(self) -> None:
        """Wake the worker (starting it on first use) and every waiter."""
        with self._cv:
            self._wake = True
            self._ensure_worker()
            self._cv.notify_all()

    def _ensure_worker(self) -> None:  # with self._cv held
        if self._worker is None and not self._closed:
            self._worker = threading.Thread(target=self._work, name="emulator-jobs", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        wake_at: float | None = None
        while True:
            with self._cv:
                if not self._wake and not self._closed:
                    self._cv.wait(self._idle_wait(wake_at))
                self._wake = False
                if self._closed:
                    return
            pause = 0.0
            try:
                next_job = self._run_jobs()
                next_delivery = self._start_deliveries()
                wake_at = min((t for t in (next_job, next_delivery) if t is not None), default=None)
            except StoreWriteFailed as exc:
                log.warning("job not run, will retry: %s", exc)
                pause = STORE_RETRY_S
            except Exception:  # noqa: BLE001 - the worker must survive whatever a job does
                log.exception("background job failed")
                pause = STORE_RETRY_S
            with self._cv:
                self._cv.notify_all()
                if pause and not self._closed:
                    self._cv.wait(pause)

    def _idle_wait(self, wake_at: float | None) -> float | None:
        """Seconds until the next due time (at most 1: the clock may be changed meanwhile)."""
        if wake_at is None:
            return None
        return max(0.0, min(wake_at - self.core.clock.time(), 1.0))

    def _run_jobs(self) -> float | None:
        """Run due jobs, one transaction each, in due order; start the fetch step of due
        outbound jobs. Returns the due time of the next job the worker will have to run."""
        store = self.core.store
        while True:
            now = self.core.clock.time()
            ran = None
            with store.transaction():
                queue = store.named(QUEUE)
                order = sorted((job["due"], doc_id) for doc_id, job in queue.scan())
                self._next_due = order[0][0] if order else None
                chosen = fetch = None
                for due, doc_id in order:
                    fetch = self._fetches.get(doc_id)
                    if fetch is not None and not fetch.done():
                        continue  # waiting on the network
                    if due > now:
                        return due
                    chosen = doc_id
                    break
                if chosen is None:
                    return None
                job = dict(queue.get(chosen))
                job["id"] = chosen
                handler = self.handlers.get(job["kind"])
                if isinstance(handler, OutboundJob) and fetch is None:
                    self._fetches[chosen] = self._submit(handler.fetch, self.core, job)
                    continue
                try:
                    if handler is None:
                        log.error("job %s: no handler for kind %r, dropped", chosen, job["kind"])
                    elif isinstance(handler, OutboundJob):
                        handler.finish(self.core, job, fetch)
                    else:
                        handler(self.core, job)
                except Exception:  # noqa: BLE001 - a failing job is logged and dropped, never retried for ever
                    log.exception("job %s (%s) failed", chosen, job["kind"])
                queue.remove(chosen)  # in the transaction that wrote the job's result
                ran = chosen
            self._fetches.pop(ran, None)
            with self._cv:
                self._cv.notify_all()

    def _submit(self, fn, *args) -> Future:
        with self._cv:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=self.outbound_threads,
                                                thread_name_prefix="emulator-outbound")
            pool = self._pool
        future = pool.submit(fn, *args)
        future.add_done_callback(lambda _: self._kick())
        return future

    # -- webhooks --------------------------------------------------------------------
    def send_webhook(self, vendor: str, account: str, url: str, payload: Any, *,
                     headers: dict | None = None, retry_delays_s: list[float] = (),
                     success_statuses: list[int] | None = None, reject_statuses: list[int] = ()) -> int:
        """Queue a POST of ``payload`` as JSON to ``url``; returns the delivery id.

        An answer in ``success_statuses`` (default: any 2xx) is delivered, one in
        ``reject_statuses`` is rejected and not retried; anything else, or no answer within
        the webhook deadline, is retried after ``retry_delays_s[n]`` (emulator clock) until
        the schedule runs out. The attempt is made on an outbound thread, never in the
        request (or job) that calls this.
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
            self._due_at(now)
        self._kick()
        return delivery_id

    def wait_deliveries(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until every attempt due now has been made and
        recorded, after the jobs due now (which may queue deliveries) have run."""
        started = time.monotonic()
        self.run_due(timeout_s)
        now = self.core.clock.time()
        hooks = self.core.store.named(WEBHOOKS)

        def settled() -> bool:
            return not any(d["state"] == "pending" and d["next_attempt"] <= now for _, d in hooks.scan())

        return self._wait(settled, max(0.0, timeout_s - (time.monotonic() - started)))

    def _start_deliveries(self) -> float | None:
        """Hand the due attempts to the outbound threads, one at a time per receiver URL, oldest
        first (a receiver gets its events in order); returns the next attempt's time."""
        if self._next_delivery is None:
            return None
        store = self.core.store
        now = self.core.clock.time()
        due, later = [], []
        with store.lock:
            hooks = list(store.named(WEBHOOKS).scan())
            busy = {d["url"] for doc_id, d in hooks if doc_id in self._in_flight}
            for doc_id, d in hooks:
                if d["state"] != "pending" or doc_id in self._in_flight:
                    continue
                if d["next_attempt"] > now:
                    later.append(d["next_attempt"])
                elif d["url"] not in busy:  # else: started when the attempt before it ends
                    busy.add(d["url"])
                    due.append((doc_id, copy_json(d)))
            self._in_flight.update(doc_id for doc_id, _ in due)
            self._next_delivery = min(later) if later else None
            generation = self._generation
        for doc_id, delivery in due:
            self._submit(self._attempt, doc_id, delivery, generation)
        return self._next_delivery

    def _attempt(self, doc_id: int, delivery: dict, generation: int) -> None:
        """One POST (on an outbound thread), then its record, in one transaction."""
        started = time.perf_counter()
        attempt: dict[str, Any] = {"at": self.core.clock.iso_now()}
        status = None
        headers = {"Content-Type": "application/json", "User-Agent": "contact-api-emulator", **delivery["headers"]}
        try:
            body = json.dumps(delivery["payload"], allow_nan=False).encode("utf-8")
            answer = outbound.call("POST", delivery["url"], body=body, headers=headers,
                                   deadline_s=self.webhook_timeout_s, keep_bytes=4 * RESPONSE_KEPT)
            status = attempt["status"] = answer.status
            attempt["response"] = answer.body.decode("utf-8", "replace")[:RESPONSE_KEPT]
        except (outbound.OutboundFailed, ValueError, TypeError) as exc:
            attempt["error"] = str(exc)[:300]
        attempt["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        try:
            self._record(doc_id, attempt, status, generation, delivery["next_attempt"])
        except BaseException as exc:  # stays pending: attempted again (once the disk has room)
            if isinstance(exc, StoreWriteFailed):
                log.warning("webhook attempt not recorded, will retry: %s", exc)
                time.sleep(STORE_RETRY_S)
            with self.core.store.lock:
                if generation == self._generation:
                    self._in_flight.discard(doc_id)
                    self._due_at(delivery["next_attempt"])
            if not isinstance(exc, StoreWriteFailed):
                raise

    def _due_at(self, epoch: float) -> None:
        nxt = self._next_delivery
        self._next_delivery = epoch if nxt is None else min(nxt, epoch)

    def _record(self, doc_id: int, attempt: dict, status: int | None, generation: int, delivery_due: float) -> None:
        """Add the attempt to its delivery and decide what comes next (nothing when the
        delivery is gone: a reset while the attempt was under way)."""
        store = self.core.store
        with store.transaction():
            if generation != self._generation:
                return
            self._in_flight.discard(doc_id)  # under the lock, with the outcome: no attempt is missed
            self._due_at(self.core.clock.time())  # the next delivery to this receiver may start now
            hooks = store.named(WEBHOOKS)
            current = hooks.get(doc_id)
            if current is None:
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
                fields["next_attempt"] = delivery_due + current["retry_delays_s"][retries_done]
                self._due_at(fields["next_attempt"])
            else:
                fields["state"] = "failed"
            if fields.get("state"):
                fields["next_attempt"] = None
            hooks.update(doc_id, fields)
            if fields.get("state"):
                self._prune(hooks)

    @staticmethod
    def _prune(hooks) -> None:
        """Drop the oldest ended deliveries beyond :data:`DELIVERIES_KEPT`."""
        if len(hooks) <= DELIVERIES_KEPT:
            return
        ended = sorted(doc_id for doc_id, d in hooks.scan() if d["state"] != "pending")
        for doc_id in ended[:max(0, len(ended) - DELIVERIES_KEPT)]:
            hooks.remove(doc_id)

    def deliveries(self, vendor: str | None = None, account: str | None = None) -> list[dict]:
        out = []
        for doc_id, d in self.core.store.named(WEBHOOKS).scan():
            if (vendor and d["vendor"] != vendor) or (account and d["account"] != account):
                continue
            item = {"id": doc_id, **{k: v for k, v in d.items() if k != "next_attempt"}}
            item["next_attempt"] = iso_or_none(d.get("next_attempt"))
            out.append(item)
        return out

    # -- shutdown --------------------------------------------------------------------
    def close(self) -> None:
        """Stop the worker; calls under way end by their own deadlines."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=2)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def iso_or_none(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    from datetime import datetime

    return iso(datetime.fromtimestamp(epoch, tz=UTC))
