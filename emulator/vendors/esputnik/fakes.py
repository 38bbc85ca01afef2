"""eSputnik fake payloads: valid request bodies for the ``fake_contact`` fixture and the seeding."""
from __future__ import annotations

from . import schemas

CONTACT_KEYS = ("firstName", "lastName", "channels", "address")
"""The keys of a fake contact (an email and an sms channel, a postal address)."""


def fake_contact(fake) -> dict:
    """One valid ``POST /contact`` body, from the fakes the contact's fields declare."""
    return schemas.CONTACT.fake(fake, CONTACT_KEYS)


def fake_bulk(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /contacts`` body with ``n`` contacts (default 3) and any options."""
    return {"contacts": [fake_contact(fake) for _ in range(n or 3)], "dedupeOn": "email", **options}


def fake_subscribe(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /contact/subscribe`` body."""
    return {"contact": fake_contact(fake), "groups": ["Subscribers"], **options}


def fake_add(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /contact`` body."""
    return {**fake_contact(fake), **options}


def fake_orders(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /orders`` body with ``n`` orders (default 1), each with one or two items."""
    orders = []
    for _ in range(n or 1):
        items = []
        for _ in range(fake.random_int(1, 2)):
            quantity, cost = fake.random_int(1, 3), fake.random_int(100, 9999) / 100
            items.append({"externalItemId": fake.bothify("SKU-####"), "name": fake.word().capitalize(),
                          "category": fake.word(), "quantity": quantity, "cost": cost,
                          "url": f"https://shop.example.com/p/{fake.slug()}",
                          "imageUrl": f"https://shop.example.com/img/{fake.slug()}.jpg"})
        orders.append({"externalOrderId": fake.bothify("ORD-#######"), "externalCustomerId": fake.bothify("cust-#####"),
                       "totalCost": round(sum(i["quantity"] * i["cost"] for i in items), 2),
                       "status": fake.random_element(schemas.ORDER_STATUSES), "date": fake.date_time().isoformat() + "+00:00",
                       "currency": "EUR", "email": fake.unique.email(),
                       "phone": "380" + fake.numerify("#########"), "firstName": schemas.CONTACT.fields["firstName"].fake_value(fake),
                       "lastName": schemas.CONTACT.fields["lastName"].fake_value(fake), "items": items})
    return {"orders": orders, **options}


def fake_event(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /event`` body (``eventTypeKey`` and ``keyValue`` may be given as options)."""
    email = fake.unique.email()
    return {"eventTypeKey": "customEvent", "keyValue": email,
            "params": [{"name": "email", "value": email}, {"name": "source", "value": fake.word()}], **options}


def fake_unsubscribed(fake, n: int | None = None, **options) -> dict:
    """A valid ``POST /emails/unsubscribed/add`` (or ``/delete``) body with ``n`` addresses (default 2)."""
    return {"emails": [fake.unique.email() for _ in range(n or 2)], **options}
