"""Octopush fake payloads, made from the declarations of :mod:`.schemas` (valid, no note)."""
from __future__ import annotations

from . import schemas


def fake_contact(fake) -> dict:
    """One valid contact as ``contact/create`` takes it in ``contacts`` (a French mobile)."""
    return schemas.CONTACT.fake(fake)


def fake_create(fake, n: int | None = None, **options) -> dict:
    """A valid ``contact/create`` body with ``n`` contacts (3 by default) and ``options``."""
    return {"contacts": [fake_contact(fake) for _ in range(n or 3)], **options}
