"""Calls that write through every vendor's API (creates, updates, deletes, bulk jobs with a
webhook, test helpers), for tests of what a reset puts back."""
from __future__ import annotations

import base64

ESPUTNIK = {"Authorization": "Basic " + base64.b64encode(b"demo:esputnik-demo-key").decode()}
OCTOPUSH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
PUSHTECH = {"Authorization": "Token token=pushtech-demo-secret"}


def ok(resp):
    assert resp.status_code < 300, (resp.status_code, resp.get_data(as_text=True))
    return resp


def dengage_token(client) -> dict:
    token = ok(client.post("/dengage/rest/login", json={"userkey": "demo", "password": "dengage-demo-password"}))
    return {"Authorization": f"Bearer {token.json['access_token']}"}


def write_everywhere(client, tag: str = "1") -> None:
    """Create, update and delete through each vendor, queue and finish bulk jobs, and use
    each vendor's test helper: every kind of table a vendor keeps gets written."""
    api = "/esputnik/api/v1"
    added = ok(client.post(f"{api}/contact", headers=ESPUTNIK, json={
        "firstName": "Reset", "channels": [{"type": "email", "value": f"reset{tag}@example.com"}]})).json["id"]
    ok(client.put(f"{api}/contact/{added}", headers=ESPUTNIK, json={"lastName": "Lee"}))
    ok(client.post(f"{api}/contact/subscribe", headers=ESPUTNIK, json={
        "contact": {"channels": [{"type": "email", "value": f"sub{tag}@example.com"}]}, "groups": ["NewGroup"]}))
    ok(client.post(f"{api}/contacts", headers=ESPUTNIK, json={
        "contacts": [{"channels": [{"type": "email", "value": f"bulk{tag}@example.com"}]}],
        "groupNames": ["Customers"], "eventKeyForNewContacts": "imported"}))
    first = client.get(f"{api}/contacts?maxrows=1", headers=ESPUTNIK).json[0]["id"]
    ok(client.delete(f"{api}/contact/{first}", headers=ESPUTNIK))
    ok(client.post("/_emulator/esputnik/confirm", json={"account": "demo", "email": f"sub{tag}@example.com"}))

    octo = "/octopush/v1/public"
    ok(client.post(f"{octo}/contact/create", headers=OCTOPUSH, json={
        "list_name": "Leads", "tag_name": "web", "contacts": [{"phone_number": "+33612345678", "first_name": tag}]}))
    ok(client.post(f"{octo}/contact-list/create", headers=OCTOPUSH, json={"list_name": f"L{tag}"}))
    ok(client.post("/_emulator/octopush/blacklist", json={"account": "demo", "phone_numbers": ["+33698765432"]}))

    auth = dengage_token(client)
    ok(client.post("/dengage/rest/bulk/contacts", headers=auth, json={
        "columns": ["contact_key", "name", "email"], "insertIfNotExists": True,
        "contactDatas": [{"contact_key": f"K-{tag}", "name": "Ann", "email": f"ann{tag}@example.com"}]}))

    push = "/pushtech/v2/account/demo"
    created = ok(client.post(f"{push}/contact", headers=PUSHTECH, json={
        "email": f"p{tag}@example.com", "email_validation": {"validate": True}})).json["id"]
    ok(client.put(f"{push}/contact/{created}", headers=PUSHTECH, json={"name_first": "Pat"}))
    listed = client.get(f"{push}/contact?limit=1", headers=PUSHTECH).json["contacts"][0]["id"]
    ok(client.delete(f"{push}/contact/{listed}", headers=PUSHTECH))
    ok(client.post(f"{push}/contact/bulk", headers=PUSHTECH, json={
        "webhook_url": "http://127.0.0.1:9/hook", "contacts": [{"user_id": f"u{tag}", "email": f"b{tag}@example.com"}]}))
    ok(client.post("/_emulator/pushtech/credits", json={"account": "demo", "validation_credits": 3}))
    client.get("/_emulator/webhooks")  # runs the due bulk and its (failing) first webhook attempt
