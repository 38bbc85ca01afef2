"""A request's fields, declared once: how each is read, its limits, what empty means, and the
note each fix-up records.

A vendor's ``schemas.py`` declares its payloads as :class:`Shape` objects, each a table of
fields — :class:`Text`, :class:`Email`, :class:`Phone`, :class:`Date`, :class:`DateTime`,
:class:`Number`, :class:`Boolean`, :class:`Choice`, :class:`Url`, :class:`Scalar`, :class:`List`,
:class:`Records`, :class:`Nested`, :class:`Ignored` — and one :class:`Leniency`: for every fix-up a vendor may
make of what a client sent (a number where text is expected, padded text, text past its
length, a single value where an array is expected ...), whether the vendor makes it and the
note kind it records, or refuses the value. Everything else comes from that declaration:

- reading: :meth:`Shape.read` gives the values and the problems (a vendor error names the
  field and the rule); each fix-up is recorded with :func:`~emulator.core.journal.note`;
- the OpenAPI schema: :meth:`Shape.json_schema` (the documented, strict types);
- fake payloads: :meth:`Shape.fake` (each field says how Faker makes a valid value).

Readers are compiled once per shape (and per :meth:`Shape.bind` context such as the default
phone region), so reading a value costs a call and a few type checks.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from .journal import NOTE_KINDS, note
from .strict_json import json_type


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()
"""Not sent, or read as not sent: the field is left out of the values (its default, if any, stays)."""

KEEP = "keep"
"""``Leniency(unknown=KEEP)``: a key no field declares is kept as sent (custom fields)."""

EMPTY_MEANS = ("value", "absent", "null", "refuse")
"""What an empty or blank text means for a field: a value like any other (read as usual),
not sent, null, or a refusal."""

COUNT_REASONS = frozenset(("required", "too_few", "too_many"))
"""Refusals about the request rather than one value: never ignored or dropped."""

MESSAGES: dict[str, str] = {
    "required": "is required",
    "null": "must not be null",
    "empty": "must not be empty",
    "type": "must be {expected}, got {got}",
    "too_long": "longer than {limit} characters ({length})",
    "too_few": "must hold at least {limit} element(s), got {count}",
    "too_many": "must hold at most {limit} element(s), got {count}",
    "choice": "must be one of {choices}, got {sent!r}",
    "email": "must be an email address such as john@example.com, got {sent!r}",
    "url": "must be an http or https URL, got {sent!r}",
    "phone": "{why}",
    "date": "must be a date YYYY-MM-DD (at most 10 characters), got {sent!r}",
    "calendar": "is not a calendar date: {sent!r}",
    "datetime": "must be an ISO 8601 date-time such as 1990-01-01T00:00:00Z, got {sent!r}",
    "finite": "must be a finite number, got {sent!r}",
    "integer": "must be a whole number, got {sent!r}",
    "range": "must be between {minimum} and {maximum}, got {sent!r}",
    "unknown": "is not a known field",
}
"""Refusal reason -> message template (a vendor's :class:`Leniency` or a field may reword
any). Templates may use ``name``, ``sent``, ``got`` (the JSON type sent; ``got_a``: with its
article, ``an object``, ``a string``, ``null`` ...), ``pytype`` (its Python type name, for a vendor
whose messages name it: ``dict``, ``str``), ``expected`` (the
reader's noun), ``limit``, ``length``, ``count``, ``choices``, ``minimum``, ``maximum``, ``why``."""

NOUNS: dict[str, str] = {
    "text": "a string", "email": "an email address", "url": "an http or https URL", "phone": "a phone number", "date": "a date YYYY-MM-DD",
    "datetime": "an ISO 8601 date-time", "number": "a number", "boolean": "a boolean", "choice": "one of the choices",
    "list": "an array", "records": "an array of objects", "object": "an object",
    "scalar": "a string, number or boolean",
}
"""Reader type -> how a ``type`` refusal names what was expected."""

RULES: dict[str, str] = {
    "number_to_text": "number cast to string",
    "boolean_to_text": "boolean cast to string",
    "text_to_boolean": "text cast to boolean",
    "number_to_boolean": "number cast to boolean",
    "text_to_number": "text cast to number",
    "trim": "surrounding whitespace trimmed",
    "cut": "cut to {limit} characters",
    "case": "{case}-cased",
    "wrap": "single {what} wrapped in an array",
    "split": "comma-separated string split into an array",
    "reformat": "{what} written in its stored form",
    "null": "null read as the default",
    "empty": "empty value read as not sent",
    "empty_null": "empty string read as no value",
    "ignore": "{why}: ignored",
    "drop": "{why}: element dropped",
    "duplicate": "duplicate dropped",
    "unknown": "unknown key ignored",
    "alias": "{alias} read as {target}",
}
"""Fix-up -> the rule text of its note (a vendor's :class:`Leniency` or a field may reword any)."""


# -- problems, fixes, leniency ----------------------------------------------------------

class Refused(ValueError):
    """A value a field does not take. ``reason`` is a key of :data:`MESSAGES`; ``where`` locates
    the value inside the field (``[2]``, ``.town``); ``problems`` are a nested object's."""

    def __init__(self, reason: str, message: str, where: str = "", problems: list | None = None):
        super().__init__(message)
        self.reason, self.message, self.where, self.problems = reason, message, where, problems


class Problem:
    """One refused value of a payload: where it is, which rule it breaks and the message."""

    __slots__ = ("path", "reason", "message")

    def __init__(self, path: str, reason: str, message: str):
        self.path, self.reason, self.message = path, reason, message

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.reason!r}, {self.message!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Problem) and (self.path, self.reason, self.message) == (
            other.path, other.reason, other.message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class Fix:
    """A fix-up a vendor makes, and its note: ``kind`` (one of ``NOTE_KINDS``) and ``rule``
    (a template of :data:`RULES`'s kind; None: the default text)."""

    __slots__ = ("kind", "rule")

    def __init__(self, kind: str, rule: str | None = None):
        if kind not in NOTE_KINDS:
            raise ValueError(f"a fix-up's note kind must be one of {', '.join(NOTE_KINDS)}, got {kind!r}")
        self.kind, self.rule = kind, rule

    def __repr__(self) -> str:
        return f"Fix({self.kind!r}, {self.rule!r})"

    def note(self, label: str, sent: Any, used: Any, **values) -> None:
        note(label, sent, used, self.rule.format(**values) if values else self.rule, self.kind)


LENIENCY_DEFAULTS: dict[str, Any] = {
    # fix-up: the note kind it records (or a Fix with other wording); None: the vendor does not
    # make it, and the value is refused (padded text is then kept as sent, without a note)
    "number_to_text": None,      # 42 sent for text -> "42"
    "boolean_to_text": None,     # true sent for text -> "true"
    "text_to_boolean": None,     # "yes" sent for a boolean -> true (the words: boolean_words)
    "number_to_boolean": None,   # 1 / 0 sent for a boolean -> true / false
    "text_to_number": None,      # "12" sent for a number -> 12 (KEEP: text is the wire form, a query
                                 # string: read without a note)
    "trim": None,                # " Ann " -> "Ann"
    "cut": None,                 # text past its max_length -> cut
    "case": "cast",              # a field declared lower / upper -> stored in that case
    "wrap": None,                # a single value where an array is expected -> a one-element array
    "split": None,               # "a,b" where an array is expected -> ["a", "b"]
    "reformat": "cast",          # a phone number, a date-time, a whole float -> its stored form
    "null": None,                # null for a field with a default, not nullable -> the default
    "empty": "unverified",       # an empty value a field reads as not sent or null (empty=)
    "ignore": None,              # a refused value -> left out, its default used (None: a problem);
                                 # required fields and count limits always give problems
    "drop": None,                # a refused element of an array -> dropped (None: a problem)
    "duplicate": "ignored",      # an element already in a unique array -> dropped
    "unknown": "ignored",        # a key no field declares -> left out (KEEP: kept as sent; None: a problem)
    "alias": "unverified",       # a key read under another name (Shape aliases)
    # and how the vendor words and reads the rest
    "boolean_words": {"true": True, "false": False},   # texts text_to_boolean reads (trimmed, lower-cased)
    "index_item_notes": True,    # an element's note names it field[i] (False: the array's field)
    "one_note": False,           # True: a text's fix-ups are one note, its rules joined by ", " (each once)
    "messages": {},              # refusal reason -> message template, over MESSAGES
    "nouns": {},                 # reader type -> its noun in "type" messages, over NOUNS
}
"""Every setting of a :class:`Leniency`, with its default."""

_FIXES = frozenset(k for k in LENIENCY_DEFAULTS
                   if k not in ("boolean_words", "index_item_notes", "one_note", "messages", "nouns"))


class Leniency:
    """How a vendor treats what does not fit a field: for each fix-up of
    :data:`LENIENCY_DEFAULTS`, the note kind it records (``trim="unverified"``, or
    ``Fix("cast", "other wording")``), or None when the vendor does not make it."""

    def __init__(self, **settings):
        unknown = set(settings) - set(LENIENCY_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown leniency setting(s) {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(LENIENCY_DEFAULTS)}")
        self.settings = {**LENIENCY_DEFAULTS, **settings}
        for name, value in self.settings.items():
            if name in _FIXES and isinstance(value, str) and value != KEEP:
                self.settings[name] = value = Fix(value)
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"Leniency({', '.join(f'{k}={v!r}' for k, v in self.settings.items() if v != LENIENCY_DEFAULTS[k])})"

    def but(self, **changes) -> Leniency:
        """The same leniency with some settings changed (``messages`` and ``nouns`` merge)."""
        for key in ("messages", "nouns"):
            if key in changes:
                changes[key] = {**self.settings[key], **changes[key]}
        return Leniency(**{**self.settings, **changes})

    def fix(self, name: str, owner: Field | None = None, default_rule: str | None = None) -> Fix | None:
        """The fix-up ``name`` with its rule text resolved (field, then leniency, then defaults)."""
        fix = getattr(self, name)
        if fix is None or fix == KEEP:
            return fix
        rule = (owner.rules.get(name) if owner is not None and owner.rules else None) or fix.rule or default_rule \
            or RULES[name]
        return Fix(fix.kind, rule)

    def refusal(self, reason: str, owner: Field | None, name: str, sent: Any, **values) -> Refused:
        """A :class:`Refused` worded by the field, the leniency or the defaults."""
        template = (owner.messages.get(reason) if owner is not None and owner.messages else None) \
            or self.messages.get(reason) or MESSAGES[reason]
        if owner is not None:
            values.setdefault("expected", self.nouns.get(owner.type) or NOUNS.get(owner.type, "a value"))
        got = json_type(sent)
        return Refused(reason, template.format_map(_Values(values, name=name, sent=sent, got=got,
                                                           got_a=_WITH_ARTICLE[got], pytype=type(sent).__name__)))


_WITH_ARTICLE = {"object": "an object", "array": "an array", "string": "a string", "number": "a number",
                 "boolean": "a boolean", "null": "null"}


class _Values(dict):
    def __init__(self, values: dict, **more):
        super().__init__(values, **more)

    def __missing__(self, key: str) -> str:
        return "?"


def number_text(value: int | float) -> str:
    """A number's decimal text: ``42``, ``4.5``, and ``7`` for ``7.0``."""
    if value.__class__ is float:
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


# -- fields -------------------------------------------------------------------------------

Reader = Callable[[Any, str, str], Any]
"""A compiled field: ``read(value, prefix, name)`` -> the value to store, or :data:`ABSENT`;
raises :class:`Refused`. Notes are labelled ``prefix + name``."""


class Field:
    """What every field declares. A subclass says how a value of its type is read (``_convert``),
    documented (``_schema``) and faked (``_fit``)."""

    type = "value"

    def __init__(self, *, required: bool = False, default: Any = ABSENT, nullable: bool = False,
                 empty: str = "value", doc: str = "", fake: str | Callable | None = None,
                 check: Callable[[Any, str], Any] | None = None, messages: Mapping[str, str] | None = None,
                 rules: Mapping[str, str] | None = None, fixes: Mapping[str, Any] | None = None,
                 null_absent: bool = False):
        """
        ``required``: a request without a value for it has a problem (a refusal is never ignored).
        ``default``: the value when not sent (or left out by ``Leniency.ignore``).
        ``nullable``: null is a value (it clears the field); otherwise null is refused, or read as
        the default with ``Leniency.null``. ``empty``: one of :data:`EMPTY_MEANS`. ``fake``: a
        Faker method name (``"first_name"``, ``"unique.email"``) or ``fake(faker) -> value``.
        ``check``: ``check(value, name) -> value``, a vendor rule the reader does not know
        (raises :class:`Refused`). ``messages`` / ``rules``: this field's wording of refusals / notes.
        ``fixes``: this field's own leniency settings over its shape's (``{"number_to_text": None}``:
        a number is refused here although the vendor casts it elsewhere). ``null_absent``: null is
        read as not sent (the default stays), without a note: a documented way to leave a key out.
        """
        if empty not in EMPTY_MEANS:
            raise ValueError(f"empty must be one of {', '.join(EMPTY_MEANS)}, got {empty!r}")
        self.required, self.default, self.nullable, self.empty = required, default, nullable, empty
        self.doc, self.fake, self.check = doc, fake, check
        self.messages, self.rules = dict(messages or {}), dict(rules or {})
        self.fixes, self.null_absent = dict(fixes or {}), null_absent

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.doc or self.type})"

    # -- reading --------------------------------------------------------------------------
    def compile(self, lenient: Leniency, context: Mapping[str, Any]) -> Reader:
        """The reader of this field under ``lenient`` (null, empty and the vendor's check
        around the type's own conversion)."""
        if self.fixes:
            lenient = lenient.but(**self.fixes)
        read = self._reader(lenient, context)
        if not self.null_absent:
            return read

        def read_null_absent(value, prefix, name):
            return ABSENT if value is None else read(value, prefix, name)

        return read_null_absent

    def _reader(self, lenient: Leniency, context: Mapping[str, Any]) -> Reader:
        convert = self._convert(lenient, context)
        check = self.check
        if check is not None:
            inner = convert

            def convert(value, prefix, name):
                used = inner(value, prefix, name)
                return used if used is ABSENT or used is None else check(used, name)

        nullable, default, empty = self.nullable, self.default, self.empty
        null_fix = lenient.fix("null", self) if default is not ABSENT and not nullable else None
        if empty == "value":
            if nullable:  # the commonest shapes, with no test they do not need
                def read(value, prefix, name):
                    return None if value is None else convert(value, prefix, name)

                return read
            if null_fix is None:
                def read(value, prefix, name):
                    if value is None:
                        raise lenient.refusal("null", self, name, None)
                    return convert(value, prefix, name)

                return read
            empty_fix = None
        else:
            empty_fix = lenient.fix("empty", self, RULES["empty_null"] if empty == "null" else None)
        empty_used = None if empty == "null" else ABSENT

        def read(value, prefix, name):
            if value is None:
                if nullable:
                    return None
                if null_fix is not None:
                    null_fix.note(prefix + name, None, default)
                    return default
                raise lenient.refusal("null", self, name, None)
            if empty_fix is not None and value.__class__ is str and not value.strip():
                if empty == "refuse":
                    raise lenient.refusal("empty", self, name, value)
                empty_fix.note(prefix + name, value, None)
                return empty_used
            return convert(value, prefix, name)

        return read

    def _convert(self, lenient: Leniency, context: Mapping[str, Any]) -> Reader:
        def convert(value, prefix, name):
            return value

        return convert

    # -- documenting and faking ------------------------------------------------------------
    def json_schema(self, ref: Callable[[Shape], dict]) -> dict:
        """The field's OpenAPI 3.0 schema (``ref(shape)`` gives a nested shape's reference)."""
        out = self._schema(ref)
        if self.doc:
            out["description"] = self.doc
        if self.nullable or self.null_absent:
            out["nullable"] = True
        if self.default is not ABSENT and self.default is not None:
            out["default"] = list(self.default) if isinstance(self.default, tuple) else self.default
        return out

    def _schema(self, ref) -> dict:
        return {}

    def fake_value(self, faker) -> Any:
        """A valid value made by Faker as the field's ``fake`` says, or ABSENT without one."""
        make = self.fake
        if make is None:
            return ABSENT
        if isinstance(make, str):
            target = faker
            for part in make.split("."):
                target = getattr(target, part)
            return self._fit(target())
        return self._fit(make(faker))

    def _fit(self, value: Any) -> Any:
        return value


class Text(Field):
    """A string. ``max_length`` (cut or refused), ``choices`` (refused otherwise; compared in the
    stored case when ``lower`` / ``upper``), ``lower`` / ``upper`` (stored in that case),
    ``pattern`` (a regular expression the text must match)."""

    type = "text"
    test_reason = "choice"
    """The refusal reason of text that fails :meth:`_test` (the pattern)."""

    def __init__(self, *, max_length: int | None = None, choices: tuple | None = None, lower: bool = False,
                 upper: bool = False, pattern: str | None = None, **common):
        super().__init__(**common)
        self.max_length, self.lower, self.upper = max_length, lower, upper
        self.choices = tuple(choices) if choices is not None else None
        self.pattern = re.compile(pattern) if pattern else None

    def _test(self) -> Callable[[str], Any] | None:
        """What the (trimmed) text must pass, or None: the pattern's full match."""
        return self.pattern.fullmatch if self.pattern is not None else None

    def _convert(self, lenient, context):
        max_length, choices, test = self.max_length, self.choices, self._test()
        case = ("lower" if self.lower else "upper") if (self.lower or self.upper) else None
        from_number, from_boolean = lenient.fix("number_to_text", self), lenient.fix("boolean_to_text", self)
        trim, cut, case_fix = lenient.fix("trim", self), lenient.fix("cut", self), lenient.fix("case", self)
        test_reason, refusal, one_note = self.test_reason, lenient.refusal, lenient.one_note

        def convert(value, prefix, name):
            cls = value.__class__
            cast = None
            if cls is str:
                text = value
            elif cls is int or cls is float:
                if from_number is None or (cls is float and not math.isfinite(value)):
                    raise refusal("type", self, name, value)
                text, cast = number_text(value), from_number
            elif cls is bool and from_boolean is not None:
                text, cast = ("true" if value else "false"), from_boolean
            else:
                raise refusal("type", self, name, value)
            if cast is not None and not one_note:
                cast.note(prefix + name, value, text)
            used = text.strip() if trim is not None else text
            if max_length is not None and len(used) > max_length and cut is None:
                raise refusal("too_long", self, name, used, limit=max_length, length=len(used))
            if choices is not None and (used.lower() if case == "lower" else used.upper() if case else used) \
                    not in choices:
                raise refusal("choice", self, name, used, choices=", ".join(map(str, choices)))
            if test is not None and not test(used):
                raise refusal(test_reason, self, name, used)
            if cast is None and case is None and len(used) == len(text) and (max_length is None
                                                                            or len(used) <= max_length):
                return used  # as sent: nothing to record
            # the checks passed: record the fix-ups, in the order they were made
            made = [] if one_note else None
            if cast is not None and made is not None:
                made.append((cast, {}))
            if len(used) != len(text):
                if made is None:
                    trim.note(prefix + name, text, used)
                else:
                    made.append((trim, {}))
            if max_length is not None and len(used) > max_length:
                cut_text = used[:max_length]
                if made is None:
                    cut.note(prefix + name, used, cut_text, limit=max_length)
                else:
                    made.append((cut, {"limit": max_length}))
                used = cut_text
            if case is not None:
                cased = used.lower() if case == "lower" else used.upper()
                if cased != used:
                    if made is None:
                        case_fix.note(prefix + name, used, cased, case=case)
                    else:
                        made.append((case_fix, {"case": case}))
                    used = cased
            if made:
                rules = dict.fromkeys(fix.rule.format(**values) if values else fix.rule for fix, values in made)
                note(prefix + name, value, used, ", ".join(rules), made[0][0].kind)
            return used

        return convert

    def _schema(self, ref):
        out: dict = {"type": "string"}
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.choices is not None:
            out["enum"] = list(self.choices)
        return out

    def _fit(self, value):
        text = str(value)
        if self.max_length is not None:
            text = text[:self.max_length].strip()
        return text.lower() if self.lower else text.upper() if self.upper else text


class Email(Text):
    """An email address: text stored lower-cased that must look like ``local@domain``."""

    type = "email"
    test_reason = "email"
    SHAPE = r"[^@\s]+@[^@\s]+"

    def __init__(self, *, pattern: str | None = SHAPE, lower: bool = True, **common):
        super().__init__(pattern=pattern, lower=lower, **common)

    def _schema(self, ref):
        return {**super()._schema(ref), "format": "email"}


def is_http_url(value: Any) -> bool:
    """An absolute http or https URL with a host."""
    if not isinstance(value, str):
        return False
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


class Url(Text):
    """An absolute http or https URL with a host (a webhook's address)."""

    type = "url"
    test_reason = "url"

    def _test(self):
        return is_http_url

    def _schema(self, ref):
        return {**super()._schema(ref), "format": "uri"}


class Phone(Field):
    """A phone number. ``form="e164"``: ``+<digits>`` through the phonenumbers library, a
    national number read in the ``region`` of :meth:`Shape.bind`; ``form="digits"``: its
    digits only, ``min_digits`` to ``max_digits``, with ``separators`` (a character class) and
    the leading ``prefixes`` dropped (a prefix only when digits follow), and a leading zero
    refused unless ``leading_zero``; ``form="parts"``: a full international number (``00`` or
    no prefix read as ``+``) that phonenumbers finds possible for its country code, read as
    ``(country calling code, national number)`` for a vendor that stores the two apart. A
    number sent as a JSON number is its text."""

    type = "phone"
    DIGIT_SEPARATORS = r"[\s.\-()/\[\]]"

    def __init__(self, *, form: str = "e164", min_digits: int = 4, max_digits: int = 15,
                 separators: str = DIGIT_SEPARATORS, prefixes: tuple = ("+",), leading_zero: bool = True, **common):
        super().__init__(**common)
        if form not in ("e164", "digits", "parts"):
            raise ValueError(f"form must be e164, digits or parts, got {form!r}")
        self.form, self.min_digits, self.max_digits = form, min_digits, max_digits
        self.separators, self.prefixes, self.leading_zero = separators, tuple(prefixes), leading_zero

    def _convert(self, lenient, context):
        refusal = lenient.refusal
        if self.form == "e164":
            from .phones import NotAPhoneNumber, normalise_phone

            region = str(context.get("region") or "ZZ").upper()
            reformat = lenient.fix("reformat", self, "phone number formatted to E.164")

            def convert(value, prefix, name):
                cls = value.__class__
                if cls is not str and cls is not int:
                    raise refusal("type", self, name, value)
                try:
                    used = normalise_phone(value if cls is str else str(value), region)
                except NotAPhoneNumber as exc:
                    raise refusal("phone", self, name, value, why=str(exc)) from None
                if used != value:
                    reformat.note(prefix + name, value, used)
                return used

            return convert
        if self.form == "parts":
            def convert(value, prefix, name):
                cls = value.__class__
                if cls is not str and cls is not int:
                    raise refusal("type", self, name, value)
                text = (value if cls is str else str(value)).strip()
                text = "+" + text[2:] if text.startswith("00") else text if text.startswith("+") else "+" + text
                import phonenumbers  # imported on first use: start-up stays light

                try:
                    parsed = phonenumbers.parse(text, None)
                except phonenumbers.NumberParseException:
                    parsed = None
                if parsed is None or not phonenumbers.is_possible_number(parsed):
                    raise refusal("phone", self, name, value, why="not a possible international phone number")
                return str(parsed.country_code), phonenumbers.national_significant_number(parsed)

            return convert
        low, high, separators = self.min_digits, self.max_digits, re.compile(self.separators)
        prefixes, leading_zero = self.prefixes, self.leading_zero
        reformat = lenient.fix("reformat", self, "phone number kept as its digits only")
        empty_fix = lenient.fix("empty", self) if self.empty == "absent" else None
        why = f"must have {low} to {high} digits"

        def convert(value, prefix, name):
            cls = value.__class__
            if cls is not str and cls is not int:
                raise refusal("type", self, name, value)
            text = value if cls is str else str(value)
            digits = separators.sub("", text)
            for start in prefixes:
                if digits.startswith(start) and len(digits) > len(start) or digits == start == "+":
                    digits = digits[len(start):]
                    break
            if not digits and empty_fix is not None:  # nothing but separators: not sent
                empty_fix.note(prefix + name, value, None)
                return ABSENT
            if not (digits.isascii() and digits.isdigit() and low <= len(digits) <= high) \
                    or (not leading_zero and digits[0] == "0"):
                raise refusal("phone", self, name, value, why=why)
            if digits != value and "+" + digits != value:
                reformat.note(prefix + name, value, digits)
            return digits

        return convert

    def _schema(self, ref):
        return {"type": "string"}


class Boolean(Field):
    """A JSON boolean; text and 0/1 only through the leniency's ``text_to_boolean`` and
    ``number_to_boolean``."""

    type = "boolean"

    def _convert(self, lenient, context):
        from_text, from_number = lenient.fix("text_to_boolean", self), lenient.fix("number_to_boolean", self)
        words, refusal = dict(lenient.boolean_words), lenient.refusal

        def convert(value, prefix, name):
            if value is True or value is False:
                return value
            cls = value.__class__
            if from_number is not None and (cls is int or cls is float) and value in (0, 1):
                used = bool(value)
                from_number.note(prefix + name, value, used)
                return used
            if from_text is not None and cls is str:
                used = words.get(value.strip().lower())
                if used is not None:
                    from_text.note(prefix + name, value, used)
                    return used
            raise refusal("type", self, name, value)

        return convert

    def _schema(self, ref):
        return {"type": "boolean"}

    def _fit(self, value):
        return bool(value)


class Number(Field):
    """A finite JSON number; ``integer`` (whole numbers only), ``minimum`` / ``maximum``. Text is
    read as a number through the leniency's ``text_to_number`` (``KEEP``: without a note, for
    query strings, whose values are text)."""

    type = "number"

    def __init__(self, *, integer: bool = False, minimum: float | None = None, maximum: float | None = None,
                 **common):
        super().__init__(**common)
        self.integer, self.minimum, self.maximum = integer, minimum, maximum

    def _convert(self, lenient, context):
        from_text, refusal = lenient.fix("text_to_number", self), lenient.refusal
        whole = lenient.fix("reformat", self, "whole number written as an integer")
        integer, low, high = self.integer, self.minimum, self.maximum
        bounds = {"minimum": "-inf" if low is None else low, "maximum": "inf" if high is None else high}

        def convert(value, prefix, name):
            cls = value.__class__
            if cls is int or cls is float:
                used = value
            elif from_text is not None and cls is str:
                used = number_from_text(value)
                if used is None:
                    raise refusal("type", self, name, value)
            else:
                raise refusal("type", self, name, value)
            if used.__class__ is float and not math.isfinite(used):
                raise refusal("finite", self, name, value)
            if integer and used != int(used):
                raise refusal("integer", self, name, value)
            if (low is not None and used < low) or (high is not None and used > high):
                raise refusal("range", self, name, value, **bounds)
            if integer and used.__class__ is float:
                used = int(used)
                if cls is float:
                    whole.note(prefix + name, value, used)
            if cls is str and from_text != KEEP:
                from_text.note(prefix + name, value, used)
            return used

        return convert

    def _schema(self, ref):
        out: dict = {"type": "integer" if self.integer else "number"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


class Scalar(Field):
    """A JSON string, number or boolean kept as sent, whatever its type (no cast, no note): a
    value the vendor stores as it comes, such as an event parameter."""

    type = "scalar"

    def _convert(self, lenient, context):
        refusal = lenient.refusal

        def convert(value, prefix, name):
            cls = value.__class__
            if cls is str or cls is bool or cls is int or (cls is float and math.isfinite(value)):
                return value
            raise refusal("type", self, name, value)

        return convert

    def _schema(self, ref):
        return {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}


def number_from_text(text: str) -> int | float | None:
    """The number a text spells (``" 42 "``, ``"4.5"``), or None (not a number, or not finite)."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class Date(Field):
    """A calendar date written ``YYYY-MM-DD`` (padding trimmed as the leniency's ``trim`` says)."""

    type = "date"
    _SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")

    def _convert(self, lenient, context):
        trim, refusal, shape = lenient.fix("trim", self), lenient.refusal, self._SHAPE

        def convert(value, prefix, name):
            if value.__class__ is not str:
                raise refusal("type", self, name, value)
            used = value.strip() if trim is not None else value
            if not shape.fullmatch(used):
                raise refusal("date", self, name, used)
            try:
                date.fromisoformat(used)
            except ValueError:
                raise refusal("calendar", self, name, used) from None
            if len(used) != len(value):
                trim.note(prefix + name, value, used)
            return used

        return convert

    def _schema(self, ref):
        return {"type": "string", "format": "date"}


class DateTime(Field):
    """An ISO 8601 date or date-time, stored as UTC ``YYYY-MM-DDTHH:MM:SS[.mmm]Z`` (a time
    without a zone is read as UTC); a rewrite is a ``reformat`` fix-up, worded ``rules["zone"]``
    (when the field has that rule) for a value without a zone."""

    type = "datetime"

    def _convert(self, lenient, context):
        reformat, refusal = lenient.fix("reformat", self, "stored as UTC ISO 8601"), lenient.refusal
        zone = Fix(reformat.kind, self.rules["zone"]) if reformat is not None and "zone" in self.rules else reformat

        def convert(value, prefix, name):
            parsed = iso_instant(value) if value.__class__ is str else None
            if parsed is None:
                raise refusal("datetime", self, name, value)
            fix = reformat
            if parsed.tzinfo is None:
                parsed, fix = parsed.replace(tzinfo=UTC), zone
            used = utc_text(parsed)
            if used != value:
                fix.note(prefix + name, value, used)
            return used

        return convert

    def _schema(self, ref):
        return {"type": "string", "format": "date-time"}

    def _fit(self, value):
        return utc_text(value if value.tzinfo is not None else value.replace(tzinfo=UTC)) \
            if isinstance(value, datetime) else value


def iso_instant(text: str) -> datetime | None:
    """ISO 8601 text (a date, or a date-time with or without zone) as a datetime, or None."""
    text = text.strip()
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return None


def utc_text(moment: datetime) -> str:
    """``2026-01-02T03:04:05.678Z``: UTC, milliseconds only when there are some."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


class Choice(Field):
    """One of a few values, compared as sent (no trimming, no casting)."""

    type = "choice"

    def __init__(self, *choices, **common):
        super().__init__(**common)
        self.choices = tuple(choices)

    def _convert(self, lenient, context):
        choices, refusal = frozenset(self.choices), lenient.refusal
        text = ", ".join(map(str, self.choices))

        def convert(value, prefix, name):
            if value.__class__ in (list, dict) or value not in choices:
                raise refusal("choice", self, name, value, choices=text)
            return value

        return convert

    def _schema(self, ref):
        out: dict = {"enum": list(self.choices)}
        if all(isinstance(c, str) for c in self.choices):
            out["type"] = "string"
        return out

    def _fit(self, value):
        return value


class List(Field):
    """An array whose elements are read by ``item`` (a field); ``min_items`` (counted after
    dropped elements), ``max_items`` (counted as sent), ``unique`` (later duplicates dropped).
    ``whole``: the array is judged as one value: a refused element refuses the array (the
    array's ``type`` message, no index) and the duplicates dropped are one note on the array.
    ``replace_by``: elements are objects; a later one with the same value at this key replaces
    the earlier, in its place (noted as a ``duplicate`` fix-up)."""

    type = "list"

    def __init__(self, item: Field, *, min_items: int | None = None, max_items: int | None = None,
                 unique: bool = False, whole: bool = False, replace_by: str | None = None, **common):
        super().__init__(**common)
        self.item, self.min_items, self.max_items, self.unique = item, min_items, max_items, unique
        self.whole, self.replace_by = whole, replace_by

    def _convert(self, lenient, context):
        read_item = self.item.compile(lenient, context)
        low, high, unique, whole, replace_by = self.min_items, self.max_items, self.unique, self.whole, self.replace_by
        coerce = _array_coercion(self, lenient, objects=False)
        drop, duplicate, indexed = lenient.fix("drop", self), lenient.fix("duplicate", self), lenient.index_item_notes
        refusal = lenient.refusal

        def convert(value, prefix, name):
            items = value if value.__class__ is list else coerce(value, prefix, name)
            if high is not None and len(items) > high:
                raise refusal("too_many", self, name, value, limit=high, count=len(items))
            out = []
            dropped = False
            places: dict = {}  # replace_by: an element's key -> its place in out
            for i, item in enumerate(items):
                label = f"{name}[{i}]" if indexed else name
                try:
                    used = read_item(item, prefix, label)
                except Refused as exc:
                    if whole:
                        raise refusal("type", self, name, value) from None
                    if drop is None:
                        raise Refused(exc.reason, exc.message, f"[{i}]{exc.where}", exc.problems) from None
                    drop.note(prefix + label, item, None, why=exc.message)
                    continue
                if used is ABSENT:
                    continue
                if replace_by is not None:
                    place = places.get(used[replace_by])
                    if place is not None:
                        duplicate.note(prefix + label, item, used)
                        out[place] = used
                        continue
                    places[used[replace_by]] = len(out)
                elif unique and used in out:
                    if whole:
                        dropped = True
                    else:
                        duplicate.note(prefix + label, item, None)
                    continue
                out.append(used)
            if low is not None and len(out) < low:
                raise refusal("too_few", self, name, value, limit=low, count=len(out))
            if dropped:
                duplicate.note(prefix + name, value, out)
            return out

        return convert

    def _schema(self, ref):
        out: dict = {"type": "array", "items": self.item.json_schema(ref)}
        if self.min_items is not None:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        return out

    def fake_value(self, faker):
        value = self.item.fake_value(faker) if self.fake is None else super().fake_value(faker)
        return value if value is ABSENT or isinstance(value, list) else [value]


class Records(Field):
    """An array of objects of ``shape``, each read by the caller with ``shape.read`` (one bad
    object fails alone: the vendor reports it by its index). The array itself is checked here:
    its type and ``min_items`` / ``max_items``."""

    type = "records"

    def __init__(self, shape: Shape, *, min_items: int | None = None, max_items: int | None = None, **common):
        super().__init__(**common)
        self.shape, self.min_items, self.max_items = shape, min_items, max_items

    def _convert(self, lenient, context):
        low, high, refusal = self.min_items, self.max_items, lenient.refusal
        coerce = _array_coercion(self, lenient, objects=True)

        def convert(value, prefix, name):
            items = value if value.__class__ is list else coerce(value, prefix, name)
            if high is not None and len(items) > high:
                raise refusal("too_many", self, name, value, limit=high, count=len(items))
            if low is not None and len(items) < low:
                raise refusal("too_few", self, name, value, limit=low, count=len(items))
            return items

        return convert

    def _schema(self, ref):
        out: dict = {"type": "array", "items": ref(self.shape)}
        if self.min_items is not None:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        return out


def _array_coercion(owner: Field, lenient: Leniency, *, objects: bool) -> Callable:
    """What an array field does with a value that is not an array: wrap or split it, noted
    (``wrap`` / ``split``), or refuse it."""
    wrap, split, refusal = lenient.fix("wrap", owner), lenient.fix("split", owner), lenient.refusal

    def coerce(value, prefix, name):
        cls = value.__class__
        if objects:
            if cls is dict and wrap is not None:
                wrap.note(prefix + name, value, [value], what="object")
                return [value]
        elif cls is str and split is not None and "," in value:
            parts = [part.strip() for part in value.split(",")]
            split.note(prefix + name, value, parts)
            return parts
        elif wrap is not None and (cls is str or cls is int or cls is float):
            wrap.note(prefix + name, value, [value], what="string" if cls is str else "value")
            return [value]
        raise refusal("type", owner, name, value)

    return coerce


class Nested(Field):
    """An object read with its own ``shape`` (its leniency, its problems prefixed by the path).
    With ``empty="absent"``, an object that reads to no value at all is not sent. With
    ``deferred=True`` only its type is checked here: the model reads it with ``shape`` itself
    (an object whose reading needs the account, such as a contact inside a request)."""

    type = "object"

    def __init__(self, shape: Shape, *, deferred: bool = False, **common):
        super().__init__(**common)
        self.shape, self.deferred = shape, deferred

    def _convert(self, lenient, context):
        refusal, empty = lenient.refusal, self.empty
        if self.deferred:
            def deferred(value, prefix, name):
                if value.__class__ is not dict:
                    raise refusal("type", self, name, value)
                return value

            return deferred
        shape = self.shape.bind(**context) if context else self.shape
        empty_fix = lenient.fix("empty", self) if empty == "absent" else None

        def convert(value, prefix, name):
            if value.__class__ is not dict:
                raise refusal("type", self, name, value)
            values, problems = shape.read(value, f"{prefix}{name}.")
            if problems:
                raise Refused(problems[0].reason, problems[0].message, problems=problems)
            if empty_fix is not None and all(v is None for v in values.values()):
                empty_fix.note(prefix + name, value, None)
                return ABSENT
            return values

        return convert

    def _schema(self, ref):
        return ref(self.shape)

    def json_schema(self, ref):
        return ref(self.shape)  # a reference stands alone in OpenAPI 3.0

    def fake_value(self, faker):
        return self.shape.fake(faker) if self.fake is None else super().fake_value(faker)


class Ignored(Field):
    """A key the vendor documents but does not take from a request (read-only, set by the
    vendor): always left out, with ``note`` (a :class:`Fix`) when sent."""

    def __init__(self, fix: Fix, **common):
        super().__init__(nullable=True, **common)
        self.fix = fix

    def compile(self, lenient, context):
        fix = self.fix

        def read(value, prefix, name):
            fix.note(prefix + name, value, None)
            return ABSENT

        return read

    def json_schema(self, ref):
        return {"readOnly": True, **({"description": self.doc} if self.doc else {})}


# -- shapes ---------------------------------------------------------------------------------

def _field_of(path: str) -> str:
    """The field a problem's path starts with: ``tags`` of ``tags[1]``, ``a`` of ``a.b``."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


class Shape:
    """A payload: named fields read under one :class:`Leniency`.

    ``aliases`` maps another key a client may send to the field it means (noted as ``alias``);
    ``ordered``: whatever the order sent, unknown keys are noted first, then the fields are read
    in their declared order, and the values and problems come in that order (no aliases).
    """

    def __init__(self, name: str, fields: Mapping[str, Field], lenient: Leniency | None = None, *, doc: str = "",
                 aliases: Mapping[str, str] | None = None, context: Mapping[str, Any] | None = None,
                 ordered: bool = False):
        self.name, self.doc, self.ordered = name, doc, ordered
        if ordered and aliases:
            raise ValueError("an ordered shape reads its fields in their declared order: it takes no aliases")
        self.fields: dict[str, Field] = dict(fields)
        self.lenient = lenient if lenient is not None else Leniency()
        self.aliases = dict(aliases or {})
        self.context = dict(context or {})
        self.readers: dict[str, Reader] = {key: f.compile(self.lenient, self.context) for key, f in self.fields.items()}
        """Field name -> compiled reader, for a model that reads field by field."""
        self.defaults = {key: f.default for key, f in self.fields.items() if f.default is not ABSENT}
        self.required = tuple(key for key, f in self.fields.items() if f.required)
        self._unknown = self.lenient.fix("unknown")
        self._alias = self.lenient.fix("alias")
        self._ignore = self.lenient.fix("ignore")
        self._bound: dict[tuple, Shape] = {}

    def __repr__(self) -> str:
        return f"Shape({self.name})"

    def bind(self, **context) -> Shape:
        """This shape with readers compiled for ``context`` (``region="FR"``: a phone number's
        default region); one compiled copy per context."""
        key = tuple(sorted(context.items()))
        shape = self._bound.get(key)
        if shape is None:
            shape = self._bound[key] = Shape(self.name, self.fields, self.lenient, doc=self.doc,
                                              aliases=self.aliases, context={**self.context, **context},
                                              ordered=self.ordered)
        return shape

    def extend(self, more: Mapping[str, Field], name: str | None = None) -> Shape:
        """This shape with more fields (an account's custom columns)."""
        return Shape(name or self.name, {**self.fields, **more}, self.lenient, doc=self.doc, aliases=self.aliases,
                     context=self.context, ordered=self.ordered)

    def read(self, body: Mapping[str, Any], prefix: str = "") -> tuple[dict, list[Problem]]:
        """(values, problems) of ``body``: each declared key read by its field, defaults filled
        in, unknown keys as the leniency says. Nothing raises: the caller answers the problems."""
        values = dict(self.defaults) if self.defaults else {}
        problems: list[Problem] = []
        readers = self.readers
        pairs = body.items()
        if self.ordered:  # unknown keys first, then the declared ones in their order
            for key, value in pairs:
                if key not in readers:
                    self._unknown_key(key, value, prefix, values, problems)
            pairs = [(key, body[key]) for key in self.fields if key in body]
        for key, value in pairs:
            read = readers.get(key)
            if read is None:
                target = self.aliases.get(key)
                if target is None:
                    self._unknown_key(key, value, prefix, values, problems)
                    continue
                self._alias.note(prefix + key, key, target, alias=key, target=target)
                key, read = target, readers[target]
            try:
                used = read(value, prefix, key)
            except Refused as exc:
                if exc.problems:
                    problems.extend(exc.problems)
                elif self._ignore is not None and exc.reason not in COUNT_REASONS and not self.fields[key].required:
                    self._ignore.note(prefix + key, value, self.fields[key].default if key in self.defaults else None,
                                      why=exc.message)
                else:
                    problems.append(Problem(prefix + key + exc.where, exc.reason, exc.message))
                continue
            if used is not ABSENT:
                values[key] = used
        for key in self.required:
            if key not in values and not any(p.path.startswith(prefix + key) for p in problems):
                exc = self.lenient.refusal("required", self.fields[key], key, None)
                problems.append(Problem(prefix + key, "required", exc.message))
        if self.ordered:  # the declared order (defaults included), then any kept unknown key
            values = {**{key: values[key] for key in self.fields if key in values}, **values}
            if len(problems) > 1:
                rank = {key: i for i, key in enumerate(self.fields)}
                problems.sort(key=lambda p: rank.get(_field_of(p.path[len(prefix):]), len(rank)))
        return values, problems

    def _unknown_key(self, key, value, prefix, values, problems) -> None:
        unknown = self._unknown
        if unknown == KEEP:
            values[key] = value
        elif unknown is None:
            problems.append(Problem(prefix + key, "unknown", self.lenient.refusal("unknown", None, key, value).message))
        else:
            unknown.note(prefix + key, value, None)

    def json_schema(self, ref: Callable[[Shape], dict]) -> dict:
        """The shape's OpenAPI 3.0 schema; ``ref(shape)`` gives a nested shape's reference."""
        out: dict = {"type": "object",
                     "properties": {key: f.json_schema(ref) for key, f in self.fields.items()}}
        if self.required:
            out["required"] = list(self.required)
        if self.doc:
            out["description"] = self.doc
        return out

    def fake(self, faker, keys=None) -> dict:
        """A valid payload made by Faker: every field with a ``fake`` (or only ``keys``, in
        their order), each value already in the form the vendor stores (no note when sent)."""
        out = {}
        for key in (self.fields if keys is None else keys):
            value = self.fields[key].fake_value(faker)
            if value is not ABSENT:
                out[key] = value
        return out

