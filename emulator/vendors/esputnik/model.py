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
``unsubscribed`` email addresses and its import ``sessions``.

Request bodies are checked and normalised at request time (journal notes belong to the
request); asynchronous imports then only match and write, in one ``write_many``.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import unicodedata
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from emulator.core.errors import EmulatorError
from emulator.core.journal import note
from emulator.core.store import collector_paused

from .errors import EsputnikError, not_found

VENDOR = "esputnik"
log = logging.getLogger("emulator.esputnik")

DEDUPE_ON = ("email", "sms", "email_or_sms", "id", "externalCustomerId", "push", "webpush", "fieldId")
MAX_BULK = 3000
MAX_SEGMENT_IDS = 500
MAX_ROWS = 500
MAX_ORDERS = 1000
MAX_EVENT_BYTES = 20 * 1024

# Channel type as sent -> as stored (the vendor spells web push both ways).
CHANNEL_TYPES = {"email": "email", "sms": "sms", "mobilepush": "mobilepush", "webpush": "webpush",
                 "webPush": "webpush", "viber": "viber", "telegram": "telegram"}
CHANNELS = ("email", "sms", "mobilepush", "webpush", "viber", "telegram")
# Objects a channel may carry besides its type and value, and their members.
CHANNEL_MEMBERS = {"device": ("appId", "deviceModel", "os", "locale", "clientVersion", "appVersion", "active"),
                   "webPushSubscription": ("appId", "userAgent", "userAgentVersion", "userAgentLanguage", "os", "ip",
                                           "subscriptionPage", "swActiveVersion")}
TEXT_FIELDS = ("firstName", "lastName", "externalCustomerId", "languageCode", "timeZone", "contactKey")
ADDRESS_KEYS = ("region", "town", "address", "postcode")
ADDRESS_PARTS = ("town", "region", "postcode")  # the parts a bulk contactFields may name alone
# Standard fields a bulk ``contactFields`` may name, in the order they are written.
STANDARD_FIELDS = ("firstName", "lastName") + CHANNELS + ("address",) + ADDRESS_PARTS + (
    "externalCustomerId", "languageCode", "timeZone", "contactKey")
_WHOLE_FIELDS = tuple(key for key in STANDARD_FIELDS if key not in ADDRESS_PARTS)
CONTACT_KEYS = frozenset(("id", "firstName", "lastName", "channels", "address", "fields", "groups",
                          "externalCustomerId", "languageCode", "timeZone", "contactKey", "addressBookId"))
# The address spelling of one reference example -> the client-proven form that is stored.
ADDRESS_ALIASES = {"city": "town", "postalCode": "postcode", "addressLine": "address"}
BULK_KEYS = frozenset(("contacts", "dedupeOn", "fieldId", "contactFields", "customFieldsIDs", "groupNames",
                       "groupNamesExclude", "restoreDeleted", "eventKeyForNewContacts"))
UPLOAD_KEYS = (BULK_KEYS - {"contacts", "contactFields", "customFieldsIDs"}) | {"link"}
SUBSCRIBE_KEYS = frozenset(("contact", "groups", "formType"))
ORDER_STATUSES = ("INITIALIZED", "IN_PROGRESS", "DELIVERED", "CANCELLED", "ABANDONED_SHOPPING_CART")
ORDER_NUMBERS = ("totalCost", "shipping", "discount", "taxes")
ORDER_TEXTS = ("externalOrderId", "externalCustomerId", "currency", "firstName", "lastName", "restoreUrl",
               "statusDescription", "storeId", "source", "deliveryMethod", "paymentMethod", "deliveryAddress")
ORDER_KEYS = frozenset(ORDER_NUMBERS + ORDER_TEXTS + ("status", "date", "email", "phone", "additionalInfo", "items"))
ITEM_TEXTS = ("externalItemId", "name", "category", "url", "imageUrl", "description")
ITEM_NUMBERS = ("quantity", "cost")
ITEM_KEYS = frozenset(ITEM_TEXTS + ITEM_NUMBERS)
EVENT_KEYS = frozenset(("eventTypeKey", "keyValue", "params"))
# Without keyValue, the first of these event parameters present is the event's key.
EVENT_KEY_PARAMS = ("contactId", "externalCustomerId", "email", "phone", "pushToken")
FIELD_TYPES = ("textfield", "combobox", "checkboxlist", "textarea", "date", "number", "datetime", "decimal")
# dedupeOn -> the (index, incoming key) pairs tried in order.
INDEX_OF_CHANNEL = {"email": "email", "sms": "sms", "mobilepush": "push", "webpush": "webpush"}
EVENT_KEY_FORBIDDEN = set("<;’\\/|\"`'^?!,>")

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_PHONE_CHARS = re.compile(r"\+?[\d\s().\-]+")
_NON_DIGITS = re.compile(r"\D")
_INTEGER = re.compile(r"[+-]?\d+")
# The apostrophes the vendor's bulk-file reference allows inside names, and the hyphen.
APOSTROPHES = "'ʼ`´ʹʻʽʾʿˈˊˮ΄՚᾽᾿‛′‵Ꞌꞌ"
_JOINERS = frozenset(APOSTROPHES + "-")
_NOT_SENT = object()


class Invalid(Exception):
    """One contact (or one request) breaks a rule: a 400 for single calls, a failedContacts entry in bulk."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# -- field rules --------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value))


def as_int(value: Any, field: str) -> int:
    """An integer id; a string of digits is read as the number (with a note)."""
    if _is_int(value):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        note(field, value, int(value), "integer sent as text read as a number", "unverified")
        return int(value)
    raise Invalid("INVALID_VALUE", f"{field} must be an integer, got {value!r}")


def as_text(value: Any, field: str) -> str | None:
    """A string field: a number is kept as its decimal text, surrounding spaces are trimmed,
    and an empty or blank value means "not sent" (``None``) -- each with a note."""
    if value is None:
        return None
    if _is_int(value) or (isinstance(value, float) and math.isfinite(value)):
        note(field, value, str(value), "number stored as its decimal text", "unverified")
        return str(value)
    if not isinstance(value, str):
        raise Invalid("INVALID_VALUE", f"{field} must be a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        note(field, value, None, "empty value treated as not sent", "unverified")
        return None
    if text != value:
        note(field, value, text, "surrounding spaces trimmed", "unverified")
    return text


def check_name(value: Any, field: str) -> str | None:
    """The vendor's name rule (its bulk-file reference): ≤ 40 characters; letters of any
    alphabet; at most three words longer than 3 characters and three of at most 3; up to 3
    digits; the hyphen and the apostrophes of :data:`APOSTROPHES` only inside words; one dot
    at the end of a word of at most 3 characters (``Jr.``); some letter somewhere."""
    text = as_text(value, field)
    if text is None:
        return None
    if len(text) > 40:
        raise Invalid("INVALID_NAME", f"{field} must be at most 40 characters, got {len(text)}")
    if text.isascii() and text.isalpha():  # one word of Latin letters: the common case
        return text
    letters = digits = long_words = short_words = 0
    for word in text.split(" "):
        if not word:
            continue
        core = word[:-1] if word.endswith(".") else word
        if not core:
            raise Invalid("INVALID_NAME", f"{field}: a dot may only end a word, got {text!r}")
        if core is not word and len(core) > 3:
            raise Invalid("INVALID_NAME", f"{field}: a dot may only end a word of at most 3 characters (Jr.), "
                                          f"got {word!r}")
        last = len(core) - 1
        for i, ch in enumerate(core):
            if ch in _JOINERS:
                if i == 0 or i == last or core[i - 1] in _JOINERS or core[i + 1] in _JOINERS:
                    raise Invalid("INVALID_NAME", f"{field}: {ch!r} is allowed only inside a word, got {text!r}")
            elif ch.isalpha() or unicodedata.category(ch)[0] == "M":
                letters += 1
            elif ch.isdecimal():
                digits += 1
            else:
                raise Invalid("INVALID_NAME", f"{field} may hold letters, up to 3 digits, spaces, hyphens and "
                                              f"apostrophes inside words and a dot after a short word; {ch!r} is not "
                                              f"allowed in {text!r}")
        if len(core) > 3:
            long_words += 1
        else:
            short_words += 1
    if not letters:
        raise Invalid("INVALID_NAME", f"{field} must contain letters: a name of only digits or special characters "
                                      f"is refused, got {text!r}")
    if digits > 3:
        raise Invalid("INVALID_NAME", f"{field} may hold at most 3 digits, got {text!r}")
    if long_words > 3 or short_words > 3:
        raise Invalid("INVALID_NAME", f"{field} may hold at most three words longer than 3 characters and three of "
                                      f"at most 3 characters, got {text!r}")
    return text


def check_email(value: str, field: str) -> str:
    email = value.lower()
    if email != value:
        note(field, value, email, "email lower-cased (matched case-insensitively)", "cast")
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise Invalid("INVALID_EMAIL", f"{field} is not a valid email address: {value!r}")
    return email


def check_phone(value: str, field: str) -> str:
    """The phone number as its digits; digits with or without a leading ``+`` give no note."""
    if not _PHONE_CHARS.fullmatch(value):
        raise Invalid("INVALID_PHONE", f"{field} must be a phone number (digits, optionally +, spaces, "
                                       f"dots, dashes, brackets), got {value!r}")
    digits = _NON_DIGITS.sub("", value)
    if not 5 <= len(digits) <= 15:
        raise Invalid("INVALID_PHONE", f"{field} must have 5 to 15 digits, got {len(digits)} in {value!r}")
    if digits != value and value != "+" + digits:
        note(field, value, digits, "phone number kept as its digits only", "cast")
    return digits


def check_event_key(value: Any, field: str, limit: int) -> str:
    """An event type or key: 1..``limit`` characters, none of :data:`EVENT_KEY_FORBIDDEN`."""
    if not isinstance(value, str) or not value or len(value) > limit:
        raise EsputnikError(f"{field} must be a string of 1 to {limit} characters, got {value!r}")
    bad = sorted(set(value) & EVENT_KEY_FORBIDDEN)
    if bad:
        raise EsputnikError(f"{field} must not contain any of < ; ’ \\ / | \" ` ' ^ ? ! , >; "
                            f"found {' '.join(bad)} in {value!r}")
    return value


def _upper_key(name: str) -> str:
    return re.sub(r"\W+", "_", name.strip()).strip("_").upper()


class FieldCatalog:
    """The custom fields declared for an account (``settings.fields``), and its address book.

    A field is ``{"id": 12345, "name": "city"}`` plus optionally ``type`` (one of
    :data:`FIELD_TYPES`, default ``textfield``), ``group`` (default ``Custom``), ``profileKey``
    and ``fieldKey`` (default: the upper-cased group and field names), ``required``,
    ``readonly`` and ``allowedValues`` (a list of strings).
    """

    def __init__(self, declared: Any, book_id: Any = 7200, book_name: Any = "Contacts"):
        if not _is_int(book_id) or not isinstance(book_name, str):
            raise EmulatorError(f"esputnik fixture: address_book_id must be an integer and address_book_name a "
                                f"string, got {book_id!r} and {book_name!r}")
        self.book_id = book_id
        self.by_id: dict[int, str] = {}
        self.by_name: dict[str, int] = {}
        self.by_key: dict[str, int] = {}  # "PROFILEKEY.FIELDKEY" -> id (the CSV custom-field columns)
        groups: dict[str, dict] = {}
        for item in declared or ():
            spec = dict(item) if isinstance(item, dict) else {"id": item}
            fid, name = spec.get("id"), spec.get("name") or str(spec.get("id"))
            kind, group = spec.get("type", "textfield"), spec.get("group", "Custom")
            allowed = spec.get("allowedValues")
            if not _is_int(fid) or not isinstance(name, str) or kind not in FIELD_TYPES or not isinstance(group, str) \
                    or not (allowed is None or (isinstance(allowed, list) and all(isinstance(v, str) for v in allowed))):
                raise EmulatorError(f"esputnik fixture: a custom field is {{id: integer, name, type: "
                                    f"{'|'.join(FIELD_TYPES)}, group, allowedValues: [strings]}}, got {item!r}")
            self.by_id[fid] = name
            if spec.get("name"):
                self.by_name[name] = fid
            entry = groups.setdefault(group, {"name": group, "profileKey": str(spec.get("profileKey") or
                                                                               _upper_key(group)), "fields": []})
            field_key = str(spec.get("fieldKey") or _upper_key(name))
            description: dict[str, Any] = {"type": kind, "required": bool(spec.get("required", False)),
                                           "readonly": bool(spec.get("readonly", False))}
            if allowed is not None:
                description["allowedValues"] = {"possibleValues": list(allowed)}
            entry["fields"].append({"id": fid, "name": name, "fieldKey": field_key, "description": description})
            self.by_key[f"{entry['profileKey']}.{field_key}".upper()] = fid
        self.book = {"addressBookId": book_id, "name": book_name, "fieldGroups": list(groups.values())}


def _at(where: str, key: str) -> str:
    """The path of ``key`` inside the value at ``where`` (``""``: the request body itself)."""
    return f"{where}.{key}" if where else key


def normalize_contact(raw: Any, where: str, catalog: FieldCatalog, *, allow_id: bool = False) -> dict:
    """The sent contact as ``{standard field: value, "fields": [[id, value]...]}`` (only sent keys).

    Channels are flattened to their type (``"email": "a@b.c"``), their ``device`` /
    ``webPushSubscription`` objects kept under ``"members"``; ``None`` means "sent as null"
    (the field is cleared), while an empty or blank value is left out ("not sent").
    Raises :class:`Invalid` naming the field and the rule.
    """
    if not isinstance(raw, dict):
        raise Invalid("INVALID_CONTACT", f"{where or 'the contact'} must be a JSON object, got {type(raw).__name__}")
    out: dict[str, Any] = {}
    prefix = f"{where}." if where else ""
    for key, value in raw.items():
        if key in ("firstName", "lastName"):
            text = check_name(value, f"{prefix}{key}")
            if text is not None or value is None:
                out[key] = text
        elif key in TEXT_FIELDS:
            text = as_text(value, f"{prefix}{key}")
            if text is not None or value is None:
                out[key] = text
        elif key == "channels":
            _read_channels(value, f"{prefix}channels", out)
        elif key == "address":
            address = _read_address(value, f"{prefix}address")
            if address is not _NOT_SENT:
                out["address"] = address
        elif key == "fields":
            out["fields"] = _read_fields(value, f"{prefix}fields", catalog)
        elif key == "id":
            if allow_id and value is not None:
                out["id"] = as_int(value, f"{prefix}id")
            elif value is not None:
                note(f"{prefix}id", value, None, "ignored: contact ids are assigned by the vendor", "ignored")
        elif key == "addressBookId":
            if value is not None and as_int(value, f"{prefix}addressBookId") != catalog.book_id:
                note(f"{prefix}addressBookId", value, catalog.book_id,
                     "ignored: not the account's address book (see GET /addressbooks)", "unverified")
        elif key == "groups":
            note(f"{prefix}groups", value, None, "ignored: a contact's segments are read only here", "ignored")
        else:
            note(f"{prefix}{key}", value, None, "unknown contact field ignored", "ignored")
    return out


def _read_channels(value: Any, where: str, out: dict) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise Invalid("INVALID_CONTACT", f"{where} must be an array of {{type, value}} objects, "
                                         f"got {type(value).__name__}")
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise Invalid("INVALID_CONTACT", f"{at} must be a {{type, value}} object, got {type(item).__name__}")
        sent_type = item.get("type")
        kind = CHANNEL_TYPES.get(sent_type) if isinstance(sent_type, str) else None
        if kind is None:
            raise Invalid("INVALID_CHANNEL", f"{at}.type must be one of {', '.join(CHANNEL_TYPES)}, "
                                             f"got {sent_type!r}")
        sent_value = item.get("value")
        if isinstance(sent_value, str) and not sent_value.strip():
            # the WooCommerce plugin sends {"type": "sms", "value": ""} for a customer without a phone
            note(f"{at}.value", sent_value, None, f"{kind} channel with an empty value ignored: not stored, "
                                                  f"not matched on", "unverified")
            continue
        if kind in out:
            raise Invalid("INVALID_CHANNEL", f"{where}: one {kind!r} channel per contact, got several")
        text = as_text(sent_value, f"{at}.value")
        if text is None:
            raise Invalid("INVALID_CHANNEL", f"{at}.value is required: a non-empty {kind} value")
        if kind == "email":
            text = check_email(text, f"{at}.value")
        elif kind == "sms":
            text = check_phone(text, f"{at}.value")
        out[kind] = text
        members = {}
        for extra in item.keys() - {"type", "value"}:
            if extra in CHANNEL_MEMBERS:
                member = _read_member(item[extra], f"{at}.{extra}", CHANNEL_MEMBERS[extra])
                if member is not None:
                    members[extra] = member
            else:
                note(f"{at}.{extra}", item[extra], None, "unknown channel key ignored", "ignored")
        if members:
            out.setdefault("members", {})[kind] = {name: members[name] for name in CHANNEL_MEMBERS if name in members}


def _read_member(value: Any, where: str, keys: tuple) -> dict | None:
    """A channel's ``device`` or ``webPushSubscription`` object: its known members, as sent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid("INVALID_CHANNEL", f"{where} must be an object {{{', '.join(keys)}}}, "
                                         f"got {type(value).__name__}")
    out = {}
    for key, part in value.items():
        if key not in keys:
            note(_at(where, key), part, None, f"ignored: {where.rsplit('.', 1)[-1]} has {', '.join(keys)}",
                 "ignored")
        elif not _is_scalar(part):
            raise Invalid("INVALID_CHANNEL", f"{where}.{key} must be a string, number or boolean, "
                                             f"got {type(part).__name__}")
        else:
            out[key] = part
    return {key: out[key] for key in keys if key in out}


def _read_address(value: Any, where: str) -> dict | None | object:
    """The address with its four parts (a part not sent is null); ``_NOT_SENT`` when every
    part is empty (the WooCommerce plugin sends ``""`` for each part it does not know)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid("INVALID_ADDRESS", f"{where} must be an object {{region, town, address, postcode}}, "
                                         f"got {type(value).__name__}")
    address: dict[str, str | None] = dict.fromkeys(ADDRESS_KEYS)
    for key, part in value.items():
        target = ADDRESS_ALIASES.get(key, key)
        if target not in address:
            note(_at(where, key), part, None, "ignored: the address has region, town, address and postcode", "ignored")
            continue
        if target != key:
            note(_at(where, key), key, target, "address key stored in the region/town/address/postcode form",
                 "unverified")
        address[target] = as_text(part, _at(where, key))
    if all(part is None for part in address.values()):
        if not value:
            note(where, value, None, "empty address treated as not sent", "unverified")
        return _NOT_SENT
    return address


def _read_fields(value: Any, where: str, catalog: FieldCatalog) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid("INVALID_FIELDS", f"{where} must be an array of {{id, value}} objects, "
                                        f"got {type(value).__name__}")
    out: dict[int, Any] = {}
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise Invalid("INVALID_FIELDS", f"{at} must be an {{id, value}} object, got {type(item).__name__}")
        if "id" in item:
            fid = as_int(item["id"], f"{at}.id")
        elif isinstance(item.get("name"), str):
            fid = catalog.by_name.get(item["name"])
            if fid is None:
                note(f"{at}.name", item["name"], None, "unknown custom field name ignored", "unverified")
                continue
            note(f"{at}.name", item["name"], fid, "custom field name resolved to its id", "unverified")
        else:
            raise Invalid("INVALID_FIELDS", f"{at} must have an integer id (or a field name)")
        if fid not in catalog.by_id:
            note(f"{at}.id", fid, None, "unknown custom field id ignored (not declared for the account)", "unverified")
            continue
        raw_value = item.get("value")
        if isinstance(raw_value, (dict, list)):
            raise Invalid("INVALID_FIELDS", f"{at}.value must be a string, number or boolean, "
                                            f"got {type(raw_value).__name__}")
        if isinstance(raw_value, bool):
            note(f"{at}.value", raw_value, str(raw_value).lower(), "boolean stored as its text", "unverified")
            raw_value = str(raw_value).lower()
        out[fid] = as_text(raw_value, f"{at}.value")
    return [[fid, val] for fid, val in out.items()]


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


# -- import options -----------------------------------------------------------------------
def _names(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise EsputnikError(f"{field} must be an array of segment names, got {type(value).__name__}")
    out = []
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise EsputnikError(f"{field}[{i}] must be a non-empty segment name, got {name!r}")
        out.append(name.strip())
    return out


def _bool(value: Any, field: str, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        cast = value.strip().lower() == "true"
        note(field, value, cast, "boolean sent as text read as a boolean", "unverified")
        return cast
    raise EsputnikError(f"{field} must be true or false, got {value!r}")


def read_import_options(body: dict, catalog: FieldCatalog, allowed_keys: frozenset) -> dict:
    """The options of a bulk import or upload, checked (400 on a broken rule)."""
    for key in body.keys() - allowed_keys:
        note(key, body[key], None, "unknown request key ignored", "ignored")
    dedupe = body.get("dedupeOn")
    if dedupe is None:
        dedupe = "email"
    if dedupe not in DEDUPE_ON:
        raise EsputnikError(f"dedupeOn must be one of {', '.join(DEDUPE_ON)}, got {dedupe!r}")
    options: dict[str, Any] = {"dedupeOn": dedupe, "fieldId": None}
    if dedupe == "fieldId":
        if body.get("fieldId") is None:
            raise EsputnikError("fieldId is required when dedupeOn is fieldId: the id of the custom field "
                                "to match on")
        try:
            options["fieldId"] = as_int(body["fieldId"], "fieldId")
        except Invalid as exc:
            raise EsputnikError(exc.message) from None
    elif body.get("fieldId") is not None:
        note("fieldId", body["fieldId"], None, "ignored: dedupeOn is not fieldId", "ignored")
    options["standard"] = _standard_fields(body.get("contactFields"))
    options["custom"] = _custom_ids(body.get("customFieldsIDs"))
    options["groupNames"] = _names(body.get("groupNames"), "groupNames")
    options["groupNamesExclude"] = _names(body.get("groupNamesExclude"), "groupNamesExclude")
    options["restoreDeleted"] = _bool(body.get("restoreDeleted"), "restoreDeleted")
    event = body.get("eventKeyForNewContacts")
    if event is not None:
        check_event_key(event, "eventKeyForNewContacts", 100)
    options["eventKey"] = event
    return options


def _standard_fields(value: Any) -> list | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise EsputnikError(f"contactFields must be an array of field names, got {type(value).__name__}")
    out = []
    for i, name in enumerate(value):
        if name in STANDARD_FIELDS:
            out.append(name)
        elif name == "webPush":  # the vendor spells the channel type both ways
            out.append("webpush")
        else:
            note(f"contactFields[{i}]", name, None, f"unknown standard field ignored; known: "
                                                     f"{', '.join(STANDARD_FIELDS)}", "ignored")
    return out


def _custom_ids(value: Any) -> list | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise EsputnikError(f"customFieldsIDs must be an array of custom field ids, got {type(value).__name__}")
    try:
        return [as_int(v, f"customFieldsIDs[{i}]") for i, v in enumerate(value)]
    except Invalid as exc:
        raise EsputnikError(exc.message) from None


# -- orders ---------------------------------------------------------------------------------
def _order_number(value: Any, field: str) -> int | float | None:
    """A money amount or a quantity; a number sent as text is read as the number, and an
    empty text as no value, each with a note (the WooCommerce plugin sends both)."""
    if value is None:
        return None
    if _is_int(value) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            note(field, value, None, "empty text read as no value", "unverified")
            return None
        try:
            number = int(text) if _INTEGER.fullmatch(text) else float(text)
        except ValueError:
            number = None
        if number is not None and (not isinstance(number, float) or math.isfinite(number)):
            note(field, value, number, "number sent as text read as a number", "unverified")
            return number
    raise Invalid("INVALID_VALUE", f"{field} must be a number, got {value!r}")


def _read_item(raw: Any, where: str) -> dict:
    if not isinstance(raw, dict):
        raise Invalid("INVALID_ITEM", f"{where} must be an object {{externalItemId, name, quantity, cost, ...}}, "
                                      f"got {type(raw).__name__}")
    item: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ITEM_TEXTS:
            item[key] = as_text(value, f"{where}.{key}")
        elif key in ITEM_NUMBERS:
            item[key] = _order_number(value, f"{where}.{key}")
        else:
            note(f"{where}.{key}", value, None, "unknown order item key ignored", "ignored")
    for key in ("externalItemId", "name", "quantity", "cost"):
        if item.get(key) is None:
            raise Invalid("INVALID_ITEM", f"{where}.{key} is required")
    for key in ("url", "imageUrl"):
        if item.get(key) is None and raw.get(key) is None:
            note(f"{where}.{key}", raw.get(key), None, f"{key} is required by the vendor's order reference but "
                                                       f"accepted without it", "unverified")
    return {key: item.get(key) for key in ITEM_TEXTS + ITEM_NUMBERS}


def read_order(raw: Any, where: str) -> dict:
    """One order of ``POST /orders``, checked: the stored shape (every key, ``None`` when not
    sent). Raises :class:`Invalid` naming the field and the rule (the order fails alone)."""
    if not isinstance(raw, dict):
        raise Invalid("INVALID_ORDER", f"{where} must be an order object, got {type(raw).__name__}")
    order: dict[str, Any] = dict.fromkeys(ORDER_TEXTS + ORDER_NUMBERS + ("status", "date", "email", "phone",
                                                                        "additionalInfo"))
    order["items"] = []
    for key, value in raw.items():
        at = f"{where}.{key}"
        if key in ORDER_TEXTS:
            order[key] = as_text(value, at)
        elif key in ORDER_NUMBERS:
            order[key] = _order_number(value, at)
        elif key == "status":
            if value not in ORDER_STATUSES:
                raise Invalid("INVALID_ORDER", f"{at} must be one of {', '.join(ORDER_STATUSES)}, got {value!r}")
            order["status"] = value
        elif key == "date":
            text = as_text(value, at)
            if text is not None:
                try:
                    datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
                except ValueError:
                    raise Invalid("INVALID_ORDER", f"{at} must be an ISO 8601 date and time "
                                                   f"(2024-07-11T10:00:00+03:00), got {value!r}") from None
            order["date"] = text
        elif key == "email":
            text = as_text(value, at)
            order["email"] = check_email(text, at) if text is not None else None
        elif key == "phone":
            text = as_text(value, at)
            order["phone"] = check_phone(text, at) if text is not None else None
        elif key == "additionalInfo":
            if not (_is_scalar(value) or (isinstance(value, dict) and all(_is_scalar(v) for v in value.values()))):
                raise Invalid("INVALID_ORDER", f"{at} must be a text or an object of texts, got {value!r}")
            order["additionalInfo"] = value
        elif key == "items":
            if value is None:
                continue
            if not isinstance(value, list):
                raise Invalid("INVALID_ITEM", f"{at} must be an array of items, got {type(value).__name__}")
            order["items"] = [_read_item(item, f"{at}[{i}]") for i, item in enumerate(value)]
        else:
            note(at, value, None, "unknown order key ignored", "ignored")
    for key, what in (("externalOrderId", "the order's id in your system"), ("totalCost", "the order's total"),
                      ("status", f"one of {', '.join(ORDER_STATUSES)}"), ("date", "when the order was placed")):
        if order[key] is None:
            raise Invalid("INVALID_ORDER", f"{where}.{key} is required: {what}")
    if order["externalCustomerId"] is None and order["email"] is None and order["phone"] is None:
        raise Invalid("INVALID_ORDER", f"{where}: one of externalCustomerId, email or phone is required")
    if order["currency"] is None and raw.get("currency") is None:
        note(f"{where}.currency", raw.get("currency"), None, "currency is required by the vendor's order guide but "
                                                             "accepted without it", "unverified")
    return order


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
        doc = self.contacts.find("id", contact_id) if _is_int(contact_id) else None
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
            note(_at(where, "channels"), email, email, "the email address is on the account's unsubscribed list; "
                 "writing the contact leaves it there (emails/unsubscribed/delete removes it)", "unverified")

    def _normalize_one(self, raw: Any, where: str = "") -> dict:
        try:
            incoming = normalize_contact(raw, where, self.catalog)
        except Invalid as exc:
            raise EsputnikError(exc.message) from None
        self._note_unsubscribed(incoming, where)
        return incoming

    @staticmethod
    def _query_int(args: dict, name: str, default: int, low: int, high: int | None) -> int:
        raw = args.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise EsputnikError(f"{name} must be an integer, got {raw!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"{low}..{high}" if high is not None else f"≥ {low}"
            raise EsputnikError(f"{name} must be {bound}, got {value}")
        return value

    def _page(self, args: dict) -> tuple[int, int]:
        """``startindex`` (1-based, default 1) and ``maxrows`` (default and max 500) as a slice."""
        start = self._query_int(args, "startindex", 1, 1, None)
        rows = self._query_int(args, "maxrows", MAX_ROWS, 1, MAX_ROWS)
        return start - 1, start - 1 + rows

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
        for key in body.keys() - {"contactIds", "externalCustomerIds"}:
            note(key, body[key], None, "unknown request key ignored", "ignored")
        if len(kinds) > 1:
            raise EsputnikError(f"{verb}: send contactIds or externalCustomerIds, not both")
        ids: list = []
        if kinds:
            ids = body[kinds[0]]
            if not isinstance(ids, list):
                raise EsputnikError(f"{kinds[0]} must be an array, got {type(ids).__name__}")
            if len(ids) > MAX_SEGMENT_IDS:
                raise EsputnikError(f"{kinds[0]}: at most {MAX_SEGMENT_IDS} ids per request, got {len(ids)}")
        elif attach:
            raise EsputnikError("attach: send contactIds or externalCustomerIds (1 to 500 ids)")
        keys = []
        for i, value in enumerate(ids):
            try:
                keys.append(("id", as_int(value, f"contactIds[{i}]")) if kinds[0] == "contactIds"
                            else ("ext", as_text(value, f"externalCustomerIds[{i}]")))
            except Invalid as exc:
                raise EsputnikError(exc.message) from None
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
        for key in body.keys() - SUBSCRIBE_KEYS:
            note(key, body[key], None, "unknown request key ignored", "ignored")
        if body.get("contact") is None:
            raise EsputnikError("contact is required: the contact to subscribe")
        incoming = self._normalize_one(body["contact"], "contact")
        if "email" not in incoming and "sms" not in incoming:
            raise EsputnikError("contact.channels must hold an email or an sms channel")
        names = _names(body.get("groups"), "groups")
        form = body.get("formType")
        if form is not None and not isinstance(form, str):
            raise EsputnikError(f"formType must be a string, got {type(form).__name__}")
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

    # -- orders -----------------------------------------------------------------------------
    def add_orders(self, body: dict) -> dict | None:
        """``POST /orders``: store 1..1000 orders (a known externalOrderId is replaced), create
        the missing contacts (never update one), log an ``order<STATUS>`` event per order.

        Answers ``None`` (an empty 200) or ``{"failedOrders": [...]}``.
        """
        orders = body.get("orders")
        if not isinstance(orders, list) or not 1 <= len(orders) <= MAX_ORDERS:
            raise EsputnikError(f"orders is required: an array of 1 to {MAX_ORDERS} orders"
                                + ("" if orders is None else f", got {len(orders) if isinstance(orders, list) else type(orders).__name__}"))
        for key in body.keys() - {"orders"}:
            note(key, body[key], None, "unknown request key ignored", "ignored")
        with collector_paused(len(orders)):  # a thousand orders are built with the collector paused
            failed = self._add_orders(orders)
        return {"failedOrders": self.shaped(failed)} if failed else None

    def _add_orders(self, orders: list) -> list:
        accepted, failed = [], []
        for i, raw in enumerate(orders):
            try:
                accepted.append((i, read_order(raw, f"orders[{i}]")))
            except Invalid as exc:
                ext_id = raw.get("externalOrderId") if isinstance(raw, dict) else None
                failed.append({"index": i, "externalOrderId": ext_id if _is_scalar(ext_id) else None,
                               "message": exc.message})
        with self.store.transaction():
            now = self.now()
            created: dict[tuple, dict] = {}   # (index, key) -> a contact this request creates
            new_contacts: list[dict] = []
            stored: dict[str, dict] = {}      # externalOrderId -> the order to store
            events = []
            for i, order in accepted:
                contact_id, email, phone = self._order_contact(order, f"orders[{i}]", created, new_contacts, now)
                ext_order = order["externalOrderId"]
                if ext_order in stored:
                    note(f"orders[{i}].externalOrderId", ext_order, ext_order, "the same externalOrderId twice in one request: the later "
                         "order is stored", "unverified")
                stored[ext_order] = {**order, "contactId": contact_id, "updated": now}
                events.append({"type": f"order{order['status']}", "key": ext_order,
                               "params": {"orderId": ext_order, "contactId": contact_id, "EmailAddress": email or "",
                                          "SMS": phone or ""}, "at": now})
            inserts, replaces = [], {}
            for ext_order, doc in stored.items():
                doc_id = self.orders.find_id("order", ext_order)
                if doc_id is None:
                    inserts.append(doc)
                else:
                    replaces[doc_id] = doc
            self.contacts.write_many(new_contacts)
            self.orders.write_many(inserts, replaces)
            self.events.write_many(events)
        return failed

    def _order_contact(self, order: dict, where: str, created: dict, new_contacts: list,
                       now: str) -> tuple[int, Any, Any]:
        """(contact id, email, phone) of an order's contact: matched on externalCustomerId, then
        email, then phone, and not updated; created (confirmed, in no segment) when none matches."""
        pairs = [(index, order[key]) for index, key in (("ext", "externalCustomerId"), ("email", "email"),
                                                         ("sms", "phone")) if order[key] is not None]
        for pair in pairs:
            doc = created.get(pair) or self._find(*pair)
            if doc is not None:
                return doc["id"], order["email"] or channel_value(doc, "email"), \
                    order["phone"] or channel_value(doc, "sms")
        doc = new_contact(self.ids.number(self.contact_ns), now)
        for key in ("firstName", "lastName"):
            try:
                doc[key] = check_name(order[key], f"{where}.{key}") if order[key] is not None else None
            except Invalid as exc:
                note(f"{where}.{key}", order[key], None, f"not given to the contact the order creates: {exc.message}",
                     "unverified")
        doc["externalCustomerId"] = order["externalCustomerId"]
        if order["email"] is not None:
            doc["channels"].append(_channel("email", order["email"], True, None))
        if order["phone"] is not None:
            doc["channels"].append(_channel("sms", order["phone"], True, None))
        new_contacts.append(doc)
        for pair in pairs:
            created[pair] = doc
        return doc["id"], order["email"], order["phone"]

    # -- events -----------------------------------------------------------------------------
    def generate_event(self, body: dict, size: int) -> None:
        """``POST /event``: store one event ``{type, key, params, at}``; no contact is touched."""
        if size > MAX_EVENT_BYTES:
            raise EsputnikError(f"request body must be at most 20 kB ({MAX_EVENT_BYTES} bytes), got {size} bytes")
        for key in body.keys() - EVENT_KEYS:
            note(key, body[key], None, "unknown request key ignored", "ignored")
        if body.get("eventTypeKey") is None:
            raise EsputnikError("eventTypeKey is required: the event type's key (1 to 100 characters)")
        event_type = check_event_key(body["eventTypeKey"], "eventTypeKey", 100)
        raw_params = body.get("params")
        if raw_params is None:
            raw_params = []
        if not isinstance(raw_params, list):
            raise EsputnikError(f"params must be an array of {{name, value}} objects, got {type(raw_params).__name__}")
        params: dict[str, Any] = {}
        for i, item in enumerate(raw_params):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
                raise EsputnikError(f"params[{i}] must be a {{name, value}} object with a non-empty name, got {item!r}")
            if not _is_scalar(item.get("value")):
                raise EsputnikError(f"params[{i}].value must be a string, number, boolean or null, "
                                    f"got {type(item['value']).__name__}")
            for extra in item.keys() - {"name", "value"}:
                note(f"params[{i}].{extra}", item[extra], None, "unknown parameter key ignored", "ignored")
            if item["name"] in params:
                note(f"params[{i}].name", item["name"], item["name"], "the same parameter twice: the later value is "
                                                                      "kept", "unverified")
            params[item["name"]] = item.get("value")
        key_value = body.get("keyValue")
        if key_value is not None and not (isinstance(key_value, str) and not key_value.strip()):
            if not isinstance(key_value, (str, int)) or isinstance(key_value, bool):
                raise EsputnikError(f"keyValue must be a string, got {type(key_value).__name__}")
            key = check_event_key(as_text(key_value, "keyValue"), "keyValue", 300)
        else:
            if key_value is not None:
                note("keyValue", key_value, None, "empty value treated as not sent", "unverified")
            found = next((params[name] for name in EVENT_KEY_PARAMS if params.get(name) not in (None, "")), None)
            if found is None:
                raise EsputnikError(f"keyValue is required unless params carry one of {', '.join(EVENT_KEY_PARAMS)} "
                                    f"(the first present is the event's key)")
            key = str(found)
        self.events.insert({"type": event_type, "key": key, "params": params, "at": self.now()})

    # -- unsubscribed email addresses -------------------------------------------------------
    def change_unsubscribed(self, body: dict, *, add: bool) -> None:
        """Mark (``add``) or unmark email addresses as unsubscribed: addresses, not contacts."""
        emails = body.get("emails")
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise EsputnikError("emails is required: an array of email address strings"
                                + ("" if emails is None else f", got {emails!r}"[:200]))
        for key in body.keys() - {"emails"}:
            note(key, body[key], None, "unknown request key ignored", "ignored")
        wanted = []
        for i, sent in enumerate(emails):
            try:
                text = as_text(sent, f"emails[{i}]")
                email = check_email(text, f"emails[{i}]") if text is not None else None
            except Invalid:
                email = None
            if email is None:
                note(f"emails[{i}]", sent, None, "not an email address: ignored", "unverified")
            elif email not in wanted:
                wanted.append(email)
        with self.store.transaction():
            now = self.now()
            if add:
                self.unsubscribed.write_many([{"email": e, "at": now} for e in wanted
                                              if self.unsubscribed.find_id("email", e) is None])
            else:
                for email in wanted:
                    doc_id = self.unsubscribed.find_id("email", email)
                    if doc_id is not None:
                        self.unsubscribed.remove(doc_id)


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
