"""eSputnik's orders, events and unsubscribed email addresses: what a shop reports besides its
contacts (``POST /orders``, ``POST /event``, ``POST /emails/unsubscribed/add|delete``).

Rules as plain Python on one account's :class:`~.model.Backend`, like :mod:`.jobs`.
"""
from __future__ import annotations

from typing import Any

from emulator.core.journal import note
from emulator.core.payload import Refused
from emulator.core.store import collector_paused
from emulator.core.strict_json import json_type

from . import schemas
from .errors import EsputnikError
from .model import Backend, _channel, channel_value, new_contact
from .schemas import EVENT_KEY_PARAMS, MAX_EVENT_BYTES, Invalid, read_one, read_order, refused

_CONTACT_NAME = schemas.CONTACT.readers
_UNSUBSCRIBED = schemas.CHANNEL_VALUES.readers["email"]
_SCALARS = frozenset(("string", "number", "boolean", "null"))


# -- orders -----------------------------------------------------------------------------
def add_orders(backend: Backend, body: dict) -> dict | None:
    """``POST /orders``: store 1..1000 orders (a known externalOrderId is replaced), create
    the missing contacts (never update one), log an ``order<STATUS>`` event per order.

    Answers ``None`` (an empty 200) or ``{"failedOrders": [...]}``.
    """
    values, problems = schemas.ORDERS.read(body)
    if problems:
        raise refused(problems)
    orders = values["orders"]
    with collector_paused(len(orders)):  # a thousand orders are built with the collector paused
        failed = _add_orders(backend, orders)
    return {"failedOrders": backend.shaped(failed)} if failed else None


def _add_orders(backend: Backend, orders: list) -> list:
    accepted, failed = [], []
    for i, raw in enumerate(orders):
        try:
            accepted.append((i, read_order(raw, f"orders[{i}]")))
        except Invalid as exc:
            ext_id = raw.get("externalOrderId") if isinstance(raw, dict) else None
            failed.append({"index": i, "externalOrderId": ext_id if json_type(ext_id) in _SCALARS else None,
                           "message": exc.message})
    with backend.store.transaction():
        now = backend.now()
        created: dict[tuple, dict] = {}   # (index, key) -> a contact this request creates
        new_contacts: list[dict] = []
        stored: dict[str, dict] = {}      # externalOrderId -> the order to store
        events = []
        for i, order in accepted:
            contact_id, email, phone = _order_contact(backend, order, f"orders[{i}]", created, new_contacts, now)
            ext_order = order["externalOrderId"]
            if ext_order in stored:
                note(f"orders[{i}].externalOrderId", ext_order, ext_order, "the same externalOrderId twice in one request: the later "
                     "order is stored", "unverified")
            stored[ext_order] = {**order, "contactId": contact_id, "updated": now}
            events.append({"type": f"order{order['status']}", "key": ext_order,
                           "params": {"orderId": ext_order, "contactId": contact_id, "EmailAddress": email or "",
                                      "SMS": phone or ""}, "at": now})
        inserts, replaces = [], {}
        for ext_order, doc in stored.items():
            doc_id = backend.orders.find_id("order", ext_order)
            if doc_id is None:
                inserts.append(doc)
            else:
                replaces[doc_id] = doc
        backend.contacts.write_many(new_contacts)
        backend.orders.write_many(inserts, replaces)
        backend.events.write_many(events)
    return failed


def _order_contact(backend: Backend, order: dict, where: str, created: dict, new_contacts: list,
                   now: str) -> tuple[int, Any, Any]:
    """(contact id, email, phone) of an order's contact: matched on externalCustomerId, then
    email, then phone, and not updated; created (confirmed, in no segment) when none matches."""
    pairs = [(index, order[key]) for index, key in (("ext", "externalCustomerId"), ("email", "email"),
                                                     ("sms", "phone")) if order[key] is not None]
    for pair in pairs:
        doc = created.get(pair) or backend._find(*pair)
        if doc is not None:
            return doc["id"], order["email"] or channel_value(doc, "email"), \
                order["phone"] or channel_value(doc, "sms")
    doc = new_contact(backend.ids.number(backend.contact_ns), now)
    for key in ("firstName", "lastName"):
        try:
            doc[key] = read_one(_CONTACT_NAME[key], order[key], f"{where}.", key) if order[key] is not None else None
        except Invalid as exc:
            note(f"{where}.{key}", order[key], None, f"not given to the contact the order creates: {exc.message}",
                 "unverified")
    doc["externalCustomerId"] = order["externalCustomerId"]
    if order["email"] is not None:
        doc["channels"].append(_channel("email", order["email"], True, None))
    if order["phone"] is not None:
        doc["channels"].append(_channel("sms", order["phone"], True, None))
    new_contacts.append(doc)
    for pair in pairs:
        created[pair] = doc
    return doc["id"], order["email"], order["phone"]


# -- events -----------------------------------------------------------------------------
def generate_event(backend: Backend, body: dict, size: int) -> None:
    """``POST /event``: store one event ``{type, key, params, at}``; no contact is touched."""
    if size > MAX_EVENT_BYTES:
        raise EsputnikError(f"request body must be at most 20 kB ({MAX_EVENT_BYTES} bytes), got {size} bytes")
    values, problems = schemas.EVENT.read(body)
    if problems:
        raise refused(problems)
    params: dict[str, Any] = {}
    for i, item in enumerate(values.get("params") or ()):
        at = f"params[{i}]"
        read, problems = schemas.EVENT_PARAM.read(item, f"{at}.") if item.__class__ is dict else (None, None)
        if read is None or any(p.path == f"{at}.name" for p in problems):
            raise EsputnikError(f"{at} must be a {{name, value}} object with a non-empty name, got {item!r}")
        if problems:
            raise refused(problems)
        if item["name"] in params:
            note(f"{at}.name", item["name"], item["name"], "the same parameter twice: the later value is kept",
                 "unverified")
        params[item["name"]] = read.get("value")
    event_type, key = values["eventTypeKey"], values.get("keyValue")
    if key is None:
        found = next((params[name] for name in EVENT_KEY_PARAMS if params.get(name) not in (None, "")), None)
        if found is None:
            raise EsputnikError(f"keyValue is required unless params carry one of {', '.join(EVENT_KEY_PARAMS)} "
                                f"(the first present is the event's key)")
        key = str(found)
    backend.events.insert({"type": event_type, "key": key, "params": params, "at": backend.now()})


# -- unsubscribed email addresses -------------------------------------------------------
def change_unsubscribed(backend: Backend, body: dict, *, add: bool) -> None:
    """Mark (``add``) or unmark email addresses as unsubscribed: addresses, not contacts."""
    values, problems = schemas.EMAILS.read(body)
    if problems:
        raise refused(problems)
    wanted = []
    for i, sent in enumerate(values["emails"]):
        try:
            email = _UNSUBSCRIBED(sent, "", f"emails[{i}]")
        except Refused:
            email = None
        if email is None:
            note(f"emails[{i}]", sent, None, "not an email address: ignored", "unverified")
        elif email not in wanted:
            wanted.append(email)
    with backend.store.transaction():
        now = backend.now()
        if add:
            backend.unsubscribed.write_many([{"email": e, "at": now} for e in wanted
                                          if backend.unsubscribed.find_id("email", e) is None])
        else:
            for email in wanted:
                doc_id = backend.unsubscribed.find_id("email", email)
                if doc_id is not None:
                    backend.unsubscribed.remove(doc_id)
