"""Octopush's rules as plain Python: contacts keyed by phone, lists, tags, blacklist.

Payloads are read with the declarations of :mod:`.schemas` (the vendor's lenient casting,
every fix-up a journal note); this module answers what is left: which numbered error a
request gets, who is created, updated, ignored, attached or detached.
"""
from __future__ import annotations

from typing import Any

from emulator.core.accounts import FixtureError
from emulator.core.journal import note
from emulator.core.payload import Problem, Refused
from emulator.core.store import collector_paused

from . import schemas
from .errors import (
    ACCOUNT_NOT_VALIDATED,
    LIST_EXISTS,
    LIST_NOT_FOUND,
    NO_CORRECT_NUMBER,
    NO_RECIPIENTS,
    PARAMETER_MISSING,
    TOO_MANY_CONTACTS,
    OctopushError,
)

VENDOR = "octopush"


def _sent_count(value: Any) -> int:
    """How many values a client sent as an array parameter (before any was read)."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, str):
        return int(bool(value.strip()))
    return int(isinstance(value, (int, float)) and not isinstance(value, bool))


def _names(single: str | None, many: list[str]) -> list[str]:
    """``list_name`` + ``list_names`` (or the tag pair), in order, each once."""
    out = [single] if single else []
    for name in many:
        if name not in out:
            out.append(name)
    return out


def _attach(current: list[str], names: list[str]) -> list[str]:
    return current + [n for n in names if n not in current]


# -- the per-account backend ------------------------------------------------------------
class Backend:
    """One Octopush account: its contacts (keyed by E.164 number), lists, tags and blacklist."""

    def __init__(self, engine, account):
        self.engine = engine
        self.account = account
        self.country = str(account.setting("default_country") or "FR").upper()
        self.contact = schemas.CONTACT.bind(region=self.country)  # national numbers read in the account's country
        self.delete_shape = schemas.DELETE.bind(region=self.country)
        store = engine.store
        self.contacts = store.collection(VENDOR, account.name, "contacts")
        self.lists = store.collection(VENDOR, account.name, "lists")
        self.tags = store.collection(VENDOR, account.name, "tags")
        self.blacklist = store.collection(VENDOR, account.name, "blacklist")

    def check_validated(self) -> None:
        """An account the fixture flags ``validated: false`` is refused (403, code 113)."""
        if not self.account.setting("validated", True):
            raise OctopushError(ACCOUNT_NOT_VALIDATED, "Your account is not validated: log in to Octopush "
                                "and validate it in the user interface.", 403)

    # -- POST /v1/public/contact/create ------------------------------------------------
    def create_contacts(self, body: dict) -> tuple[dict, int]:
        """Add contacts and attach them to lists and tags; (response, status)."""
        p, problems = self._read(schemas.CREATE, body)
        if problems:
            raise OctopushError(NO_RECIPIENTS, "You have not entered the list of recipients: contacts is required, "
                                f"an array of 1 to {schemas.MAX_CONTACTS_PER_CALL} contact objects {{phone_number, "
                                f"first_name, last_name, param1..param5}}; "
                                + ("none was sent" if problems[0].reason == "required" else str(problems[0])))
        with collector_paused(len(p["contacts"])):  # a bulk is built with the collector paused
            return self._create_contacts(p)

    def _create_contacts(self, p: dict) -> tuple[dict, int]:
        rows, ignored = self._read_contacts(p["contacts"])
        if not rows:
            reasons = "; ".join(f"contacts[{i['index']}]: {i['reason']}" for i in ignored[:5])
            raise OctopushError(NO_CORRECT_NUMBER, "Your recipient list contains no correct numbers: no contact has "
                                f"a valid phone_number (E.164, or a national number in {self.country}): {reasons}")
        lists = _names(p["list_name"], p["list_names"])
        tags = _names(p["tag_name"], p["tag_names"])
        leave_out_blacklisted = p["auto_remove_blacklisted_numbers"] or p["auto_delete_optout_contacts"]
        keep_existing = p["do_not_overwrite"]
        created = updated = 0
        with self.engine.store.transaction():
            now = self.engine.clock.iso_now()
            self._ensure_named(self.lists, "list", lists, now)
            self._ensure_named(self.tags, "tag", tags, now)
            pending: dict[str, list] = {}  # phone -> [stored doc id or None, new doc, first index]
            for index, phone, fields in rows:
                blacklisted = self.blacklist.find_id("phone", phone) is not None
                if blacklisted and leave_out_blacklisted:
                    ignored.append({"index": index, "phone_number": phone, "reason": "blacklisted"})
                    continue
                entry = pending.get(phone)
                if entry is None:
                    doc_id = self.contacts.find_id("phone", phone)
                    if doc_id is not None and keep_existing:
                        ignored.append({"index": index, "phone_number": phone,
                                        "reason": "already exists (do_not_overwrite)"})
                        continue
                    if doc_id is None:
                        doc = _new_contact(phone, now)
                        created += 1
                    else:
                        doc = self.contacts.get(doc_id)  # a copy
                        if p["un_list"]:
                            doc["lists"] = []
                        if p["un_tag"]:
                            doc["tags"] = []
                        updated += 1
                    entry = pending[phone] = [doc_id, doc, index]
                elif keep_existing:
                    ignored.append({"index": index, "phone_number": phone,
                                    "reason": "already in this call (do_not_overwrite)"})
                    continue
                else:
                    note(f"contacts[{entry[2]}]", phone, None, f"same number again at contacts[{index}]: one contact, "
                         "later values win", "ignored")
                doc = entry[1]
                doc.update(fields)
                doc["lists"] = _attach(doc["lists"], lists)
                doc["tags"] = _attach(doc["tags"], tags)
                doc["blacklisted"] = blacklisted
                doc["updated_at"] = now
            inserts = [doc for doc_id, doc, _ in pending.values() if doc_id is None]
            replaces = {doc_id: doc for doc_id, doc, _ in pending.values() if doc_id is not None}
            if inserts or replaces:
                self.contacts.write_many(inserts, replaces)
        ignored.sort(key=lambda item: item["index"])
        response = {"contacts_created": created, "contacts_updated": updated, "contacts_ignored": len(ignored),
                    "lists": lists, "tags": tags, "ignored": ignored}
        return response, int(self.account.setting("create_status", 201))

    def _read_contacts(self, elements: list) -> tuple[list, list]:
        """([(index, phone, fields)], [ignored entries]) of the sent contact objects."""
        rows, ignored = [], []
        for index, element in enumerate(elements):
            if not isinstance(element, dict):
                ignored.append({"index": index, "phone_number": None, "reason": "not a contact object"})
                continue
            fields, failures = self.contact.read(element, f"contacts[{index}].")
            phone = fields.pop("phone_number", None)
            if phone is None:
                ignored.append({"index": index, "phone_number": element.get("phone_number"),
                                "reason": failures[0].message})
                continue
            rows.append((index, phone, fields))
        return rows, ignored

    # -- DELETE /v1/public/contact/delete ----------------------------------------------
    def delete_contacts(self, body: dict) -> None:
        """Delete numbers from the account, or only detach them from ``list_name``."""
        p, problems = self._read(self.delete_shape, body)
        if problems:
            if _sent_count(body.get("phone_numbers")):
                raise OctopushError(NO_CORRECT_NUMBER, "Your recipient list contains no correct numbers: "
                                    "phone_numbers holds no valid phone number (E.164, or a national number in "
                                    f"{self.country})")
            raise OctopushError(NO_RECIPIENTS, "You have not entered the list of recipients: phone_numbers is "
                                f"required, an array of 1 to {schemas.MAX_NUMBERS_PER_DELETE} phone numbers")
        phones = list(dict.fromkeys(p["phone_numbers"]))
        list_name = p["list_name"]
        with self.engine.store.transaction():
            if list_name is not None:
                self._existing_list(list_name)
            replaces = {}
            for phone in phones:
                doc_id = self.contacts.find_id("phone", phone)
                if doc_id is None:
                    note("phone_numbers", phone, None, "no such contact: ignored", "ignored")
                elif list_name is None:
                    self.contacts.remove(doc_id)
                else:
                    doc = self.contacts.get(doc_id)
                    if list_name in doc["lists"]:
                        doc["lists"] = [n for n in doc["lists"] if n != list_name]
                        doc["updated_at"] = self.engine.clock.iso_now()
                        replaces[doc_id] = dict(doc)
                    else:
                        note("phone_numbers", phone, None, f"not in list {list_name!r}: ignored", "ignored")
            if replaces:
                self.contacts.write_many((), replaces)

    # -- POST /v1/public/contact-list/create --------------------------------------------
    def create_list(self, body: dict) -> tuple[dict, int]:
        """Create a list by name; a name that exists already is 400, code 302."""
        name = self._list_name(schemas.LIST_CREATE, body)
        with self.engine.store.transaction():
            if self.lists.find_id("name", name) is not None:
                raise OctopushError(LIST_EXISTS, f"A list with the same name already exists: list_name {name!r}")
            self._ensure_named(self.lists, "list", [name], self.engine.clock.iso_now())
            doc = self.lists.find("name", name)
        return {"id": doc["id"], "list_name": name, "created": True}, 201

    # -- POST /v1/public/contact-list/empty ---------------------------------------------
    def empty_list(self, body: dict) -> dict:
        """Detach every contact of a list; ``delete_contacts`` also deletes them."""
        p = self._values(schemas.LIST_EMPTY, body)
        name = p["list_name"]
        with self.engine.store.transaction():
            self._existing_list(name)
            members = self.contacts.find_all("list", name)
            if p["delete_contacts"]:
                for doc in members:
                    self.contacts.remove(doc.doc_id)
            else:
                self._detach(members, name)
        return {"list_name": name, "contacts_detached": len(members),
                "contacts_deleted": len(members) if p["delete_contacts"] else 0}

    # -- DELETE /v1/public/contact-list/delete --------------------------------------------
    def delete_list(self, body: dict) -> None:
        """Delete a list; its contacts stay in the account, detached from it."""
        name = self._list_name(schemas.LIST_DELETE, body)
        with self.engine.store.transaction():
            doc_id = self._existing_list(name)
            self._detach(self.contacts.find_all("list", name), name)
            self.lists.remove(doc_id)

    def _existing_list(self, name: str) -> int:
        """The id of the list named ``name``; 400 code 303 when there is none."""
        doc_id = self.lists.find_id("name", name)
        if doc_id is None:
            raise OctopushError(LIST_NOT_FOUND, f"The specified list does not exist: list_name {name!r}")
        return doc_id

    def _detach(self, members: list, name: str) -> None:
        """Take list ``name`` off these contacts (one write)."""
        now = self.engine.clock.iso_now()
        replaces = {}
        for doc in members:
            doc["lists"] = [n for n in doc["lists"] if n != name]
            doc["updated_at"] = now
            replaces[doc.doc_id] = dict(doc)
        if replaces:
            self.contacts.write_many((), replaces)

    # -- blacklist (opt-outs) -------------------------------------------------------------
    def add_to_blacklist(self, numbers: list) -> dict:
        """These numbers sent STOP: blacklist them and flag their contacts.

        Raises :class:`Refused` (naming the number) before storing anything.
        """
        read_phone = self.contact.readers["phone_number"]
        phones = []
        for number in numbers:
            try:
                phones.append(read_phone(number, "", "phone_numbers"))
            except Refused as exc:
                raise Refused(exc.reason, f"phone_numbers: {number!r} is {exc.message}") from None
        phones = list(dict.fromkeys(phones))
        flagged = 0
        with self.engine.store.transaction():
            now = self.engine.clock.iso_now()
            new = [{"phone_number": phone, "created_at": now} for phone in phones
                   if self.blacklist.find_id("phone", phone) is None]
            if new:
                self.blacklist.write_many(new)
            replaces = {}
            for phone in phones:
                doc_id = self.contacts.find_id("phone", phone)
                if doc_id is not None:
                    doc = self.contacts.get(doc_id)
                    if not doc["blacklisted"]:
                        doc["blacklisted"] = True
                        replaces[doc_id] = dict(doc)
            if replaces:
                self.contacts.write_many((), replaces)
                flagged = len(replaces)
        return {"account": self.account.name, "phone_numbers": phones, "contacts_flagged": flagged}

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _read(shape, body: dict) -> tuple[dict, list[Problem]]:
        """The body read with ``shape``; more values than a parameter takes is 400, code 305."""
        values, problems = shape.read(body)
        for problem in problems:
            if problem.reason == "too_many":
                raise OctopushError(TOO_MANY_CONTACTS, f"There are too many contacts in the query: {problem}")
        return values, problems

    def _values(self, shape, body: dict) -> dict:
        """The body read with ``shape``; a required parameter missing or unusable is 400, code 100."""
        values, problems = self._read(shape, body)
        if problems:
            field = shape.fields[problems[0].path]
            raise OctopushError(PARAMETER_MISSING, f"{problems[0].path}: required, a non-empty string of at most "
                                f"{field.max_length} characters; {problems[0].message}")
        return values

    def _list_name(self, shape, body: dict) -> str:
        return self._values(shape, body)["list_name"]

    def _ensure_named(self, coll, kind: str, names: list[str], now: str) -> list[str]:
        """Create the named lists (or tags) that do not exist yet; returns the names created."""
        missing = [name for name in names if coll.find_id("name", name) is None]
        if missing:
            namespace = f"{VENDOR}:{self.account.name}:{kind}"
            coll.write_many([{"id": self.engine.ids.hex24(namespace), "name": name, "created_at": now}
                             for name in missing])
        return missing


def _new_contact(phone: str, now: str) -> dict:
    return {"phone_number": phone, "first_name": None, "last_name": None,
            "param1": None, "param2": None, "param3": None, "param4": None, "param5": None,
            "lists": [], "tags": [], "blacklisted": False, "created_at": now, "updated_at": now}


# -- fixtures ---------------------------------------------------------------------------
def load_account(backend: Backend, payloads: list[dict]) -> None:
    """Set up the fixture's lists, tags and blacklist, then store the generated contacts."""
    settings = backend.account.settings
    for key in ("lists", "tags", "blacklist"):
        value = settings.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise FixtureError(f"fixture: octopush account {backend.account.name!r}: settings.{key} must be "
                               "an array of non-empty strings")
    now = backend.engine.clock.iso_now()
    backend._ensure_named(backend.lists, "list", list(dict.fromkeys(settings.get("lists") or [])), now)
    backend._ensure_named(backend.tags, "tag", list(dict.fromkeys(settings.get("tags") or [])), now)
    if settings.get("blacklist"):
        try:
            backend.add_to_blacklist(settings["blacklist"])
        except Refused as exc:
            raise FixtureError(f"fixture: octopush account {backend.account.name!r}: settings.blacklist: {exc}") from None
    if payloads:
        backend.create_contacts({"contacts": payloads})


def describe_credentials(account) -> str:
    creds = account.credentials
    return f"headers api-login: {creds.get('api_login')}, api-key: {creds.get('api_key')}"
