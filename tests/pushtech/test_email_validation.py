"""email_validation on create: credits, the validity rule, create_if_invalid, create_if_no_credit."""
from __future__ import annotations

import pytest

from .conftest import Api, credits, last_notes, stored_contacts

VALIDATE = {"validate": True}


def test_a_valid_email_spends_one_credit_and_is_recorded(client, api):
    client.post("/_emulator/clock", json={"freeze": "2026-02-02T10:00:00Z"})
    body = api.create(email="ann@example.com", email_validation=VALIDATE)
    assert body["email_valid"] is True
    assert body["last_email_verified"] == "2026-02-02T10:00:00.000+00:00"  # the reference's form
    assert "email_validation" not in body
    assert credits(client) == 4
    assert api.get("/balance/current").get_json() == {"balance": "4.0", "currency": "eur5"}
    resp = api.get(f"/contact/{body['id']}/email_validation")
    assert resp.status_code == 200
    assert resp.get_json() == {"email_valid": True, "last_email_verified": "2026-02-02T10:00:00.000+00:00"}
    assert credits(client) == 4  # answering a stored validation is free


def test_without_validate_no_credit_is_spent(client, api):
    api.create(email="ann@example.com", email_validation={"validate": False, "create_if_invalid": True})
    api.create(email="bob@example.com")
    assert credits(client) == 5


@pytest.mark.parametrize("email", [
    "someone@invalid", "someone@test", "someone@example.invalid", "invalid@example.com",
    "invalid.user@example.com", "a..b@example.com", "ann@exa_mple.com",
])
def test_an_invalid_email_is_refused_the_credit_is_spent(client, api, email):
    resp = api.post("/contact", {"email": email, "email_validation": VALIDATE})
    assert resp.status_code == 422
    assert resp.get_json() == {"error": f"email not valid: {email}"}
    assert stored_contacts(client) == []
    assert credits(client) == 4


def test_create_if_invalid_stores_the_contact_as_invalid(client, api):
    body = api.create(email="invalid@example.com", email_validation={"validate": True, "create_if_invalid": True})
    assert body["email_valid"] is False
    assert stored_contacts(client)[0]["email_valid"] is False
    assert last_notes(client) == []  # the documented outcome: state, not a note
    assert api.get(f"/contact/{body['id']}/email_validation").get_json()["email_valid"] is False


def test_no_credit_refuses_with_402_and_stores_nothing(client, api):
    client.post("/_emulator/pushtech/credits", json={"account": "demo", "validation_credits": 0})
    resp = api.post("/contact", {"email": "ann@example.com", "email_validation": VALIDATE})
    assert resp.status_code == 402
    assert resp.get_json() == {"error": "not enough credit for email validation"}
    assert stored_contacts(client) == []
    assert credits(client) == 0


def test_create_if_no_credit_stores_without_validation(client, api):
    client.post("/_emulator/pushtech/credits", json={"account": "demo", "validation_credits": 0})
    body = api.create(email="ann@example.com", email_validation={"validate": True, "create_if_no_credit": True})
    assert "email_valid" not in body
    assert last_notes(client) == []  # the documented outcome: state (no email_valid), not a note
    assert credits(client) == 0


def test_credits_run_out_after_the_fixture_amount(client, api):
    statuses = [api.post("/contact", {"email": f"c{i}@example.com", "email_validation": VALIDATE}).status_code
                for i in range(7)]
    assert statuses == [201] * 5 + [402] * 2
    assert len(stored_contacts(client)) == 5
    assert api.get("/balance/current").get_json()["balance"] == "0.0"


def test_a_phone_only_contact_spends_nothing(client, api):
    body = api.create(phone="+447712345678", email_validation=VALIDATE)
    assert "email_valid" not in body
    assert credits(client) == 5
    assert any("no credit spent" in n["rule"] for n in last_notes(client))


def test_field_errors_come_before_any_credit_is_spent(client, api):
    resp = api.post("/contact", {"email": "invalid@example.com", "gender": "?", "email_validation": VALIDATE})
    assert resp.status_code == 422
    assert resp.get_json()["error"] == "gender: must be MALE or FEMALE"
    assert credits(client) == 5


def test_email_validation_of_a_never_validated_contact_validates_it_once(client, api):
    contact = api.create(email="bob@example.com")
    first = api.get(f"/contact/{contact['id']}/email_validation")
    assert first.status_code == 200 and first.get_json()["email_valid"] is True
    assert credits(client) == 4
    assert api.get(f"/contact/{contact['id']}/email_validation").get_json() == first.get_json()
    assert credits(client) == 4
    assert stored_contacts(client)[0]["email_valid"] is True


def test_email_validation_endpoint_refusals(client, api):
    phone_only = api.create(phone="+447712345678")
    resp = api.get(f"/contact/{phone_only['id']}/email_validation")
    assert resp.status_code == 422 and resp.get_json() == {"error": "email: the contact has no email to validate"}
    assert api.get("/contact/000000000000000000000000/email_validation").status_code == 404
    client.post("/_emulator/pushtech/credits", json={"validation_credits": 0, "account": "demo"})
    contact = api.create(email="bob@example.com")
    resp = api.get(f"/contact/{contact['id']}/email_validation")
    assert resp.status_code == 402
    assert "email_valid" not in stored_contacts(client)[-1]


def test_update_can_validate_and_a_new_email_drops_the_old_result(client, api):
    contact = api.create(email="ann@example.com", email_validation=VALIDATE)
    moved = api.put(f"/contact/{contact['id']}", {"email": "ann@elsewhere.com"}).get_json()
    assert "email_valid" not in moved and "last_email_verified" not in moved
    checked = api.put(f"/contact/{contact['id']}", {"email_validation": VALIDATE}).get_json()
    assert checked["email_valid"] is True
    assert credits(client) == 3


def test_credits_helper_sets_and_reset_restores(client, api):
    resp = client.post("/_emulator/pushtech/credits", json={"account": "demo", "validation_credits": 42})
    assert resp.status_code == 200
    assert resp.get_json() == {"account": "demo", "validation_credits": 42, "balance": "42.0", "currency": "eur5"}
    assert api.get("/balance/current").get_json()["balance"] == "42.0"
    client.post("/_emulator/reset", json={"vendor": "pushtech"})
    assert credits(client) == 5
    assert Api(client, "other").get("/balance/current").get_json() == {"balance": "100.0", "currency": "eur5"}


@pytest.mark.parametrize("body, status", [
    ({"account": "demo", "validation_credits": -1}, 400),
    ({"account": "demo", "validation_credits": "10"}, 400),
    ({"account": "demo", "validation_credits": True}, 400),
    ({"account": "demo"}, 400),
    ({"account": "ghost", "validation_credits": 3}, 404),
    ({"validation_credits": 3}, 404),  # several accounts: the account must be named
])
def test_credits_helper_refusals(client, body, status):
    resp = client.post("/_emulator/pushtech/credits", json=body)
    assert resp.status_code == status
    assert "error" in resp.get_json()
    assert credits(client) == 5
