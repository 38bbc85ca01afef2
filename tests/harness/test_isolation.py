"""Per-test reset: whatever a test changes (seed and fixture included) lasts for that test;
the next one starts from the session's fixture, seed and data, with an empty journal, no
fault rules and the real clock, whatever the order, also under pytest-xdist."""
from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# Two tests that each change everything the per-test reset puts back, and check that they
# start from the session's state: run in either order, the second sees the first's changes
# unless the reset restores them all.
SUITE = '''
import json

import pytest
import requests

from emulator import create_app

OCTOPUSH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
_SESSION = []


def session_state():
    """The state a fresh emulator with the session's fixture and seed has (computed once)."""
    if not _SESSION:
        engine = create_app({"fixture": "default", "seed": 0}).extensions["emulator"]
        _SESSION.append(json.dumps(engine.state(), sort_keys=True))
        engine.close()
    return _SESSION[0]


def assert_session_state(handle):
    assert json.dumps(handle.state(), sort_keys=True) == session_state()
    assert len(handle.contacts("octopush")) == 5
    assert handle.requests() == [] and handle.faults.list() == []
    assert handle.clock.state()["frozen"] is False and handle.clock.state()["offset_s"] == 0


def change_everything(handle, base):
    handle.seed(42, fixture="empty")
    assert handle.contacts("octopush") == []
    handle.clock.freeze("2030-01-01T00:00:00Z")
    handle.faults.add(vendor="octopush", path="/nowhere", status=500)
    resp = requests.post(f"{base}/v1/public/contact/create", headers=OCTOPUSH, timeout=5,
                         json={"contacts": [{"phone_number": "+33611111111"}]})
    assert resp.status_code == 201, resp.text


ROUNDS = pytest.mark.parametrize("round_", range(3))


@ROUNDS
def test_live_a(contact_emulator, round_):
    assert_session_state(contact_emulator)
    change_everything(contact_emulator, contact_emulator.base_url("octopush"))


@ROUNDS
def test_live_b(contact_emulator, round_):
    assert_session_state(contact_emulator)
    change_everything(contact_emulator, contact_emulator.base_url("octopush"))


@ROUNDS
def test_in_process_a(emulated_vendors, round_):
    assert_session_state(emulated_vendors)
    change_everything(emulated_vendors, "https://api.octopush.com")


@ROUNDS
def test_in_process_b(emulated_vendors, round_):
    assert_session_state(emulated_vendors)
    change_everything(emulated_vendors, "https://api.octopush.com")


def test_the_first_request_of_a_test_gets_the_same_id_and_seq(emulated_vendors):
    emulated_vendors.clock.freeze("2026-06-01T00:00:00Z")
    resp = requests.post("https://api.octopush.com/v1/public/contact/create", headers=OCTOPUSH, timeout=5,
                         json={"contacts": [{"phone_number": "+33622222222"}]})
    assert resp.status_code == 201
    assert [e["seq"] for e in emulated_vendors.requests()] == [1]
    print("STATE", json.dumps(emulated_vendors.state("octopush"), sort_keys=True))
'''

FILE = "test_isolation_suite.py"
FORWARD = ["test_live_a", "test_live_b", "test_in_process_a", "test_in_process_b"]


def node_ids(names):
    return [f"{FILE}::{name}" for name in names]


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(test_isolation_suite=SUITE)
    return pytester


@pytest.mark.parametrize("order", [FORWARD, FORWARD[::-1]], ids=["a-then-b", "b-then-a"])
def test_each_test_starts_from_the_session_state_in_either_order(suite, order):
    result = suite.runpytest_subprocess(*node_ids(order), "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=12)


def test_each_test_starts_from_the_session_state_under_xdist(suite):
    result = suite.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=13)


def test_ids_and_journal_numbers_do_not_depend_on_the_tests_before(suite):
    """The same test, alone or after tests that wrote and reseeded, stores the same bytes."""
    alone = suite.runpytest_subprocess(f"{FILE}::test_the_first_request_of_a_test_gets_the_same_id_and_seq",
                                       "-s", "-p", "no:cacheprovider")
    after = suite.runpytest_subprocess(*node_ids(FORWARD), f"{FILE}::test_the_first_request_of_a_test_gets_the_same_id_and_seq",
                                       "-s", "-p", "no:cacheprovider")
    alone.assert_outcomes(passed=1)
    after.assert_outcomes(passed=13)

    def printed(result):
        return [line[line.index("STATE"):] for line in result.outlines if "STATE" in line]

    assert printed(alone) == printed(after) and printed(alone)
