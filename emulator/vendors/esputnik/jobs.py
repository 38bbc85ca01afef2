"""eSputnik's asynchronous work: import sessions (``POST /contacts``, ``POST /contacts/upload``),
the CSV download and parsing of an upload, and the job handlers registered in ``VendorSpec.jobs``.

A request is read and checked at once (its journal notes belong to it); the session's job then
only matches and writes, in one ``write_many``.
"""
from __future__ import annotations

import csv
import io
import logging
from typing import Any

from emulator.core import outbound
from emulator.core.journal import collect_notes, note
from emulator.core.store import DuplicateKey

from . import schemas
from .errors import EsputnikError, not_found
from .model import VENDOR, Backend, _keys_of, apply_incoming, channel_value, new_contact
from .schemas import CHANNELS, FieldCatalog, Invalid, mask_link, read_contact, refused

log = logging.getLogger("emulator.esputnik")

DEDUPE_KEYS = {
    "email": (("email", "email"),),
    "sms": (("sms", "sms"),),
    "email_or_sms": (("sms", "sms"), ("email", "email")),  # phone first, then email
    "id": (("id", "id"),),
    "externalCustomerId": (("ext", "externalCustomerId"),),
    "push": (("push", "mobilepush"),),
    "webpush": (("webpush", "webpush"),),
}
# index a bulk record was matched on -> the field left as it is (custom fields: by id)
MATCHED_FIELD = {"ext": ("externalCustomerId",), "email": ("email",), "sms": ("sms",), "push": ("mobilepush",),
                 "webpush": ("webpush",)}
# CSV header (lower-cased) -> what the column fills: the vendor's names, then the former names.
CSV_COLUMNS = {
    "first name": ("text", "firstName"), "last name": ("text", "lastName"), "address": ("address", "address"),
    "region": ("address", "region"), "city": ("address", "town"), "postcode": ("address", "postcode"),
    "email": ("channel", "email"), "sms": ("channel", "sms"), "language code": ("text", "languageCode"),
    "timezone": ("text", "timeZone"), "contact id": ("text", "externalCustomerId"),
    "additional info": ("unstored", "Additional info"),
    # former names, kept as aliases
    "firstname": ("text", "firstName"), "lastname": ("text", "lastName"),
    "externalcustomerid": ("text", "externalCustomerId"), "town": ("address", "town"),
    "languagecode": ("text", "languageCode"), "mobilepush": ("channel", "mobilepush"),
    "webpush": ("channel", "webpush"), "viber": ("channel", "viber"), "telegram": ("channel", "telegram"),
}
CSV_VENDOR_COLUMNS = ("First name", "Last name", "Address", "Region", "City", "Postcode", "Email", "Sms",
                      "Language code", "Timezone", "Contact id", "Additional info", "KEY_PROFILE.KEY_CUSTOMFIELD")


def read_import_options(shape, body: dict) -> tuple[dict, dict]:
    """(values, options) of a bulk import or upload read with ``shape``; 400 on a broken rule."""
    values, problems = shape.read(body)
    dedupe = values.get("dedupeOn") or "email"
    if dedupe != "fieldId":  # fieldId is only read when it is matched on
        problems = [p for p in problems if p.path != "fieldId"]
    if problems:
        raise refused(problems)
    if dedupe == "fieldId" and values.get("fieldId") is None:
        raise EsputnikError("fieldId is required when dedupeOn is fieldId: the id of the custom field to match on")
    if dedupe != "fieldId" and body.get("fieldId") is not None:
        note("fieldId", body["fieldId"], None, "ignored: dedupeOn is not fieldId", "ignored")
    standard = values.get("contactFields")
    return values, {
        "dedupeOn": dedupe, "fieldId": values["fieldId"] if dedupe == "fieldId" else None,
        "standard": None if standard is None else ["webpush" if name == "webPush" else name for name in standard],
        "custom": values.get("customFieldsIDs"),
        "groupNames": values.get("groupNames") or [], "groupNamesExclude": values.get("groupNamesExclude") or [],
        "restoreDeleted": bool(values.get("restoreDeleted")), "eventKey": values.get("eventKeyForNewContacts")}


def _failure(index: int, contact: Any, code: str, message: str) -> dict:
    return {"index": index, "contact": contact, "errorCode": code, "message": message}


def start_import(backend, body: dict) -> dict:
    """``POST /contacts``: check at once, answer with a session id, import on the emulator clock."""
    values, options = read_import_options(schemas.BULK, body)
    contacts = values["contacts"]
    records, failed = normalize_many(backend, contacts, options)
    with backend.store.transaction():
        backend._static_segments(options["groupNames"], "groupNames", create=False)
        backend._static_segments(options["groupNamesExclude"], "groupNamesExclude", create=False)
        session = new_session(backend, "contacts", failed)
        backend.engine.jobs.enqueue(VENDOR, backend.account.name, "esputnik.import",
                                 {"session": session, "options": options, "records": records},
                                 delay_s=backend.setting("processing_delay_s") or 0, subject=session)
    # "id": 0 with the session: the answer public clients read as "asynchronous, see the session"
    answer: dict[str, Any] = {"id": 0, "asyncSessionId": session}
    if failed:
        answer["failedContacts"] = backend.shaped(failed)
    return answer


def start_upload(backend, body: dict) -> dict:
    """``POST /contacts/upload``: the CSV at ``link`` is fetched and imported by the session's job."""
    values, options = read_import_options(schemas.UPLOAD, body)
    link = values["link"]
    with backend.store.transaction():
        backend._static_segments(options["groupNames"], "groupNames", create=False)
        backend._static_segments(options["groupNamesExclude"], "groupNamesExclude", create=False)
        session = new_session(backend, "upload", [], link=mask_link(link))
        backend.engine.jobs.enqueue(VENDOR, backend.account.name, "esputnik.upload",
                                 {"session": session, "options": options, "link": link},
                                 delay_s=backend.setting("processing_delay_s") or 0, subject=session)
    return {"asyncSessionId": session}


def new_session(backend, kind: str, failed: list, **extra) -> str:
    session = backend.ids.uuid(backend.session_ns)
    backend.sessions.insert({"asyncSessionId": session, "kind": kind, "status": "PROCESSING",
                          "created": backend.now(), "finished": None, "mapping": [],
                          "failedContacts": failed, "error": None, "notes": [], **extra})
    return session


def normalize_many(backend, contacts: list, options: dict) -> tuple[list, list]:
    """(index, raw, incoming) per contact that can be imported, and the failures found now."""
    records, failed = [], []
    dedupe = options["dedupeOn"]
    allow_id = dedupe == "id"
    first_seen: dict[tuple, int] = {}
    for i, raw in enumerate(contacts):
        where = f"contacts[{i}]"
        try:
            incoming = read_contact(raw, where, backend.catalog, allow_id=allow_id)
        except Invalid as exc:
            failed.append(_failure(i, raw, exc.code, exc.message))
            continue
        backend._note_unsubscribed(incoming, where)
        records.append([i, raw, incoming])
        ext = incoming.get("externalCustomerId")
        keys = [("ext", ext)] if ext is not None else [
            (index, incoming[key]) for index, key in DEDUPE_KEYS.get(dedupe, ()) if incoming.get(key) is not None]
        for key in keys:
            if key in first_seen:
                note(where, key[1], f"contacts[{first_seen[key]}]",
                     "the same contact twice in one request: merged into one, later values win", "unverified")
                break
            first_seen[key] = i
    return records, failed


def import_status(backend, session_id: str) -> dict:
    backend.engine.jobs.wait_for(session_id)  # a due upload's file is being fetched: its outcome is the answer
    found = backend.sessions.find("session", session_id)
    if found is None:
        raise not_found(f"import session {session_id!r} not found")
    answer = {"asyncSessionId": found["asyncSessionId"], "status": found["status"],
              "mapping": backend.shaped(found["mapping"]), "failedContacts": backend.shaped(found["failedContacts"])}
    if found["status"] == "ERROR":
        answer["error"] = found["error"]
    return answer


def finish_session(backend, session_id: str, *, mapping=None, failed=(), error=None, notes=()) -> None:
    """Mark a session done; found and updated in one store transaction (a reset between
    the two would otherwise update a document that is gone)."""
    with backend.store.transaction():
        found = backend.sessions.find("session", session_id)
        if found is None:  # reset while queued
            return
        fields = {"status": "ERROR" if error else "FINISHED", "finished": backend.now(), "error": error,
                  "notes": found["notes"] + list(notes)}
        if mapping is not None:
            fields["mapping"] = mapping
        if failed:
            fields["failedContacts"] = sorted(found["failedContacts"] + list(failed), key=lambda f: f["index"])
        backend.sessions.update(found.doc_id, fields)


def run_import(backend, records: list, options: dict) -> tuple[list, list]:
    """Match and write one import's records in one ``write_many``; returns (mapping, failures).

    One store transaction: matching and writing see a store no request changes meanwhile.
    """
    with backend.store.transaction():
        importer = _Import(backend, options)
        for index, raw, incoming in records:
            importer.add(index, raw, incoming)
        return importer.commit()


class _Import:
    """One import session's matching and writing (the same contact twice is one contact)."""

    def __init__(self, backend: Backend, options: dict):
        self.b = backend
        self.options = options
        self.now = backend.now()
        self.standard = frozenset(options["standard"]) if options["standard"] is not None else None
        self.custom = frozenset(options["custom"]) if options["custom"] is not None else None
        self.join = backend._static_segments(options["groupNames"], "groupNames", create=True)
        self.leave = {g["id"] for g in backend._static_segments(options["groupNamesExclude"], "groupNamesExclude",
                                                                  create=False)}
        self.docs: dict[int, dict] = {}   # doc_id (stored) or -n (new) -> working copy
        self.local: dict[tuple, int] = {}  # (index, key) -> doc_id of a contact touched in this import
        self.new_ids: list[int] = []
        self.mapping: list[dict] = []
        self.failed: list[dict] = []
        self.events: list[dict] = []

    def _keys_for(self, incoming: dict) -> tuple[list, str | None]:
        """The (index, key) pairs to match on, and why none (when so)."""
        ext = incoming.get("externalCustomerId")
        if ext is not None:
            return [("ext", ext)], None  # externalCustomerId has priority over dedupeOn
        dedupe = self.options["dedupeOn"]
        if dedupe == "fieldId":
            fid = self.options["fieldId"]
            if fid not in self.b.catalog.by_id:
                return [], f"dedupeOn fieldId: custom field {fid} is not declared for the account"
            value = dict(incoming.get("fields") or ()).get(fid)
            return ([("field", (fid, value))], None) if value is not None else \
                ([], f"no value for custom field {fid} to dedupe on")
        keys = [(index, incoming[key]) for index, key in DEDUPE_KEYS[dedupe] if incoming.get(key) is not None]
        return keys, None if keys else f"no {dedupe} to dedupe on"

    def _lookup(self, index: str, key) -> int | None:
        ref = self.local.get((index, key))
        if ref is not None and (index, key) in _keys_of(self.docs[ref]):
            return ref
        found = self.b._find(index, key)
        if found is None:
            return None
        doc_id = found.doc_id
        if doc_id in self.docs:
            return doc_id if (index, key) in _keys_of(self.docs[doc_id]) else None
        self.docs[doc_id] = found
        return doc_id

    def _dedupe_value(self, doc: dict, matched: tuple | None) -> str | None:
        """What the mapping item names the record by: the value it was deduplicated on, as stored."""
        dedupe = self.options["dedupeOn"]
        if dedupe == "email_or_sms":
            value = matched[1] if matched and matched[0] in ("sms", "email") else \
                channel_value(doc, "sms") or channel_value(doc, "email")
        elif dedupe in ("email", "sms", "push", "webpush"):
            value = channel_value(doc, {"push": "mobilepush"}.get(dedupe, dedupe))
        elif dedupe == "id":
            value = str(doc["id"])
        elif dedupe == "fieldId":
            value = next((f["value"] for f in doc["fields"] if f["id"] == self.options["fieldId"]), None)
        else:
            value = doc["externalCustomerId"]
        # a record matched on its externalCustomerId may lack the dedupeOn value
        return value if value is not None else doc["externalCustomerId"]

    def add(self, index: int, raw: Any, incoming: dict) -> None:
        keys, why = self._keys_for(incoming)
        if not keys:
            self.failed.append(_failure(index, raw, "NO_DEDUPE_KEY", why))
            return
        doc_id = matched = None
        for pair in keys:
            doc_id = self._lookup(*pair)
            if doc_id is not None:
                matched = pair
                break
        if doc_id is None:
            if keys[0][0] == "id":
                self.failed.append(_failure(index, raw, "CONTACT_NOT_FOUND", f"no contact with id {keys[0][1]}"))
                return
            if not any(kind in incoming for kind in CHANNELS):
                self.failed.append(_failure(index, raw, "NO_CHANNEL", "a new contact needs at least one channel "
                                            "(email, sms, ...)"))
                return
            doc = new_contact(self.b.ids.number(self.b.contact_ns), self.now)
            apply_incoming(doc, incoming)
            doc_id = -1 - len(self.new_ids)
            self.new_ids.append(doc_id)
            self.docs[doc_id] = doc
            if self.options["eventKey"]:
                email, sms = channel_value(doc, "email"), channel_value(doc, "sms")
                self.events.append({"type": self.options["eventKey"], "key": email or sms or str(doc["id"]),
                                    "params": {"contactId": doc["id"], "EmailAddress": email or "",
                                               "SMS": sms or ""}, "at": self.now})
        else:
            doc = self.docs[doc_id]
            if doc["deleted"]:
                if not self.options["restoreDeleted"]:
                    self.failed.append(_failure(index, raw, "CONTACT_DELETED", f"contact {doc['id']} is deleted "
                                                "and restoreDeleted is false"))
                    return
                doc["deleted"] = False
            kind, key = matched
            skip = (("field", key[0]),) if kind == "field" else MATCHED_FIELD.get(kind, ())
            apply_incoming(doc, incoming, standard=self.standard, custom=self.custom, skip=skip)
            doc["updated"] = self.now
        self.b._join(doc, self.join)
        self.b._leave(doc, self.leave)
        for pair in _keys_of(doc):
            self.local[pair] = doc_id
        self.mapping.append({"dedupeValue": self._dedupe_value(doc, matched), "contactId": doc["id"]})

    def commit(self) -> tuple[list, list]:
        inserts = [self.docs[i] for i in self.new_ids]
        replaces = {i: doc for i, doc in self.docs.items() if i >= 0}
        # updates first: one may free an externalCustomerId that a new contact of this import takes
        self.b.contacts.write_many(replaces=replaces)
        self.b.contacts.write_many(inserts)
        if self.events:
            self.b.events.write_many(self.events)
        return self.mapping, self.failed


# -- job handlers (registered in VendorSpec.jobs) --------------------------------------------


def import_job(engine, job) -> None:
    """Complete a ``POST /contacts`` session."""
    payload = job["payload"]
    backend = engine.backend(VENDOR, job["account"])
    with collect_notes() as notes:
        try:
            mapping, failed = run_import(backend, payload["records"], payload["options"])
        except (DuplicateKey, EsputnikError) as exc:
            finish_session(backend, payload["session"], error=f"import failed: {exc}", notes=notes)
            return
        except Exception as exc:  # noqa: BLE001 - a failed import is a failed session, never a 500
            log.exception("esputnik import session %s failed", payload["session"])
            finish_session(backend, payload["session"], error=f"import failed: {type(exc).__name__}: {exc}",
                                   notes=notes)
            return
    finish_session(backend, payload["session"], mapping=mapping, failed=failed, notes=notes)


def fetch_upload(engine, job) -> str:
    """The upload job's network step (an outbound thread, no lock held): the CSV's text."""
    backend = engine.backend(VENDOR, job["account"])
    return fetch_csv(job["payload"]["link"], timeout_s=float(backend.setting("upload_timeout_s") or 10),
                     max_bytes=int(backend.setting("upload_max_bytes") or 0))


def upload_job(engine, job, fetched) -> None:
    """Import the fetched CSV of a ``POST /contacts/upload`` session like ``POST /contacts``."""
    payload = job["payload"]
    backend = engine.backend(VENDOR, job["account"])
    session = payload["session"]
    with collect_notes() as notes:
        try:
            rows = parse_csv(fetched.result(), backend.catalog)
            with engine.store.transaction():
                records, failed = normalize_many(backend, rows, payload["options"])
                mapping, later = run_import(backend, records, payload["options"])
        except (UploadFailed, DuplicateKey, EsputnikError) as exc:
            finish_session(backend, session, error=str(exc), notes=notes)
            return
        except Exception as exc:  # noqa: BLE001 - a failed upload is a failed session, never a 500
            log.exception("esputnik upload session %s failed", session)
            finish_session(backend, session, error=f"upload failed: {type(exc).__name__}: {exc}", notes=notes)
            return
    finish_session(backend, session, mapping=mapping, failed=failed + later, notes=notes)


class UploadFailed(Exception):
    """The CSV link could not be fetched or read."""


def fetch_csv(link: str, *, timeout_s: float, max_bytes: int) -> str:
    """The text of the file at ``link``, all of it within ``timeout_s`` seconds (user:password
    in the link are sent as Basic auth)."""
    shown = mask_link(link)
    try:
        answer = outbound.call("GET", link, deadline_s=timeout_s, max_bytes=max_bytes or None)
    except outbound.OutboundFailed as exc:
        if exc.reason == "too_large":
            raise UploadFailed(f"file at {shown} is larger than the {max_bytes}-byte cap") from None
        raise UploadFailed(f"link {shown} could not be fetched: {exc}") from None
    if answer.status != 200:
        raise UploadFailed(f"link {shown} answered HTTP {answer.status}")
    data = answer.body
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadFailed(f"file at {shown} is not UTF-8 text (byte {exc.start})") from None


def _csv_column(name: str, catalog: FieldCatalog) -> tuple | None:
    """What a CSV header names (matched case-insensitively), or None for a column not read."""
    lowered = name.lower()
    if lowered in CSV_COLUMNS:
        return CSV_COLUMNS[lowered]
    if lowered.startswith("field_") and lowered[6:].isdecimal():
        fid = int(lowered[6:])
    elif "." in name:
        fid = catalog.by_key.get(name.upper())
    else:
        if name:
            note(f"column {name}", name, None, "unknown CSV column ignored", "ignored")
        return None
    if fid not in catalog.by_id:
        note(f"column {name}", name, None, "custom-field column the account does not have: not written", "ignored")
        return None
    return ("field", fid)


def parse_csv(text: str, catalog: FieldCatalog) -> list[dict]:
    """CSV rows as contacts to import. Headers are the vendor's column names (``First name``,
    ``Email``, ``Sms``, ``City``, ``Contact id``, ``PROFILE_KEY.FIELD_KEY``...) or the former
    ones (``email``, ``firstName``, ``field_<id>``...), matched case-insensitively."""
    if "\x00" in text:
        raise UploadFailed("file is not a CSV file: it holds NUL bytes")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UploadFailed(f"file is not a readable CSV file: {exc}") from None
    if not header or not any(h.strip() for h in header):
        raise UploadFailed("file is empty: a CSV header row (Email, Sms, First name, ...) is required")
    columns = [_csv_column(h.strip(), catalog) for h in header]
    if not any(columns):
        raise UploadFailed(f"file is not a contact CSV: no known column in the header {header[:10]!r}; expected "
                           f"{', '.join(CSV_VENDOR_COLUMNS)} (or email, sms, firstName, lastName, externalCustomerId, "
                           f"town, region, address, postcode, field_<id>)")
    rows = []
    unstored_noted = set()
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            contact: dict[str, Any] = {}
            for column, cell in zip(columns, cells, strict=False):
                cell = cell.strip()
                if column is None or not cell:
                    continue
                kind, name = column
                if kind == "channel":
                    contact.setdefault("channels", []).append({"type": name, "value": cell})
                elif kind == "text":
                    contact[name] = cell
                elif kind == "address":
                    contact.setdefault("address", {})[name] = cell
                elif kind == "field":
                    contact.setdefault("fields", []).append({"id": name, "value": cell})
                elif name not in unstored_noted:
                    unstored_noted.add(name)
                    note(f"column {name}", cell, None, "read and not stored: the vendor's file reference does not "
                                                       "say where it goes", "unverified")
            rows.append(contact)
    except csv.Error as exc:
        raise UploadFailed(f"file is not a readable CSV file: {exc}") from None
    return rows
