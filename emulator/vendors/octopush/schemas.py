"""Octopush's request bodies, declared once: reading, notes, the OpenAPI schemas and fakes.

The vendor "will try to understand" a value of the wrong type: :data:`CASTS` is its casting
table (the spec's "Lenient casting"), every fix-up noted ``cast``, and a value it cannot
understand left out, noted ``ignored``, unless the parameter is required.
"""
from __future__ import annotations

from emulator.core.payload import Boolean, Fix, Leniency, List, Phone, Records, Shape, Text

MAX_CONTACTS_PER_CALL = 500
MAX_NUMBERS_PER_DELETE = 200
LIST_NAME_LENGTH = 30
TAG_NAME_LENGTH = 20

CASTS = Leniency(
    number_to_text="cast",                 # "first_name": 42 -> "42"
    boolean_to_text="cast",                # "param1": true -> "true"
    text_to_boolean="cast",                # "un_list": "1" / "yes" / "on" -> true
    number_to_boolean="cast",              # "un_list": 1 -> true
    boolean_words={"true": True, "1": True, "yes": True, "on": True,
                   "false": False, "0": False, "no": False, "off": False},
    wrap="cast",                           # "list_names": "a" -> ["a"]; "contacts": {...} -> [{...}]
    split="cast",                          # "list_names": "a,b" -> ["a", "b"]
    cut="cast",                            # a 40-character list_name -> its first 30
    reformat="cast",                       # "06 12 34 56 78" -> "+33612345678"
    ignore=Fix("ignored", "{why}: ignored"),          # {"un_list": {}} -> the default, false
    drop=Fix("ignored", "{why}: element dropped"),    # "list_names": ["a", {}] -> ["a"]
    unknown=Fix("ignored", "unknown parameter ignored"),
    index_item_notes=False,                # an element's note names the array: "phone_numbers"
    messages={"type": "not {expected}", "null": "null", "empty": "empty", "required": "{name} missing",
              "too_many": "at most {limit} per call, got {count}"},
)

_FAKE_MOBILE_PREFIXES = ("+3360", "+3361", "+3362", "+3364", "+3365", "+3366", "+3367", "+3368")


def _fake_mobile(fake) -> str:
    """A French mobile number, distinct within one Faker instance."""
    return fake.unique.numerify(fake.random_element(_FAKE_MOBILE_PREFIXES) + "#######")


def _list_name(doc: str, **common) -> Text:
    return Text(max_length=LIST_NAME_LENGTH, empty="refuse", doc=doc, **common)


def _tag_name(doc: str, **common) -> Text:
    return Text(max_length=TAG_NAME_LENGTH, empty="refuse", doc=doc, **common)


CONTACT = Shape("OctopushContact", {
    "phone_number": Phone(required=True, doc="E.164, or national in the account's country", fake=_fake_mobile),
    "first_name": Text(max_length=50, fake="first_name"),
    "last_name": Text(max_length=50, fake="last_name"),
    **{f"param{i}": Text(max_length=50) for i in range(1, 6)},
}, CASTS)

CREATE = Shape("OctopushCreateContacts", {
    "contacts": Records(CONTACT, required=True, min_items=1, max_items=MAX_CONTACTS_PER_CALL,
                        doc="contacts {phone_number, first_name, last_name, param1..param5}"),
    "list_name": _list_name("list to attach the contacts to", default=None),
    "list_names": List(_list_name("a list"), default=(), doc="lists to attach the contacts to"),
    "un_list": Boolean(default=False, doc="first detach every list of the given contacts"),
    "tag_name": _tag_name("tag to attach to the contacts", default=None),
    "tag_names": List(_tag_name("a tag"), default=(), doc="tags to attach to the contacts"),
    "un_tag": Boolean(default=False, doc="first detach every tag of the given contacts"),
    "auto_remove_blacklisted_numbers": Boolean(default=False, doc="leave out blacklisted numbers"),
    "auto_delete_optout_contacts": Boolean(default=False, doc="leave out opted-out numbers (same as above)"),
    "do_not_overwrite": Boolean(default=False, doc="skip numbers that already exist"),
}, CASTS)

DELETE = Shape("OctopushDeleteContacts", {
    "phone_numbers": List(Phone(), required=True, min_items=1, max_items=MAX_NUMBERS_PER_DELETE,
                          doc="numbers to delete (or to detach from list_name)"),
    "list_name": _list_name("only detach the numbers from this list", default=None),
}, CASTS)

LIST_CREATE = Shape("OctopushCreateList", {"list_name": _list_name("name of the list", required=True)}, CASTS)

LIST_EMPTY = Shape("OctopushEmptyList", {
    "list_name": _list_name("name of the list", required=True),
    "delete_contacts": Boolean(default=False, doc="also delete the detached contacts from the account"),
}, CASTS)

LIST_DELETE = Shape("OctopushDeleteList", {"list_name": _list_name("name of the list to delete", required=True)},
                    CASTS)

ERROR_SCHEMA = {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "integer", "description": "the vendor's numbered return code"},
                               "message": {"type": "string"}}}
