"""Pushtech's work beyond storing a contact: email validation paid with the account's credits,
bulk jobs on the emulator clock (``queue`` -> ``processing`` -> ``finished``), the signed
webhooks they end with, and the contact lifecycle webhook.

:class:`CreditsAndJobs` is that part of the account's backend (:class:`.model.Backend`); it
reads each bulk contact with the backend's ``read_contact``.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import quote

from emulator.core.journal import collect_notes, note
from emulator.core.store import collector_paused

from . import schemas
from .errors import BULK_NOT_FOUND, NO_CREDIT, PushtechError, refuse

VENDOR = "pushtech"
DEFAULT_CREDITS = 100
JOB_PROCESSING, JOB_FINISH = "pushtech.bulk_processing", "pushtech.bulk_finish"
WEBHOOK_FIELDS = ("_id", "user_id", "email", "phone_countrycode", "phone_number")
WEBHOOK_RETRY_DELAYS_S = [300, 300, 600, 600, 1800, 3600, 7200]
BULK_PUBLIC = ("_id", "number_of_contacts", "match_contact_user_id", "validate_emails",
               "contacts_webhook_extra_fields", "webhook_url", "status")
BULK_RESULT = ("contacts_valid_count", "contacts_failed_count")
BULK_NOTES_KEPT = 200
INVALID_DOMAINS = frozenset({"invalid", "test", "example.invalid"})

log = logging.getLogger("emulator.pushtech")


def email_is_valid(email: str) -> bool:
    """The emulator's validity rule (so tests can produce both outcomes on purpose).

    Invalid: the domains ``invalid``, ``test``, ``example.invalid``, a local part starting
    with ``invalid``, or a syntax error found by email-validator (no DNS look-up).
    """
    local, _, domain = email.rpartition("@")
    if domain.lower() in INVALID_DOMAINS or local.lower().startswith("invalid"):
        return False
    from email_validator import EmailNotValidError, validate_email  # lazy: start-up stays light

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def verified_stamp(now: str) -> str:
    """An emulator timestamp (``...Z``) in the form of ``last_email_verified``: ``...+00:00``."""
    return now[:-1] + "+00:00" if now.endswith("Z") else now


def webhook_signature(account, timestamp: int, token: str) -> str:
    """Hex HMAC-SHA256 of ``str(timestamp) + token`` keyed with the account secret."""
    secret = str(account.credentials.get("secret", "")).encode()
    return hmac.new(secret, f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def public_bulk(bulk: dict) -> dict:
    """The vendor's ``{"bulk": {...}}`` envelope; counts appear once the job has ended."""
    out = {key: bulk.get(key) for key in BULK_PUBLIC}
    for key in BULK_RESULT:
        if key in bulk:
            out[key] = bulk[key]
    return {"bulk": out}


def initial_credits(account) -> int:
    return account.setting("validation_credits", DEFAULT_CREDITS)


def run_bulk_processing(engine, job: dict) -> None:
    engine.backend(VENDOR, job["account"]).mark_processing(job["payload"]["bulk_id"])


def run_bulk_finish(engine, job: dict) -> None:
    engine.backend(VENDOR, job["account"]).finish_bulk(job["payload"])


class CreditsAndJobs:
    """Validation credits, bulk jobs and webhooks of one account (mixed into :class:`.model.Backend`)."""

    # -- credits ---------------------------------------------------------------------
    def _balance_id(self) -> int:
        doc_id = self.balance.find_id("account", self.account.name)
        if doc_id is None:  # an account added to a store opened as it is
            doc_id = self.balance.insert({"account": self.account.name,
                                          "validation_credits": initial_credits(self.account)})
        return doc_id

    def credits(self) -> int:
        with self.store.transaction():
            return self.balance.peek(self._balance_id())["validation_credits"]

    def set_credits(self, credits: int) -> dict:
        with self.store.transaction():
            self.balance.update(self._balance_id(), {"validation_credits": credits})
        return {"account": self.account.name, "validation_credits": credits, **self.current_balance()}

    def spend_credits(self, wanted: int) -> int:
        """Take up to ``wanted`` credits; returns how many were taken (read-modify-write)."""
        with self.store.transaction():
            doc_id = self._balance_id()
            left = self.balance.peek(doc_id)["validation_credits"]
            taken = min(left, wanted)
            if taken:
                self.balance.update(doc_id, {"validation_credits": left - taken})
            return taken

    def current_balance(self) -> dict:
        return {"balance": f"{self.credits()}.0", "currency": "eur5"}

    def _validate_email(self, email: str | None, options: dict | None, now: str) -> dict:
        """``email_validation`` of a create or an update: the fields to store, or a refusal.

        Called inside the transaction that stores the contact, so a refused contact is never
        stored, while the credit it spent stays spent.
        """
        if not options or not options["validate"]:
            return {}
        if email is None:
            note("email_validation.validate", True, False, "the contact has no email: nothing validated, "
                                                           "no credit spent", "unverified")
            return {}
        if not self.spend_credits(1):
            if options["create_if_no_credit"]:
                return {}  # stored without validation, as asked: state (no email_valid), not a note
            raise PushtechError(NO_CREDIT, 402)
        valid = email_is_valid(email)
        if not valid and not options["create_if_invalid"]:
            raise PushtechError(f"email not valid: {email}", 422)
        return {"email_valid": valid, "last_email_verified": verified_stamp(now)}

    def email_validation(self, contact_id: str) -> dict:
        """The stored validation; a contact never validated is validated now (one credit)."""
        with self.store.transaction():
            doc_id = self._find(contact_id)
            doc = self.contacts.peek(doc_id)
            if "email_valid" not in doc:
                email = doc.get("email")
                if email is None:
                    raise PushtechError("email: the contact has no email to validate", 422)
                if not self.spend_credits(1):
                    raise PushtechError(NO_CREDIT, 402)
                self.contacts.update(doc_id, {"email_valid": email_is_valid(email),
                                              "last_email_verified": verified_stamp(self.now())})
                doc = self.contacts.peek(doc_id)
            return {"email_valid": doc["email_valid"], "last_email_verified": doc["last_email_verified"]}

    # -- bulk ------------------------------------------------------------------------
    def create_bulk(self, payload: dict) -> dict:
        """Check the request, read every contact (notes go to this request), queue the job."""
        values, problems = schemas.BULK.read(payload)
        if problems:
            raise refuse(problems)
        contacts = values["contacts"]
        prepared, failed = [], []
        keep_sent = values["validate_emails"]  # a contact may still fail at job time: keep it as sent
        for i, item in enumerate(contacts):
            if not isinstance(item, dict):
                failed.append({"contact": item, "errors": [f"contact: must be an object, got {_kind(item)}"]})
                continue
            cleaned = self.read_contact(item, note_prefix=f"contacts[{i}].", bulk=True)
            if cleaned.problems:
                failed.append({"contact": item, "errors": cleaned.problems})
            else:
                prepared.append({"fields": cleaned.fields, "sent": item if keep_sent else None})
        with self.store.transaction():
            bulk = {"_id": self.engine.ids.hex24(self.bulk_ids), "number_of_contacts": len(contacts),
                    "match_contact_user_id": values["match_contact_user_id"],
                    "validate_emails": values["validate_emails"],
                    "contacts_webhook_extra_fields": list(values["contacts_webhook_extra_fields"]),
                    "webhook_url": values["webhook_url"], "status": "queue", "created_at": self.now()}
            self.bulks.insert(bulk)
            delay = float(self.account.setting("processing_delay_s", 0) or 0)
            jobs = self.engine.jobs
            jobs.enqueue(VENDOR, self.account.name, JOB_PROCESSING, {"bulk_id": bulk["_id"]}, delay_s=delay / 2)
            jobs.enqueue(VENDOR, self.account.name, JOB_FINISH,
                         {"bulk_id": bulk["_id"], "contacts": prepared, "failed": failed}, delay_s=delay)
        return public_bulk(bulk)

    def show_bulk(self, bulk_id: str) -> dict:
        bulk = self.bulks.find("_id", bulk_id)
        if bulk is None:
            raise PushtechError(BULK_NOT_FOUND, 404)
        return public_bulk(bulk)

    def mark_processing(self, bulk_id: str) -> None:
        with self.store.transaction():
            doc_id = self.bulks.find_id("_id", bulk_id)
            if doc_id is not None and self.bulks.peek(doc_id)["status"] == "queue":
                self.bulks.update(doc_id, {"status": "processing", "started_at": self.now()})

    def finish_bulk(self, payload: dict) -> None:
        """The job's end: import, record the outcome, queue the webhook. Never raises."""
        with self.store.transaction():
            doc_id = self.bulks.find_id("_id", payload["bulk_id"])
            if doc_id is None:  # reset while queued
                return
            bulk = dict(self.bulks.get(doc_id))
            try:
                with collect_notes() as notes, collector_paused(len(payload["contacts"])):
                    valid, failed, stats = self._import(bulk, payload["contacts"], list(payload["failed"]))
            except Exception as exc:  # noqa: BLE001 - a job failure is a status, never a 500 elsewhere
                log.exception("pushtech bulk %s failed", bulk["_id"])
                self.bulks.update(doc_id, {"status": "failed", "finished_at": self.now(),
                                           "error": f"{type(exc).__name__}: {exc}"})
                return
            outcome = {"status": "finished", "finished_at": self.now(), "contacts_valid_count": len(valid),
                       "contacts_failed_count": len(failed), "failed_contacts": failed, **stats,
                       "notes": notes[:BULK_NOTES_KEPT]}
            if bulk.get("webhook_url"):
                outcome["webhook_delivery"] = self._send_webhook(bulk, valid, failed)
            self.bulks.update(doc_id, outcome)

    def _import(self, bulk: dict, contacts: list[dict], failed: list[dict]) -> tuple[list[dict], list[dict], dict]:
        """Validate, match and write every prepared contact with one ``write_many``."""
        now = self.now()
        match, validate = bulk["match_contact_user_id"], bulk["validate_emails"]
        credits = 0
        if validate:
            credits = self.spend_credits(sum(1 for c in contacts if "email" in c["fields"]))
        stats = {"emails_validated": 0, "emails_not_validated_no_credit": 0, "contacts_created": 0,
                 "contacts_updated": 0}
        inserts: list[dict] = []
        replaces: dict[int, dict] = {}
        by_user: dict[str, dict] = {}  # user_id -> the document this bulk writes for it
        bulk_emails: set[str] = set()
        valid: list[dict] = []
        for i, item in enumerate(contacts):
            fields = item["fields"]
            email = fields.get("email")
            if validate and email is not None:
                if stats["emails_validated"] < credits:
                    stats["emails_validated"] += 1
                    if not email_is_valid(email):
                        failed.append({"contact": item["sent"], "errors": [f"email not valid: {email}"]})
                        continue
                    fields = {**fields, "email_valid": True, "last_email_verified": verified_stamp(now)}
                else:  # the documented fallback: imported without validation (state, not a note)
                    stats["emails_not_validated_no_credit"] += 1
            user_id = fields.get("user_id") if match else None
            doc = by_user.get(user_id) if user_id is not None else None
            if doc is None and user_id is not None:
                owners = self.contacts.find_id("user_id", user_id)
                if owners:
                    owner = next(iter(owners))
                    if len(owners) > 1:
                        note(f"contacts[{i}].user_id", user_id, user_id,
                             f"{len(owners)} contacts have this user_id: the oldest was updated", "unverified")
                    doc = replaces[owner] = by_user[user_id] = dict(self.contacts.get(owner))
                    stats["contacts_updated"] += 1
            if doc is not None:
                if email is not None and email != doc.get("email"):
                    doc.pop("email_valid", None)
                    doc.pop("last_email_verified", None)
                doc.update(fields)
                doc["updated_at"] = now
            else:
                if email is not None:
                    if email in bulk_emails or self.contacts.find_id("email", email):
                        note(f"contacts[{i}].email", email, email,
                             "another contact already has this email: a new contact was created anyway", "unverified")
                doc = self.new_contact(fields, now)
                inserts.append(doc)
                stats["contacts_created"] += 1
                if user_id is not None:
                    by_user[user_id] = doc
            if email is not None:
                bulk_emails.add(email)
            valid.append(doc)
        self.contacts.write_many(inserts, replaces)
        return valid, failed, stats

    # -- webhooks --------------------------------------------------------------------
    def _send_webhook(self, bulk: dict, valid: list[dict], failed: list[dict]) -> int:
        """The bulk webhook: the job's outcome in the vendor's documented payload."""
        fields = WEBHOOK_FIELDS + tuple(f for f in bulk["contacts_webhook_extra_fields"] if f not in WEBHOOK_FIELDS)
        entries = []
        for doc in valid:
            entry = {key: doc.get(key) for key in fields}
            entry["_id"] = doc["id"]
            entries.append(entry)
        return self._send_signed(bulk["webhook_url"], {
            "contacts_valid_count": len(valid), "contacts_failed_count": len(failed),
            "valid_contacts": entries, "failed_contacts": failed})

    def _send_signed(self, url: str, fields: dict) -> int:
        """Queue a POST of ``account_id, timestamp, token`` plus ``fields``, signed, on the
        vendor's retry schedule (the same for every webhook group it retries)."""
        timestamp = int(self.engine.clock.time())
        token = self.engine.ids.token(f"{VENDOR}:{self.account.name}:webhook", 50)
        body = {"account_id": self.account.name, "timestamp": timestamp, "token": token, **fields}
        return self.engine.jobs.send_webhook(
            VENDOR, self.account.name, url, body,
            headers={"Authorization": webhook_signature(self.account, timestamp, token)},
            retry_delays_s=WEBHOOK_RETRY_DELAYS_S, success_statuses=[200], reject_statuses=[406])

    def contact_webhook_url(self) -> str | None:
        return self.account.setting("contact_webhook_url") or None

    def default_account_url(self) -> str:
        """The account's API root under the emulator's prefix, for callers that are not HTTP."""
        return f"/{VENDOR}/v2/account/{quote(self.account.name, safe='')}"

    def _contact_event(self, action: str, contact: dict) -> None:
        """One contact event (origin ``api``) when the account has a ``contact_webhook_url``;
        queued in the transaction that wrote the contact."""
        url = self.contact_webhook_url()
        if url:
            self._send_signed(url, {"action": action, "origin": "api", "contact": contact})


def _kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")
