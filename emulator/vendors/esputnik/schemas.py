"""eSputnik's request bodies and queries, declared once: reading, notes, the OpenAPI schemas and fakes.

:data:`VALUES` is how the vendor reads a value (the spec's "empty and blank values"): a number
sent for text is kept as its decimal text, surrounding spaces are trimmed and an empty text is
"not sent", each noted ``unverified``; an email is lower-cased (``cast``) and a phone number
kept as its digits (``cast``). A key the vendor does not know is left out (``ignored``).
Messages name the field and the rule in the vendor's words (``firstName must be a string,
got int``); :func:`say` puts the path in front.

A contact (:data:`CONTACT`) and an order (:data:`ORDER`) are read by :func:`read_contact` and
:func:`read_order` below with these fields: a channel's value is read by its type, and custom
fields by the account's catalogue (:class:`FieldCatalog`, from the fixture).
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from emulator.core import outbound
from emulator.core.errors import EmulatorError
from emulator.core.journal import note
from emulator.core.payload import (
    KEEP,
    Boolean,
    Choice,
    Email,
    Field,
    Fix,
    Ignored,
    Leniency,
    List,
    Nested,
    Number,
    Phone,
    Problem,
    Records,
    Refused,
    Scalar,
    Shape,
    Text,
)

from .errors import EsputnikError

MAX_BULK = 3000
MAX_SEGMENT_IDS = 500
MAX_ROWS = 500
MAX_ORDERS = 1000
MAX_EVENT_BYTES = 20 * 1024

DEDUPE_ON = ("email", "sms", "email_or_sms", "id", "externalCustomerId", "push", "webpush", "fieldId")
CHANNEL_TYPES = {"email": "email", "sms": "sms", "mobilepush": "mobilepush", "webpush": "webpush",
                 "webPush": "webpush", "viber": "viber", "telegram": "telegram"}
"""Channel type as sent -> as stored (the vendor spells web push both ways)."""
CHANNELS = ("email", "sms", "mobilepush", "webpush", "viber", "telegram")
ADDRESS_KEYS = ("region", "town", "address", "postcode")
ADDRESS_PARTS = ("town", "region", "postcode")  # the parts a bulk contactFields may name alone
ADDRESS_ALIASES = {"city": "town", "postalCode": "postcode", "addressLine": "address"}
"""The address spelling of one reference example -> the client-proven form that is stored."""
STANDARD_FIELDS = ("firstName", "lastName") + CHANNELS + ("address",) + ADDRESS_PARTS + (
    "externalCustomerId", "languageCode", "timeZone", "contactKey")
"""Standard fields a bulk ``contactFields`` may name, in the order they are written."""
ORDER_STATUSES = ("INITIALIZED", "IN_PROGRESS", "DELIVERED", "CANCELLED", "ABANDONED_SHOPPING_CART")
EVENT_KEY_PARAMS = ("contactId", "externalCustomerId", "email", "phone", "pushToken")
"""Without keyValue, the first of these event parameters present is the event's key."""
EVENT_KEY_FORBIDDEN = frozenset("<;’\\/|\"`'^?!,>")
FIELD_TYPES = ("textfield", "combobox", "checkboxlist", "textarea", "date", "number", "datetime", "decimal")
APOSTROPHES = "'ʼ`´ʹʻʽʾʿˈˊˮ΄՚᾽᾿‛′‵Ꞌꞌ"
"""The apostrophes the vendor's bulk-file reference allows inside names (and the hyphen)."""
_JOINERS = frozenset(APOSTROPHES + "-")

# -- how the vendor reads a value ------------------------------------------------------------
VALUES = Leniency(
    number_to_text=Fix("unverified", "number stored as its decimal text"),        # 17 -> "17"
    text_to_number=Fix("unverified", "number sent as text read as a number"),     # "25.50" -> 25.5
    text_to_boolean=Fix("unverified", "boolean sent as text read as a boolean"),  # "true" -> true
    trim=Fix("unverified", "surrounding spaces trimmed"),                         # " Ann " -> "Ann"
    case=Fix("cast", "email lower-cased (matched case-insensitively)"),           # "Ann@X.io" -> "ann@x.io"
    reformat="cast",                                                              # "+380 (50) 111" -> "38050111"
    empty=Fix("unverified", "empty value treated as not sent"),                   # "" -> not sent
    unknown=Fix("ignored", "unknown request key ignored"),
    messages={"type": "must be {expected}, got {pytype}", "null": "must not be null"},
    nouns={"email": "a string", "phone": "a string"},
)
"""A value as the vendor reads it (see the module's docstring)."""

NO_CAST = {"number_to_text": None, "text_to_number": None, "text_to_boolean": None}
"""A field's own fixes: the JSON type documented, nothing cast (padding still trimmed)."""
AS_SENT = {**NO_CAST, "trim": None}
"""A field's own fixes: a value read as sent, no trimming, no cast."""


def say(path: str, message: str) -> str:
    """A refusal as the vendor words it: the path, then the rule (``firstName must be ...``,
    ``lastName: a dot ...``)."""
    if not path:
        return message
    return f"{path}{message}" if message.startswith(":") else f"{path} {message}"


def _integer(**common) -> Number:
    """An integer id; a string of digits is read as the number, noted."""
    return Number(integer=True, rules={"text_to_number": "integer sent as text read as a number"},
                  messages={"type": "must be an integer, got {sent!r}", "integer": "must be an integer, got {sent!r}",
                            "null": "must be an integer, got None"}, **common)


def _text(doc: str = "", **common) -> Text:
    """A string field: null clears it, an empty or blank text is not sent."""
    return Text(nullable=True, empty="absent", doc=doc, **common)


# -- the vendor's own rules ------------------------------------------------------------------
def name_rule(text: str, name: str) -> str:
    """The vendor's name rule (its bulk-file reference): letters of any alphabet; at most three
    words longer than 3 characters and three of at most 3; up to 3 digits; the hyphen and the
    apostrophes of :data:`APOSTROPHES` only inside words; one dot at the end of a word of at
    most 3 characters (``Jr.``); some letter somewhere. (≤ 40 characters: the field's limit.)"""
    if text.isascii() and text.isalpha():  # one word of Latin letters: the common case
        return text
    letters = digits = long_words = short_words = 0
    for word in text.split(" "):
        if not word:
            continue
        core = word[:-1] if word.endswith(".") else word
        if not core:
            raise Refused("name", f": a dot may only end a word, got {text!r}")
        if core is not word and len(core) > 3:
            raise Refused("name", f": a dot may only end a word of at most 3 characters (Jr.), got {word!r}")
        last = len(core) - 1
        for i, ch in enumerate(core):
            if ch in _JOINERS:
                if i == 0 or i == last or core[i - 1] in _JOINERS or core[i + 1] in _JOINERS:
                    raise Refused("name", f": {ch!r} is allowed only inside a word, got {text!r}")
            elif ch.isalpha() or unicodedata.category(ch)[0] == "M":
                letters += 1
            elif ch.isdecimal():
                digits += 1
            else:
                raise Refused("name", f"may hold letters, up to 3 digits, spaces, hyphens and apostrophes inside "
                                      f"words and a dot after a short word; {ch!r} is not allowed in {text!r}")
        if len(core) > 3:
            long_words += 1
        else:
            short_words += 1
    if not letters:
        raise Refused("name", f"must contain letters: a name of only digits or special characters is refused, "
                              f"got {text!r}")
    if digits > 3:
        raise Refused("name", f"may hold at most 3 digits, got {text!r}")
    if long_words > 3 or short_words > 3:
        raise Refused("name", f"may hold at most three words longer than 3 characters and three of at most 3 "
                              f"characters, got {text!r}")
    return text


def _fake_name(kind: str):
    def make(fake) -> str:
        for _ in range(20):
            name = getattr(fake, kind)()
            try:
                if len(name) <= 40 and name == name.strip() and name_rule(name, kind) == name:
                    return name
            except Refused:
                continue
        return "Ann"

    return make


def event_key_rule(limit: int):
    """An event type or key: none of :data:`EVENT_KEY_FORBIDDEN` (its length: the field's)."""

    def check(value: str, name: str) -> str:
        if not value:
            raise Refused("too_long", f"must be a string of 1 to {limit} characters, got {value!r}")
        bad = sorted(set(value) & EVENT_KEY_FORBIDDEN)
        if bad:
            raise Refused("forbidden", f"must not contain any of < ; ’ \\ / | \" ` ' ^ ? ! , >; found "
                                       f"{' '.join(bad)} in {value!r}")
        return value

    return check


def _event_key(limit: int, said: dict | None = None, **common) -> Text:
    bound = f"must be a string of 1 to {limit} characters, got {{sent!r}}"
    return Text(max_length=limit, check=event_key_rule(limit), messages={"type": bound, "too_long": bound, **(said or {})},
                **common)


def date_time_rule(text: str, name: str) -> str:
    """An ISO 8601 date and time, stored as sent."""
    try:
        datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise Refused("date", f"must be an ISO 8601 date and time (2024-07-11T10:00:00+03:00), got {text!r}") from None
    return text


def text_or_texts_rule(value: Any, name: str) -> Any:
    """``additionalInfo``: a text (or number, boolean) or an object of them."""
    def scalar(v):
        return v is None or isinstance(v, (str, bool, int)) or (isinstance(v, float) and math.isfinite(v))

    if not (scalar(value) or (isinstance(value, dict) and all(scalar(v) for v in value.values()))):
        raise Refused("type", f"must be a text or an object of texts, got {value!r}")
    return value


def mask_link(link: str) -> str:
    """The link with the password of its user info replaced by ``***``."""
    parts = urlsplit(link)
    if parts.password is None:
        return link
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def link_rule(link: str, name: str) -> str:
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("url", f"must be an http or https URL, got {mask_link(link)!r}")
    if outbound.admin_target(link):
        raise Refused("url", f"must be an http or https URL of a CSV file, not the emulator's own admin API, "
                             f"got {mask_link(link)!r}")
    return link


# -- a contact -----------------------------------------------------------------------------------
EMAIL = Email(pattern=r"(?=.{1,254}\Z)[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+", doc="matched case-insensitively",
              messages={"email": "is not a valid email address: {sent!r}"}, fake="unique.email")
PHONE = Phone(form="digits", min_digits=5, max_digits=15, doc="matched by its digits",
              messages={"phone": "must be a phone number of 5 to 15 digits (optionally +, spaces, dots, dashes, "
                                 "brackets), got {sent!r}"},
              fake=lambda fake: "380" + fake.numerify("#########"))
CHANNEL_VALUES = Shape("EsputnikChannelValue", {"email": EMAIL, "sms": PHONE, "other": Text()}, VALUES)
"""A channel's value by its type: an email, an sms number, any other as text."""


def _members(name: str, key: str, keys: tuple[str, ...]) -> Shape:
    """A channel's ``device`` or ``webPushSubscription``: its members kept as sent."""
    return Shape(name, dict.fromkeys(keys, Scalar(nullable=True)), VALUES.but(
        unknown=Fix("ignored", f"ignored: {key} has {', '.join(keys)}"),
        messages={"type": "must be a string, number or boolean, got {pytype}"}))


DEVICE = _members("EsputnikDevice", "device", ("appId", "deviceModel", "os", "locale", "clientVersion", "appVersion", "active"))
WEB_PUSH = _members("EsputnikWebPushSubscription", "webPushSubscription", (
    "appId", "userAgent", "userAgentVersion", "userAgentLanguage", "os", "ip", "subscriptionPage", "swActiveVersion"))


def _member(shape: Shape, doc: str) -> Nested:
    keys = ", ".join(shape.fields)
    return Nested(shape, nullable=True, doc=doc, messages={"type": f"must be an object {{{{{keys}}}}}, got {{pytype}}"})


CHANNEL = Shape("EsputnikChannel", {
    "type": Choice(*CHANNEL_TYPES, required=True, messages={"choice": "must be one of {choices}, got {sent!r}"}),
    "value": Text(required=True, doc="email matched case-insensitively, sms by its digits; an empty value: the "
                                     "channel is ignored"),
    "device": _member(DEVICE, "a mobilepush channel's device"),
    "webPushSubscription": _member(WEB_PUSH, "a webpush channel's subscription"),
}, VALUES.but(unknown=Fix("ignored", "unknown channel key ignored")))

ADDRESS = Shape("EsputnikAddress", {key: _text() for key in ADDRESS_KEYS}, VALUES.but(
    unknown=Fix("ignored", "ignored: the address has region, town, address and postcode"),
    alias=Fix("unverified", "address key stored in the region/town/address/postcode form")), aliases=ADDRESS_ALIASES)

CUSTOM_FIELD = Shape("EsputnikCustomField", {
    "id": _integer(doc="a custom field id declared for the account"),
    "name": Text(doc="alternative to id: the field's name"),
    "value": Text(nullable=True, empty="null", doc="null or an empty text clears it",
                  messages={"type": "must be a string, number or boolean, got {pytype}"}),
}, VALUES.but(boolean_to_text=Fix("unverified", "boolean stored as its text")))

_NAME_LIMIT = {"too_long": "must be at most {limit} characters, got {length}"}

CONTACT = Shape("EsputnikContact", {
    "id": _integer(nullable=True, doc="read only, except for bulk dedupeOn=id"),
    "firstName": _text(max_length=40, check=name_rule, messages=_NAME_LIMIT, fake=_fake_name("first_name")),
    "lastName": _text(max_length=40, check=name_rule, messages=_NAME_LIMIT, fake=_fake_name("last_name")),
    "channels": Records(CHANNEL, nullable=True,
                        messages={"type": "must be an array of {{type, value}} objects, got {pytype}"},
                        fake=lambda fake: [{"type": "email", "value": EMAIL.fake_value(fake)},
                                           {"type": "sms", "value": PHONE.fake_value(fake)}]),
    "address": Nested(ADDRESS, nullable=True, deferred=True,
                      messages={"type": "must be an object {{region, town, address, postcode}}, got {pytype}"},
                      fake=lambda fake: {"town": fake.city(), "address": fake.street_address(),
                                         "postcode": fake.postcode()}),
    "fields": Records(CUSTOM_FIELD, nullable=True,
                      messages={"type": "must be an array of {{id, value}} objects, got {pytype}"}),
    "externalCustomerId": _text("POST /contact matches on it first"),
    "languageCode": _text(),
    "timeZone": _text(),
    "contactKey": _text(),
    "addressBookId": _integer(nullable=True, doc="the account's address book (GET /addressbooks)"),
    "groups": Ignored(Fix("ignored", "ignored: a contact's segments are read only here"),
                      doc="read only: the contact's segments"),
}, VALUES.but(unknown=Fix("ignored", "unknown contact field ignored")))
"""A contact, as ``POST /contact`` and ``PUT /contact/{id}`` take it and inside the other bodies."""

CONTACT_CODES = {"name": "INVALID_NAME", "too_long": "INVALID_NAME", "email": "INVALID_EMAIL", "phone": "INVALID_PHONE"}
"""Refusal reason -> a bulk record's ``errorCode`` (any other refused value: ``INVALID_VALUE``)."""
CONTAINER_CODES = {"channels": "INVALID_CONTACT", "address": "INVALID_ADDRESS", "fields": "INVALID_FIELDS"}
"""A contact key whose own value is refused -> that ``errorCode``."""


# -- the request bodies ----------------------------------------------------------------------------
def _names(what: str, **common) -> List:
    """Segment names, each a non-empty text (trimmed)."""
    bad = "must be a non-empty segment name, got {sent!r}"
    return List(Text(empty="refuse", messages={"type": bad, "empty": bad, "null": bad}), nullable=True,
                fixes=NO_CAST, messages={"type": f"must be an array of {what}, got {{pytype}}"},
                **common)


_DEDUPE = Choice(*DEDUPE_ON, nullable=True, default="email", doc="email by default")
_IMPORT_OPTIONS = {
    "dedupeOn": _DEDUPE,
    "fieldId": _integer(nullable=True, doc="the custom field matched when dedupeOn is fieldId"),
    "groupNames": _names("segment names", doc="static segments the contacts join (created on demand)"),
    "groupNamesExclude": _names("segment names", doc="static segments the contacts leave"),
    "restoreDeleted": Boolean(nullable=True, default=False, messages={"type": "must be true or false, got {sent!r}"}),
    "eventKeyForNewContacts": _event_key(100, nullable=True, fixes=AS_SENT, doc="an event generated per new contact"),
}
_CONTACTS_BOUND = f"must hold 1 to {MAX_BULK} contacts per request, got {{count}}"
_UNKNOWN_STANDARD = f"unknown standard field ignored; known: {', '.join(STANDARD_FIELDS)}"

BULK = Shape("EsputnikContacts", {
    "contacts": Records(CONTACT, required=True, min_items=1, max_items=MAX_BULK,
                        messages={"required": f"is required: an array of 1 to {MAX_BULK} contacts",
                                  "null": f"is required: an array of 1 to {MAX_BULK} contacts",
                                  "type": f"is required: an array of 1 to {MAX_BULK} contacts, got {{pytype}}",
                                  "too_few": _CONTACTS_BOUND, "too_many": _CONTACTS_BOUND}),
    **_IMPORT_OPTIONS,
    "contactFields": List(Choice(*STANDARD_FIELDS, "webPush"), nullable=True,
                          fixes={"drop": Fix("ignored", _UNKNOWN_STANDARD)},
                          messages={"type": "must be an array of field names, got {pytype}"},
                          doc="standard fields written on update (a listed field not sent is cleared)"),
    "customFieldsIDs": List(_integer(), nullable=True,
                            messages={"type": "must be an array of custom field ids, got {pytype}"},
                            doc="custom fields written on update"),
}, VALUES, doc="POST /contacts: add or update 1 to 3000 contacts, asynchronously")

_LINK_REQUIRED = "is required: the http(s) URL of a UTF-8 CSV file"
UPLOAD = Shape("EsputnikUpload", {
    "link": Text(required=True, empty="refuse", check=link_rule, fixes=NO_CAST,
                 messages=dict.fromkeys(("required", "null", "type", "empty"), _LINK_REQUIRED),
                 doc="a UTF-8 CSV file with a header row"),
    **_IMPORT_OPTIONS,
}, VALUES, doc="POST /contacts/upload: add or update contacts from a CSV file at a link, asynchronously")

SUBSCRIBE = Shape("EsputnikSubscribe", {
    "contact": Nested(CONTACT, required=True, deferred=True, messages=dict.fromkeys(
        ("required", "null"), "is required: the contact to subscribe") | {
        "type": "must be a JSON object, got {pytype}"}),
    "groups": _names("segment names", doc="segment names, created on demand"),
    "formType": Text(nullable=True, fixes=AS_SENT, doc="appended to the event type: subscribeFromApi-<formType>"),
}, VALUES)

_IDS_BOUND = f": at most {MAX_SEGMENT_IDS} ids per request, got {{count}}"
SEGMENT_CONTACTS = Shape("EsputnikSegmentContacts", {
    "contactIds": List(_integer(), nullable=True, max_items=MAX_SEGMENT_IDS,
                       messages={"type": "must be an array, got {pytype}", "too_many": _IDS_BOUND}),
    "externalCustomerIds": List(Text(nullable=True, empty="null"), nullable=True, max_items=MAX_SEGMENT_IDS,
                                messages={"type": "must be an array, got {pytype}", "too_many": _IDS_BOUND}),
}, VALUES, doc="one of the two, 1 to 500 ids (detach: none = every contact)")

_NUMBER = {"type": "must be a number, got {sent!r}"}
_EMPTY_NUMBER = {"empty": "empty text read as no value"}


def _amount(**common) -> Number:
    """A money amount or a quantity; text read as the number, an empty text as no value."""
    return Number(nullable=True, empty="null", rules=_EMPTY_NUMBER, messages=_NUMBER, **common)


def _required(field: type[Field], what: str, *args, **common) -> Field:
    """A value an order or item must have: null, empty or missing is refused, saying what it is."""
    said = f"is required: {what}" if what else "is required"
    messages = {**common.pop("messages", {}), "required": said, "null": said}
    return field(*args, required=True, empty="absent", messages=messages, **common)


ITEM = Shape("EsputnikOrderItem", {
    "externalItemId": _required(Text, ""),
    "name": _required(Text, ""),
    "category": _text(),
    "url": _text("required by the vendor's order reference; accepted without it, noted"),
    "imageUrl": _text("required by the vendor's order reference; accepted without it, noted"),
    "description": _text(),
    "quantity": _required(Number, "", rules=_EMPTY_NUMBER, messages=_NUMBER),
    "cost": _required(Number, "", rules=_EMPTY_NUMBER, messages=_NUMBER),
}, VALUES.but(unknown=Fix("ignored", "unknown order item key ignored")))

_STATUSES = ", ".join(ORDER_STATUSES)
ORDER = Shape("EsputnikOrder", {
    "externalOrderId": _required(Text, "the order's id in your system"),
    "externalCustomerId": _text("one of externalCustomerId, email, phone is required"),
    "currency": _text("required by the vendor's order guide; accepted without it, noted"),
    "firstName": _text(), "lastName": _text(), "restoreUrl": _text(), "statusDescription": _text(),
    "storeId": _text(), "source": _text(), "deliveryMethod": _text(), "paymentMethod": _text(),
    "deliveryAddress": _text(),
    "totalCost": _required(Number, "the order's total", rules=_EMPTY_NUMBER, messages=_NUMBER),
    "shipping": _amount(), "discount": _amount(), "taxes": _amount(),
    "status": Choice(*ORDER_STATUSES, required=True, messages={"required": f"is required: one of {_STATUSES}",
                                                               "null": f"must be one of {_STATUSES}, got None"}),
    "date": _required(Text, "when the order was placed", check=date_time_rule, doc="ISO 8601 date and time"),
    "email": Email(nullable=True, empty="absent", pattern=EMAIL.pattern.pattern, messages=EMAIL.messages),
    "phone": Phone(nullable=True, empty="absent", form="digits", min_digits=5, max_digits=15, messages=PHONE.messages),
    "additionalInfo": Field(nullable=True, check=text_or_texts_rule, doc="a text or an object of texts"),
    "items": Records(ITEM, nullable=True, messages={"type": "must be an array of items, got {pytype}"}),
}, VALUES.but(unknown=Fix("ignored", "unknown order key ignored")))
"""One order of ``POST /orders``: stored with every key (null when not sent)."""

_ORDERS_BOUND = f"is required: an array of 1 to {MAX_ORDERS} orders"
ORDERS = Shape("EsputnikOrders", {
    "orders": Records(ORDER, required=True, min_items=1, max_items=MAX_ORDERS, messages={
        "required": _ORDERS_BOUND, "null": _ORDERS_BOUND, "type": _ORDERS_BOUND + ", got {pytype}",
        "too_few": _ORDERS_BOUND + ", got {count}", "too_many": _ORDERS_BOUND + ", got {count}"}),
}, VALUES, doc="POST /orders: add or update 1 to 1000 orders; creates the missing contacts")

_PARAM_NAME = "must be a {{name, value}} object with a non-empty name"
EVENT_PARAM = Shape("EsputnikEventParam", {
    "name": Text(required=True, empty="refuse", fixes=AS_SENT, messages=dict.fromkeys(
        ("required", "null", "type", "empty"), _PARAM_NAME)),
    "value": Scalar(nullable=True, messages={"type": "must be a string, number, boolean or null, got {pytype}"}),
}, VALUES.but(unknown=Fix("ignored", "unknown parameter key ignored")))

EVENT = Shape("EsputnikEvent", {
    "eventTypeKey": _event_key(100, required=True, fixes=AS_SENT, doc="the event type's key", said=dict.fromkeys(
        ("required", "null"), "is required: the event type's key (1 to 100 characters)")),
    "keyValue": _event_key(300, nullable=True, empty="absent",
                           doc="without it: params' contactId, externalCustomerId, email, phone or pushToken, the "
                               "first present"),
    "params": Records(EVENT_PARAM, nullable=True,
                      messages={"type": "must be an array of {{name, value}} objects, got {pytype}"}),
}, VALUES, doc="POST /event: one event, at most 20 kB")

_EMAILS_REQUIRED = "is required: an array of email address strings"
EMAILS = Shape("EsputnikEmails", {
    "emails": List(Text(fixes=AS_SENT, messages=dict.fromkeys(("null", "type"), "must be an email address string, "
                                                                                   "got {sent!r}")),
                   required=True, doc="email addresses (not contacts); one that is not an address is ignored, noted",
                   messages={**dict.fromkeys(("required", "null"), _EMAILS_REQUIRED),
                             "type": _EMAILS_REQUIRED + ", got {sent!r}"}),
}, VALUES)

# -- queries (their values are text) --------------------------------------------------------------
QUERY = Leniency(text_to_number=KEEP, unknown=KEEP, messages={"type": "must be an integer, got {sent!r}",
                                                "integer": "must be an integer, got {sent!r}"})
PAGE = Shape("EsputnikPageQuery", {
    "startindex": Number(integer=True, minimum=1, default=1, messages={"range": "must be ≥ 1, got {sent}"},
                         doc="1-based"),
    "maxrows": Number(integer=True, minimum=1, maximum=MAX_ROWS, default=MAX_ROWS,
                      messages={"range": f"must be 1..{MAX_ROWS}, got {{sent}}"}),
}, QUERY)
SEARCH = PAGE.extend({"email": Text(), "sms": Text(), "firstname": Text(), "lastname": Text(),
                      "externalCustomerId": Text()}, "EsputnikSearchQuery")
GROUPS_QUERY = PAGE.extend({"name": Text(doc="segments whose name contains it, case-insensitively")},
                           "EsputnikGroupsQuery")
CONTACT_EMAILS_QUERY = Shape("EsputnikContactEmailsQuery", {
    "ids": Text(required=True, doc="comma-separated contact ids: 1,2,3")})
DELETE_QUERY = Shape("EsputnikDeleteQuery", {
    "externalCustomerId": Text(required=True),
    "erase": Text(choices=("true", "false"), doc="true: erased for good (any case; default false)")})

ERROR_SCHEMA = {"type": "object", "required": ["status", "message"],
                "properties": {"status": {"type": "integer", "description": "the HTTP status"},
                               "message": {"type": "string", "description": "names the field and the rule"}}}


# -- reading a request ---------------------------------------------------------------------------
ORDER_STORED = tuple(ORDER.fields)
"""An order's stored keys (every one, null when not sent)."""
ITEM_STORED = tuple(ITEM.fields)
_NOT_SENT = object()
_CHANNEL_VALUE = CHANNEL_VALUES.readers
_CHANNEL_READ = CHANNEL.readers
_FIELD_READ = CUSTOM_FIELD.readers
_CONTACT_ID = CONTACT.readers["id"]


class Invalid(Exception):
    """One contact (or one request) breaks a rule: a 400 for single calls, a failedContacts entry in bulk."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def refused(problems: list[Problem]) -> EsputnikError:
    """The 400 of a request whose body has ``problems``: the first, worded as the vendor does."""
    return EsputnikError(say(problems[0].path, problems[0].message))


def _contact_problem(problem: Problem, prefix: str) -> Invalid:
    key = problem.path[len(prefix):]
    code = CONTAINER_CODES.get(key) or CONTACT_CODES.get(problem.reason, "INVALID_VALUE")
    return Invalid(code, say(problem.path, problem.message))


def read_one(read, value: Any, at: str, key: str, code: str | None = None) -> Any:
    """One value read with a declared field's reader; a refusal is :class:`Invalid` (``code``, or
    the one its reason gives)."""
    try:
        return read(value, at, key)
    except Refused as exc:
        problem = exc.problems[0] if exc.problems else Problem(at + key + exc.where, exc.reason, exc.message)
        raise Invalid(code or CONTACT_CODES.get(problem.reason, "INVALID_VALUE"),
                      say(problem.path, problem.message)) from None


# -- reading a contact and an order ------------------------------------------------------
def read_contact(raw: Any, where: str, catalog: FieldCatalog, *, allow_id: bool = False) -> dict:
    """The sent contact as ``{standard field: value, "fields": [[id, value]...]}`` (only sent keys),
    read with :data:`~.CONTACT`.

    Channels are flattened to their type (``"email": "a@b.c"``), their ``device`` /
    ``webPushSubscription`` objects kept under ``"members"``; ``None`` means "sent as null"
    (the field is cleared), while an empty or blank value is left out ("not sent").
    Raises :class:`Invalid` naming the field and the rule.
    """
    if raw.__class__ is not dict:
        raise Invalid("INVALID_CONTACT", f"{where or 'the contact'} must be a JSON object, got {type(raw).__name__}")
    prefix = f"{where}." if where else ""
    sent_id = raw.get("id")
    if sent_id is not None:
        raw = {key: value for key, value in raw.items() if key != "id"}
    out, problems = CONTACT.read(raw, prefix)
    if problems:
        raise _contact_problem(problems[0], prefix)
    if sent_id is not None:
        if allow_id:
            out["id"] = read_one(_CONTACT_ID, sent_id, prefix, "id")
        else:
            note(f"{prefix}id", sent_id, None, "ignored: contact ids are assigned by the vendor", "ignored")
    book = out.pop("addressBookId", None)
    if book is not None and book != catalog.book_id:
        note(f"{prefix}addressBookId", raw["addressBookId"], catalog.book_id,
             "ignored: not the account's address book (see GET /addressbooks)", "unverified")
    channels = out.pop("channels", None)
    if channels:
        _read_channels(channels, f"{prefix}channels", out)
    if "address" in out:
        address = _read_address(out.pop("address"), f"{prefix}address")
        if address is not _NOT_SENT:
            out["address"] = address
    if "fields" in out:
        out["fields"] = _read_fields(out["fields"], f"{prefix}fields", catalog)
    return out


def _read_channels(channels: list, where: str, out: dict) -> None:
    for i, item in enumerate(channels):
        at = f"{where}[{i}]"
        if item.__class__ is not dict:
            raise Invalid("INVALID_CONTACT", f"{at} must be a {{type, value}} object, got {type(item).__name__}")
        sent_type = item.get("type")
        kind = CHANNEL_TYPES.get(sent_type) if sent_type.__class__ is str else None
        if kind is None:
            raise Invalid("INVALID_CHANNEL", f"{at}.type must be one of {', '.join(CHANNEL_TYPES)}, got {sent_type!r}")
        sent_value = item.get("value")
        if sent_value.__class__ is str and not sent_value.strip():
            # the WooCommerce plugin sends {"type": "sms", "value": ""} for a customer without a phone
            note(f"{at}.value", sent_value, None, f"{kind} channel with an empty value ignored: not stored, "
                                                  f"not matched on", "unverified")
            continue
        if kind in out:
            raise Invalid("INVALID_CHANNEL", f"{where}: one {kind!r} channel per contact, got several")
        if sent_value is None:
            raise Invalid("INVALID_CHANNEL", f"{at}.value is required: a non-empty {kind} value")
        out[kind] = read_one(_CHANNEL_VALUE.get(kind) or _CHANNEL_VALUE["other"], sent_value, f"{at}.", "value")
        if len(item) > 2:
            members = {}
            for extra in item.keys() - {"type", "value"}:
                read = _CHANNEL_READ.get(extra)
                if read is None:
                    note(f"{at}.{extra}", item[extra], None, "unknown channel key ignored", "ignored")
                    continue
                member = read_one(read, item[extra], f"{at}.", extra, "INVALID_CHANNEL")
                if member is not None:
                    fields = CHANNEL.fields[extra].shape.fields
                    members[extra] = {key: member[key] for key in fields if key in member}
            if members:
                out.setdefault("members", {})[kind] = {name: members[name] for name in ("device", "webPushSubscription")
                                                       if name in members}


def _read_address(address: dict | None, where: str) -> dict | None | object:
    """The address with its four parts (a part not sent is null); ``_NOT_SENT`` when every
    part is empty (the WooCommerce plugin sends ``""`` for each part it does not know)."""
    if address is None:
        return None
    values, problems = ADDRESS.read(address, f"{where}.")
    if problems:
        raise _contact_problem(problems[0], "")
    if not any(value is not None for value in values.values()):
        if not address:
            note(where, address, None, "empty address treated as not sent", "unverified")
        return _NOT_SENT
    return {key: values.get(key) for key in ADDRESS_KEYS}


def _read_fields(value: list | None, where: str, catalog: FieldCatalog) -> list:
    if value is None:
        return []
    out: dict[int, Any] = {}
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if item.__class__ is not dict:
            raise Invalid("INVALID_FIELDS", f"{at} must be an {{id, value}} object, got {type(item).__name__}")
        if "id" in item:
            fid = read_one(_FIELD_READ["id"], item["id"], f"{at}.", "id")
        elif item.get("name").__class__ is str:
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
        out[fid] = read_one(_FIELD_READ["value"], item.get("value"), f"{at}.", "value", "INVALID_FIELDS")
    return [[fid, val] for fid, val in out.items()]


def read_order(raw: Any, where: str) -> dict:
    """One order of ``POST /orders``, read with :data:`~.ORDER`: the stored shape (every
    key, ``None`` when not sent). Raises :class:`Invalid` naming the field and the rule (the
    order fails alone)."""
    if raw.__class__ is not dict:
        raise Invalid("INVALID_ORDER", f"{where} must be an order object, got {type(raw).__name__}")
    values, problems = ORDER.read(raw, f"{where}.")
    if problems:
        raise Invalid("INVALID_ORDER", say(problems[0].path, problems[0].message))
    order = dict.fromkeys(ORDER_STORED)
    order.update(values)
    order["items"] = [_read_item(item, f"{where}.items[{i}]") for i, item in enumerate(order["items"] or ())]
    if order["externalCustomerId"] is None and order["email"] is None and order["phone"] is None:
        raise Invalid("INVALID_ORDER", f"{where}: one of externalCustomerId, email or phone is required")
    if order["currency"] is None and raw.get("currency") is None:
        note(f"{where}.currency", raw.get("currency"), None, "currency is required by the vendor's order guide but "
                                                             "accepted without it", "unverified")
    return order


def _read_item(raw: Any, where: str) -> dict:
    if raw.__class__ is not dict:
        raise Invalid("INVALID_ITEM", f"{where} must be an object {{externalItemId, name, quantity, cost, ...}}, "
                                      f"got {type(raw).__name__}")
    values, problems = ITEM.read(raw, f"{where}.")
    if problems:
        raise Invalid("INVALID_ITEM", say(problems[0].path, problems[0].message))
    for key in ("url", "imageUrl"):
        if values.get(key) is None and raw.get(key) is None:
            note(f"{where}.{key}", raw.get(key), None, f"{key} is required by the vendor's order reference but "
                                                       f"accepted without it", "unverified")
    return {key: values.get(key) for key in ITEM_STORED}


# -- the account's custom fields ------------------------------------------------------------------
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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
