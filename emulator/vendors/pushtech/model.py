"""Pushtech's rules as plain Python: contacts, email validation credits, custom fields, lists.

Payloads are read with the declarations of :mod:`.schemas`; the rules here are what a
declaration does not say: null ignored on create and removing a field on update, ``phone``
split into its parts, the identity rule, custom fields checked against the account's
declared ones, a channel given twice (the last entry wins), and what a custom field's type
allows. :class:`Backend` is one account: single create (never deduplicates), update,
delete, list with exact filters, email validation spending the account's credits (kept in
the store, so a reset restores them), custom fields, audience lists, and the bulk jobs of
:mod:`.jobs`.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from emulator.core.accounts import FixtureError
from emulator.core.journal import note
from emulator.core.payload import ABSENT, Refused, is_http_url, iso_instant
from emulator.core.store import copy_json

from . import schemas
from .errors import (
    CONTACT_NOT_FOUND,
    CUSTOM_FIELD_NOT_FOUND,
    IDENTITY_REQUIRED,
    LIST_NOT_FOUND,
    PushtechError,
    refuse,
)
from .jobs import JOB_FINISH, JOB_PROCESSING, VENDOR, CreditsAndJobs, initial_credits
from .schemas import (
    AUDIENCE_LIST_PARAMETERS,
    CONTACT,
    CONTACT_FIELDS,
    CUSTOM_FIELD_PARAMETERS,
    CUSTOM_FIELD_TYPES,
    VISIBILITIES,
)

__all__ = ["AUDIENCE_LIST_PARAMETERS", "CONTACT_FIELDS", "CUSTOM_FIELD_PARAMETERS", "CUSTOM_FIELD_TYPES",
           "IDENTITY_REQUIRED", "JOB_FINISH", "JOB_PROCESSING", "VENDOR", "Backend", "load_account"]

LIST_DELETED = "List successfully deleted"
IDENTITY_FIELDS = ("email", "phone", "phone_countrycode", "phone_number")
LIST_FILTERS = ("user_id", "device_id", "name_first", "name_last", "email", "phone_countrycode", "phone_number")
LIST_PARAMETERS = (*LIST_FILTERS, "limit", "contact_id_from", "order")
LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 200, 1000


# -- a whole contact ----------------------------------------------------------------------

@dataclass
class Cleaned:
    """A contact payload read against :data:`.schemas.CONTACT`."""

    fields: dict
    problems: list[str]
    validation: dict | None = None
    """``email_validation`` options (create and update), None when not asked."""
    unset: tuple = ()
    """Fields sent as null in an update: removed from the contact."""


class Declared:
    """What an account declares that contacts refer to: custom fields by name, audience lists
    by id. This one declares nothing; :class:`Backend` answers from the account's store."""

    def custom_field(self, name: str) -> dict | None:
        return None

    def has_list(self, list_id: str) -> bool:
        return False


NOTHING_DECLARED = Declared()


def clean_contact(payload: dict, declared: Declared = NOTHING_DECLARED, *, note_prefix: str = "",
                  partial: bool = False, bulk: bool = False) -> Cleaned:
    """Read every key of ``payload``; nothing is stored here.

    Each declared key goes through its reader (read-only keys and, in a bulk, the per-contact
    ``email_validation`` are ignored with a note); ``phone`` is split into its parts; any
    other key is a custom field kept as given (noted when the account does not declare it,
    or when its value does not fit the declared type); a ``list_subscriptions`` entry naming
    no list of the account is noted. A documented field sent as null is ignored on create;
    ``partial`` (update): it removes the field.
    """
    readers = (schemas.BULK_CONTACT if bulk else CONTACT).readers
    fields: dict = {}
    problems: list[str] = []
    unset: list[str] = []
    validation = phone_parts = None
    for key, value in payload.items():
        read = readers.get(key)
        if read is None:
            fields[key] = value
            _check_custom_value(value, note_prefix + key, declared.custom_field(key))
            continue
        if value is None and key in CONTACT_FIELDS:
            if partial:
                unset.append(key)
            else:
                note(note_prefix + key, None, None, "null ignored", "unverified")
            continue
        try:
            used = read(value, note_prefix, key)
        except Refused as exc:
            if exc.problems:  # inside an object: each names its own path (email_validation: the first)
                found = exc.problems[:1] if key == "email_validation" else exc.problems
                problems.extend(f"{p.path[len(note_prefix):]}: {p.message}" for p in found)
            else:
                problems.append(f"{key}{exc.where}: {exc.message}")
            continue
        if used is ABSENT:
            continue
        if key == "phone":
            phone_parts = used
        elif key == "email_validation":
            validation = used
        else:
            if key == "list_subscriptions":
                _check_lists(used, note_prefix + key, declared)
            fields[key] = used
    if phone_parts is not None:
        _merge_phone(payload, phone_parts, fields, problems, note_prefix)
    return Cleaned(fields, problems, validation, tuple(unset))


def _check_lists(subscriptions: list[dict], label: str, declared: Declared) -> None:
    for i, subscription in enumerate(subscriptions):
        list_id = subscription["list_id"]
        if not declared.has_list(list_id):
            note(f"{label}[{i}].list_id", list_id, list_id, "no audience list of the account has this id: "
                                                            "stored as given", "unverified")


def _check_custom_value(value: Any, label: str, field: dict | None) -> None:
    if field is None:
        note(label, value, value, "custom field not declared for the account: stored as given", "unverified")
    elif value is not None and not custom_value_fits(field, value):
        kind = field["type"]
        if kind == "selectable_options" and field.get("selectable_options"):
            kind += " " + ", ".join(field["selectable_options"])
        note(label, value, value, f"does not fit the custom field's type ({kind}): stored as given", "unverified")


def custom_value_fits(field: dict, value: Any) -> bool:
    """Whether ``value`` has the custom field's declared type (null always fits)."""
    kind = field.get("type", "string")
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    if kind == "date":
        return iso_instant(value) is not None
    if kind == "selectable_options":
        return not field.get("selectable_options") or value in field["selectable_options"]
    return True


def _merge_phone(payload: dict, parts: tuple[str, str], fields: dict, problems: list[str], prefix: str) -> None:
    code, number = parts
    given = (fields.get("phone_countrycode"), fields.get("phone_number"))
    if given == (None, None):
        fields["phone_countrycode"], fields["phone_number"] = code, number
        if payload["phone"] != f"+{code}{number}":  # E.164 is the documented form: splitting it is state
            note(prefix + "phone", payload["phone"], {"phone_countrycode": code, "phone_number": number},
                 f"read as +{code}{number} and split into phone_countrycode and phone_number", "unverified")
    elif given != (code, number):
        problems.append(f"phone: {payload['phone']} disagrees with phone_countrycode/phone_number "
                        f"({given[0]} {given[1]}); send one or the other")


def has_identity(fields: dict) -> bool:
    """Email, or both phone parts (``phone`` was split into them)."""
    return "email" in fields or ("phone_countrycode" in fields and "phone_number" in fields)


def check_identity(cleaned: Cleaned, fields: dict | None = None) -> None:
    """Add the identity problem unless the (merged) fields have one, or an identity field was
    refused already (its own problem says more)."""
    if has_identity(cleaned.fields if fields is None else fields):
        return
    if any(p.split(":", 1)[0].split("[", 1)[0] in IDENTITY_FIELDS for p in cleaned.problems):
        return
    cleaned.problems.append(IDENTITY_REQUIRED)


# -- custom field and audience list bodies ------------------------------------------------

_ONLY_WITH_OPTIONS = "selectable_options: only with type selectable_options"


def _options_refused(body: dict, kind: Any) -> bool:
    """Options sent for a type other than ``selectable_options``: refused unread."""
    return body.get("selectable_options") is not None and kind != "selectable_options"


def read_new_custom_field(body: dict) -> tuple[dict, list[str]]:
    """A ``POST /custom_fields`` body: the field to store (without ``_id``) and the problems.
    Options only with the type ``selectable_options``, which without options has none."""
    if _options_refused(body, body.get("type")):
        fields, problems = schemas.CUSTOM_FIELD.read({k: v for k, v in body.items() if k != "selectable_options"})
        return fields, [*map(str, problems), _ONLY_WITH_OPTIONS]
    fields, problems = schemas.CUSTOM_FIELD.read(body)
    if fields["type"] == "selectable_options" and "selectable_options" not in fields and \
            not any(p.path == "selectable_options" for p in problems):
        note("selectable_options", body.get("selectable_options"), [], "no options given: stored without options",
             "unverified")
        fields["selectable_options"] = []
    return fields, [str(p) for p in problems]


def read_custom_field_changes(body: dict, current: dict) -> tuple[dict, list[str]]:
    """A ``PUT /custom_fields/{id}`` body: the fields to change and the problems (a field's
    name and type cannot change)."""
    changes = {}
    for key, value in body.items():
        if key not in ("name", "type"):
            changes[key] = value
        elif value != current.get(key):
            note(key, value, current.get(key), f"ignored: a custom field's {key} cannot be changed", "unverified")
    if _options_refused(changes, current["type"]):
        changes.pop("selectable_options")
        fields, problems = schemas.CUSTOM_FIELD_CHANGES.read(changes)
        return fields, [*map(str, problems), f"{_ONLY_WITH_OPTIONS} (this field is {current['type']})"]
    fields, problems = schemas.CUSTOM_FIELD_CHANGES.read(changes)
    return fields, [str(p) for p in problems]


def read_audience_list(body: dict, *, partial: bool = False) -> tuple[dict, list[str]]:
    """A ``POST`` (or, ``partial``, ``PUT``) ``/lists`` body: the fields and the problems."""
    fields, problems = (schemas.AUDIENCE_LIST_CHANGES if partial else schemas.AUDIENCE_LIST).read(body)
    visibility = fields.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        note("visibility", body["visibility"], visibility, f"not a visibility the reference shows "
                                                           f"({', '.join(VISIBILITIES)}): stored as given", "unverified")
    return fields, [str(p) for p in problems]


def public_list(doc: dict, *, with_date: bool = False) -> dict:
    """A list as the reference answers it: ``created_at`` in list and show, not in create and update."""
    out = {"id": doc["id"], "name": doc["name"], "description": doc.get("description")}
    if with_date:
        out["created_at"] = doc.get("created_at")
    out["visibility"] = doc.get("visibility")
    return out


# -- the per-account backend ----------------------------------------------------------------

class Backend(Declared, CreditsAndJobs):
    """One Pushtech account: contacts, bulk jobs, the validation credit balance, custom fields
    and audience lists (what the account declares, :class:`Declared`)."""

    def __init__(self, engine, account):
        self.engine, self.account = engine, account
        store = engine.store
        self.store = store
        self.contacts = store.collection(VENDOR, account.name, "contacts")
        self.bulks = store.collection(VENDOR, account.name, "bulks")
        self.balance = store.collection(VENDOR, account.name, "balance")
        self.custom_fields = store.collection(VENDOR, account.name, "custom_fields")
        self.lists = store.collection(VENDOR, account.name, "lists")
        self.contact_ids = f"{VENDOR}:{account.name}:contact"
        self.bulk_ids = f"{VENDOR}:{account.name}:bulk"
        self.custom_field_ids = f"{VENDOR}:{account.name}:custom_field"
        self.list_ids = f"{VENDOR}:{account.name}:list"

    # -- time and documents ----------------------------------------------------------
    def now(self) -> str:
        return self.engine.clock.iso_now()

    def new_contact(self, fields: dict, now: str) -> dict:
        return {"id": self.engine.ids.hex24(self.contact_ids), **fields, "created_at": now, "updated_at": now}

    def _note_duplicate_email(self, email: str | None, label: str = "email") -> None:
        if email is None:
            return
        owners = self.contacts.find_id("email", email)
        if owners:
            other = self.contacts.peek(next(iter(owners)))["id"]
            note(label, email, email, f"contact {other} already has this email: a new contact was created "
                                      "anyway (Pushtech does not deduplicate on email)", "unverified")

    def read_contact(self, payload: dict, *, note_prefix: str = "", bulk: bool = False) -> Cleaned:
        """A contact payload read against the account, its identity required."""
        cleaned = clean_contact(payload, self, note_prefix=note_prefix, bulk=bulk)
        check_identity(cleaned)
        return cleaned

    def _find(self, contact_id: str) -> int:
        return found(self.contacts, "id", contact_id, CONTACT_NOT_FOUND)

    # -- contacts --------------------------------------------------------------------
    def create_contact(self, payload: dict) -> dict:
        cleaned = self.read_contact(payload)
        if cleaned.problems:
            raise refuse(cleaned.problems)
        with self.store.transaction():
            now = self.now()
            validation = self._validate_email(cleaned.fields.get("email"), cleaned.validation, now)
            self._note_duplicate_email(cleaned.fields.get("email"))
            doc = self.new_contact(cleaned.fields, now)
            doc.update(validation)
            self.contacts.insert(doc)
            self._contact_event("create", copy_json(doc))
        return doc

    def show_contact(self, contact_id: str) -> dict:
        with self.store.transaction():
            return dict(self.contacts.get(self._find(contact_id)))

    def update_contact(self, contact_id: str, payload: dict, account_url: str | None = None) -> dict:
        """``account_url``: the account's API root as the caller reached it (the lifecycle
        webhook's ``contact_url`` starts with it)."""
        with self.store.transaction():
            doc_id = self._find(contact_id)
            current = dict(self.contacts.get(doc_id))
            cleaned = clean_contact(payload, self, partial=True)
            merged = {**current, **cleaned.fields}
            for key in cleaned.unset:
                merged.pop(key, None)
            check_identity(cleaned, merged)
            if cleaned.problems:
                raise refuse(cleaned.problems)
            now = self.now()
            email = merged.get("email")
            if email != current.get("email"):  # the previous validation no longer applies (state)
                merged.pop("email_valid", None)
                merged.pop("last_email_verified", None)
                self._note_duplicate_email(email)
            merged.update(self._validate_email(email, cleaned.validation, now))
            merged["updated_at"] = now
            self.contacts.replace(doc_id, merged)
            if self.contact_webhook_url():
                url = f"{account_url or self.default_account_url()}/contact/{quote(contact_id, safe='')}"
                self._contact_event("update", {"id": merged["id"], "user_id": merged.get("user_id"),
                                               "changes": changes(current, merged), "contact_url": url})
        return merged

    def delete_contact(self, contact_id: str) -> dict:
        with self.store.transaction():
            doc_id = self._find(contact_id)
            doc = dict(self.contacts.get(doc_id))
            self.contacts.remove(doc_id)
            self._contact_event("destroy", {"id": doc["id"], "user_id": doc.get("user_id")})
        return doc

    def list_contacts(self, args: dict[str, str]) -> dict:
        for key in args:
            if key not in LIST_PARAMETERS:
                note(key, args[key], None, f"ignored: not a list parameter ({', '.join(LIST_PARAMETERS)})", "unverified")
        problems: list[str] = []
        limit = _query_int(args.get("limit"), "limit", LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, problems)
        order = args.get("order", "asc") or "asc"
        if order not in ("asc", "desc"):
            problems.append("order: must be asc or desc")
        filters: dict[str, str] = {}
        for key in LIST_FILTERS:
            if key not in args:
                continue
            if key in ("phone_countrycode", "phone_number"):  # read as a contact's, with its notes
                try:
                    used = CONTACT.readers[key](args[key], "", key)
                except Refused as exc:
                    problems.append(f"{key}: {exc.message}")
                    continue
                filters[key] = "" if used is ABSENT else used
            else:
                filters[key] = args[key].strip().lower() if key == "email" else args[key].strip()
        if problems:
            raise refuse(problems)
        with self.store.transaction():
            start = None
            if args.get("contact_id_from"):
                start = self.contacts.find_id("id", args["contact_id_from"])
                if start is None:
                    raise refuse([f"contact_id_from: no contact with id {args['contact_id_from']}"])
            ids = self._candidates(filters)
            if order == "desc":
                ids = reversed(ids)
            out = []
            for doc_id in ids:
                if start is not None and (doc_id < start if order == "asc" else doc_id > start):
                    continue
                doc = self.contacts.peek(doc_id)
                if doc is None or any(doc.get(k) != v for k, v in filters.items()):
                    continue
                out.append(copy_json(doc))
                if len(out) >= limit:
                    break
        return {"contacts": out}

    def _candidates(self, filters: dict) -> list[int]:
        """Document ids (creation order), narrowed by an index when a filter has one."""
        for key in ("user_id", "email"):
            if key in filters:
                return sorted(self.contacts.find_id(key, filters[key]) or ())
        return [doc_id for doc_id, _ in self.contacts.scan()]  # other filters: a search, not a look-up

    # -- custom fields -----------------------------------------------------------------
    def custom_field(self, name: str) -> dict | None:
        """The account's custom field called ``name`` (fixture-declared or created), or None."""
        doc_id = self.custom_fields.find_id("name", name) if isinstance(name, str) else None
        return None if doc_id is None else self.custom_fields.peek(doc_id)

    def list_custom_fields(self) -> dict:
        with self.store.transaction():
            return {"custom_fields": [copy_json(doc) for _, doc in self.custom_fields.scan()]}

    def create_custom_field(self, body: dict) -> dict:
        """Create a field; a name that exists answers the existing field, unchanged."""
        fields, problems = read_new_custom_field(body)
        if problems:
            raise refuse(problems)
        with self.store.transaction():
            existing = self.custom_field(fields["name"])
            if existing is not None:
                note("name", body["name"], existing["name"], "a custom field with this name exists: answered as it "
                                                             "is, nothing changed", "unverified")
                return copy_json(existing)
            doc = {"_id": self.engine.ids.hex24(self.custom_field_ids), **fields}
            self.custom_fields.insert(doc)
        return copy_json(doc)

    def update_custom_field(self, custom_id: str, body: dict) -> dict:
        with self.store.transaction():
            doc_id = found(self.custom_fields, "_id", custom_id, CUSTOM_FIELD_NOT_FOUND)
            current = self.custom_fields.peek(doc_id)
            fields, problems = read_custom_field_changes(body, current)
            if problems:
                raise refuse(problems)
            if fields:
                self.custom_fields.update(doc_id, fields)
            return copy_json(self.custom_fields.peek(doc_id))

    def delete_custom_field(self, custom_id: str) -> dict:
        """Delete a field; contacts keep the values they have for it."""
        with self.store.transaction():
            doc_id = found(self.custom_fields, "_id", custom_id, CUSTOM_FIELD_NOT_FOUND)
            doc = copy_json(self.custom_fields.peek(doc_id))
            self.custom_fields.remove(doc_id)
        return doc

    def add_custom_field(self, fields: dict) -> None:
        """Store a checked field (fixture set-up)."""
        self.custom_fields.insert({"_id": self.engine.ids.hex24(self.custom_field_ids), **fields})

    # -- audience lists ----------------------------------------------------------------
    def has_list(self, list_id: str) -> bool:
        return self.lists.find_id("id", list_id) is not None

    def all_lists(self) -> dict:
        with self.store.transaction():
            return {"lists": [public_list(doc, with_date=True) for _, doc in self.lists.scan()]}

    def create_list(self, body: dict) -> dict:
        fields, problems = read_audience_list(body)
        if problems:
            raise refuse(problems)
        with self.store.transaction():
            self._note_list_name(fields["name"])
            doc = self.add_list(fields)
        return public_list(doc)

    def add_list(self, fields: dict, list_id: str | None = None) -> dict:
        doc = {"id": list_id or self.engine.ids.hex24(self.list_ids), "name": fields["name"],
               "description": fields.get("description"), "visibility": fields.get("visibility"),
               "created_at": self.now()}
        self.lists.insert(doc)
        return doc

    def show_list(self, list_id: str) -> dict:
        with self.store.transaction():
            return public_list(self.lists.peek(found(self.lists, "id", list_id, LIST_NOT_FOUND)), with_date=True)

    def update_list(self, list_id: str, body: dict) -> dict:
        with self.store.transaction():
            doc_id = found(self.lists, "id", list_id, LIST_NOT_FOUND)
            fields, problems = read_audience_list(body, partial=True)
            if problems:
                raise refuse(problems)
            if "name" in fields and fields["name"] != self.lists.peek(doc_id)["name"]:
                self._note_list_name(fields["name"])
            if fields:
                self.lists.update(doc_id, fields)
            return public_list(self.lists.peek(doc_id))

    def delete_list(self, list_id: str) -> dict:
        """Delete a list; contacts keep their ``list_subscriptions`` to it."""
        with self.store.transaction():
            self.lists.remove(found(self.lists, "id", list_id, LIST_NOT_FOUND))
        return {"message": LIST_DELETED}

    def _note_list_name(self, name: str) -> None:
        others = self.lists.find_id("name", name)
        if others:
            other = self.lists.peek(min(others))["id"]
            note("name", name, name, f"list {other} already has this name: another list was stored anyway",
                 "unverified")



def found(collection, index: str, key: str, not_found: str) -> int:
    """The document id under ``key`` in a unique ``index``; a 404 with ``not_found`` otherwise."""
    doc_id = collection.find_id(index, key)
    if doc_id is None:
        raise PushtechError(not_found, 404)
    return doc_id


def changes(before: dict, after: dict) -> dict:
    """The fields ``after`` changed (new values; null for a removed field), ``updated_at`` aside."""
    out = {key: value for key, value in after.items()
           if key != "updated_at" and (key not in before or before[key] != value)}
    out.update((key, None) for key in before if key not in after)
    return out



def _query_int(raw: str | None, name: str, default: int, maximum: int, problems: list[str]) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        problems.append(f"{name}: must be a whole number from 1 to {maximum}")
    return value


# -- fixture set-up ----------------------------------------------------------------------

def load_account(backend: Backend, payloads: list[dict]) -> None:
    """Check the account's settings, open its credit balance, store its custom fields, lists
    and generated contacts. Every setting is checked before anything is stored."""
    account = backend.account
    where = f"fixture: pushtech account {account.name!r}: settings"
    credits = initial_credits(account)
    if isinstance(credits, bool) or not isinstance(credits, int) or credits < 0:
        raise FixtureError(f"{where}.validation_credits must be a non-negative integer, got {credits!r}")
    delay = account.setting("processing_delay_s", 0)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise FixtureError(f"{where}.processing_delay_s must be a non-negative number, got {delay!r}")
    hook = account.setting("contact_webhook_url")
    if hook is not None and not is_http_url(hook):
        raise FixtureError(f"{where}.contact_webhook_url must be an http or https URL (or null), got {hook!r}")
    if not isinstance(account.credentials.get("secret"), str) or not account.credentials["secret"]:
        raise FixtureError(f"fixture: pushtech account {account.name!r}: credentials.secret must be a "
                           "non-empty string")
    custom_fields = _fixture_entries(account, "custom_fields", where, _fixture_custom_field)
    lists = _fixture_entries(account, "lists", where, _fixture_list)
    with backend.store.transaction():
        backend.balance.insert({"account": account.name, "validation_credits": credits})
        for fields in custom_fields:
            backend.add_custom_field(fields)
        for fields in lists:
            backend.add_list(fields, fields.get("id"))
        now = backend.now()
        docs = []
        for payload in payloads:
            cleaned = clean_contact(payload, backend)
            if cleaned.problems:
                raise FixtureError(f"generated pushtech contact refused: {'; '.join(cleaned.problems)}")
            docs.append(backend.new_contact(cleaned.fields, now))
        backend.contacts.write_many(docs)


def _fixture_entries(account, key: str, where: str, read: Callable[[Any], tuple[dict, list[str]]]) -> list[dict]:
    """A fixture's ``custom_fields`` or ``lists``: each a name, or an object as the API's POST
    takes it; refused entries and repeated names (custom fields) or ids (lists) are errors."""
    entries = account.setting(key) or []
    if not isinstance(entries, list):
        raise FixtureError(f"{where}.{key} must be an array of names or objects, got {entries!r}")
    out, seen = [], set()
    unique = "name" if key == "custom_fields" else "id"
    for i, entry in enumerate(entries):
        if not isinstance(entry, (str, dict)):
            raise FixtureError(f"{where}.{key}[{i}] must be a name or an object, got {entry!r}")
        fields, problems = read(entry)
        if problems:
            raise FixtureError(f"{where}.{key}[{i}]: {'; '.join(problems)}")
        if fields.get(unique) is not None:
            if fields[unique] in seen:
                raise FixtureError(f"{where}.{key}[{i}]: {unique} {fields[unique]!r} is declared twice")
            seen.add(fields[unique])
        out.append(fields)
    return out


def _fixture_custom_field(entry: str | dict) -> tuple[dict, list[str]]:
    """A declared custom field: a bare name is a string field labelled with its name."""
    return read_new_custom_field({"name": entry, "label": entry} if isinstance(entry, str) else entry)


def _fixture_list(entry: str | dict) -> tuple[dict, list[str]]:
    """A declared audience list: a bare name, or ``{name, description, visibility, id}`` (an
    ``id`` of the fixture's choosing lets tests refer to the list without looking it up)."""
    if isinstance(entry, str):
        return read_audience_list({"name": entry})
    body = {k: v for k, v in entry.items() if k != "id"}
    fields, problems = read_audience_list(body)
    list_id = entry.get("id")
    if list_id is not None:
        if not isinstance(list_id, str) or not list_id:
            problems.append(f"id: must be a non-empty string, got {list_id!r}")
        fields["id"] = list_id
    return fields, problems


def describe_credentials(account) -> str:
    return f"account_id {account.name}, header Authorization: Token token={account.credentials.get('secret')}"
