"""Verification: subset matching of bodies, unmatched requests, ``check()`` and its plugin
option, ``assert_clean(allow=...)`` globs and kinds, the lint per kind, and named errors for
bad arguments to the handle and the admin API."""
from __future__ import annotations

import pytest
import requests

from emulator import intercept
from emulator.testing.handle import BadArgument, compile_allow, is_subset

from ..core.conftest import KEY_A
from ..core.sample_vendor import SAMPLE, sample_fixture

pytest_plugins = ["pytester"]
BASE = "https://api.sample.test"


@pytest.fixture
def sample(make_app):
    with intercept(make_app(vendors=[SAMPLE], fixture=sample_fixture(0))) as handle:
        yield handle


def noted(*notes):
    """POST notes through the sample vendor (each ``(field, kind[, rule])``)."""
    items = [{"field": n[0], "kind": n[1], "rule": n[2] if len(n) > 2 else f"{n[1]} rule", "sent": 1, "used": 2}
             for n in notes]
    resp = requests.post(f"{BASE}/notes", json={"notes": items}, headers=KEY_A, timeout=5)
    assert resp.status_code == 200, resp.text


# -- json_subset ---------------------------------------------------------------------
@pytest.mark.parametrize(("subset", "value", "expected"), [
    ({"a": 1}, {"a": 1, "b": 2}, True),
    ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, True),
    ({"a": {"b": 1, "x": 0}}, {"a": {"b": 1}}, False),
    ([2, 1], [1, 2, 3], True),                        # order ignored, a subset
    ([1, 1], [1, 2], False),                          # each element matched by a distinct one
    ([{"a": 1}, {"a": 1, "b": 2}], [{"a": 1, "b": 2}, {"a": 1, "c": 3}], True),  # not greedy
    ({"contacts": [{"email": "b@x.io"}]}, {"contacts": [{"email": "a@x.io", "n": 1}, {"email": "b@x.io", "n": 2}]},
     True),
    ([], [1], True),
    ([1], [], False),
    ({"a": [1]}, {"a": 1}, False),
    ("1", 1, False),
])
def test_is_subset(subset, value, expected):
    assert is_subset(subset, value) is expected


def test_assert_called_matches_list_subsets_and_shows_the_nearest_requests(sample):
    requests.get(f"{BASE}/echo", json={"contacts": [{"email": "a@x.io", "tags": ["x", "y"]}, {"email": "b@x.io"}]},
                 headers=KEY_A, timeout=5)
    sample.assert_called("sample", "GET", "/echo", json_subset={"contacts": [{"email": "b@x.io"},
                                                                             {"tags": ["y"]}]})
    with pytest.raises(AssertionError) as failure:
        sample.assert_called("sample", "GET", "/echo", json_subset={"contacts": [{"email": "c@x.io"}]})
    message = str(failure.value)
    assert "expected sample GET /echo at least once with a body containing" in message
    assert "nearest requests:\n  GET /echo -> 200 body={'contacts'" in message
    assert "def assert_called" not in message
    with pytest.raises(BadArgument, match="times must be"):
        sample.assert_called("sample", "GET", "/echo", times=-1)


# -- unmatched and check() -------------------------------------------------------------
def test_unmatched_lists_requests_no_route_answered(sample, make_app):
    assert requests.post(f"{BASE}/contact", json={"email": "a@x.io"}, headers=KEY_A, timeout=5).status_code == 404
    assert requests.get(f"{BASE}/contacts/999", headers=KEY_A, timeout=5).status_code == 404  # a route: not unmatched
    assert requests.post(f"{BASE}/contacts", json={"email": "a@x.io"}, headers=KEY_A, timeout=5).status_code == 201
    (entry,) = sample.unmatched()
    assert (entry["method"], entry["path"], entry["status"], entry["unmatched"]) == ("POST", "/contact", 404, True)
    assert "no route" in entry["response"]["sample_error"]
    assert [e["path"] for e in sample.requests(unmatched=False)] == ["/contacts/999", "/contacts"]
    client = sample.app.test_client()
    assert [e["path"] for e in client.get("/_emulator/requests?unmatched=1").json["requests"]] == ["/contact"]
    assert client.get("/_emulator/requests?unmatched=maybe").status_code == 400


def test_check_fails_on_unmatched_and_unasked_5xx_only(sample):
    requests.post(f"{BASE}/contacts", json={"email": "a@x.io"}, headers=KEY_A, timeout=5)
    requests.get(f"{BASE}/contacts/999", headers=KEY_A, timeout=5)  # a 404 of a route is an answer
    sample.faults.add(vendor="sample", path="/contacts", status=503, times=1)
    assert requests.post(f"{BASE}/contacts", json={"email": "b@x.io"}, headers=KEY_A, timeout=5).status_code == 503
    sample.check()  # the 503 was asked for by a fault rule
    requests.get(f"{BASE}/nowhere", headers=KEY_A, timeout=5)
    with pytest.raises(AssertionError) as failure:
        sample.check()
    assert "1 request(s)" in str(failure.value) and "sample GET /nowhere -> 404 (no route)" in str(failure.value)


def test_check_fails_on_a_500(make_app):
    import dataclasses

    def broken_blueprint():
        bp = SAMPLE.blueprint()

        @bp.get("/boom")
        def boom():
            raise RuntimeError("bug")

        return bp

    spec = dataclasses.replace(SAMPLE, blueprint=broken_blueprint)
    with intercept(make_app(vendors=[spec], fixture=sample_fixture(0))) as handle:
        assert requests.get(f"{BASE}/boom", timeout=5).status_code == 500
        with pytest.raises(AssertionError, match=r"sample GET /boom -> 500"):
            handle.check()


CHECKED_SUITE = '''
import pytest
import requests

AUTH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}


def test_typo_in_the_path(emulated_vendors):
    requests.post("https://api.octopush.com/v1/public/contacts/create", json={}, headers=AUTH, timeout=5)


def test_typo_live(contact_emulator):
    requests.get(contact_emulator.base_url("pushtech") + "/v2/account/demo/contactz", timeout=5)


def test_clean(emulated_vendors):
    r = requests.post("https://api.octopush.com/v1/public/contact/create", headers=AUTH, timeout=5,
                      json={"contacts": [{"phone_number": "+33611111111"}]})
    assert r.status_code == 201


@pytest.mark.contact_emulator(check=False)
def test_opted_out(emulated_vendors):
    requests.post("https://api.octopush.com/v1/public/nowhere", json={}, headers=AUTH, timeout=5)
'''


def test_the_check_option_fails_tests_that_made_unmatched_requests(pytester):
    pytester.makepyfile(test_checked=CHECKED_SUITE)
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    plain.assert_outcomes(passed=4)
    checked = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--contact-emulator-check")
    checked.assert_outcomes(passed=2, failed=2)
    text = checked.stdout.str()
    assert "octopush POST /v1/public/contacts/create -> 404 (no route)" in text
    assert "pushtech GET /v2/account/demo/contactz -> 404 (no route)" in text
    pytester.makeini("[pytest]\ncontact_emulator_check = true\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2, failed=2)


# -- assert_clean(allow=...) -----------------------------------------------------------
def test_allow_takes_kinds_globs_vendor_globs_and_rule_texts(sample):
    noted(("contacts[0].phone_number", "cast"), ("contacts[12].phone_number", "cast"),
          ("contacts[1].email", "ignored"), ("email", "cast", "lower-cased"), ("", "advice", "once a minute"),
          ("contactDatas[0].birth_date", "unverified"))
    with pytest.raises(AssertionError) as failure:
        sample.assert_clean()
    message = str(failure.value)
    assert message.startswith("6 journal note(s)")
    assert "sample POST /notes: contacts[1].email sent 1, used 2 (ignored rule) [ignored]" in message
    everything = ["contacts[*].phone_number", "*.email", "email", "advice", "unverified"]
    sample.assert_clean(allow=everything)
    sample.assert_clean(allow=["sample:contacts[*].phone_number", "contacts[1].email", "lower-cased",
                               "once a minute", "contactDatas[*].*"])
    sample.assert_clean(allow=["cast", "ignored", "advice", "unverified"])
    for missing in everything:
        with pytest.raises(AssertionError):
            sample.assert_clean(allow=[a for a in everything if a != missing])


@pytest.mark.parametrize(("glob", "field", "matches"), [
    ("contacts[*].phone_number", "contacts[3].phone_number", True),
    ("contacts[*].phone_number", "contacts[x].phone_number", False),
    ("contacts[*].phone_number", "contacts[3].phone_number.extra", False),   # the whole path
    ("contacts[*].phone_number", "my.contacts[3].phone_number", False),
    ("*.email", "contacts[0].email", True),
    ("*.email", "email", False),
    ("*email", "email", True),
    ("contacts[0].email", "contacts[0].email", True),
    ("contacts[0].email", "contacts[1].email", False),
    ("contacts[1-3].email", "contacts[2].email", False),   # brackets are not character classes
    ("contacts[1-3].email", "contacts[1-3].email", True),
    ("contacts.?", "contacts.a", False),                   # ? is a plain character
    ("a.b", "aXb", False),                                 # so is .
])
def test_field_globs_match_whole_paths(glob, field, matches):
    from emulator.testing.handle import allowed

    checks = compile_allow([glob], {"sample"})
    assert allowed(checks, "sample", {"field": field, "kind": "cast", "rule": "r"}) is matches


def test_a_vendor_prefix_applies_to_that_vendor_only():
    from emulator.testing.handle import allowed

    checks = compile_allow(["octopush:contacts[*].phone_number"], {"octopush", "dengage"})
    note = {"field": "contacts[0].phone_number", "kind": "cast", "rule": "r"}
    assert allowed(checks, "octopush", note) and not allowed(checks, "dengage", note)


@pytest.mark.parametrize(("allow", "words"), [
    (["esputnk:email"], "allow[0] 'esputnk:email': 'esputnk' is not a served vendor"),
    (["email", ""], "allow[1] must be a non-empty string"),
    ([None], "allow[0] must be a non-empty string"),
    (["octopush:"], "a field glob must follow 'octopush:'"),
    (42, "allow must be a list"),
])
def test_bad_allow_entries_are_named(allow, words):
    with pytest.raises(BadArgument) as failure:
        compile_allow(allow, {"octopush"})
    assert words in str(failure.value)


def test_lint_summarises_per_kind(sample):
    noted(("contacts[0].phone_number", "cast"), ("contacts[1].phone_number", "cast"), ("x", "ignored"))
    summary = sample.lint()
    assert summary["total"] == 3
    assert summary["kinds"] == {"cast": 2, "ignored": 1, "advice": 0, "unverified": 0}
    endpoint = summary["vendors"]["sample"]["POST /notes"]
    assert endpoint["contacts[0].phone_number"]["kinds"] == {"cast": 1}
    assert endpoint["x"]["examples"][0]["kind"] == "ignored"
    only = sample.lint(kind="ignored")
    assert only["total"] == 1 and list(only["vendors"]["sample"]["POST /notes"]) == ["x"]
    client = sample.app.test_client()
    assert client.get("/_emulator/lint?kind=cast").json["total"] == 2
    resp = client.get("/_emulator/lint?kind=wrong")
    assert resp.status_code == 400 and "'kind' must be one of cast, ignored, advice, unverified" in resp.json["error"]


# -- bad input to the handle and the admin API -------------------------------------------
def test_bad_arguments_to_the_handle_name_the_argument(sample):
    cases = [
        (lambda: sample.contacts("esputnk"), "vendor='esputnk' is not served; served: sample"),
        (lambda: sample.contacts("sample", account="zz"), "account='zz': no such sample account; declared: a, b"),
        (lambda: sample.requests(vendor="nope"), "vendor='nope' is not served"),
        (lambda: sample.lint(kind="loud"), "kind='loud': a note kind is one of cast, ignored, advice, unverified"),
        (lambda: sample.seed("42"), "seed must be an integer, got '42'"),
        (lambda: sample.seed(True), "seed must be an integer, got True"),
        (lambda: sample.seed(1, fixture=3), "fixture must be a fixture name or a fixture object, got 3"),
        (lambda: sample.reset("nope"), "vendor='nope' is not served"),
        (lambda: sample.collection("sample", "nothing"), "kind='nothing': sample keeps contacts"),
        (lambda: sample.assert_clean(allow=["nope:x"]), "'nope' is not a served vendor"),
    ]
    for call, words in cases:
        with pytest.raises(BadArgument) as failure:
            call()
        assert words in str(failure.value), (words, str(failure.value))


@pytest.mark.parametrize(("method", "path", "body", "words"), [
    ("post", "/_emulator/seed", {"seed": "x"}, "'seed' must be an integer, got 'x'"),
    ("post", "/_emulator/seed", {"seed": 1, "fixture": "no-such"}, "'fixture': fixture 'no-such' not found"),
    ("post", "/_emulator/seed", {"seed": 1, "fixture": 7}, "'fixture' must be a fixture name or a fixture object"),
    ("post", "/_emulator/seed", {"sead": 1}, "seed takes 'seed' and 'fixture', got 'sead'"),
    ("post", "/_emulator/reset", {"vendor": "nope"}, "'vendor' must be one of sample, got 'nope'"),
    ("post", "/_emulator/reset", {"session": "yes"}, "'session' must be true or false"),
    ("post", "/_emulator/reset", {"session": True, "vendor": "sample"}, "send it without 'vendor'"),
    ("post", "/_emulator/reset", {"all": True}, "reset takes 'vendor' or 'session', got 'all'"),
    ("get", "/_emulator/requests?vendor=nope", None, "query parameter 'vendor' must be one of sample"),
    ("get", "/_emulator/requests?limit=ten", None, "query parameter 'limit' must be an integer"),
    ("get", "/_emulator/lint?vendor=nope", None, "query parameter 'vendor' must be one of sample"),
])
def test_bad_input_to_the_admin_api_names_the_argument(sample, method, path, body, words):
    client = sample.app.test_client()
    resp = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
    assert resp.status_code == 400 and words in resp.json["error"], resp.json
