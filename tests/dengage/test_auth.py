"""Login, bearer tokens on the emulator clock, the DataSpace.Manage role, credentials in the journal."""
from __future__ import annotations

import pytest

from emulator.vendors.dengage import VENDOR

from .conftest import BULK, CONTACT, DEMO, FIXTURE, LOGIN, account_state, bearer, body, contacts, journal, login

RECORD = {"contact_key": "C-1", "name": "Ann"}


def test_login_answers_a_bearer_token_and_keeps_it_with_its_expiry(client, engine):
    engine.clock.freeze("2026-03-01T10:00:00Z")
    resp = client.post(LOGIN, json=DEMO)
    assert resp.status_code == 200
    answer = resp.get_json()
    assert set(answer) == {"access_token", "token_type", "expires_in"}
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    assert len(answer["access_token"]) == 50 and answer["access_token"].isalnum()
    [stored] = account_state(client)["tokens"]
    assert stored["token"] == answer["access_token"]
    assert stored["issued_at"] == "2026-03-01T10:00:00.000Z"
    assert stored["expires_at"] == "2026-03-01T11:00:00.000Z"


@pytest.mark.parametrize("creds", [
    {"userkey": "demo", "password": "wrong"},
    {"userkey": "nobody", "password": "dengage-demo-password"},
    {"userkey": "demo", "password": "limited-pw"},   # another account's password
])
def test_wrong_credentials_are_401_and_store_no_token(client, creds):
    resp = client.post(LOGIN, json=creds)
    assert resp.status_code == 401
    assert resp.get_json() == {"code": 1, "message": "Invalid userkey or password"}
    assert account_state(client)["tokens"] == []


@pytest.mark.parametrize("payload, field, rule", [
    ({"password": "x"}, "userkey", "is required"),
    ({"userkey": "demo"}, "password", "is required"),
    ({"userkey": 12, "password": "x"}, "userkey", "must be a string"),
    ({"userkey": "demo", "password": ["x"]}, "password", "must be a string"),
    ({"userkey": None, "password": "x"}, "userkey", "null"),
])
def test_malformed_login_is_400_naming_the_field(client, payload, field, rule):
    resp = client.post(LOGIN, json=payload)
    assert resp.status_code == 400
    answer = resp.get_json()
    assert answer["code"] == 1 and answer["data"] is None
    assert field in answer["message"] and rule in answer["message"]
    assert account_state(client)["tokens"] == []


@pytest.mark.parametrize("raw", [b'{"userkey": ', b"[1, 2]", b'"text"', b""])
def test_login_body_that_is_not_a_json_object_is_400_in_the_envelope(client, raw):
    resp = client.post(LOGIN, data=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    answer = resp.get_json()
    assert answer["code"] == 1 and "body" in answer["message"]
    assert account_state(client)["tokens"] == []


def test_token_expires_on_the_emulator_clock(client, engine):
    engine.clock.freeze("2026-03-01T10:00:00Z")
    auth = bearer(login(client))
    engine.clock.advance(3599)
    assert client.post(BULK, json=body(RECORD), headers=auth).status_code == 200
    engine.clock.advance(1)
    resp = client.post(BULK, json=body({"contact_key": "C-2"}), headers=auth)
    assert resp.status_code == 401
    assert resp.get_json() == {"code": 1, "message": "Not-authenticated. Please re-login."}
    assert set(contacts(client)) == {"C-1"}


def test_token_lifetime_is_a_setting(make_app):
    from .conftest import dengage_fixture

    app = make_app(vendors=[VENDOR], fixture=dengage_fixture(token_ttl_s=60))
    client = app.test_client()
    app.extensions["emulator"].clock.freeze("2026-03-01T10:00:00Z")
    resp = client.post(LOGIN, json=DEMO)
    assert resp.get_json()["expires_in"] == 60
    app.extensions["emulator"].clock.advance(60)
    assert client.get(f"{CONTACT}/x", headers=bearer(resp.get_json()["access_token"])).status_code == 401


def test_earlier_tokens_stay_valid_after_a_new_login(client):
    first, second = login(client), login(client)
    assert first != second
    for token in (first, second):
        assert client.post(BULK, json=body(RECORD), headers=bearer(token)).status_code == 200
    assert len(account_state(client)["tokens"]) == 2


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer unknown-token"},
    {"Authorization": "Basic ZGVtbzpkZW5nYWdlLWRlbW8tcGFzc3dvcmQ="},
])
def test_missing_or_unknown_token_is_401_and_stores_nothing(client, headers):
    before = account_state(client)
    resp = client.post(BULK, json=body(RECORD), headers=headers)
    assert resp.status_code == 401
    assert resp.get_json() == {"code": 1, "message": "Not-authenticated. Please re-login."}
    assert account_state(client) == before
    assert client.get(f"{CONTACT}/C-1", headers=headers).status_code == 401


def test_the_raw_token_without_the_bearer_scheme_is_401(client):
    token = login(client)
    assert client.post(BULK, json=body(RECORD), headers={"Authorization": token}).status_code == 401
    assert client.post(BULK, json=body(RECORD), headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_missing_role_is_403_with_an_empty_body_and_stores_nothing(client):
    token = login(client, "norole")
    resp = client.post(BULK, json=body(RECORD), headers=bearer(token))
    assert resp.status_code == 403
    assert resp.get_data() == b""
    assert account_state(client, "norole")["contacts"] == []
    assert client.get(f"{CONTACT}/C-1", headers=bearer(token)).status_code == 403
    assert journal(client)[-1]["account"] == "norole"


def test_a_token_serves_only_its_own_account(client):
    demo, other = bearer(login(client)), bearer(login(client, "other"))
    assert client.post(BULK, json=body(RECORD), headers=demo).status_code == 200
    assert client.get(f"{CONTACT}/C-1", headers=other).status_code == 404
    assert client.post(BULK, json=body({"contact_key": "C-1", "name": "Other"}), headers=other).status_code == 200
    assert contacts(client)["C-1"]["name"] == "Ann"
    assert contacts(client, "other")["C-1"]["name"] == "Other"
    assert journal(client)[-1]["account"] == "other"


def test_credentials_never_reach_the_journal(client):
    token = login(client)
    client.post(BULK, json=body(RECORD), headers=bearer(token))
    entries = journal(client)
    text = repr(entries)
    assert DEMO["password"] not in text and token not in text
    assert entries[0]["account"] == "demo"
    assert entries[0]["body"]["userkey"] == "demo"


def test_tokens_are_deterministic_for_a_seed(make_app):
    def tokens(seed):
        app = make_app(vendors=[VENDOR], fixture=FIXTURE, seed=seed)
        client = app.test_client()
        return [login(client), login(client), login(client, "other")]

    assert tokens(7) == tokens(7)
    assert tokens(7) != tokens(8)


# -- tokens are pruned: expired ones at every login, the oldest live ones past MAX_TOKENS ------

def test_a_login_drops_expired_tokens_and_keeps_live_ones(client, engine):
    engine.clock.freeze("2026-03-01T10:00:00Z")
    old = [login(client) for _ in range(3)]
    engine.clock.advance(1800)
    middle = login(client)
    engine.clock.advance(1800)   # the first three expire now (3600 s), the middle one lives on
    newest = login(client)
    assert [t["token"] for t in account_state(client)["tokens"]] == [middle, newest]
    for token in old:
        assert client.post(BULK, json=body(RECORD), headers=bearer(token)).status_code == 401
    for token in (middle, newest):
        assert client.post(BULK, json=body(RECORD), headers=bearer(token)).status_code == 200


def test_live_tokens_are_bounded_the_oldest_dropped_first(client, engine):
    from emulator.vendors.dengage.model import MAX_TOKENS

    engine.clock.freeze("2026-03-01T10:00:00Z")
    first, second = login(client), login(client)
    for _ in range(MAX_TOKENS - 2):
        login(client)
    assert len(account_state(client)["tokens"]) == MAX_TOKENS
    assert client.post(BULK, json=body(RECORD), headers=bearer(first)).status_code == 200
    newest = login(client)   # one past the bound: the oldest goes
    tokens = [t["token"] for t in account_state(client)["tokens"]]
    assert len(tokens) == MAX_TOKENS and tokens[0] == second and tokens[-1] == newest
    resp = client.post(BULK, json=body(RECORD), headers=bearer(first))
    assert resp.status_code == 401   # its holder logs in again, as real callers do
    assert resp.get_json() == {"code": 1, "message": "Not-authenticated. Please re-login."}
    for token in (second, newest):
        assert client.post(BULK, json=body(RECORD), headers=bearer(token)).status_code == 200
