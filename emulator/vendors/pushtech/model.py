"""Pushtech's rules as plain Python: contacts, email validation credits, bulk jobs, webhooks.

The contact fields are data: :data:`CONTACT_FIELDS` maps each documented field to a
reader that takes ``(value, label)`` and returns the value to store (or :data:`OMIT`), or
raises :class:`Problem` naming the rule the value broke. Every silent fix-up (a number
cast to text, whitespace trimmed, an email lower-cased, a date reformatted) is recorded
with :func:`~emulator.core.journal.note`, so the journal shows what the real vendor would
have changed without a word. The same table feeds the marshmallow schemas in
:mod:`.schemas`.

:class:`Backend` is one account: single create (never deduplicates), update, delete,
list with exact filters, email validation spending the account's credits (kept in the
store, so a reset restores them), and bulk jobs that run on the emulator clock
(``queue`` -> ``processing`` -> ``finished``) and end with a signed webhook.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import quote

from emulator.core.accounts import FixtureError
from emulator.core.journal import collect_notes, note
from emulator.core.outbound import admin_target
from emulator.core.payload import iso_instant, number_from_text, number_text, utc_text
from emulator.core.store import collector_paused, copy_json

from .errors import (
    BULK_NOT_FOUND,
    CONTACT_NOT_FOUND,
    CUSTOM_FIELD_NOT_FOUND,
    IDENTITY_REQUIRED,
    LIST_NOT_FOUND,
    NO_CREDIT,
    PushtechError,
)

VENDOR = "pushtech"
DEFAULT_CREDITS = 100
LIST_DELETED = "List successfully deleted"

OMIT = object()
"""A reader's answer meaning "store nothing for this field"."""


class Problem(ValueError):
    """A value that breaks a field's rule; ``where`` locates it inside the field."""

    def __init__(self, rule: str, where: str = ""):
        super().__init__(rule)
        self.rule, self.where = rule, where


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- scalar readers ---------------------------------------------------------------------

def read_string(value: Any, label: str) -> str:
    if isinstance(value, str):
        text = value.strip()
        if text != value:
            note(label, value, text, "surrounding whitespace trimmed", "unverified")
        return text
    if _is_number(value) and math.isfinite(value):
        text = number_text(value)
        note(label, value, text, "number cast to string", "unverified")
        return text
    raise Problem("must be a string")


_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")


def read_email(value: Any, label: str) -> str:
    if not isinstance(value, str):
        raise Problem("must be an email address (a string) such as john@example.com")
    text = value.strip()
    if not text:
        note(label, value, None, "empty email ignored", "unverified")
        return OMIT
    if not _EMAIL_SHAPE.match(text):
        raise Problem("must be an email address such as john@example.com")
    used = text.lower()
    if used != value:
        rules = [r for r, changed in (("surrounding whitespace trimmed", text != value),
                                      ("lower-cased", used != text)) if changed]
        note(label, value, used, ", ".join(rules), "unverified")
    return used


_DIGIT_SEPARATORS = re.compile(r"[\s\-.()/]")


def _digits_text(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value
    raise Problem("must be a string of digits")


def read_countrycode(value: Any, label: str) -> str:
    text = _digits_text(value)
    used = _DIGIT_SEPARATORS.sub("", text)
    if used.startswith("+"):
        used = used[1:]
    elif used.startswith("00") and len(used) > 2:
        used = used[2:]
    if not used:
        note(label, value, None, "empty phone_countrycode ignored", "unverified")
        return OMIT
    if not (used.isascii() and used.isdigit() and 1 <= len(used) <= 3 and used[0] != "0"):
        raise Problem("must be a country calling code of 1 to 3 digits, e.g. 44")
    if used != value and "+" + used != value:  # "44" and "+44" are both the documented form
        note(label, value, used, "stored as digits without + (country calling code)", "unverified")
    return used


def read_phone_number(value: Any, label: str) -> str:
    text = _digits_text(value)
    used = _DIGIT_SEPARATORS.sub("", text)
    if not used:
        note(label, value, None, "empty phone_number ignored", "unverified")
        return OMIT
    if not (used.isascii() and used.isdigit() and 4 <= len(used) <= 15):
        raise Problem("must be the number without country code, 4 to 15 digits, e.g. 7712345678 "
                      "(a full international number goes in phone)")
    if used != value:
        note(label, value, used, "stored as digits (separators removed)", "unverified")
    return used


def read_phone(value: Any, label: str) -> tuple[str, str]:
    """A full international number -> (country code, national number), by phonenumbers."""
    import phonenumbers

    text = _digits_text(value).strip()
    if not text:
        note(label, value, None, "empty phone ignored", "unverified")
        return OMIT
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+"):
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise Problem("must be a full international number with country code, e.g. +447712345678")
    return str(parsed.country_code), phonenumbers.national_significant_number(parsed)


def read_datetime(value: Any, label: str) -> str:
    rule = "must be an ISO 8601 date-time such as 1990-01-01T00:00:00Z"
    parsed = iso_instant(value) if isinstance(value, str) else None
    if parsed is None:
        raise Problem(rule)
    rules = []
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
        rules.append("no time zone: read as UTC")
    used = utc_text(parsed)
    if used != value:
        rules.append("stored as UTC ISO 8601")
        note(label, value, used, ", ".join(rules), "unverified")
    return used


GENDERS = ("MALE", "FEMALE")


def read_gender(value: Any, label: str) -> str:
    if value not in GENDERS:
        raise Problem("must be MALE or FEMALE")
    return value


def read_language(value: Any, label: str) -> str:
    if not isinstance(value, str):
        raise Problem("must be an ISO 639-1 code of two letters, e.g. ES")
    text = value.strip()
    if not (len(text) == 2 and text.isascii() and text.isalpha()):
        raise Problem("must be an ISO 639-1 code of two letters, e.g. ES")
    used = text.upper()
    if used != value:
        note(label, value, used, "upper-cased (ISO 639-1)", "unverified")
    return used


def read_count(value: Any, label: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    used = number_from_text(value) if isinstance(value, str) else value
    if not _is_number(used) or not math.isfinite(used) or used < 0 or int(used) != used:
        raise Problem("must be a non-negative whole number")
    note(label, value, int(used), "text cast to whole number" if isinstance(value, str) else "cast to whole number", "unverified")
    return int(used)


def _coordinate(limit: int) -> Callable[[Any, str], float | int]:
    def read(value: Any, label: str) -> float | int:
        used = number_from_text(value) if isinstance(value, str) else value
        if not _is_number(used) or not math.isfinite(used) or not -limit <= used <= limit:
            raise Problem(f"must be a number between -{limit} and {limit}")
        if isinstance(value, str):
            note(label, value, used, "text cast to number", "unverified")
        return used

    return read


_BOOLEAN_WORDS = {"true": True, "false": False}


def read_boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        used = _BOOLEAN_WORDS[value.strip().lower()]
        note(label, value, used, "text cast to boolean", "unverified")
        return used
    raise Problem("must be true or false")


# -- array readers ----------------------------------------------------------------------

def read_tags(value: Any, label: str) -> list[str]:
    if not isinstance(value, list):
        raise Problem("must be an array of strings")
    tags: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) and not (_is_number(item) and math.isfinite(item)):
            raise Problem("must be an array of strings", f"[{i}]")
        tag = read_string(item, f"{label}[{i}]")
        if not tag:
            note(f"{label}[{i}]", item, None, "empty tag dropped", "unverified")
        elif tag in tags:
            note(f"{label}[{i}]", item, None, "duplicate tag dropped", "unverified")
        else:
            tags.append(tag)
    return tags


def _objects(value: Any, shape: str) -> list[dict]:
    if not isinstance(value, list):
        raise Problem(f"must be an array of objects {shape}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise Problem(f"must be an object {shape}", f"[{i}]")
    return value


def _ignore_unknown(item: dict, known: tuple, label: str) -> None:
    for key in item:
        if key not in known:
            note(f"{label}.{key}", item[key], None, f"ignored: not one of {', '.join(known)}", "unverified")


def read_list_subscriptions(value: Any, label: str) -> list[dict]:
    shape = "{list_id, subscribed}"
    out: list[dict] = []
    for i, item in enumerate(_objects(value, shape)):
        where = f"[{i}]"
        _ignore_unknown(item, ("list_id", "subscribed"), label + where)
        list_id = item.get("list_id")
        if list_id is None or list_id == "":
            raise Problem("is required (the audience list id)", f"{where}.list_id")
        try:
            list_id = read_string(list_id, f"{label}{where}.list_id")
        except Problem:
            raise Problem("must be a string", f"{where}.list_id") from None
        subscribed = _optional_boolean(item, "subscribed", label, where, True)
        out.append({"list_id": list_id, "subscribed": subscribed})
    return out


def _optional_boolean(item: dict, key: str, label: str, where: str, default: bool) -> bool:
    """``item[key]`` read as a boolean; absent gives ``default`` (state, no note), null too (noted)."""
    if key not in item:
        return default
    if item[key] is None:
        note(f"{label}{where}.{key}", None, default, f"null: read as {str(default).lower()}", "unverified")
        return default
    try:
        return read_boolean(item[key], f"{label}{where}.{key}")
    except Problem as exc:
        raise Problem(exc.rule, f"{where}.{key}") from None


CHANNELS = ("email", "sms", "push")


def read_channel_subscriptions(value: Any, label: str) -> list[dict]:
    shape = "{channel, blacklisted}"
    by_channel: dict[str, dict] = {}
    for i, item in enumerate(_objects(value, shape)):
        where = f"[{i}]"
        _ignore_unknown(item, ("channel", "blacklisted"), label + where)
        channel = item.get("channel")
        used = channel.strip().lower() if isinstance(channel, str) else channel
        if used not in CHANNELS:
            raise Problem(f"must be one of {', '.join(CHANNELS)}", f"{where}.channel")
        if used != channel:
            note(f"{label}{where}.channel", channel, used, "lower-cased", "unverified")
        blacklisted = _optional_boolean(item, "blacklisted", label, where, False)
        if used in by_channel:
            note(f"{label}{where}", item, {"channel": used, "blacklisted": blacklisted},
                 "channel given twice: the last entry wins", "unverified")
        by_channel[used] = {"channel": used, "blacklisted": blacklisted}
    return list(by_channel.values())


# -- the table --------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    read: Callable[[Any, str], Any]
    type: str
    """The documented type, for the OpenAPI schema: string, integer, number, boolean,
    date-time, email, strings, list_subscriptions, channel_subscriptions."""
    doc: str
    choices: tuple = ()


def _string(doc: str) -> Field:
    return Field(read_string, "string", doc)


CONTACT_FIELDS: dict[str, Field] = {
    "device_id": _string("Contact associated device_id"),
    "name_first": _string("Name of the contact"),
    "name_last": _string("Last name of the contact"),
    "email": Field(read_email, "email", "Email of the contact (stored lower-cased)"),
    "phone_countrycode": Field(read_countrycode, "string", "Country code of the contact phone, digits: 44"),
    "phone_number": Field(read_phone_number, "string", "Phone number without country code: 7712345678"),
    "phone": Field(read_phone, "string", "Full phone number with country code: +447712345678 "
                                         "(split into phone_countrycode and phone_number)"),
    "city": _string("City of the contact"),
    "country": _string("Country of the contact"),
    "region": _string("Region of the contact"),
    "zip": _string("Zip code of the contact"),
    "full_address": _string("Address of the contact"),
    "born_date": Field(read_datetime, "date-time", "Birthday, ISO 8601: 1990-01-01T00:00:00Z"),
    "gender": Field(read_gender, "string", "Gender of the contact", GENDERS),
    "language": Field(read_language, "string", "Language, ISO-2: ES"),
    "user_id": _string("Unique identifier of the contact in your backend"),
    "facebook_id": _string("Facebook id of the contact"),
    "facebook_friends": Field(read_count, "integer", "Number of friends on Facebook"),
    "google_id": _string("Google+ id of the contact"),
    "twitter_id": _string("Twitter id of the contact"),
    "twitter_followers": Field(read_count, "integer", "Number of followers on Twitter"),
    "tags": Field(read_tags, "strings", "Tags of the contact"),
    "list_subscriptions": Field(read_list_subscriptions, "list_subscriptions",
                                "Audience lists: [{list_id, subscribed}]"),
    "channel_subscriptions": Field(read_channel_subscriptions, "channel_subscriptions",
                                   "Channels: [{channel: email|sms|push, blacklisted}]"),
    "gdpr_accept_terms": Field(read_boolean, "boolean", "The contact accepted your terms"),
    "gdpr_marketing_consent": Field(read_boolean, "boolean", "The contact accepted marketing consent"),
    "gdpr_date": Field(read_datetime, "date-time", "Date of the GDPR change, ISO 8601"),
    "gdpr_remote_ip": _string("Contact IP when accepting GDPR"),
    "last_latitude": Field(_coordinate(90), "number", "Last GPS latitude: 27.994401"),
    "last_longitude": Field(_coordinate(180), "number", "Last GPS longitude: -81.726896"),
}

READ_ONLY = ("id", "_id", "created_at", "updated_at", "email_valid", "last_email_verified")
"""Keys the vendor sets; a payload's values for them are ignored."""

EMAIL_VALIDATION_OPTIONS = ("validate", "create_if_invalid", "create_if_no_credit")

# -- cleaning a whole contact -----------------------------------------------------------

@dataclass
class Cleaned:
    """A contact payload read against :data:`CONTACT_FIELDS`."""

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

    Documented fields go through their reader; ``phone`` is split into its parts; read-only
    keys are ignored; any other key is a custom field kept as given (noted when the account
    does not declare it, or when its value does not fit the declared type); a
    ``list_subscriptions`` entry naming no list of the account is noted. ``partial``
    (update): null removes a field. ``bulk``: the per-contact ``email_validation`` is not a
    bulk option (``validate_emails`` is).
    """
    fields: dict = {}
    problems: list[str] = []
    unset: list[str] = []
    validation = None
    phone_parts = None
    for key, value in payload.items():
        label = note_prefix + key
        spec = CONTACT_FIELDS.get(key)
        if spec is not None:
            if value is None:
                if partial:
                    unset.append(key)
                else:
                    note(label, None, None, "null ignored", "unverified")
                continue
            try:
                used = spec.read(value, label)
            except Problem as exc:
                problems.append(f"{key}{exc.where}: {exc.rule}")
                continue
            if used is OMIT:
                continue
            if key == "phone":
                phone_parts = used
            else:
                fields[key] = used
                if key == "list_subscriptions":
                    _check_lists(used, label, declared)
        elif key == "email_validation":
            if bulk:
                note(label, value, None, "ignored in a bulk: use validate_emails", "unverified")
                continue
            try:
                validation = read_email_validation(value, label)
            except Problem as exc:
                problems.append(f"email_validation{exc.where}: {exc.rule}")
        elif key in READ_ONLY:
            note(label, value, None, "ignored: read-only, set by the vendor", "unverified")
        else:
            fields[key] = value
            _check_custom_value(value, label, declared.custom_field(key))
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
        return _is_number(value) and math.isfinite(value)
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


def read_email_validation(value: Any, label: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem("must be an object {validate, create_if_invalid, create_if_no_credit}")
    _ignore_unknown(value, EMAIL_VALIDATION_OPTIONS, label)
    options = {}
    for key in EMAIL_VALIDATION_OPTIONS:
        raw = value.get(key)
        if raw is None:
            options[key] = False
            continue
        try:
            options[key] = read_boolean(raw, f"{label}.{key}")
        except Problem as exc:
            raise Problem(exc.rule, f".{key}") from None
    return options


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


IDENTITY_FIELDS = ("email", "phone", "phone_countrycode", "phone_number")


def refuse(problems: list[str]) -> PushtechError:
    return PushtechError("; ".join(problems), 422)


# -- email validity ---------------------------------------------------------------------

INVALID_DOMAINS = frozenset({"invalid", "test", "example.invalid"})


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


# -- the per-account backend ------------------------------------------------------------

LIST_FILTERS = ("user_id", "device_id", "name_first", "name_last", "email", "phone_countrycode", "phone_number")
LIST_PARAMETERS = (*LIST_FILTERS, "limit", "contact_id_from", "order")
LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 200, 1000
MAX_BULK_CONTACTS = 5000
WEBHOOK_FIELDS = ("_id", "user_id", "email", "phone_countrycode", "phone_number")
WEBHOOK_RETRY_DELAYS_S = [300, 300, 600, 600, 1800, 3600, 7200]
BULK_PARAMETERS = ("contacts", "match_contact_user_id", "webhook_url", "validate_emails",
                   "contacts_webhook_extra_fields")
BULK_PUBLIC = ("_id", "number_of_contacts", "match_contact_user_id", "validate_emails",
               "contacts_webhook_extra_fields", "webhook_url", "status")
BULK_RESULT = ("contacts_valid_count", "contacts_failed_count")
BULK_NOTES_KEPT = 200
JOB_PROCESSING, JOB_FINISH = "pushtech.bulk_processing", "pushtech.bulk_finish"

log = logging.getLogger("emulator.pushtech")


def public_bulk(bulk: dict) -> dict:
    """The vendor's ``{"bulk": {...}}`` envelope; counts appear once the job has ended."""
    out = {key: bulk.get(key) for key in BULK_PUBLIC}
    for key in BULK_RESULT:
        if key in bulk:
            out[key] = bulk[key]
    return {"bulk": out}


class Backend(Declared):
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

    def _find(self, contact_id: str) -> int:
        return found(self.contacts, "id", contact_id, CONTACT_NOT_FOUND)

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

    # -- contacts --------------------------------------------------------------------
    def create_contact(self, payload: dict) -> dict:
        cleaned = clean_contact(payload, self)
        check_identity(cleaned)
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
            if key in args:
                try:
                    used = LIST_FILTER_READERS[key](args[key], key)
                except Problem as exc:
                    problems.append(f"{key}: {exc.rule}")
                    continue
                filters[key] = "" if used is OMIT else used
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

    # -- bulk ------------------------------------------------------------------------
    def create_bulk(self, payload: dict) -> dict:
        """Check the request, read every contact (notes go to this request), queue the job."""
        problems: list[str] = []
        for key in payload:
            if key not in BULK_PARAMETERS:
                note(key, payload[key], None, f"ignored: not a bulk parameter ({', '.join(BULK_PARAMETERS)})", "unverified")
        contacts = payload.get("contacts")
        if not isinstance(contacts, list) or not 1 <= len(contacts) <= MAX_BULK_CONTACTS:
            got = f"{len(contacts)} contacts" if isinstance(contacts, list) else _kind(contacts)
            problems.append(f"contacts: must be an array of 1 to {MAX_BULK_CONTACTS} contacts, got {got}")
        options = {}
        for key in ("match_contact_user_id", "validate_emails"):
            raw = payload.get(key)
            try:
                options[key] = False if raw is None else read_boolean(raw, key)
            except Problem as exc:
                problems.append(f"{key}: {exc.rule}")
        webhook_url = _read_webhook_url(payload.get("webhook_url"), problems)
        extra = _read_extra_fields(payload.get("contacts_webhook_extra_fields"), problems)
        if problems:
            raise refuse(problems)
        prepared, failed = [], []
        keep_sent = options["validate_emails"]  # a contact may still fail at job time: keep it as sent
        for i, item in enumerate(contacts):
            if not isinstance(item, dict):
                failed.append({"contact": item, "errors": [f"contact: must be an object, got {_kind(item)}"]})
                continue
            cleaned = clean_contact(item, self, note_prefix=f"contacts[{i}].", bulk=True)
            check_identity(cleaned)
            if cleaned.problems:
                failed.append({"contact": item, "errors": cleaned.problems})
            else:
                prepared.append({"fields": cleaned.fields, "sent": item if keep_sent else None})
        with self.store.transaction():
            bulk = {"_id": self.engine.ids.hex24(self.bulk_ids), "number_of_contacts": len(contacts),
                    "match_contact_user_id": options["match_contact_user_id"],
                    "validate_emails": options["validate_emails"], "contacts_webhook_extra_fields": extra,
                    "webhook_url": webhook_url, "status": "queue", "created_at": self.now()}
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

    # -- the contact lifecycle webhook -------------------------------------------------
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


def verified_stamp(now: str) -> str:
    """An emulator timestamp (``...Z``) in the form of ``last_email_verified``: ``...+00:00``."""
    return now[:-1] + "+00:00" if now.endswith("Z") else now


def webhook_signature(account, timestamp: int, token: str) -> str:
    """Hex HMAC-SHA256 of ``str(timestamp) + token`` keyed with the account secret."""
    secret = str(account.credentials.get("secret", "")).encode()
    return hmac.new(secret, f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


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


def _filter_text(value: str, label: str) -> str:
    return value.strip()


def _filter_email(value: str, label: str) -> str:
    return value.strip().lower()


LIST_FILTER_READERS = {"user_id": _filter_text, "device_id": _filter_text, "name_first": _filter_text,
                       "name_last": _filter_text, "email": _filter_email,
                       "phone_countrycode": read_countrycode, "phone_number": read_phone_number}


def is_http_url(value: Any) -> bool:
    """An absolute http or https URL with a host."""
    from urllib.parse import urlsplit

    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _read_webhook_url(value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        note("webhook_url", value, None, "empty webhook_url: no webhook", "unverified")
        return None
    if not is_http_url(value.strip() if isinstance(value, str) else value):
        problems.append("webhook_url: must be an http or https URL")
        return None
    if admin_target(value):
        problems.append("webhook_url: must be an http or https URL of a receiver, not the emulator's own admin API")
        return None
    used = value.strip()
    if used != value:
        note("webhook_url", value, used, "surrounding whitespace trimmed", "unverified")
    return used


def _read_extra_fields(value: Any, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append("contacts_webhook_extra_fields: must be an array of field names (strings)")
        return []
    unique = list(dict.fromkeys(value))
    if len(unique) != len(value):
        note("contacts_webhook_extra_fields", value, unique, "duplicate field names dropped", "unverified")
    return unique


# -- custom field and audience list bodies ----------------------------------------------

CUSTOM_FIELD_TYPES = ("boolean", "date", "number", "string", "selectable_options")
CUSTOM_FIELD_PARAMETERS = ("name", "label", "category", "description", "type", "selectable_options")
CUSTOM_FIELD_EDITABLE = ("category", "label", "description", "selectable_options")
AUDIENCE_LIST_PARAMETERS = ("name", "description", "visibility")
VISIBILITIES = ("public", "private")
"""The ``visibility`` values the reference shows; others are stored with a note."""


def _ignore_parameters(body: dict, known: tuple, what: str) -> None:
    for key in body:
        if key not in known:
            note(key, body[key], None, f"ignored: not a {what} parameter ({', '.join(known)})", "unverified")


def _read_text(body: dict, key: str, problems: list[str], *, required: bool = False) -> Any:
    """``body[key]`` as text: OMIT when absent (or refused), None for null (optional keys)."""
    if key not in body:
        if required:
            problems.append(f"{key}: is required")
        return OMIT
    value = body[key]
    if value is None and not required:
        return None
    try:
        text = read_string(value, key) if value is not None else ""
    except Problem as exc:
        problems.append(f"{key}: {exc.rule}")
        return OMIT
    if required and not text:
        problems.append(f"{key}: is required (a non-empty string)")
        return OMIT
    return text


def _read_options(value: Any, problems: list[str]) -> Any:
    if not isinstance(value, list) or not all(isinstance(option, str) for option in value):
        problems.append("selectable_options: must be an array of strings")
        return OMIT
    unique = list(dict.fromkeys(value))
    if len(unique) != len(value):
        note("selectable_options", value, unique, "duplicate options dropped", "unverified")
    return unique


def read_new_custom_field(body: dict) -> tuple[dict, list[str]]:
    """A ``POST /custom_fields`` body: the field to store (without ``_id``) and the problems."""
    _ignore_parameters(body, CUSTOM_FIELD_PARAMETERS, "custom field")
    problems: list[str] = []
    name = _read_text(body, "name", problems, required=True)
    label = _read_text(body, "label", problems, required=True)
    category = _read_text(body, "category", problems)
    description = _read_text(body, "description", problems)
    kind = body.get("type")
    if kind is None:
        if "type" in body:
            note("type", None, "string", "null: read as string (the default)", "unverified")
        kind = "string"
    elif kind not in CUSTOM_FIELD_TYPES:
        problems.append(f"type: must be one of {', '.join(CUSTOM_FIELD_TYPES)}")
    options = OMIT
    if body.get("selectable_options") is not None:
        if kind != "selectable_options":
            problems.append("selectable_options: only with type selectable_options")
        else:
            options = _read_options(body["selectable_options"], problems)
    elif kind == "selectable_options":
        note("selectable_options", body.get("selectable_options"), [], "no options given: stored without "
                                                                       "options", "unverified")
        options = []
    fields = {"name": name, "label": label, "category": None if category is OMIT else category,
              "description": None if description is OMIT else description, "type": kind}
    if options is not OMIT:
        fields["selectable_options"] = options
    return fields, problems


def read_custom_field_changes(body: dict, current: dict) -> tuple[dict, list[str]]:
    """A ``PUT /custom_fields/{id}`` body: the fields to change and the problems."""
    problems: list[str] = []
    changed: dict = {}
    for key in body:
        if key in ("name", "type"):
            if body[key] != current.get(key):
                note(key, body[key], current.get(key), f"ignored: a custom field's {key} cannot be changed",
                     "unverified")
        elif key not in CUSTOM_FIELD_EDITABLE:
            note(key, body[key], None, f"ignored: not a custom field parameter "
                                       f"({', '.join(CUSTOM_FIELD_EDITABLE)})", "unverified")
    for key in ("label", "category", "description"):
        value = _read_text(body, key, problems, required=key == "label" and key in body)
        if value is not OMIT:
            changed[key] = value
    if body.get("selectable_options") is not None:
        if current["type"] != "selectable_options":
            problems.append(f"selectable_options: only with type selectable_options (this field is "
                            f"{current['type']})")
        else:
            options = _read_options(body["selectable_options"], problems)
            if options is not OMIT:
                changed["selectable_options"] = options
    return changed, problems


def read_audience_list(body: dict, *, partial: bool = False) -> tuple[dict, list[str]]:
    """A ``POST`` (or, ``partial``, ``PUT``) ``/lists`` body: the fields and the problems."""
    _ignore_parameters(body, AUDIENCE_LIST_PARAMETERS, "list")
    problems: list[str] = []
    fields: dict = {}
    name = _read_text(body, "name", problems, required=not partial or "name" in body)
    for key, value in (("name", name), ("description", _read_text(body, "description", problems)),
                       ("visibility", _read_text(body, "visibility", problems))):
        if value is not OMIT:
            fields[key] = value
    visibility = fields.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        note("visibility", body["visibility"], visibility, f"not a visibility the reference shows "
                                                           f"({', '.join(VISIBILITIES)}): stored as given", "unverified")
    return fields, problems


def public_list(doc: dict, *, with_date: bool = False) -> dict:
    """A list as the reference answers it: ``created_at`` in list and show, not in create and update."""
    out = {"id": doc["id"], "name": doc["name"], "description": doc.get("description")}
    if with_date:
        out["created_at"] = doc.get("created_at")
    out["visibility"] = doc.get("visibility")
    return out


# -- job handlers -----------------------------------------------------------------------

def run_bulk_processing(engine, job: dict) -> None:
    engine.backend(VENDOR, job["account"]).mark_processing(job["payload"]["bulk_id"])


def run_bulk_finish(engine, job: dict) -> None:
    engine.backend(VENDOR, job["account"]).finish_bulk(job["payload"])


# -- fixture set-up and fake data -------------------------------------------------------

def initial_credits(account) -> int:
    return account.setting("validation_credits", DEFAULT_CREDITS)


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


_FAKE_COUNTRIES = (("44", "GB", "EN", "7700######"), ("34", "ES", "ES", "6########"),
                   ("33", "FR", "FR", "6########"), ("49", "DE", "DE", "151########"))


def fake_contact(fake) -> dict:
    """One valid contact as ``POST /contact`` takes it (valid email, mobile number, tags)."""
    code, country, language, pattern = fake.random_element(_FAKE_COUNTRIES)
    first, last = fake.first_name(), fake.last_name()
    email = fake.unique.email()
    while email.startswith("invalid"):
        email = fake.unique.email()
    return {"user_id": fake.unique.numerify("user-#######"), "name_first": first, "name_last": last,
            "email": email, "phone_countrycode": code, "phone_number": fake.numerify(pattern),
            "city": fake.city(), "country": country, "language": language,
            "gender": fake.random_element(GENDERS),
            "born_date": fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat() + "T00:00:00Z",
            "tags": fake.random_elements(("newsletter", "vip", "web", "app", "store"), length=2, unique=True),
            "gdpr_accept_terms": True, "gdpr_marketing_consent": fake.boolean()}


def fake_bulk(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /contact/bulk`` body with ``n`` contacts (3 by default) and ``options``."""
    return {"contacts": [fake_contact(fake) for _ in range(n or 3)], **options}


def describe_credentials(account) -> str:
    return f"account_id {account.name}, header Authorization: Token token={account.credentials.get('secret')}"
