"""Phone number normalisation: the short path for E.164 input agrees with the library's parser."""
from __future__ import annotations

import phonenumbers
import pytest

from emulator.core import phones


def parsed_e164(text: str, country: str) -> str | None:
    """The reference: the library's parser and validity check, nothing else."""
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def example_numbers() -> list[str]:
    out = set()
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    for region in regions:
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                     phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.VOIP):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                out.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            out.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return sorted(out)


def variants(e164: str) -> list[str]:
    """The number as written, with a national prefix after the code, and a digit more or less."""
    return [e164, e164[:-1], e164 + "1", e164[:3] + "0" + e164[3:], e164[:2] + "0" + e164[2:],
            e164[:4] + "1" + e164[4:]]


def test_short_path_agrees_with_the_parser_for_every_regions_example_numbers():
    numbers = example_numbers()
    assert len(numbers) > 500
    fast = 0
    for e164 in numbers:
        for text in variants(e164):
            expected = parsed_e164(text, "FR")
            phones.normalise_phone.cache_clear()
            try:
                got = phones.normalise_phone(text, "FR")
            except phones.NotAPhoneNumber:
                got = None
            assert got == expected, text
            fast += phones._valid_as_written(text)
    assert fast > 500  # the short path is the one taken for well-formed input


@pytest.mark.parametrize("text, country, expected", [
    ("+330612345678", "FR", "+33612345678"),      # national prefix after the country code: parsed
    ("0033 6.12-34(56)78", "FR", "+33612345678"),
    ("0612345678", "FR", "+33612345678"),
    ("07400 123456", "GB", "+447400123456"),
    ("+44 (0)7400 123456", "FR", "+447400123456"),
    ("+39 06 1234 5678", "FR", "+390612345678"),  # Italian leading zero kept
    ("0612345678", "GB", None),
    ("+33612", "FR", None),
    ("+999123456789", "FR", None),
    ("12", "FR", None),
    ("+\uff13\uff13612345678", "FR", None),  # full-width digits are not digits of a number here
    ("abc", "FR", None),
    ("+33 6 12 34 56 78 ext 9", "FR", None),
])
def test_normalise_phone(text, country, expected):
    if expected is None:
        with pytest.raises(phones.NotAPhoneNumber):
            phones.normalise_phone(text, country)
    else:
        assert phones.normalise_phone(text, country) == expected


def test_short_validity_check_agrees_with_the_library_on_random_numbers():
    """Digits drawn at random after every calling code, several lengths, compared with
    ``phonenumbers.is_valid_number``: regions sharing a code (+1, +7, +44) included."""
    import random

    rng = random.Random(20261201)
    checked = valid = 0
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        prefix = str(code)
        example = (phonenumbers.example_number_for_non_geo_entity(code)
                   if phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code][0] == "001"
                   else phonenumbers.example_number(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code][0]))
        seed = str(example.national_number) if example is not None else ""
        for _ in range(60):
            length = rng.randint(4, 13)
            # half the numbers are the example with its last digits redrawn (likely valid),
            # half random digits of a random length
            start = ""
            if seed and rng.random() < 0.5:
                length = len(seed)
                start = seed[:max(1, length - rng.randint(1, 4))]
            national = start + "".join(rng.choice("0123456789") for _ in range(max(0, length - len(start))))
            if not national or national[0] == "0":
                continue
            calling_code = phones._calling_code((prefix + national)[:3])
            size, _, regions = calling_code
            assert (prefix + national)[:size] == prefix
            expected = phonenumbers.is_valid_number(
                phonenumbers.PhoneNumber(country_code=code, national_number=int(national)))
            assert phones._valid_national(national, regions) == expected, f"+{prefix} {national}"
            checked += 1
            valid += expected
    assert checked > 10_000 and valid > 5_000, (checked, valid)
