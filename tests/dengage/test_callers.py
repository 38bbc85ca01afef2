"""The public callers of BulkUpsert, replayed wire for wire on a live server and in-process
(their real hosts intercepted): each call succeeds and answers what the caller's code reads.

- The Salesforce Commerce Cloud cartridge ``saadthemughal/dengage_sfcc`` (commit 71939f8d):
  int_dengage_core/cartridge/scripts/dengage/exportCustomers.js sends the first customer
  alone (``counter % 200 === 0`` at 0), then every 200, back to back; utils.js
  ``sendTransaction`` logs in first (``getDengageToken``: the token is never saved, since
  ``saveToken`` stays undefined), posts ``{insertIfNotExists: true,
  throwExceptionIfInvalidRecord: true, columns: Object.keys(data[0]), contactDatas}`` and
  reads ``result.ok`` (and ``data.inserted`` / ``data.updated`` when asked to return the
  records); customerMapping.js builds each record, with ``formatDate`` giving ``""`` for a
  missing birthday. int_dengage_sfra/cartridge/controllers/Dengage.js ``Subscriber`` is the
  newsletter path: one record of empty values plus a ``source`` column, and "already
  subscribed" when ``updatedRecords`` is not empty.
- The lead relay ``Dengage-PreSales/nissanksa`` (commit 5b5cb972):
  supabase/functions/nissan-lead-relay/index.ts logs in once (a token cache), then posts one
  call per lead with the columns the lead has, ``throwExceptionIfInvalidRecord: false``,
  and reads ``res.ok``, then top-level ``errors`` / ``inserted``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from emulator import intercept
from emulator.vendors.dengage import VENDOR
from emulator.vendors.dengage.model import ADVICE, MAX_TOKENS

ROOT = Path(__file__).resolve().parents[2]
T0 = "2026-03-01T10:00:00Z"
USERKEY, PASSWORD = "demo", "dengage-demo-password"


def callers_fixture() -> dict:
    """The shipped empty fixture's D·engage demo account (the vendor's defaults: a 60 s window,
    once_a_minute note), with the ``source`` column the cartridge's newsletter path sends,
    declared the way that shop's master_contact would have it."""
    data = json.loads((ROOT / "fixtures" / "empty.json").read_text())
    block = data["vendors"]["dengage"]
    block["accounts"]["demo"]["settings"]["custom_columns"]["source"] = {"type": "string", "max_length": 50}
    return {"vendors": {"dengage": block}}


@pytest.fixture(params=["live", "in-process"])
def dengage(request, make_app, live):
    """(engine, base URL): the emulator prefix on a live server, or the caller's real host intercepted."""
    app = make_app(vendors=[VENDOR], fixture=callers_fixture())
    engine = app.extensions["emulator"]
    engine.clock.freeze(T0)
    if request.param == "live":
        yield engine, f"{live(app).url}/dengage", request.param
    else:
        with intercept(app, strict=True):
            yield engine, None, request.param


def stored(engine) -> dict:
    return {c["contact_key"]: c for _, c in engine.store.collection("dengage", "demo", "contacts").scan()}


def bulk_entries(engine) -> list[dict]:
    return [e for e in engine.journal.entries(vendor="dengage") if e["path"] == "/rest/bulk/contacts"]


# -- the SFCC cartridge ------------------------------------------------------------------------

class Cartridge:
    """utils.js ``sendTransaction(data, 'customer', forceToken, saveToken, returnRecords)``."""

    def __init__(self, base: str | None):
        self.base = base or "https://tr-api.dengage.com"   # dnRegion 'Turkey', the default
        self.logins = 0

    def token(self) -> str:
        resp = requests.post(f"{self.base}/rest/login", data=json.dumps({"userkey": USERKEY, "password": PASSWORD}),
                             headers={"Content-Type": "application/json"}, timeout=10)
        self.logins += 1
        assert resp.ok, resp.text
        return resp.json()["access_token"]

    def send_customers(self, data: list[dict], return_records: bool = False):
        token = self.token()   # never saved: a login per call
        payload = {"insertIfNotExists": True, "throwExceptionIfInvalidRecord": True,
                   "columns": list(data[0]), "contactDatas": data}
        resp = requests.post(f"{self.base}/rest/bulk/contacts", data=json.dumps(payload),
                             headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                             timeout=30)
        if not resp.ok:
            return False
        if return_records:
            answer = resp.json()
            return {"success": True, "insertedRecords": answer["data"]["inserted"],
                    "updatedRecords": answer["data"]["updated"]}
        return True


def sfcc_customer(n: int) -> dict:
    """customerMapping.js: a profile with or without an address, gender and birthday."""
    has_address, has_birthday = n % 3 != 0, n % 4 != 0
    return {
        "contact_key": f"Customer{n}@Example.com",      # the profile's email, as typed
        "name": None if n % 50 == 7 else f"First{n}",   # a profile without a first name
        "surname": f"Last{n}" if n % 5 else "",         # lastName || ''
        "contact_status": "A",
        "email": f"Customer{n}@Example.com",
        "subscription_date": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}",   # formatDate(creationDate)
        "gsm": ("+92 300 " + f"{n:07d}") if has_address else "",
        "city": "Lahore" if has_address else "",
        "country": "Pakistan" if has_address else "",
        "gender": ("Female", "Male", "")[n % 3],
        "birth_date": f"19{70 + n % 30}-05-{1 + n % 28:02d}" if has_birthday else "",
    }


def test_sfcc_export_of_1_then_200_customers_back_to_back(dengage):
    engine, base, _ = dengage
    cartridge = Cartridge(base)
    customers = [sfcc_customer(n) for n in range(201)]
    assert cartridge.send_customers(customers[:1]) is True        # counter 0: the first alone
    engine.clock.advance(0.4)                                     # no wait between batches
    assert cartridge.send_customers(customers[1:201]) is True     # counter 200: the next 200
    contacts = stored(engine)
    assert len(contacts) == 201 and cartridge.logins == 2
    sample = contacts["Customer4@Example.com"]
    assert sample["email"] == "customer4@example.com" and sample["birth_date"] is None
    assert sample["gender"] == "Male" and sample["gsm"] == "+92 300 0000004"
    assert contacts["Customer1@Example.com"]["birth_date"] == "1971-05-02"
    assert contacts["Customer7@Example.com"]["name"] is None
    first, second = bulk_entries(engine)
    assert first["response"]["data"]["inserted"] == ["Customer0@Example.com"]
    assert len(second["response"]["data"]["inserted"]) == 200
    assert first["status"] == second["status"] == 200
    # the second batch is served; the journal advises once a minute
    assert [n for n in second["notes"] if n["kind"] == "advice"] == [
        {"field": "", "sent": 0.4, "used": None, "rule": ADVICE, "kind": "advice"}]
    kinds = {(n["field"].split(".")[-1], n["kind"]) for n in second["notes"] if n["kind"] != "advice"}
    assert kinds == {("email", "cast"), ("birth_date", "unverified")}


def test_sfcc_newsletter_subscription_with_empty_values(dengage):
    engine, base, _ = dengage
    cartridge = Cartridge(base)

    def subscribe(email: str) -> dict:
        """Dengage.js ``Subscriber``: the record, then the caller's reading of the answer."""
        record = {"contact_key": email, "name": "", "surname": "", "source": "newsletter", "contact_status": "A",
                  "city": "", "country": "", "email": email, "email_permission": True, "gsm_permission": False,
                  "subscription_date": "2026-03-01", "gsm": "N/A", "gender": "", "birth_date": ""}
        answer = cartridge.send_customers([record], return_records=True)
        assert answer, "the subscription call failed"
        if answer["updatedRecords"]:
            return {"success": True, "isExistingSubscriber": True,
                    "message": "You are already subscribed to the newsletter!"}
        return {"success": True, "isExistingSubscriber": False, "message": "You have been subscribed to the newsletter!"}

    assert subscribe("Ann.Lee@Example.com") == {"success": True, "isExistingSubscriber": False,
                                                "message": "You have been subscribed to the newsletter!"}
    engine.clock.advance(3)
    assert subscribe("Ann.Lee@Example.com")["isExistingSubscriber"] is True
    engine.clock.advance(2)
    assert subscribe("bob@example.com")["isExistingSubscriber"] is False
    contacts = stored(engine)
    ann = contacts["Ann.Lee@Example.com"]
    assert (ann["email"], ann["email_permission"], ann["gsm_permission"]) == ("ann.lee@example.com", True, False)
    assert (ann["birth_date"], ann["source"], ann["gsm"], ann["name"]) == (None, "newsletter", "N/A", "")
    assert ann["email_status"] == "A" and ann["contact_status"] == "A"
    notes = [e["notes"] for e in bulk_entries(engine)]
    assert notes[0] == [
        {"field": "contactDatas[0].email", "sent": "Ann.Lee@Example.com", "used": "ann.lee@example.com",
         "rule": "lower-cased", "kind": "cast"},
        {"field": "contactDatas[0].birth_date", "sent": "", "used": None, "rule": "empty string read as no value",
         "kind": "unverified"}]
    assert [n["kind"] for n in notes[2]] == ["unverified", "advice"]   # a lower-case email: no cast note


def test_a_login_per_call_keeps_the_tokens_bounded(dengage):
    engine, base, _ = dengage
    cartridge = Cartridge(base)
    for _ in range(MAX_TOKENS + 5):
        cartridge.token()
    assert len(engine.store.collection("dengage", "demo", "tokens")) == MAX_TOKENS
    engine.clock.advance(3600)
    assert cartridge.send_customers([sfcc_customer(1)]) is True   # every old token expired: pruned at this login
    assert len(engine.store.collection("dengage", "demo", "tokens")) == 1


# -- the lead relay ------------------------------------------------------------------------------

class LeadRelay:
    """index.ts: one login kept in a token cache, then one BulkUpsert per lead."""

    def __init__(self, base: str | None):
        self.api_base = f"{base}/rest" if base else "https://api.dengage.com/rest"   # DENGAGE_API_BASE default
        self.token: str | None = None
        self.logins = 0

    def post(self, path: str, body: dict, token: str | None = None) -> requests.Response:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        return requests.post(f"{self.api_base}{path}", data=json.dumps(body), headers=headers, timeout=8)

    def dengage_token(self) -> str:
        if self.token is None:
            resp = self.post("/login", {"userkey": USERKEY, "password": PASSWORD})
            assert resp.ok, resp.text
            self.token = resp.json()["access_token"]
            self.logins += 1
        return self.token

    def relay(self, lead: dict) -> tuple[str, requests.Response]:
        """The Deno handler's step 2: the columns the lead has; the status it records."""
        token = self.dengage_token()
        columns, record = ["contact_key"], {"contact_key": lead["contact_key"]}
        for name in ("name", "surname"):
            if lead.get(name):
                columns.append(name)
                record[name] = lead[name]
        for channel in ("email", "gsm"):
            if lead.get(channel):
                columns += [channel, f"{channel}_permission"]
                record[channel] = lead[channel]
                record[f"{channel}_permission"] = lead["marketing_consent"]
        res = self.post("/bulk/contacts", {"columns": columns, "contactDatas": [record], "insertIfNotExists": True,
                                           "throwExceptionIfInvalidRecord": False}, token)
        body = res.json()
        if not res.ok:
            return f"error HTTP {res.status_code}", res
        if body.get("errors"):
            return "rejected", res
        return ("contact inserted" if body.get("inserted") else "contact updated"), res


def test_lead_relay_two_leads_a_few_seconds_apart(dengage):
    engine, base, _ = dengage
    relay = LeadRelay(base)
    first = {"contact_key": "DPS-lead-1", "name": "Sara", "surname": "Al Harbi", "email": "sara@example.com",
             "marketing_consent": True}
    second = {"contact_key": "DPS-lead-2", "name": "Omar", "gsm": "966512345678", "marketing_consent": False}
    status, res = relay.relay(first)
    assert res.status_code == 200 and status != "rejected" and not status.startswith("error")
    engine.clock.advance(4)
    status, res = relay.relay(second)
    assert res.status_code == 200 and status != "rejected" and not status.startswith("error")
    assert res.json()["data"] == {"inserted": ["DPS-lead-2"], "updated": [], "errors": [], "warnings": []}
    assert relay.logins == 1
    contacts = stored(engine)
    assert set(contacts) == {"DPS-lead-1", "DPS-lead-2"}
    assert (contacts["DPS-lead-1"]["email"], contacts["DPS-lead-1"]["email_permission"]) == ("sara@example.com", True)
    assert (contacts["DPS-lead-2"]["gsm"], contacts["DPS-lead-2"]["gsm_permission"]) == ("966512345678", False)
    assert contacts["DPS-lead-2"]["gsm_status"] == "A" and contacts["DPS-lead-2"]["email"] is None
    assert [e["notes"] for e in bulk_entries(engine)] == [
        [], [{"field": "", "sent": 4, "used": None, "rule": ADVICE, "kind": "advice"}]]
