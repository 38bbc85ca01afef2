"""Pushtech fake payloads, made from the declarations of :mod:`.schemas` (valid, no note).

A contact's phone, country and language come from one country row, so they agree.
"""
from __future__ import annotations

from .schemas import CONTACT

_FAKE_COUNTRIES = (("44", "GB", "EN", "7700######"), ("34", "ES", "ES", "6########"),
                   ("33", "FR", "FR", "6########"), ("49", "DE", "DE", "151########"))


def fake_contact(fake) -> dict:
    """One valid contact as ``POST /contact`` takes it (valid email, mobile number, tags)."""
    code, country, language, pattern = fake.random_element(_FAKE_COUNTRIES)
    person = CONTACT.fake(fake, ("name_first", "name_last", "email", "user_id"))
    number = fake.numerify(pattern)
    rest = CONTACT.fake(fake, ("city", "gender", "born_date", "tags", "gdpr_accept_terms", "gdpr_marketing_consent"))
    return {"user_id": person.pop("user_id"), **person, "phone_countrycode": code, "phone_number": number,
            "city": rest.pop("city"), "country": country, "language": language, **rest}


def fake_create(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /contact`` body and ``options`` (``email_validation`` ...)."""
    return {**fake_contact(fake), **options}


def fake_bulk(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /contact/bulk`` body with ``n`` contacts (3 by default) and ``options``."""
    return {"contacts": [fake_contact(fake) for _ in range(n or 3)], **options}
