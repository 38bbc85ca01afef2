"""Octopush's rules as plain Python: lenient casting, contacts keyed by phone, lists, tags, blacklist.

The vendor "will try to understand" a request whose values have the wrong type: it casts
them, formats them, cuts them, or ignores them, and the request still goes through. Here
that behaviour is data: :data:`CASTS` (expected type -> cast function) and one parameter
table per endpoint (name -> :class:`Param`: type, default, maximum length). Every cast,
reformat, cut and ignored parameter is recorded as a journal note, so a user sees what the
real vendor would have changed without a word.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from emulator.core.accounts import FixtureError
from emulator.core.journal import note
from emulator.core.store import collector_paused

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
MAX_CONTACTS_PER_CALL = 500
MAX_NUMBERS_PER_DELETE = 200


class CannotCast(ValueError):
    """A value that cannot be understood as the expected type; the message says why."""


# -- the casts: expected type -> function ---------------------------------------------
# A cast takes (value, country) and returns (used, rule); rule is None when the value
# already had the right type and form. It raises CannotCast when nothing sensible can be
# made of the value. Arrays return their elements uncast; read_value casts each element
# with the Param's ``item`` type.

_BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "on": True,
                  "false": False, "0": False, "no": False, "off": False}


def cast_boolean(value: Any, country: str) -> tuple[bool, str | None]:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), "number cast to boolean"
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        return _BOOLEAN_WORDS[value.strip().lower()], "text cast to boolean"
    raise CannotCast("not a boolean")


def cast_string(value: Any, country: str) -> tuple[str, str | None]:
    if isinstance(value, str):
        return value, None
    if isinstance(value, bool):
        return ("true" if value else "false"), "boolean cast to string"
    if isinstance(value, int):
        return str(value), "number cast to string"
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() else repr(value)), "number cast to string"
    raise CannotCast("not a string")


def cast_phone(value: Any, country: str) -> tuple[str, str | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise CannotCast("not a phone number")
    used = normalise_phone(text, country)
    return used, (None if used == value else "phone number formatted to E.164")


def cast_object(value: Any, country: str) -> tuple[dict, str | None]:
    if isinstance(value, dict):
        return value, None
    raise CannotCast("not an object")


def cast_array_of_strings(value: Any, country: str) -> tuple[list, str | None]:
    if isinstance(value, list):
        return value, None
    if isinstance(value, str):
        if "," in value:
            return [part.strip() for part in value.split(",")], "comma-separated string split into an array"
        return [value], "single string wrapped in an array"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value], "single value wrapped in an array"
    raise CannotCast("not an array")


def cast_array_of_objects(value: Any, country: str) -> tuple[list, str | None]:
    if isinstance(value, list):
        return value, None
    if isinstance(value, dict):
        return [value], "single object wrapped in an array"
    raise CannotCast("not an array of objects")


CASTS: dict[str, Callable[[Any, str], tuple[Any, str | None]]] = {
    "boolean": cast_boolean,
    "string": cast_string,
    "phone number": cast_phone,
    "object": cast_object,
    "array of strings": cast_array_of_strings,
    "array of objects": cast_array_of_objects,
}


# -- phone numbers ----------------------------------------------------------------------
_PHONE_NOISE = re.compile(r"[\s.\-()\[\]]")  # spaces, dots, dashes, brackets
_PHONE_SHAPE = re.compile(r"\+?[0-9]{3,20}")


@lru_cache(maxsize=16384)
def normalise_phone(text: str, country: str) -> str:
    """``text`` as an E.164 number; a number without ``+`` is read in ``country``.

    Spaces, dots, dashes and brackets are dropped and a leading ``00`` becomes ``+``;
    the rest is the phonenumbers library's reading. Raises :class:`CannotCast`.
    """
    digits = text[1:]
    if text[:1] == "+" and digits.isdigit() and digits.isascii() and 3 <= len(digits) <= 20:
        compact = text  # already +<digits>: nothing to strip
    else:
        compact = _PHONE_NOISE.sub("", text)
        if compact.startswith("00"):
            compact = "+" + compact[2:]
        if not _PHONE_SHAPE.fullmatch(compact):
            raise CannotCast("not a phone number")
    international = compact[0] == "+"
    if international and _valid_as_written(compact):
        return compact
    import phonenumbers  # imported on first use: start-up stays light

    try:
        parsed = phonenumbers.parse(compact, None if international else country)
    except phonenumbers.NumberParseException:
        raise CannotCast("not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise CannotCast("not a valid phone number" + ("" if international else f" in {country}"))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _valid_as_written(e164: str) -> bool:
    """Whether ``+<digits>`` is a valid number that parsing would give back unchanged.

    The short way for the usual input (already E.164): split the country code and test
    the national number against the library's patterns directly, without its general
    parser (a fifth of the cost). Anything the parser might rewrite (a national prefix or
    leading zero after the country code) says False, and the caller parses as usual.
    """
    digits = e164[1:]
    calling_code = _calling_code(digits[:3])
    if calling_code is None:
        return False
    size, national_prefix, regions = calling_code
    national = digits[size:]
    if len(national) < 2 or national[0] == "0":
        return False
    if national_prefix is not None and national_prefix.match(national):
        return False
    return _valid_national(national, regions)


def _valid_national(national: str, regions: tuple) -> bool:
    """The library's ``is_valid_number`` for a national number without a leading zero.

    The region is picked as the library picks it (its leading digits, else the first whose
    patterns match); the number is valid when it matches the region's general pattern and
    one of its type patterns. Agreement with the library is tested number by number.
    """
    length = len(national)
    for leading_digits, general, types in regions:
        if leading_digits is not None:
            if leading_digits.match(national):
                return _matches_region(national, length, general, types)
        elif _matches_region(national, length, general, types):
            return True
    return False


def _matches_region(national: str, length: int, general: tuple, types: tuple) -> bool:
    lengths, pattern = general
    if (lengths and length not in lengths) or not pattern.fullmatch(national):
        return False
    for lengths, pattern in types:
        if (not lengths or length in lengths) and pattern.fullmatch(national):
            return True
    return False


# The number types of the library's metadata, the commonest first (validity is "any of them").
_NUMBER_TYPES = ("mobile", "fixed_line", "toll_free", "voip", "premium_rate", "shared_cost", "personal_number",
                 "pager", "uan", "voicemail")


@cache
def _calling_code(first_digits: str) -> tuple[int, re.Pattern | None, tuple] | None:
    """(length of the calling code, national prefix pattern, patterns of its regions) for
    the first three digits of an E.164 number, or None when no calling code starts them
    (at most 1000 keys). Each region is (leading digits pattern or None, general pattern,
    type patterns), a pattern being (possible lengths, compiled regex)."""
    import phonenumbers

    for size in (1, 2, 3):
        code = int(first_digits[:size])
        region_codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
        if not region_codes:
            continue
        main = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region_codes[0])
        if main is None:
            return None
        regions = []
        for region_code in region_codes:
            metadata = (main if len(region_codes) == 1
                        else phonenumbers.PhoneMetadata.metadata_for_region(region_code.upper(), None))
            if metadata is None:
                continue
            descs = [getattr(metadata, kind) for kind in _NUMBER_TYPES]
            if metadata.same_mobile_and_fixed_line_pattern:
                descs = descs[1:]  # the library reads such a number as fixed line
            # one region: the library takes it without looking at its leading digits
            leading = None if len(region_codes) == 1 or metadata.leading_digits is None else metadata.leading_digits
            regions.append((None if leading is None else re.compile(leading),
                            _desc_pattern(metadata.general_desc),
                            tuple(p for p in map(_desc_pattern, descs) if p is not None)))
        prefix = main.national_prefix_for_parsing
        return size, (re.compile(prefix) if prefix else None), tuple(
            (leading, general or (frozenset(), re.compile("(?!)")), types) for leading, general, types in regions)
    return None


def _desc_pattern(desc) -> tuple[frozenset, re.Pattern] | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


# -- the parameter tables ---------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One parameter of an endpoint, as the vendor documents it."""

    type: str
    """A key of :data:`CASTS`."""
    default: Any = None
    max_length: int | None = None
    """Strings (and each string of an array): longer values are cut to this many characters."""
    max_items: int | None = None
    """Arrays: more elements than this are refused (nothing sensible can be cut)."""
    item: str | None = None
    """Arrays: the type each element is cast to (a key of :data:`CASTS`), if any."""
    non_empty: bool = False
    """An empty (or blank) string is ignored like a value that cannot be cast."""
    doc: str = ""


_NAME = {"non_empty": True}

CREATE_PARAMETERS: dict[str, Param] = {
    "contacts": Param("array of objects", (), max_items=MAX_CONTACTS_PER_CALL,
                      doc="contacts {phone_number, first_name, last_name, param1..param5}"),
    "list_name": Param("string", None, max_length=30, **_NAME, doc="list to attach the contacts to"),
    "list_names": Param("array of strings", (), max_length=30, item="string", **_NAME,
                        doc="lists to attach the contacts to"),
    "un_list": Param("boolean", False, doc="first detach every list of the given contacts"),
    "tag_name": Param("string", None, max_length=20, **_NAME, doc="tag to attach to the contacts"),
    "tag_names": Param("array of strings", (), max_length=20, item="string", **_NAME,
                       doc="tags to attach to the contacts"),
    "un_tag": Param("boolean", False, doc="first detach every tag of the given contacts"),
    "auto_remove_blacklisted_numbers": Param("boolean", False, doc="leave out blacklisted numbers"),
    "auto_delete_optout_contacts": Param("boolean", False, doc="leave out opted-out numbers (same as above)"),
    "do_not_overwrite": Param("boolean", False, doc="skip numbers that already exist"),
}

CONTACT_FIELDS: dict[str, Param] = {
    "phone_number": Param("phone number", doc="E.164, or national in the account's country"),
    "first_name": Param("string", max_length=50),
    "last_name": Param("string", max_length=50),
    **{f"param{i}": Param("string", max_length=50) for i in range(1, 6)},
}

DELETE_PARAMETERS: dict[str, Param] = {
    "phone_numbers": Param("array of strings", (), max_items=MAX_NUMBERS_PER_DELETE, item="phone number",
                           doc="numbers to delete (or to detach from list_name)"),
    "list_name": Param("string", None, max_length=30, **_NAME, doc="only detach the numbers from this list"),
}

LIST_CREATE_PARAMETERS: dict[str, Param] = {
    "list_name": Param("string", None, max_length=30, **_NAME, doc="name of the list"),
}

LIST_EMPTY_PARAMETERS: dict[str, Param] = {
    "list_name": Param("string", None, max_length=30, **_NAME, doc="name of the list"),
    "delete_contacts": Param("boolean", False, doc="also delete the detached contacts from the account"),
}

LIST_DELETE_PARAMETERS: dict[str, Param] = {
    "list_name": Param("string", None, max_length=30, **_NAME, doc="name of the list to delete"),
}


class TooMany(Exception):
    def __init__(self, field: str, count: int, limit: int):
        super().__init__(f"{field}: at most {limit} per call, got {count}")


def read_value(field: str, value: Any, param: Param, country: str) -> Any:
    """``value`` cast, formatted and cut as ``param`` says; notes every change."""
    used = _cast(field, value, param.type, country)
    if param.max_items is not None and len(used) > param.max_items:
        raise TooMany(field, len(used), param.max_items)
    if param.item is None:
        return _cut(field, used, param)
    items = []
    for element in used:
        try:
            items.append(_cut(field, _cast(field, element, param.item, country), param))
        except CannotCast as exc:
            note(field, element, None, f"{exc}: element dropped", "ignored")
    return items


def _cast(field: str, value: Any, kind: str, country: str) -> Any:
    if value is None:
        raise CannotCast("null")
    if kind == "string" and value.__class__ is str:
        return value  # the usual case, without a call
    used, rule = CASTS[kind](value, country)
    if rule is not None:
        note(field, value, used, rule, "cast")
    return used


def _cut(field: str, value: Any, param: Param) -> Any:
    if value.__class__ is str:
        if param.non_empty and not value.strip():
            raise CannotCast("empty")
        if param.max_length is not None and len(value) > param.max_length:
            cut = value[:param.max_length]
            note(field, value, cut, f"cut to {param.max_length} characters", "cast")
            return cut
    return value


def read_parameters(body: dict, table: dict[str, Param], country: str, *, prefix: str = "",
                    defaults: bool = True, required: Iterable[str] = ()) -> tuple[dict, dict]:
    """(values, failures) of ``body`` read against ``table``.

    Unknown keys are ignored; a value that cannot be cast falls back to the default (and
    is noted), except a ``required`` one, whose reason goes to ``failures``. With
    ``defaults`` every parameter of the table has a value; without, only those sent.
    """
    # the defaults are immutable (None, False, ()): no copy needed
    values: dict = {name: param.default for name, param in table.items()} if defaults else {}
    failures: dict = {}
    for name, value in body.items():
        param = table.get(name)
        field = prefix + name
        if param is None:
            note(field, value, None, "unknown parameter ignored", "ignored")
            continue
        try:
            values[name] = read_value(field, value, param, country)
        except CannotCast as exc:
            if name in required:
                failures[name] = str(exc)
            else:
                note(field, value, param.default, f"{exc}: ignored", "ignored")
    return values, failures


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
        p = self._read(body, CREATE_PARAMETERS)
        if not p["contacts"]:
            raise OctopushError(NO_RECIPIENTS, "You have not entered the list of recipients: contacts is required, "
                                f"an array of 1 to {MAX_CONTACTS_PER_CALL} contact objects {{phone_number, first_name, "
                                "last_name, param1..param5}}; none was sent")
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
            fields, failures = read_parameters(element, CONTACT_FIELDS, self.country, prefix=f"contacts[{index}].",
                                               defaults=False, required=("phone_number",))
            phone = fields.pop("phone_number", None)
            if phone is None:
                reason = failures.get("phone_number") or "phone_number missing"
                ignored.append({"index": index, "phone_number": element.get("phone_number"), "reason": reason})
                continue
            rows.append((index, phone, fields))
        return rows, ignored

    # -- DELETE /v1/public/contact/delete ----------------------------------------------
    def delete_contacts(self, body: dict) -> None:
        """Delete numbers from the account, or only detach them from ``list_name``."""
        p = self._read(body, DELETE_PARAMETERS)
        phones = list(dict.fromkeys(p["phone_numbers"]))
        if not phones:
            if _sent_count(body.get("phone_numbers")):
                raise OctopushError(NO_CORRECT_NUMBER, "Your recipient list contains no correct numbers: "
                                    "phone_numbers holds no valid phone number (E.164, or a national number in "
                                    f"{self.country})")
            raise OctopushError(NO_RECIPIENTS, "You have not entered the list of recipients: phone_numbers is "
                                f"required, an array of 1 to {MAX_NUMBERS_PER_DELETE} phone numbers")
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
        p = self._read(body, LIST_CREATE_PARAMETERS)
        name = self._required_name(p, "list_name")
        with self.engine.store.transaction():
            if self.lists.find_id("name", name) is not None:
                raise OctopushError(LIST_EXISTS, f"A list with the same name already exists: list_name {name!r}")
            self._ensure_named(self.lists, "list", [name], self.engine.clock.iso_now())
            doc = self.lists.find("name", name)
        return {"id": doc["id"], "list_name": name, "created": True}, 201

    # -- POST /v1/public/contact-list/empty ---------------------------------------------
    def empty_list(self, body: dict) -> dict:
        """Detach every contact of a list; ``delete_contacts`` also deletes them."""
        p = self._read(body, LIST_EMPTY_PARAMETERS)
        name = self._required_name(p, "list_name")
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
        p = self._read(body, LIST_DELETE_PARAMETERS)
        name = self._required_name(p, "list_name")
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

        Raises :class:`CannotCast` (naming the number) before storing anything.
        """
        phones = []
        for number in numbers:
            try:
                phones.append(cast_phone(number, self.country)[0])
            except CannotCast as exc:
                raise CannotCast(f"phone_numbers: {number!r} is {exc}") from None
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
    def _read(self, body: dict, table: dict[str, Param]) -> dict:
        try:
            return read_parameters(body, table, self.country)[0]
        except TooMany as exc:
            raise OctopushError(TOO_MANY_CONTACTS, f"There are too many contacts in the query: {exc}") from None

    @staticmethod
    def _required_name(p: dict, field: str) -> str:
        name = p[field]
        if name is None:
            raise OctopushError(PARAMETER_MISSING, f"{field}: required, a non-empty string of at most 30 characters")
        return name

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


# -- fixtures and fake data ---------------------------------------------------------------
_FAKE_MOBILE_PREFIXES = ("+3360", "+3361", "+3362", "+3364", "+3365", "+3366", "+3367", "+3368")


def fake_contact(fake) -> dict:
    """One valid contact as ``contact/create`` takes it in ``contacts`` (French mobile)."""
    return {"phone_number": fake.unique.numerify(fake.random_element(_FAKE_MOBILE_PREFIXES) + "#######"),
            "first_name": fake.first_name(), "last_name": fake.last_name()}


def fake_create(fake, n: int | None = None, **options) -> dict:
    """A valid ``contact/create`` body with ``n`` contacts (3 by default) and ``options``."""
    return {"contacts": [fake_contact(fake) for _ in range(n or 3)], **options}


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
        except CannotCast as exc:
            raise FixtureError(f"fixture: octopush account {backend.account.name!r}: settings.blacklist: {exc}") from None
    if payloads:
        backend.create_contacts({"contacts": payloads})


def describe_credentials(account) -> str:
    creds = account.credentials
    return f"headers api-login: {creds.get('api_login')}, api-key: {creds.get('api_key')}"
