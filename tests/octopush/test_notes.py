"""Octopush notes: of kind ``cast`` or ``ignored`` only, none for a value already in the
stored form, and none for any fake payload sent as it is."""
from __future__ import annotations

import pytest

from emulator.core.journal import NOTE_KINDS

from .conftest import AUTH, CREATE, DELETE, LIST_CREATE, LIST_DELETE, LIST_EMPTY, account_state, last_notes

LONG = "L1" + "x" * 40   # a list name past 30 characters: cut

# (endpoint, method, body, expected (field, kind) of each note); each call succeeds.
CASES = [
    ("E.164 numbers, JSON booleans, strings within their length", CREATE, "post",
     {"contacts": [{"phone_number": "+33612345678", "first_name": "Ann", "last_name": "Lee", "param5": "x" * 50},
                   {"phone_number": "+447712345678"}],
      "list_names": ["Leads"], "tag_name": "web", "un_list": False, "do_not_overwrite": False}, []),
    ("an E.164 number written with spaces", CREATE, "post",
     {"contacts": [{"phone_number": "+33 6 12 34 56 78"}]}, [("contacts[0].phone_number", "cast")]),
    ("a national number", CREATE, "post",
     {"contacts": [{"phone_number": "+33612345678"}, {"phone_number": "0612345679"}]},
     [("contacts[1].phone_number", "cast")]),
    ("an unknown contact key", CREATE, "post",
     {"contacts": [{"phone_number": "+33612345678", "email": "ann@example.com"}]}, [("contacts[0].email", "ignored")]),
    ("a boolean as text", CREATE, "post", {"contacts": [{"phone_number": "+33612345678"}], "un_tag": "true"},
     [("un_tag", "cast")]),
    ("a value that cannot be cast", CREATE, "post", {"contacts": [{"phone_number": "+33612345678"}], "un_tag": {}},
     [("un_tag", "ignored")]),
    ("the same number twice", CREATE, "post",
     {"contacts": [{"phone_number": "+33612345678"}, {"phone_number": "+33612345678", "first_name": "B"}]},
     [("contacts[0]", "ignored")]),
    ("delete of E.164 numbers", DELETE, "delete", {"phone_numbers": ["+33612345601"]}, []),
    ("delete of a national number", DELETE, "delete", {"phone_numbers": ["0612345601"]}, [("phone_numbers", "cast")]),
    ("list create", LIST_CREATE, "post", {"list_name": "VIP"}, []),
    ("list empty", LIST_EMPTY, "post", {"list_name": "L1", "delete_contacts": False}, []),
    ("list delete", LIST_DELETE, "delete", {"list_name": "L1"}, []),
    ("list delete with a name too long", LIST_DELETE, "delete", {"list_name": LONG},
     [("list_name", "cast")]),
]


@pytest.mark.parametrize("path, method, body, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_which_inputs_note(client, path, method, body, expected):
    seed = {"list_names": ["L1", LONG[:30]], "contacts": [{"phone_number": "+33612345601"}]}
    assert client.post(CREATE, json=seed, headers=AUTH).status_code == 201
    resp = getattr(client, method)(path, json=body, headers=AUTH)
    assert 200 <= resp.status_code < 300, resp.get_json()
    notes = last_notes(client)
    assert [(n["field"], n["kind"]) for n in notes] == expected
    assert {n["kind"] for n in notes} <= {"cast", "ignored"} < set(NOTE_KINDS)


VARIANTS = [
    ("one contact", lambda fake: {"contacts": [fake("octopush")]}),
    ("default body", lambda fake: fake("octopush", n=10)),
    ("create body with options", lambda fake: fake("octopush", "create", n=50, list_name="Leads", tag_names=["web"],
                                                   un_list=True, do_not_overwrite=False)),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("make", [v[1] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_every_fake_payload_is_accepted_without_a_note(client, fake_contact, make, seed):
    body = make(fake_contact)
    resp = client.post(CREATE, json=body, headers=AUTH)
    assert resp.status_code == 201, resp.get_json()
    answer = resp.get_json()
    assert answer["contacts_created"] == len(body["contacts"]) and answer["ignored"] == []
    assert last_notes(client) == []
    stored = {c["phone_number"] for c in account_state(client)["contacts"]}
    assert {c["phone_number"] for c in body["contacts"]} <= stored
