"""eSputnik's contact rules as plain Python (no Flask): one :class:`Backend` per account.

Contacts are stored in the vendor's own shape (``channels`` list, ``address``, ``fields``,
``groups``) plus ``deleted``, ``created`` and ``updated``. Look-ups go through indexes:

* ``id`` and ``ext`` (externalCustomerId) are unique;
* ``email``, ``sms``, ``push``, ``webpush`` and ``field`` are not: the vendor itself ends up
  with two contacts sharing an email (its older add-contact method always created, and a
  bulk import deduplicating on ``sms`` creates a contact whose email another one has).
  Every read-modify-write runs inside ``engine.store.transaction()``, so concurrent
  identical requests still resolve to one contact.

Besides contacts an account keeps ``orders`` (by ``externalOrderId``), ``events``, the
``unsubscribed`` email addresses (their rules: :mod:`.orders`) and its import ``sessions``
(:mod:`.jobs`).

Request bodies are read with the declarations of :mod:`.schemas` at request time (journal
notes belong to the request).
"""
from __future__ import annotations

import hashlib
import re
import threading
from contextlib import contextmanager
from typing import Any

from emulator.core.errors import EmulatorError
from emulator.core.journal import note

from . import schemas
from .errors import EsputnikError, not_found
from .schemas import (
    ADDRESS_KEYS,
    ADDRESS_PARTS,
    CHANNELS,
    STANDARD_FIELDS,
    FieldCatalog,
    Invalid,
    read_contact,
    refused,
)

VENDOR = "esputnik"

_WHOLE_FIELDS = tuple(key for key in STANDARD_FIELDS if key not in ADDRESS_PARTS)
INDEX_OF_CHANNEL = {"email": "email", "sms": "sms", "mobilepush": "push", "webpush": "webpush"}
_NON_DIGITS = re.compile(r"\D")


# -- the stored contact -------------------------------------------------------------------
def channel_value(doc: dict, kind: str) -> str | None:
    for ch in doc["channels"]:
        if ch["type"] == kind:
            return ch["value"]
    return None


def field_keys(doc: dict) -> list:
    return [(f["id"], f["value"]) for f in doc["fields"] if f["value"] is not None]


def group_ids(doc: dict) -> list:
    return [g["id"] for g in doc["groups"]]


def public(doc: dict, book_id: int) -> dict:
    """A stored contact as the vendor answers it (with the account's address book id)."""
    return {"id": doc["id"], "firstName": doc["firstName"], "lastName": doc["lastName"],
            "channels": [dict(ch) for ch in doc["channels"]], "address": doc["address"] and dict(doc["address"]),
            "fields": [dict(f) for f in doc["fields"]], "groups": [dict(g) for g in doc["groups"]],
            "externalCustomerId": doc["externalCustomerId"], "languageCode": doc["languageCode"],
            "timeZone": doc["timeZone"], "contactKey": doc.get("contactKey"), "addressBookId": book_id}


def _keys_of(doc: dict) -> set:
    keys = {("id", doc["id"])}
    if doc["externalCustomerId"] is not None:
        keys.add(("ext", doc["externalCustomerId"]))
    for ch in doc["channels"]:
        index = INDEX_OF_CHANNEL.get(ch["type"])
        if index:
            keys.add((index, ch["value"]))
    keys.update(("field", k) for k in field_keys(doc))
    return keys


def _channel(kind: str, value: str, confirmed: bool, members: dict | None) -> dict:
    channel: dict[str, Any] = {"type": kind, "value": value}
    if kind == "email":
        channel["confirmed"] = confirmed
    if members:
        channel.update(members)
    return channel


def _set_channel(doc: dict, kind: str, value: str | None, members: dict | None, *, confirmed: bool,
                 keep_existing: bool) -> None:
    channels = doc["channels"]
    for i, ch in enumerate(channels):
        if ch["type"] != kind:
            continue
        if keep_existing:
            return
        if value is None:
            del channels[i]
        elif ch["value"] == value:  # unchanged: the email keeps its confirmation state
            if members:
                ch.update(members)
        else:
            channels[i] = _channel(kind, value, confirmed, members)
        return
    if value is not None:
        channels.append(_channel(kind, value, confirmed, members))


def apply_incoming(doc: dict, incoming: dict, *, confirmed: bool = True, keep_channels: bool = False,
                   standard: frozenset | None = None, custom: frozenset | None = None,
                   skip: tuple = ()) -> None:
    """Write ``incoming`` onto ``doc``.

    ``standard``/``custom``: the fields written (bulk ``contactFields``/``customFieldsIDs``; a
    listed field not sent is cleared; an address part alone writes only that part); ``skip``:
    the field the contact was matched on; ``keep_channels``: existing channels stay as they
    are (subscribe).
    """
    members = incoming.get("members") or {}
    for key in _WHOLE_FIELDS:
        if key in skip or (standard is not None and key not in standard):
            continue
        if key in incoming:
            value = incoming[key]
        elif standard is not None:
            value = None
        else:
            continue
        if key in CHANNELS:
            _set_channel(doc, key, value, members.get(key), confirmed=confirmed, keep_existing=keep_channels)
        elif key == "address":
            doc["address"] = dict(value) if value else None
        else:
            doc[key] = value
    if standard is not None:
        for key in ADDRESS_PARTS:  # a part named alone in contactFields: only that part
            if key in standard and key not in skip:
                address = dict(doc["address"] or dict.fromkeys(ADDRESS_KEYS))
                address[key] = (incoming.get("address") or {}).get(key)
                doc["address"] = None if all(v is None for v in address.values()) else address
    sent = incoming.get("fields")
    if sent is None and custom is None:
        return
    values = {f["id"]: f["value"] for f in doc["fields"]}
    for fid, value in sent or ():
        if ("field", fid) in skip or (custom is not None and fid not in custom):
            continue
        values[fid] = value
    if custom is not None:
        sent_ids = {fid for fid, _ in sent or ()}
        for fid in custom - sent_ids:
            if ("field", fid) not in skip:
                values[fid] = None
    doc["fields"] = [{"id": fid, "value": value} for fid, value in values.items() if value is not None]


def new_contact(contact_id: int, now: str) -> dict:
    return {"id": contact_id, "firstName": None, "lastName": None, "channels": [], "address": None, "fields": [],
            "groups": [], "externalCustomerId": None, "languageCode": None, "timeZone": None, "contactKey": None,
            "deleted": False, "created": now, "updated": now}


# -- the backend ----------------------------------------------------------------------------
class Backend:
    """One eSputnik account: its contacts, segments, orders, events, unsubscribed addresses and
    import sessions."""

    def __init__(self, engine, account):
        self.engine, self.account = engine, account
        self.store, self.clock, self.ids = engine.store, engine.clock, engine.ids
        name = account.name
        collection = engine.store.collection
        self.contacts = collection(VENDOR, name, "contacts")
        self.groups = collection(VENDOR, name, "groups")
        self.events = collection(VENDOR, name, "events")
        self.sessions = collection(VENDOR, name, "sessions")
        self.orders = collection(VENDOR, name, "orders")
        self.unsubscribed = collection(VENDOR, name, "unsubscribed")
        self.contact_ns = f"{VENDOR}:{name}:contact"
        self.group_ns = f"{VENDOR}:{name}:group"
        self.session_ns = f"{VENDOR}:{name}:session"
        self.catalog = FieldCatalog(account.setting("fields"), account.setting("address_book_id", 7200),
                                    account.setting("address_book_name", "Contacts"))
        self.book_id = self.catalog.book_id
        self._recent: dict[tuple, float] = {}
        self._rate_lock = threading.Lock()
        self._rate_second = -1
        self._rate_count = 0

    def setting(self, key: str):
        return self.account.settings.get(key)

    def now(self) -> str:
        return self.clock.iso_now()

    def shaped(self, items: list) -> list | dict:
        """``items`` as answered: with the account switch ``single_item_as_object``, a list of
        exactly one item is sent as that item alone (a form both official plugins accept)."""
        if len(items) == 1 and self.setting("single_item_as_object"):
            return items[0]
        return items

    # -- limits the real API enforces ---------------------------------------------------
    def count_request(self) -> None:
        """429 past ``max_requests_per_second`` requests in one second of the emulator clock."""
        limit = self.setting("max_requests_per_second")
        if not limit:
            return
        second = int(self.clock.time())
        with self._rate_lock:
            if second != self._rate_second:
                self._rate_second, self._rate_count = second, 0
            if self._rate_count >= limit:
                raise EsputnikError(f"Too many requests: more than {limit} requests in one second "
                                    f"for this account", 429)
            self._rate_count += 1

    @contextmanager
    def once(self, operation: str, raw_body: bytes):
        """Refuse (409) a byte-identical body to the same operation within ``duplicate_window_s``.

        Held inside the store transaction, so two identical concurrent requests cannot both
        pass; only a request that succeeded is remembered.
        """
        window = self.setting("duplicate_window_s")
        with self.store.transaction():
            if not window:
                yield
                return
            key = (operation, hashlib.sha1(raw_body).digest())
            now = self.clock.time()
            seen = self._recent.get(key)
            if seen is not None and 0 <= now - seen < window:
                raise EsputnikError(f"Duplicated request: the same request was received {now - seen:.0f} s ago; "
                                    f"a repeated request within {window} s is refused", 409)
            yield
            if len(self._recent) > 10_000:
                self._recent = {k: t for k, t in self._recent.items() if 0 <= now - t < window}
            self._recent[key] = now
            self.store.on_rollback(lambda: self._recent.pop(key, None))  # not stored after all: not remembered

    # -- look-ups ---------------------------------------------------------------------------
    def _find(self, index: str, key) -> Any:
        """The contact with ``key`` (a live one before a deleted one), or None. No scan."""
        if index in ("id", "ext"):
            return self.contacts.find(index, key)
        found = self.contacts.find_all(index, key)
        for doc in found:
            if not doc["deleted"]:
                return doc
        return found[0] if found else None

    def _live(self, contact_id: Any):
        doc = self.contacts.find("id", contact_id) if contact_id.__class__ is int else None
        if doc is None or doc["deleted"]:
            raise not_found(f"contact with id={contact_id!r} not found")
        return doc

    def _contact_id(self, raw: str):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise not_found(f"contact with id={raw!r} not found: ids are integers") from None

    def _check_external_id(self, incoming: dict, contact_id: int | None) -> None:
        """400 when the sent externalCustomerId belongs to another contact (checked before any write)."""
        ext = incoming.get("externalCustomerId")
        if ext is not None:
            owner = self.contacts.find("ext", ext)
            if owner is not None and owner["id"] != contact_id:
                raise EsputnikError(f"externalCustomerId {ext!r} already belongs to contact {owner['id']}")

    def _note_unsubscribed(self, incoming: dict, where: str) -> None:
        email = incoming.get("email")
        if email is not None and self.unsubscribed.find_id("email", email) is not None:
            note(f"{where}.channels" if where else "channels", email, email, "the email address is on the account's unsubscribed list; "
                 "writing the contact leaves it there (emails/unsubscribed/delete removes it)", "unverified")

    def _normalize_one(self, raw: Any, where: str = "") -> dict:
        try:
            incoming = read_contact(raw, where, self.catalog)
        except Invalid as exc:
            raise EsputnikError(exc.message) from None
        self._note_unsubscribed(incoming, where)
        return incoming

    @staticmethod
    def read_query(shape, args) -> dict:
        """A query string read with ``shape`` (an empty parameter is not sent); 400 naming the
        parameter and the rule."""
        values, problems = shape.read({key: value for key, value in args.items() if value != ""})
        if problems:
            raise refused(problems)
        return values

    def _page(self, args) -> tuple[int, int]:
        """``startindex`` (1-based, default 1) and ``maxrows`` (default and max 500) as a slice."""
        page = self.read_query(schemas.PAGE, args)
        start = page["startindex"]
        return start - 1, start - 1 + page["maxrows"]

    # -- segments -----------------------------------------------------------------------
    def _segment(self, name: str, *, create: bool) -> dict | None:
        found = self.groups.find("name", name)
        if found is None and create:
            found = {"id": self.ids.number(self.group_ns), "name": name, "type": "Static"}
            self.groups.insert(found)
        return found

    def _static_segments(self, names: list[str], field: str, *, create: bool) -> list[dict]:
        out = []
        for name in names:
            group = self._segment(name, create=create)
            if group is None:
                continue
            if group["type"] != "Static":
                raise EsputnikError(f"{field}: segment {name!r} is {group['type']}; only Static segments "
                                    f"take contacts")
            out.append({"id": group["id"], "name": group["name"], "type": group["type"]})
        return out

    @staticmethod
    def _join(doc: dict, groups: list[dict]) -> None:
        have = {g["id"] for g in doc["groups"]}
        doc["groups"].extend(dict(g) for g in groups if g["id"] not in have)

    @staticmethod
    def _leave(doc: dict, group_ids_out: set) -> None:
        if group_ids_out:
            doc["groups"] = [g for g in doc["groups"] if g["id"] not in group_ids_out]

    def list_groups(self, args: dict) -> tuple[list[dict], int]:
        """Segments whose name contains ``name`` (case-insensitively), paged like the search."""
        begin, end = self._page(args)
        wanted = (args.get("name") or "").strip().lower()
        found = [{"id": g["id"], "name": g["name"], "type": g["type"]} for _, g in self.groups.scan()
                 if wanted in g["name"].lower()]
        return found[begin:end], len(found)

    def group_contacts(self, raw_group_id: str, args: dict) -> tuple[list[dict], int]:
        """The live contacts of a segment, by id, paged; ``TotalCount`` is the segment's size."""
        group_id = self._group_id(raw_group_id)
        begin, end = self._page(args)
        if self.groups.find_id("id", group_id) is None:
            raise not_found(f"segment with id={group_id} not found")
        members = sorted((doc for doc in self.contacts.find_all("group", group_id) if doc is not None
                          and not doc["deleted"]), key=lambda d: d["id"])
        return [public(d, self.book_id) for d in members[begin:end]], len(members)

    @staticmethod
    def _group_id(raw: str) -> int:
        try:
            return int(raw)
        except ValueError:
            raise not_found(f"segment with id={raw!r} not found: ids are integers") from None

    def segment_contacts(self, raw_group_id: str, body: dict, *, attach: bool) -> dict:
        """Attach contacts to (or detach them from) a static segment; ≤ 500 ids, one kind per call."""
        verb = "attach" if attach else "detach"
        group_id = self._group_id(raw_group_id)
        kinds = [k for k in ("contactIds", "externalCustomerIds") if body.get(k) not in (None, [])]
        if len(kinds) > 1:
            raise EsputnikError(f"{verb}: send contactIds or externalCustomerIds, not both")
        values, problems = schemas.SEGMENT_CONTACTS.read(body)
        if problems:
            raise refused(problems)
        if not kinds and attach:
            raise EsputnikError("attach: send contactIds or externalCustomerIds (1 to 500 ids)")
        ids = body[kinds[0]] if kinds else []
        index = "id" if kinds and kinds[0] == "contactIds" else "ext"
        keys = [(index, key) for key in values[kinds[0]]] if kinds else []
        with self.store.transaction():
            group = self.groups.find("id", group_id)
            if group is None:
                raise not_found(f"segment with id={group_id} not found")
            if group["type"] != "Static":
                raise EsputnikError(f"segment {group_id} is {group['type']}; only Static segments can be changed "
                                    f"through {verb}")
            entry = {"id": group["id"], "name": group["name"], "type": group["type"]}
            now = self.now()
            if not kinds:  # detach with no ids: the segment is emptied
                members = self.contacts.find_all("group", group_id)
                replaces = {}
                for doc in members:
                    self._leave(doc, {group_id})
                    doc["updated"] = now
                    replaces[doc.doc_id] = doc
                self.contacts.write_many(replaces=replaces)
                return {"processed": [doc["id"] for doc in members], "notFound": []}
            replaces, processed, missing = {}, [], []
            for (index, key), sent in zip(keys, ids, strict=True):
                doc = self.contacts.find(index, key) if key is not None else None
                if doc is None or doc["deleted"]:
                    missing.append(sent)
                    continue
                doc = replaces.get(doc.doc_id, doc)
                if attach:
                    self._join(doc, [entry])
                else:
                    self._leave(doc, {group_id})
                doc["updated"] = now
                replaces[doc.doc_id] = doc
                processed.append(doc["id"])
            self.contacts.write_many(replaces=replaces)
        if missing:
            note(kinds[0], missing, None, "unknown or deleted contacts ignored", "ignored")
        return {"processed": processed, "notFound": missing}

    # -- single contacts --------------------------------------------------------------------
    def subscribe(self, body: dict) -> dict:
        """Double opt-in: create with an unconfirmed email, or update all but the existing channels."""
        values, problems = schemas.SUBSCRIBE.read(body)
        if problems:
            raise refused(problems)
        incoming = self._normalize_one(values["contact"], "contact")
        if "email" not in incoming and "sms" not in incoming:
            raise EsputnikError("contact.channels must hold an email or an sms channel")
        names = values.get("groups") or []
        form = values.get("formType")
        with self.store.transaction():
            doc = self._match_email_or_phone(incoming)
            self._check_external_id(incoming, doc and doc["id"])
            self._static_segments(names, "groups", create=False)  # a Dynamic one is refused before any write
            groups = self._static_segments(names, "groups", create=True)
            now = self.now()
            if doc is None:
                doc = new_contact(self.ids.number(self.contact_ns), now)
                apply_incoming(doc, incoming, confirmed=False)
                existing = False
            else:
                existing = True
                apply_incoming(doc, incoming, confirmed=False, keep_channels=True)
                self._restore_if_deleted(doc)
                doc["updated"] = now
            self._join(doc, groups)
            self._save(doc)
            event = ("subscribeUpdateFromApi" if existing else "subscribeFromApi") + (f"-{form}" if form else "")
            params: dict[str, Any] = {"ContactId": doc["id"]}
            email = channel_value(doc, "email")
            if email is not None:
                params["EmailAddress"] = email
            self.events.insert({"type": event, "key": str(doc["id"]), "params": params, "at": now})
        return {"id": doc["id"]}

    def add_contact(self, body: dict) -> dict:
        """Add one confirmed contact, or update the one with the same externalCustomerId, else
        the same email, else the same phone -- a changed email or phone included."""
        incoming = self._normalize_one(body)
        if not any(kind in incoming for kind in CHANNELS):
            raise EsputnikError("channels must hold at least one channel (email, sms, ...) with a value")
        with self.store.transaction():
            now = self.now()
            if self.setting("legacy_add_contact_duplicates"):
                self._check_external_id(incoming, None)
                doc = None
            else:
                doc = self._match_for_add(incoming)
            if doc is None:
                doc = new_contact(self.ids.number(self.contact_ns), now)
            else:
                self._restore_if_deleted(doc)
                doc["updated"] = now
            apply_incoming(doc, incoming)
            self._save(doc)
        return {"id": doc["id"]}

    def _match_for_add(self, incoming: dict):
        """``POST /contact``'s match: externalCustomerId first, then email, then phone. When the
        external-id match and the email/phone match differ, the external-id one wins."""
        ext = incoming.get("externalCustomerId")
        by_ext = self.contacts.find("ext", ext) if ext is not None else None
        if by_ext is None:
            return self._match_email_or_phone(incoming)
        other = self._match_email_or_phone(incoming)
        if other is not None and other.doc_id != by_ext.doc_id:
            note("externalCustomerId", ext, by_ext["id"], f"contact {by_ext['id']} has this externalCustomerId and "
                 f"is updated; contact {other['id']}, whose email or phone was sent, is left as it is", "unverified")
        return by_ext

    def update_contact(self, raw_id: str, body: dict) -> str:
        """Update the contact with that id; never creates."""
        contact_id = self._contact_id(raw_id)
        incoming = self._normalize_one(body)
        with self.store.transaction():
            doc = self._live(contact_id)
            self._check_external_id(incoming, contact_id)
            apply_incoming(doc, incoming)
            doc["updated"] = self.now()
            self._save(doc)
        return f"Contact with id='{contact_id}' has been updated"

    def get_contact(self, raw_id: str) -> dict:
        return public(self._live(self._contact_id(raw_id)), self.book_id)

    def delete_contact(self, raw_id: str) -> str:
        contact_id = self._contact_id(raw_id)
        with self.store.transaction():
            doc = self._live(contact_id)
            self.contacts.update(doc.doc_id, {"deleted": True, "updated": self.now()})
        return f"Contact with id='{contact_id}' has been deleted"

    def delete_by_external_id(self, external_id: str | None, erase: str | None) -> str:
        if not external_id:
            raise EsputnikError("externalCustomerId is required: the contact's id in your system")
        flag = {None: False, "": False, "false": False, "true": True}.get(erase.lower() if erase else erase)
        if flag is None:
            raise EsputnikError(f"erase must be true or false, got {erase!r}")
        with self.store.transaction():
            doc = self.contacts.find("ext", external_id)
            if doc is None or (doc["deleted"] and not flag):
                raise not_found(f"contact with externalCustomerId={external_id!r} not found")
            if flag:
                self.contacts.remove(doc.doc_id)
            else:
                self.contacts.update(doc.doc_id, {"deleted": True, "updated": self.now()})
        return f"Contact with id='{doc['id']}' has been {'erased' if flag else 'deleted'}"

    def search(self, args: dict) -> tuple[list[dict], int]:
        """Live contacts matching every given filter, paged (``startindex`` 1-based, ``maxrows`` ≤ 500)."""
        begin, end = self._page(args)
        checks = []
        candidates = None
        email, sms, ext = args.get("email"), args.get("sms"), args.get("externalCustomerId")
        if ext:
            found = self.contacts.find("ext", ext)
            candidates = [found] if found is not None else []
        if email:
            email = email.strip().lower()
            checks.append(lambda d: channel_value(d, "email") == email)
            if candidates is None:
                candidates = self.contacts.find_all("email", email)
        if sms:
            digits = _NON_DIGITS.sub("", sms)
            checks.append(lambda d: channel_value(d, "sms") == digits)
            if candidates is None:
                candidates = self.contacts.find_all("sms", digits)
        for param, key in (("firstname", "firstName"), ("lastname", "lastName")):
            wanted = (args.get(param) or "").strip().lower()
            if wanted:
                checks.append(lambda d, k=key, w=wanted: (d[k] or "").lower() == w)
        pool = candidates if candidates is not None else (doc for _, doc in self.contacts.scan())
        matches = [doc for doc in pool if doc is not None and not doc["deleted"] and all(check(doc) for check in checks)]
        matches.sort(key=lambda d: d["id"])
        return [public(d, self.book_id) for d in matches[begin:end]], len(matches)

    def contact_emails(self, raw_ids: str | None) -> dict:
        """``GET /contacts/email?ids=1,2``: the email of each live contact among ``ids``."""
        if raw_ids is None or not raw_ids.strip():
            raise EsputnikError("ids is required: comma-separated contact ids (ids=1,2,3)")
        ids = []
        for part in raw_ids.split(","):
            part = part.strip()
            if not part.isdecimal() or not part.isascii():
                raise EsputnikError(f"ids must be comma-separated integer contact ids, got {part!r} in {raw_ids!r}")
            if int(part) not in ids:
                ids.append(int(part))
        results = []
        for contact_id in ids:
            doc_id = self.contacts.find_id("id", contact_id)
            doc = self.contacts.peek(doc_id) if doc_id is not None else None
            email = channel_value(doc, "email") if doc is not None and not doc["deleted"] else None
            if email is not None:
                results.append({"contactId": contact_id, "email": email})
        return {"results": results}

    def address_books(self) -> dict:
        """``GET /addressbooks``: the account's custom-field catalogue, from the fixture."""
        return {"addressBook": self.catalog.book}

    def _match_email_or_phone(self, incoming: dict):
        """The contact with the same email, else with the same phone (subscribe, add one)."""
        for index in ("email", "sms"):
            key = incoming.get(index)
            if key is not None:
                found = self._find(index, key)
                if found is not None:
                    return found
        return None

    def _restore_if_deleted(self, doc) -> None:
        if doc["deleted"]:
            note("", doc["id"], doc["id"], "a deleted contact matched: it is restored", "unverified")
            doc["deleted"] = False

    def _save(self, doc) -> None:
        if getattr(doc, "doc_id", None) is None:
            self.contacts.insert(doc)
        else:
            self.contacts.replace(doc.doc_id, doc)

    def confirm(self, email: str) -> list[int]:
        """The subscriber clicked the double opt-in link: the email channel becomes confirmed."""
        key = email.strip().lower()
        with self.store.transaction():
            found = self.contacts.find_all("email", key)
            replaces = {}
            for doc in found:
                for ch in doc["channels"]:
                    if ch["type"] == "email":
                        ch["confirmed"] = True
                doc["updated"] = self.now()
                replaces[doc.doc_id] = doc
            self.contacts.write_many(replaces=replaces)
        return [doc["id"] for doc in found]


# -- fixtures and fake payloads --------------------------------------------------------------
def load_account(backend: Backend, payloads: list[dict]) -> None:
    """Create the fixture's segments (``settings.groups``) and store the generated contacts."""
    for item in backend.setting("groups") or ():
        spec = {"name": item} if isinstance(item, str) else dict(item)
        kind = spec.get("type", "Static")
        if not isinstance(spec.get("name"), str) or kind not in ("Static", "Dynamic"):
            raise EmulatorError(f"esputnik fixture: a group is a name or {{name, type: Static|Dynamic}}, "
                                f"got {item!r}")
        if backend.groups.find("name", spec["name"]) is None:
            backend.groups.insert({"id": spec.get("id") or backend.ids.number(backend.group_ns),
                                   "name": spec["name"], "type": kind})
    for payload in payloads:
        backend.add_contact(payload)


def describe_credentials(account) -> str:
    user = account.credentials.get("user") or "any user name"
    return f"HTTP Basic auth, user {user!r} (free), password = API key {account.credentials.get('api_key')!r}"
