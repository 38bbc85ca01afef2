"""Pushtech's request bodies, declared once: reading, notes, the OpenAPI schemas and fakes.

Pushtech's pages document none of the fix-ups the emulator makes, so every one is noted
``unverified`` (:data:`PUSHTECH`): a number sent as text is cast, padding trimmed, an email
lower-cased, a date-time written as UTC ISO 8601, and a value's fix-ups are one note. A
contact's keys no field declares are custom fields, kept as sent (the model checks them
against the account's declared custom fields).
"""
from __future__ import annotations

from emulator.core.outbound import admin_target
from emulator.core.payload import (
    KEEP,
    Boolean,
    Choice,
    DateTime,
    Email,
    Fix,
    Ignored,
    Leniency,
    List,
    Nested,
    Number,
    Phone,
    Records,
    Refused,
    Shape,
    Text,
    Url,
)

MAX_BULK_CONTACTS = 5000
GENDERS = ("MALE", "FEMALE")
CHANNELS = ("email", "sms", "push")
CUSTOM_FIELD_TYPES = ("boolean", "date", "number", "string", "selectable_options")
VISIBILITIES = ("public", "private")
"""The ``visibility`` values the reference shows; others are stored with a note."""

PUSHTECH = Leniency(
    number_to_text="unverified",   # "user_id": 42 -> "42"
    trim="unverified",             # " Ann " -> "Ann"
    case="unverified",             # " Ann@Example.COM" -> "ann@example.com"
    reformat="unverified",         # "0044" -> "44", "1990-01-01" -> "1990-01-01T00:00:00Z", 12.0 -> 12
    text_to_number="unverified",   # "facebook_friends": "12" -> 12
    text_to_boolean="unverified",  # "gdpr_accept_terms": "true" -> true
    null="unverified",             # "subscribed": null -> true (its default)
    empty="unverified",            # "email": "" -> not sent
    duplicate="unverified",        # "tags": ["vip", "vip"] -> ["vip"]
    unknown=KEEP,                  # a contact's other keys are custom fields
    one_note=True,                 # " Ann@Example.COM": one note, trimmed and lower-cased
    messages={"type": "must be {expected}", "choice": "must be one of {choices}"},
    nouns={"boolean": "true or false"},
)
"""Every Pushtech fix-up is ``unverified``; refusals name the rule without the value sent."""


def _ignoring(known, what: str | None = None) -> Leniency:
    """:data:`PUSHTECH` where a key no field declares is ignored, with a note naming the known ones."""
    rule = f"ignored: not one of {', '.join(known)}" if what is None else \
        f"ignored: not a {what} parameter ({', '.join(known)})"
    return PUSHTECH.but(unknown=Fix("unverified", rule))


def _all(message: str, *reasons: str) -> dict:
    return dict.fromkeys(reasons, message)


# -- a contact --------------------------------------------------------------------------

_EMAIL_SHAPE = "such as john@example.com"
_COUNT = "must be a non-negative whole number"
_ISO_639 = "must be an ISO 639-1 code of two letters, e.g. ES"
_DIGITS = r"[\s\-.()/]"
_TAGS = "must be an array of strings"
_SUBSCRIPTION = "{{list_id, subscribed}}"   # in messages: templates, braces doubled
_CHANNEL = "{{channel, blacklisted}}"
_LIST_ID = "is required (the audience list id)"
_CHANNEL_RULE = f"must be one of {', '.join(CHANNELS)}"


def _text(doc: str, **common) -> Text:
    return Text(doc=doc, **common)


def _date_time(doc: str, **common) -> DateTime:
    return DateTime(doc=doc, rules={"zone": "no time zone: read as UTC, stored as UTC ISO 8601"},
                    messages={"datetime": "must be an ISO 8601 date-time such as 1990-01-01T00:00:00Z"}, **common)


def _count(doc: str) -> Number:
    return Number(integer=True, minimum=0, doc=doc, messages=_all(_COUNT, "type", "finite", "integer", "range"),
                  rules={"text_to_number": "text cast to whole number", "reformat": "cast to whole number"})


def _coordinate(limit: int, doc: str) -> Number:
    return Number(minimum=-limit, maximum=limit, doc=doc,
                  messages=_all(f"must be a number between -{limit} and {limit}", "type", "finite", "range"))


def _fake_born_date(fake) -> str:
    return fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat() + "T00:00:00Z"


def _fake_email(fake) -> str:
    """A unique email the emulator's validity rule finds valid (no local part ``invalid...``)."""
    email = fake.unique.email()
    while email.startswith("invalid"):
        email = fake.unique.email()
    return email


SUBSCRIPTION = Shape("PushtechListSubscription", {
    "list_id": Text(required=True, empty="refuse", doc="Id of the audience list",
                    messages=_all(_LIST_ID, "required", "null", "empty")),
    "subscribed": Boolean(default=True, doc="If true, subscribe in this list", rules={"null": "null: read as true"}),
}, _ignoring(("list_id", "subscribed")), ordered=True)

CHANNEL_SUBSCRIPTION = Shape("PushtechChannelSubscription", {
    "channel": Text(required=True, choices=CHANNELS, lower=True, fixes={"number_to_text": None},
                    messages=_all(_CHANNEL_RULE, "required", "null", "type", "choice"),
                    rules={"trim": "lower-cased", "case": "lower-cased"}),
    "blacklisted": Boolean(default=False, doc="If true, blacklist this channel", rules={"null": "null: read as false"}),
}, _ignoring(("channel", "blacklisted")), ordered=True)

EMAIL_VALIDATION = Shape("PushtechEmailValidation", {
    "validate": Boolean(default=False, null_absent=True, doc="Validate the email (one credit)"),
    "create_if_invalid": Boolean(default=False, null_absent=True, doc="Create the contact even if the email is invalid"),
    "create_if_no_credit": Boolean(default=False, null_absent=True,
                                   doc="Create the contact unvalidated when no credit is left"),
}, _ignoring(("validate", "create_if_invalid", "create_if_no_credit")), ordered=True)

CONTACT_FIELDS = {
    "device_id": _text("Contact associated device_id"),
    "name_first": _text("Name of the contact", fake="first_name"),
    "name_last": _text("Last name of the contact", fake="last_name"),
    "email": Email(empty="absent", doc="Email of the contact (stored lower-cased)", fixes={"number_to_text": None},
                   fake=_fake_email,
                   messages={"type": f"must be an email address (a string) {_EMAIL_SHAPE}",
                             "email": f"must be an email address {_EMAIL_SHAPE}"},
                   rules={"empty": "empty email ignored"}),
    "phone_countrycode": Phone(form="digits", min_digits=1, max_digits=3, separators=_DIGITS, prefixes=("+", "00"),
                               leading_zero=False, empty="absent", doc="Country code of the contact phone, digits: 44",
                               messages={"type": "must be a string of digits",
                                         "phone": "must be a country calling code of 1 to 3 digits, e.g. 44"},
                               rules={"reformat": "stored as digits without + (country calling code)",
                                      "empty": "empty phone_countrycode ignored"}),
    "phone_number": Phone(form="digits", min_digits=4, max_digits=15, separators=_DIGITS, prefixes=(),
                          empty="absent", doc="Phone number without country code: 7712345678",
                          messages={"type": "must be a string of digits",
                                    "phone": "must be the number without country code, 4 to 15 digits, e.g. "
                                             "7712345678 (a full international number goes in phone)"},
                          rules={"reformat": "stored as digits (separators removed)",
                                 "empty": "empty phone_number ignored"}),
    "phone": Phone(form="parts", empty="absent",
                   doc="Full phone number with country code: +447712345678 (split into phone_countrycode and "
                       "phone_number)",
                   messages={"type": "must be a string of digits",
                             "phone": "must be a full international number with country code, e.g. +447712345678"},
                   rules={"empty": "empty phone ignored"}),
    "city": _text("City of the contact", fake="city"),
    "country": _text("Country of the contact"),
    "region": _text("Region of the contact"),
    "zip": _text("Zip code of the contact"),
    "full_address": _text("Address of the contact"),
    "born_date": _date_time("Birthday, ISO 8601: 1990-01-01T00:00:00Z", fake=_fake_born_date),
    "gender": Choice(*GENDERS, doc="Gender of the contact", messages={"choice": "must be MALE or FEMALE"},
                     fake=lambda fake: fake.random_element(GENDERS)),
    "language": Text(upper=True, pattern="[A-Za-z]{2}", doc="Language, ISO-2: ES", fixes={"number_to_text": None},
                     messages=_all(_ISO_639, "type", "choice"),
                     rules={"trim": "upper-cased (ISO 639-1)", "case": "upper-cased (ISO 639-1)"}),
    "user_id": _text("Unique identifier of the contact in your backend",
                     fake=lambda fake: fake.unique.numerify("user-#######")),
    "facebook_id": _text("Facebook id of the contact"),
    "facebook_friends": _count("Number of friends on Facebook"),
    "google_id": _text("Google+ id of the contact"),
    "twitter_id": _text("Twitter id of the contact"),
    "twitter_followers": _count("Number of followers on Twitter"),
    "tags": List(Text(empty="absent", messages=_all(_TAGS, "type", "null"), rules={"empty": "empty tag dropped"}),
                 unique=True, doc="Tags of the contact", messages={"type": _TAGS},
                 rules={"duplicate": "duplicate tag dropped"},
                 fake=lambda fake: fake.random_elements(("newsletter", "vip", "web", "app", "store"), length=2,
                                                        unique=True)),
    "list_subscriptions": List(Nested(SUBSCRIPTION, messages=_all(f"must be an object {_SUBSCRIPTION}", "type", "null")),
                               doc="Audience lists: [{list_id, subscribed}]",
                               messages={"type": f"must be an array of objects {_SUBSCRIPTION}"}),
    "channel_subscriptions": List(Nested(CHANNEL_SUBSCRIPTION, messages=_all(f"must be an object {_CHANNEL}", "type",
                                                                             "null")),
                                  replace_by="channel", doc="Channels: [{channel: email|sms|push, blacklisted}] (a "
                                                            "channel given twice: the last entry wins)",
                                  messages={"type": f"must be an array of objects {_CHANNEL}"},
                                  rules={"duplicate": "channel given twice: the last entry wins"}),
    "gdpr_accept_terms": Boolean(doc="The contact accepted your terms", fake=lambda fake: True),
    "gdpr_marketing_consent": Boolean(doc="The contact accepted marketing consent", fake="boolean"),
    "gdpr_date": _date_time("Date of the GDPR change, ISO 8601"),
    "gdpr_remote_ip": _text("Contact IP when accepting GDPR"),
    "last_latitude": _coordinate(90, "Last GPS latitude: 27.994401"),
    "last_longitude": _coordinate(180, "Last GPS longitude: -81.726896"),
}
"""The documented contact fields: null is ignored on create and removes the field on update."""

_READ_ONLY = Fix("unverified", "ignored: read-only, set by the vendor")
READ_ONLY = ("id", "_id", "created_at", "updated_at", "email_valid", "last_email_verified")
"""Keys the vendor sets; a payload's values for them are ignored."""

CONTACT = Shape("PushtechContact", {
    **CONTACT_FIELDS,
    "email_validation": Nested(EMAIL_VALIDATION, nullable=True,
                               messages={"type": "must be an object {{validate, create_if_invalid, "
                                                 "create_if_no_credit}}"}),
    **{key: Ignored(_READ_ONLY, doc="set by the vendor") for key in READ_ONLY},
}, PUSHTECH, doc="a contact: the documented fields, and any other key as a custom field")

BULK_CONTACT = CONTACT.extend({"email_validation": Ignored(Fix("unverified", "ignored in a bulk: use validate_emails"),
                                                         doc="not a bulk option: validate_emails is")},
                              name="PushtechBulkContact")

BULK_PARAMETERS = ("contacts", "match_contact_user_id", "webhook_url", "validate_emails",
                   "contacts_webhook_extra_fields")
_CONTACTS = f"must be an array of 1 to {MAX_BULK_CONTACTS} contacts"
_URL = "must be an http or https URL"


def _receiver(url: str, name: str) -> str:
    """A webhook is never sent to the emulator's own admin API."""
    if admin_target(url):
        raise Refused("url", f"{_URL} of a receiver, not the emulator's own admin API")
    return url


BULK = Shape("PushtechBulk", {
    "contacts": Records(BULK_CONTACT, required=True, min_items=1, max_items=MAX_BULK_CONTACTS,
                        doc="1 to 5000 contacts, each read alone (a refused one fails, the others are imported)",
                        messages={**_all(f"{_CONTACTS}, got null", "required", "null"),
                                  "type": f"{_CONTACTS}, got {{got_a}}",
                                  **_all(f"{_CONTACTS}, got {{count}} contacts", "too_few", "too_many")}),
    "match_contact_user_id": Boolean(default=False, null_absent=True,
                                     doc="If true, update the contact with this user_id, else create a new one"),
    "validate_emails": Boolean(default=False, null_absent=True, doc="Validate every email (one credit each; without "
                                                                    "credit the import goes on unvalidated)"),
    "webhook_url": Url(default=None, null_absent=True, empty="null", fixes={"number_to_text": None}, check=_receiver,
                       doc="Receives the outcome when the job ends", messages=_all(_URL, "type", "url"),
                       rules={"empty": "empty webhook_url: no webhook"}),
    "contacts_webhook_extra_fields": List(
        Text(pattern="(?s).+", fixes={"number_to_text": None, "trim": None}), unique=True, whole=True, default=(),
        null_absent=True, doc="Fields sent by the webhook besides _id, user_id, email, phone_countrycode, phone_number",
        messages={"type": "must be an array of field names (strings)"},
        rules={"duplicate": "duplicate field names dropped"}),
}, _ignoring(BULK_PARAMETERS, "bulk"), doc="POST /contact/bulk: a job importing 1 to 5000 contacts", ordered=True)

# -- custom fields and audience lists -----------------------------------------------------

_NON_EMPTY = "is required (a non-empty string)"
CUSTOM_FIELD_PARAMETERS = ("name", "label", "category", "description", "type", "selectable_options")
CUSTOM_FIELD_EDITABLE = ("category", "label", "description", "selectable_options")
AUDIENCE_LIST_PARAMETERS = ("name", "description", "visibility")


def _non_empty(text: str, name: str) -> str:
    """Text that is empty once trimmed is refused (the trimming still noted)."""
    if not text:
        raise Refused("empty", _NON_EMPTY)
    return text


def _required_text(doc: str, *, required: bool = True) -> Text:
    return Text(required=required, check=_non_empty, doc=doc, messages={"null": _NON_EMPTY})


def _options() -> List:
    return List(Text(fixes={"number_to_text": None, "trim": None}), unique=True, whole=True, null_absent=True,
                doc="Array with strings, only if the type is selectable_options",
                messages={"type": "must be an array of strings"}, rules={"duplicate": "duplicate options dropped"})


CUSTOM_FIELD = Shape("CustomField", {
    "name": _required_text("Name for the field (the key contacts use)"),
    "label": _required_text("Human friendly label for the field"),
    "category": Text(nullable=True, default=None, doc="Category for the custom field"),
    "description": Text(nullable=True, default=None, doc="Description for the custom field"),
    "type": Choice(*CUSTOM_FIELD_TYPES, default="string", doc="Custom field type; by default string",
                   rules={"null": "null: read as string (the default)"}),
    "selectable_options": _options(),
}, _ignoring(CUSTOM_FIELD_PARAMETERS, "custom field"), doc="POST /custom_fields", ordered=True)

CUSTOM_FIELD_CHANGES = Shape("CustomFieldUpdate", {
    "label": _required_text("Human friendly label for the field", required=False),
    "category": Text(nullable=True, doc="Category for the custom field"),
    "description": Text(nullable=True, doc="Description for the custom field"),
    "selectable_options": _options(),
}, _ignoring(CUSTOM_FIELD_EDITABLE, "custom field"), doc="PUT /custom_fields/{id}: name and type cannot change",
    ordered=True)

_VISIBILITY = f"Visibility of the list ({', '.join(VISIBILITIES)} in the reference)"
AUDIENCE_LIST = Shape("AudienceList", {
    "name": _required_text("Name of the list"),
    "description": Text(nullable=True, doc="Description of the list"),
    "visibility": Text(nullable=True, doc=_VISIBILITY),
}, _ignoring(AUDIENCE_LIST_PARAMETERS, "list"), doc="POST /lists", ordered=True)

AUDIENCE_LIST_CHANGES = Shape("AudienceListUpdate", {
    "name": _required_text("Name of the list", required=False),
    "description": Text(nullable=True, doc="Description of the list"),
    "visibility": Text(nullable=True, doc=_VISIBILITY),
}, _ignoring(AUDIENCE_LIST_PARAMETERS, "list"), doc="PUT /lists/{id}", ordered=True)
