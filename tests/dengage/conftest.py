"""D·engage test apps and helpers: accounts for every setting, login, BulkUpsert, state."""
from __future__ import annotations

import copy

import pytest

from emulator.vendors.dengage import VENDOR

LOGIN = "/dengage/rest/login"
BULK = "/dengage/rest/bulk/contacts"
CONTACT = "/dengage/rest/contacts"

DEMO = {"userkey": "demo", "password": "dengage-demo-password"}
CUSTOM = {
    "loyalty_tier": {"type": "string", "max_length": 20, "enum": ["bronze", "silver", "gold"]},
    "nickname": {"type": "string", "max_length": 5},
    "lifetime_value": {"type": "number"},
    "vip": {"type": "boolean"},
    "last_order_date": {"type": "date"},
    "churn_score": {"type": "number", "import_enabled": False},
}

# demo has no window so tests of other rules can call back to back; "limited" has the
# vendor's 60 s window with the default once_a_minute (note), "enforced" refuses calls
# inside it (429); the others each change one setting.
FIXTURE = {"vendors": {"dengage": {"accounts": {
    "demo": {"credentials": DEMO, "settings": {"bulk_window_s": 0, "custom_columns": CUSTOM}},
    "limited": {"credentials": {"userkey": "limited", "password": "limited-pw"}, "settings": {}},
    "enforced": {"credentials": {"userkey": "enforced", "password": "enforced-pw"},
                 "settings": {"once_a_minute": "enforce"}},
    "other": {"credentials": {"userkey": "other", "password": "other-pw"}, "settings": {"bulk_window_s": 0}},
    "norole": {"credentials": {"userkey": "norole", "password": "norole-pw"},
               "settings": {"roles": ["Campaign.Read"], "bulk_window_s": 0}},
    "narrow": {"credentials": {"userkey": "narrow", "password": "narrow-pw"},
               "settings": {"bulk_window_s": 0, "import_enabled_columns": ["name", "email"],
                            "custom_columns": {"tier": {"type": "string", "import_enabled": True}}}},
}}}}

PASSWORDS = {"demo": DEMO["password"], "limited": "limited-pw", "enforced": "enforced-pw", "other": "other-pw",
             "norole": "norole-pw", "narrow": "narrow-pw"}


def dengage_fixture(account: str = "demo", **settings) -> dict:
    """The test fixture with ``settings`` changed for one account."""
    fixture = copy.deepcopy(FIXTURE)
    fixture["vendors"]["dengage"]["accounts"][account]["settings"].update(settings)
    return fixture


@pytest.fixture
def app(make_app):
    """Only D·engage, with the accounts above (the shared ``client``/``engine`` use it)."""
    return make_app(vendors=[VENDOR], fixture=FIXTURE)


def login(client, account: str = "demo") -> str:
    resp = client.post(LOGIN, json={"userkey": account, "password": PASSWORDS[account]})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["access_token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(client) -> dict:
    """Authorization headers of a fresh demo login."""
    return bearer(login(client))


def body(*records: dict, columns=None, insert=True, throw=True, **extra) -> dict:
    """A BulkUpsert body; columns default to the union of the records' keys, in order."""
    if columns is None:
        columns = []
        for record in records:
            for key in record:
                if key not in columns:
                    columns.append(key)
    return {"columns": columns, "contactDatas": list(records), "insertIfNotExists": insert,
            "throwExceptionIfInvalidRecord": throw, **extra}


def account_state(client, account: str = "demo") -> dict:
    resp = client.get(f"/_emulator/state?vendor=dengage&account={account}&limit=100000")  # every document
    assert resp.status_code == 200
    return resp.get_json()["vendors"]["dengage"]["accounts"][account]


def contacts(client, account: str = "demo") -> dict:
    """contact_key -> stored contact."""
    return {c["contact_key"]: c for c in account_state(client, account)["contacts"]}


def journal(client) -> list[dict]:
    return client.get("/_emulator/requests?vendor=dengage").get_json()["requests"]


def last_notes(client) -> list[dict]:
    return journal(client)[-1]["notes"]


def data_state(client, account: str = "demo") -> dict:
    """What a rejected call must leave unchanged: contacts and the limit window."""
    state = account_state(client, account)
    return {"contacts": state["contacts"], "limits": state["limits"]}
