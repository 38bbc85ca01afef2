"""The payload vocabulary on its own: each reader, each fix-up and its note, what empty means,
the wording of refusals, and the OpenAPI schema and fakes a declaration gives."""
from __future__ import annotations

import pytest

from emulator.core.journal import collect_notes
from emulator.core.payload import (
    ABSENT,
    KEEP,
    Boolean,
    Choice,
    Date,
    DateTime,
    Email,
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
    Url,
)
from emulator.seeding import faker_for

STRICT = Leniency()
LENIENT = Leniency(number_to_text="cast", boolean_to_text="cast", text_to_boolean="cast", number_to_boolean="cast",
                   text_to_number="unverified", trim="unverified", cut="cast", wrap="cast", split="cast",
                   ignore=Fix("ignored", "{why}: ignored"), drop=Fix("ignored", "{why}: element dropped"),
                   boolean_words={"yes": True, "no": False})


def read(field, value, lenient=STRICT, **context):
    """(used, notes as (field, sent, used, rule, kind)) of one value read by ``field``."""
    shape = Shape("T", {"f": field}, lenient, context=context)
    with collect_notes() as notes:
        used = shape.readers["f"](value, "body.", "f")
    return used, [(n["field"], n["sent"], n["used"], n["rule"], n["kind"]) for n in notes]


def refusal(field, value, lenient=STRICT, **context) -> Refused:
    with pytest.raises(Refused) as err:
        read(field, value, lenient, **context)
    return err.value


# -- text -------------------------------------------------------------------------------------

def test_text_as_sent_gives_no_note():
    assert read(Text(max_length=5), "Ann") == ("Ann", [])
    assert read(Text(), " padded ") == (" padded ", [])   # no trim fix-up: kept as sent


@pytest.mark.parametrize("value, used, rule", [
    (42, "42", "number cast to string"), (4.5, "4.5", "number cast to string"), (7.0, "7", "number cast to string"),
    (True, "true", "boolean cast to string"),
])
def test_text_casts_under_a_lenient_vendor(value, used, rule):
    assert read(Text(), value, LENIENT) == (used, [("body.f", value, used, rule, "cast")])


@pytest.mark.parametrize("value", [42, True, [], {}, float("inf")])
def test_text_refuses_other_types_under_a_strict_vendor(value):
    exc = refusal(Text(), value)
    assert exc.reason == "type" and exc.message.startswith("must be a string, got ")


def test_trim_cut_and_case_are_noted_in_the_order_made():
    used, notes = read(Text(max_length=3, lower=True), " ABCD ", LENIENT)
    assert used == "abc"
    assert [n[1:4] for n in notes] == [(" ABCD ", "ABCD", "surrounding whitespace trimmed"),
                                       ("ABCD", "ABC", "cut to 3 characters"), ("ABC", "abc", "lower-cased")]
    assert [n[4] for n in notes] == ["unverified", "cast", "cast"]


def test_a_refused_value_leaves_no_note_of_the_fix_ups_before_the_refusal():
    with collect_notes() as notes, pytest.raises(Refused) as err:
        Shape("T", {"f": Text(max_length=2)}, STRICT.but(trim="unverified")).readers["f"](" abc ", "", "f")
    assert err.value.reason == "too_long" and err.value.message == "longer than 2 characters (3)"
    assert notes == []


def test_choices_pattern_and_email():
    assert refusal(Text(choices=("A", "P")), "X").message == "must be one of A, P, got 'X'"
    assert refusal(Text(pattern=r"\d+"), "12a").reason == "choice"
    assert read(Email(), "Ann@X.io") == ("ann@x.io", [("body.f", "Ann@X.io", "ann@x.io", "lower-cased", "cast")])
    assert refusal(Email(), "not-an-address").reason == "email"


# -- null and empty ---------------------------------------------------------------------------

def test_null_is_a_value_a_default_or_a_refusal():
    assert read(Text(nullable=True), None) == (None, [])
    assert refusal(Text(), None).reason == "null"
    lenient = STRICT.but(null=Fix("unverified", "null read as the default"))
    assert read(Boolean(default=True), None, lenient) == (True, [("body.f", None, True, "null read as the default",
                                                                  "unverified")])


@pytest.mark.parametrize("empty, used, rule", [
    ("absent", ABSENT, "empty value read as not sent"), ("null", None, "empty string read as no value")])
def test_what_empty_means(empty, used, rule):
    assert read(Date(empty=empty), "  ") == (used, [("body.f", "  ", None, rule, "unverified")])


def test_empty_refused_or_read_as_any_value():
    assert refusal(Text(empty="refuse"), " ").message == "must not be empty"
    assert read(Text(), "") == ("", [])
    assert refusal(Boolean(), "").reason == "type"


# -- numbers, booleans, dates, choices ------------------------------------------------------------

def test_booleans():
    assert read(Boolean(), True) == (True, [])
    assert read(Boolean(), " Yes ", LENIENT) == (True, [("body.f", " Yes ", True, "text cast to boolean", "cast")])
    assert read(Boolean(), 0, LENIENT) == (False, [("body.f", 0, False, "number cast to boolean", "cast")])
    assert refusal(Boolean(), "yes").message == "must be a boolean, got string"
    assert refusal(Boolean(), 2, LENIENT).reason == "type"


def test_numbers():
    assert read(Number(), 1.5) == (1.5, [])
    assert read(Number(integer=True), " 12 ", LENIENT) == (12, [("body.f", " 12 ", 12, "text cast to number",
                                                                 "unverified")])
    assert read(Number(integer=True), 3.0)[0] == 3
    assert refusal(Number(), "12").message == "must be a number, got string"
    assert refusal(Number(integer=True), 1.5).reason == "integer"
    assert refusal(Number(minimum=-90, maximum=90), 91).message == "must be between -90 and 90, got 91"
    assert refusal(Number(), float("nan")).reason == "finite"
    assert refusal(Number(), True).reason == "type"


def test_dates_and_date_times():
    assert read(Date(), "1990-01-05") == ("1990-01-05", [])
    assert refusal(Date(), "1990-1-5").message == "must be a date YYYY-MM-DD (at most 10 characters), got '1990-1-5'"
    assert refusal(Date(), "1990-02-30").message == "is not a calendar date: '1990-02-30'"
    assert refusal(Date(), 19900105).message == "must be a date YYYY-MM-DD, got number"
    assert read(DateTime(), "2026-01-02T03:04:05Z") == ("2026-01-02T03:04:05Z", [])
    assert read(DateTime(), "2026-01-02T05:04:05+02:00") == (
        "2026-01-02T03:04:05Z", [("body.f", "2026-01-02T05:04:05+02:00", "2026-01-02T03:04:05Z",
                                  "stored as UTC ISO 8601", "cast")])
    assert refusal(DateTime(), "yesterday").reason == "datetime"


def test_choice_compares_as_sent():
    assert read(Choice("A", "P"), "A") == ("A", [])
    assert refusal(Choice("A", "P"), ["A"]).message == "must be one of A, P, got ['A']"
    assert refusal(Choice("A", "P"), " A").reason == "choice"


# -- phones -------------------------------------------------------------------------------------

def test_e164_phones_read_national_numbers_in_the_bound_region():
    rule = "phone number formatted to E.164"
    assert read(Phone(), "+33612345678") == ("+33612345678", [])
    assert read(Phone(), "06 12 34 56 78", region="FR") == ("+33612345678", [("body.f", "06 12 34 56 78",
                                                                              "+33612345678", rule, "cast")])
    assert read(Phone(), 447400123456, region="GB")[0] == "+447400123456"
    assert refusal(Phone(), "447400123456").message == "not a phone number"   # no region: + needed
    assert refusal(Phone(), "0612345678", region="GB").message == "not a valid phone number in GB"
    assert refusal(Phone(), "abc").message == "not a phone number"
    assert refusal(Phone(), 6.1e8).reason == "type"


def test_digit_phones():
    assert read(Phone(form="digits", min_digits=5), "+380 97 123-45-67") == (
        "380971234567", [("body.f", "+380 97 123-45-67", "380971234567", "phone number kept as its digits only",
                          "cast")])
    assert read(Phone(form="digits"), "+380971234567") == ("380971234567", [])
    assert refusal(Phone(form="digits", min_digits=5), "123").message == "must have 5 to 15 digits"


# -- arrays and objects ----------------------------------------------------------------------------

def test_lists_wrap_split_and_drop_under_a_lenient_vendor():
    names = List(Text(empty="refuse"), max_items=3)
    assert read(names, "a, b", LENIENT) == (["a", "b"], [("body.f", "a, b", ["a", "b"],
                                                          "comma-separated string split into an array", "cast")])
    assert read(names, "solo", LENIENT)[0] == ["solo"]
    used, notes = read(names, ["a", {}, ""], LENIENT)
    assert used == ["a"]
    assert [(n[0], n[3]) for n in notes] == [("body.f[1]", "must be a string, got object: element dropped"),
                                             ("body.f[2]", "must not be empty: element dropped")]
    assert refusal(names, ["a"] * 4, LENIENT).message == "must hold at most 3 element(s), got 4"


def test_lists_refuse_a_bad_element_by_its_index_under_a_strict_vendor():
    exc = refusal(List(Text(), min_items=1), ["a", 5])
    assert (exc.reason, exc.where, exc.message) == ("type", "[1]", "must be a string, got number")
    assert refusal(List(Text(), min_items=1), []).reason == "too_few"
    assert refusal(List(Text()), "a").reason == "type"


def test_unique_lists_and_unindexed_element_notes():
    lenient = LENIENT.but(index_item_notes=False)
    used, notes = read(List(Text(), unique=True), ["a", "a", "b"], lenient)
    assert used == ["a", "b"] and notes == [("body.f", "a", None, "duplicate dropped", "ignored")]

    query = Leniency(text_to_number=KEEP)  # a query string's values are text: read without a note
    assert read(Number(integer=True, minimum=1), "12", query) == (12, [])
    assert refusal(Number(integer=True), "x", query).reason == "type"


def test_scalars_are_kept_as_sent():
    for value in ("a", " a ", 0, 1.5, True, False):
        assert read(Scalar(), value, LENIENT) == (value, [])
    assert read(Scalar(nullable=True), None) == (None, [])
    for value in ([], {}, float("inf"), None):
        assert refusal(Scalar(), value).message.startswith(
            "must be a string, number or boolean, got" if value is not None else "must not be null")
    assert refusal(Scalar(messages={"type": "must be a scalar, got {pytype}"}), {}).message == \
        "must be a scalar, got dict"  # the Python type name, for a vendor whose messages name it
    assert Scalar(doc="d").json_schema(None) == {
        "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}], "description": "d"}


def test_records_are_checked_as_an_array_and_read_by_the_caller():
    contact = Shape("Contact", {"email": Email(required=True)})
    records = Records(contact, min_items=1, max_items=2)
    assert read(records, [{"email": "A@x.io"}, 3]) == ([{"email": "A@x.io"}, 3], [])
    assert read(records, {"email": "a@x.io"}, LENIENT)[1][0][3] == "single object wrapped in an array"
    assert refusal(records, [{}] * 3).reason == "too_many"
    assert refusal(records, []).reason == "too_few"


def test_nested_objects_report_their_problems_by_path():
    address = Shape("Address", {"town": Text(max_length=3, nullable=True), "postcode": Text(nullable=True)},
                    STRICT.but(trim="unverified"))
    contact = Shape("Contact", {"address": Nested(address, empty="absent")})
    values, problems = contact.read({"address": {"town": "Paris"}})
    assert values == {} and problems == [Problem("address.town", "too_long", "longer than 3 characters (5)")]
    with collect_notes() as notes:
        values, problems = contact.read({"address": {"town": " Aa ", "zip": 1}})
    assert values == {"address": {"town": "Aa"}} and problems == []
    assert [n["field"] for n in notes] == ["address.town", "address.zip"]
    with collect_notes() as notes:
        assert contact.read({"address": {"town": None}}) == ({}, [])
    assert notes[0]["rule"] == "empty value read as not sent"
    # deferred: only an object is checked; the caller reads it with the shape
    later = Shape("Later", {"address": Nested(address, deferred=True)})
    assert later.read({"address": {"town": "Paris", "x": 1}}) == ({"address": {"town": "Paris", "x": 1}}, [])
    assert later.read({"address": "Paris"})[1] == [Problem("address", "type", "must be an object, got string")]
    assert later.fields["address"].json_schema(lambda s: {"$ref": s.name}) == {"$ref": "Address"}


# -- shapes ---------------------------------------------------------------------------------------

def test_a_shape_fills_defaults_notes_unknown_keys_and_lists_every_problem():
    shape = Shape("Call", {"items": List(Text(), required=True, min_items=1), "flag": Boolean(default=False),
                           "secret": Ignored(Fix("ignored", "set by the vendor"))}, STRICT)
    with collect_notes() as notes:
        values, problems = shape.read({"flag": "yes", "extra": 1, "secret": "x"})
    assert values == {"flag": False}
    assert [str(p) for p in problems] == ["flag: must be a boolean, got string", "items: is required"]
    assert [(n["field"], n["rule"], n["kind"]) for n in notes] == [("extra", "unknown key ignored", "ignored"),
                                                                   ("secret", "set by the vendor", "ignored")]


def test_a_lenient_shape_ignores_what_it_cannot_read_unless_required():
    shape = Shape("Call", {"flag": Boolean(default=False), "name": Text(required=True)}, LENIENT)
    with collect_notes() as notes:
        values, problems = shape.read({"flag": {"x": 1}, "name": {"x": 1}})
    assert values == {"flag": False}
    assert [str(p) for p in problems] == ["name: must be a string, got object"]
    assert [(n["field"], n["used"], n["rule"]) for n in notes] == [("flag", False,
                                                                    "must be a boolean, got object: ignored")]


def test_unknown_keys_kept_or_refused_and_aliases_noted():
    keep = Shape("Custom", {"email": Email()}, STRICT.but(unknown=KEEP))
    assert keep.read({"email": "a@x.io", "vip": True}) == ({"email": "a@x.io", "vip": True}, [])
    refuse = Shape("Closed", {"email": Email()}, STRICT.but(unknown=None))
    assert [p.reason for p in refuse.read({"vip": True})[1]] == ["unknown"]
    aliased = Shape("Address", {"town": Text()}, aliases={"city": "town"})
    with collect_notes() as notes:
        assert aliased.read({"city": "Kyiv"}) == ({"town": "Kyiv"}, [])
    assert notes[0]["rule"] == "city read as town"


def test_wording_comes_from_the_field_then_the_leniency_then_the_defaults():
    lenient = STRICT.but(messages={"type": "not {expected}"}, nouns={"boolean": "a flag"})
    assert refusal(Boolean(), "x", lenient).message == "not a flag"
    assert refusal(Boolean(messages={"type": "{name}: yes or no"}), "x", lenient).message == "f: yes or no"
    assert read(Text(max_length=1, rules={"cut": "shortened"}), "ab", LENIENT)[1][0][3] == "shortened"
    with pytest.raises(TypeError, match="unknown leniency setting"):
        Leniency(trimm="cast")
    with pytest.raises(ValueError, match="note kind"):
        Fix("fixed")


def test_binding_compiles_a_shape_once_per_context():
    shape = Shape("Contact", {"phone": Phone()})
    assert shape.bind(region="FR") is shape.bind(region="FR")
    assert shape.bind(region="FR").read({"phone": "0612345678"})[0] == {"phone": "+33612345678"}
    assert shape.bind(region="GB").read({"phone": "07400 123456"})[0] == {"phone": "+447400123456"}
    wider = shape.extend({"vip": Boolean()}, name="Wider")
    assert list(wider.fields) == ["phone", "vip"] and wider.name == "Wider"


# -- documentation and fakes ---------------------------------------------------------------------

def test_json_schema_of_a_declaration():
    inner = Shape("Inner", {"code": Choice("A", "P")})
    shape = Shape("Outer", {
        "name": Text(max_length=30, required=True, doc="a name"), "flags": List(Boolean(), max_items=2, default=()),
        "when": Date(nullable=True), "count": Number(integer=True, minimum=0), "rows": Records(inner, min_items=1),
        "inner": Nested(inner), "id": Ignored(Fix("ignored", "read only"), doc="set by the vendor")}, doc="outer")
    refs = []
    schema = shape.json_schema(lambda s: refs.append(s.name) or {"$ref": s.name})
    assert schema == {"type": "object", "required": ["name"], "description": "outer", "properties": {
        "name": {"type": "string", "maxLength": 30, "description": "a name"},
        "flags": {"type": "array", "items": {"type": "boolean"}, "maxItems": 2, "default": []},
        "when": {"type": "string", "format": "date", "nullable": True},
        "count": {"type": "integer", "minimum": 0},
        "rows": {"type": "array", "items": {"$ref": "Inner"}, "minItems": 1},
        "inner": {"$ref": "Inner"},
        "id": {"readOnly": True, "description": "set by the vendor"}}}
    assert refs == ["Inner", "Inner"]


@pytest.mark.parametrize("seed", range(3))
def test_fakes_are_read_back_without_a_note(seed):
    fake = faker_for(seed, "test", "fakes")
    shape = Shape("Fake", {
        "name": Text(max_length=5, fake="first_name"), "email": Email(fake="unique.email"),
        "phone": Phone(fake=lambda f: f.numerify("+3361#######")), "tags": List(Text(), fake="word"),
        "vip": Boolean(fake="boolean"), "when": DateTime(fake="date_time"), "none": Text()},
        STRICT.but(trim="unverified"))
    payload = shape.fake(fake)
    assert set(payload) == {"name", "email", "phone", "tags", "vip", "when"} and len(payload["name"]) <= 5
    with collect_notes() as notes:
        assert shape.read(payload) == (payload, [])
    assert notes == []
    assert list(shape.fake(fake, ["vip", "name"])) == ["vip", "name"]


# -- a field's own leniency, null as not sent, one note per value ---------------------------------

def test_a_field_overrides_its_shapes_leniency_for_itself():
    assert read(Text(), 42, LENIENT)[0] == "42"
    exc = refusal(Text(fixes={"number_to_text": None}), 42, LENIENT)
    assert (exc.reason, exc.message) == ("type", "must be a string, got number")


def test_null_absent_leaves_the_default_without_a_note():
    shape = Shape("T", {"flag": Boolean(default=False, null_absent=True)}, LENIENT.but(null="unverified"))
    with collect_notes() as notes:
        assert shape.read({"flag": None}) == ({"flag": False}, [])
    assert notes == []
    assert shape.json_schema(ref=None)["properties"]["flag"]["nullable"] is True


def test_one_note_joins_the_fix_ups_of_a_value():
    lenient = LENIENT.but(one_note=True)
    assert read(Email(), " Ann@X.io", lenient) == (
        "ann@x.io", [("body.f", " Ann@X.io", "ann@x.io", "surrounding whitespace trimmed, lower-cased", "unverified")])
    assert read(Text(upper=True, rules={"case": "upper-cased (ISO 639-1)"}), "es", lenient)[1][0][3] == \
        "upper-cased (ISO 639-1)"
    assert read(Text(), 42, lenient)[1] == [("body.f", 42, "42", "number cast to string", "cast")]
    exc = refusal(Text(pattern="[a-z]{2}"), 123, lenient)
    assert exc.reason == "choice"


def test_choices_are_compared_in_the_stored_case():
    assert read(Text(choices=("sms", "push"), lower=True), "SMS") == (
        "sms", [("body.f", "SMS", "sms", "lower-cased", "cast")])
    assert refusal(Text(choices=("sms",), lower=True), "fax").reason == "choice"


def test_a_date_time_without_zone_may_have_its_own_wording():
    field = DateTime(rules={"zone": "no time zone: read as UTC, stored as UTC ISO 8601"})
    assert read(field, "1990-01-01", LENIENT.but(reformat="unverified"))[1][0][3:] == (
        "no time zone: read as UTC, stored as UTC ISO 8601", "unverified")
    assert read(field, "1990-01-01T02:00:00+02:00")[1][0][3] == "stored as UTC ISO 8601"


def test_urls():
    assert read(Url(), "https://hooks.example.com/in") == ("https://hooks.example.com/in", [])
    for bad in ("ftp://x.io", "http://", "http://[::1", "hooks.example.com"):
        assert refusal(Url(), bad).reason == "url", bad
    assert Url().json_schema(ref=None) == {"type": "string", "format": "uri"}


def test_digit_phones_with_prefixes_no_leading_zero_and_empty():
    code = Phone(form="digits", min_digits=1, max_digits=3, separators=r"[\s\-.()/]", prefixes=("+", "00"),
                 leading_zero=False, empty="absent")
    assert read(code, "+44") == ("44", [])
    assert read(code, "0044")[0] == "44"
    assert read(code, 44) == ("44", [("body.f", 44, "44", "phone number kept as its digits only", "cast")])
    assert refusal(code, "0").reason == refusal(code, "00").reason == "phone"
    assert refusal(code, "[44]").reason == "phone"   # brackets are not separators here
    assert read(code, " - ") == (ABSENT, [("body.f", " - ", None, "empty value read as not sent", "unverified")])


def test_phone_parts_split_a_possible_international_number():
    parts = Phone(form="parts")
    assert read(parts, "+447712345678") == (("44", "7712345678"), [])
    assert read(parts, "00447712345678")[0] == read(parts, 447712345678)[0] == ("44", "7712345678")
    assert refusal(parts, "+1").reason == "phone"
    assert refusal(parts, ["+447712345678"]).reason == "type"


def test_lists_of_objects_report_nested_problems_by_path():
    item = Shape("Sub", {"list_id": Text(required=True), "subscribed": Boolean(default=True)}, STRICT, ordered=True)
    shape = Shape("T", {"subs": List(Nested(item))})
    values, problems = shape.read({"subs": [{"subscribed": False, "list_id": "a"}, {"subscribed": True}]})
    assert problems == [Problem("subs[1].list_id", "required", "is required")]
    values, _ = shape.read({"subs": [{"subscribed": False, "list_id": "a"}]})
    assert list(values["subs"][0]) == ["list_id", "subscribed"]


def test_a_whole_list_is_refused_and_deduplicated_as_one_value():
    names = List(Text(empty="refuse"), unique=True, whole=True, messages={"type": "must be an array of names"})
    assert read(names, ["a", "b", "a"], LENIENT) == (["a", "b"], [("body.f", ["a", "b", "a"], ["a", "b"],
                                                                    "duplicate dropped", "ignored")])
    exc = refusal(names, ["a", ""])
    assert (exc.where, exc.message) == ("", "must be an array of names")


def test_refusals_may_name_the_type_sent_with_its_article():
    records = Records(Shape("C", {}), messages={"type": "must be an array, got {got_a}"})
    assert refusal(records, {"a": 1}).message == "must be an array, got an object"
    assert refusal(records, "x").message == "must be an array, got a string"


def test_one_note_names_a_repeated_rule_once():
    field = Text(lower=True, rules={"trim": "lower-cased", "case": "lower-cased"})
    assert read(field, " SMS", LENIENT.but(one_note=True, case="unverified"))[1] == [
        ("body.f", " SMS", "sms", "lower-cased", "unverified")]


def test_an_ordered_shape_lists_its_problems_in_the_declared_order():
    shape = Shape("T", {"a": Text(required=True), "b": Boolean(), "c": List(Text())}, ordered=True)
    _, problems = shape.read({"c": [1], "b": "x"})
    assert [p.path for p in problems] == ["a", "b", "c[0]"]


def test_an_ordered_shape_notes_unknown_keys_first_and_reads_in_the_declared_order():
    shape = Shape("T", {"a": Text(), "b": Text()}, LENIENT, ordered=True)
    with collect_notes() as notes:
        values, _ = shape.read({"b": 2, "zz": 1, "a": 1})
    assert list(values) == ["a", "b"] and [n["field"] for n in notes] == ["zz", "a", "b"]
    with pytest.raises(ValueError):
        Shape("T", {"a": Text()}, ordered=True, aliases={"x": "a"})


def test_a_later_element_with_the_same_key_replaces_the_earlier_in_its_place():
    item = Shape("Channel", {"channel": Text(required=True), "on": Boolean(default=False)}, STRICT, ordered=True)
    channels = List(Nested(item), replace_by="channel", rules={"duplicate": "given twice: the last wins"})
    used, notes = read(channels, [{"channel": "sms"}, {"channel": "push"}, {"channel": "sms", "on": True}], LENIENT)
    assert used == [{"channel": "sms", "on": True}, {"channel": "push", "on": False}]
    assert notes == [("body.f[2]", {"channel": "sms", "on": True}, {"channel": "sms", "on": True},
                      "given twice: the last wins", "ignored")]
