"""Phone numbers as E.164 text: the phonenumbers library's reading, with a short path.

Most numbers arrive already as ``+<digits>``; for them :func:`normalise_phone` tests the
national number against the library's metadata directly instead of calling its general
parser (a fifth of the cost). Agreement with the parser is tested number by number.
"""
from __future__ import annotations

import re
from functools import cache, lru_cache


class NotAPhoneNumber(ValueError):
    """Text that is no valid phone number; the message says why (``not a phone number`` ...)."""


_PHONE_NOISE = re.compile(r"[\s.\-()\[\]]")  # spaces, dots, dashes, brackets
_PHONE_SHAPE = re.compile(r"\+?[0-9]{3,20}")


@lru_cache(maxsize=16384)
def normalise_phone(text: str, country: str) -> str:
    """``text`` as an E.164 number; a number without ``+`` is read in ``country``.

    Spaces, dots, dashes and brackets are dropped and a leading ``00`` becomes ``+``;
    the rest is the phonenumbers library's reading. Raises :class:`NotAPhoneNumber`.
    """
    digits = text[1:]
    if text[:1] == "+" and digits.isdigit() and digits.isascii() and 3 <= len(digits) <= 20:
        compact = text  # already +<digits>: nothing to strip
    else:
        compact = _PHONE_NOISE.sub("", text)
        if compact.startswith("00"):
            compact = "+" + compact[2:]
        if not _PHONE_SHAPE.fullmatch(compact):
            raise NotAPhoneNumber("not a phone number")
    international = compact[0] == "+"
    if international and _valid_as_written(compact):
        return compact
    import phonenumbers  # imported on first use: start-up stays light

    try:
        parsed = phonenumbers.parse(compact, None if international else country)
    except phonenumbers.NumberParseException:
        raise NotAPhoneNumber("not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise NotAPhoneNumber("not a valid phone number" + ("" if international else f" in {country}"))
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
