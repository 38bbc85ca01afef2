"""Segments: list, attach and detach by contactIds or externalCustomerIds."""
from __future__ import annotations

import pytest

from .conftest import API, AUTH, account_state, assert_error, contact, email, stored


def add(client, body) -> int:
    resp = client.post(f"{API}/contact", json=body, auth=AUTH)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["id"]


def group_id(client, name: str) -> int:
    return next(g["id"] for g in client.get(f"{API}/groups", auth=AUTH).get_json() if g["name"] == name)


def members(client, name: str) -> list[int]:
    return sorted(d["id"] for d in stored(client) if name in [g["name"] for g in d["groups"]])


@pytest.fixture
def three(client):
    return [add(client, contact(email(f"m{i}@example.com"), externalCustomerId=f"crm-{i}")) for i in range(3)]


def test_groups_lists_the_fixture_segments(client):
    listed = client.get(f"{API}/groups", auth=AUTH).get_json()
    assert [(g["name"], g["type"]) for g in listed] == [("Subscribers", "Static"), ("Customers", "Static"),
                                                         ("Active", "Dynamic")]
    assert all(isinstance(g["id"], int) for g in listed)


def test_attach_by_contact_ids_reports_unknown_ones(client, three):
    gid = group_id(client, "Customers")
    resp = client.post(f"{API}/group/{gid}/contacts/attach", json={"contactIds": three[:2] + [424242]}, auth=AUTH)
    assert resp.status_code == 200
    assert resp.get_json() == {"processed": three[:2], "notFound": [424242]}
    assert members(client, "Customers") == sorted(three[:2])
    entry = client.get("/_emulator/requests?vendor=esputnik").get_json()["requests"][-1]
    assert entry["notes"][0]["rule"] == "unknown or deleted contacts ignored"
    # attaching twice keeps one membership
    client.post(f"{API}/group/{gid}/contacts/attach", json={"contactIds": three[:1]}, auth=AUTH)
    assert [g["name"] for g in stored(client)[0]["groups"]] == ["Customers"]


def test_attach_and_detach_by_external_ids(client, three):
    gid = group_id(client, "Subscribers")
    resp = client.post(f"{API}/group/{gid}/contacts/attach", json={"externalCustomerIds": ["crm-0", "crm-2", "nope"]},
                       auth=AUTH)
    assert resp.get_json() == {"processed": [three[0], three[2]], "notFound": ["nope"]}
    resp = client.post(f"{API}/group/{gid}/contacts/detach", json={"externalCustomerIds": ["crm-0"]}, auth=AUTH)
    assert resp.get_json() == {"processed": [three[0]], "notFound": []}
    assert members(client, "Subscribers") == [three[2]]


@pytest.mark.parametrize("body", [None, {}, {"contactIds": []}, {"externalCustomerIds": None}])
def test_detach_with_no_ids_empties_the_segment(client, three, body):
    gid = group_id(client, "Customers")
    client.post(f"{API}/group/{gid}/contacts/attach", json={"contactIds": three}, auth=AUTH)
    other = group_id(client, "Subscribers")
    client.post(f"{API}/group/{other}/contacts/attach", json={"contactIds": three[:1]}, auth=AUTH)
    kwargs = {"json": body} if body is not None else {}
    resp = client.post(f"{API}/group/{gid}/contacts/detach", auth=AUTH, **kwargs)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert sorted(resp.get_json()["processed"]) == sorted(three)
    assert members(client, "Customers") == []
    assert members(client, "Subscribers") == [three[0]]


def test_deleted_contacts_are_not_attached(client, three):
    client.delete(f"{API}/contact/{three[0]}", auth=AUTH)
    gid = group_id(client, "Customers")
    resp = client.post(f"{API}/group/{gid}/contacts/attach", json={"contactIds": three[:1]}, auth=AUTH)
    assert resp.get_json() == {"processed": [], "notFound": [three[0]]}


@pytest.mark.parametrize("verb", ["attach", "detach"])
@pytest.mark.parametrize("body, words", [
    ({"contactIds": [1], "externalCustomerIds": ["a"]}, ["not both"]),
    ({"contactIds": list(range(501))}, ["at most 500", "got 501"]),
    ({"externalCustomerIds": [str(i) for i in range(501)]}, ["at most 500"]),
    ({"contactIds": "1,2"}, ["contactIds must be an array"]),
    ({"contactIds": {"id": 1}}, ["contactIds must be an array"]),
    ({"contactIds": ["abc"]}, ["contactIds[0]", "integer"]),
    ({"contactIds": [[1]]}, ["contactIds[0]", "integer"]),
    ({"externalCustomerIds": [{"x": 1}]}, ["externalCustomerIds[0]", "string"]),
])
def test_bad_segment_requests_are_400_and_change_nothing(client, three, verb, body, words):
    gid = group_id(client, "Customers")
    before = account_state(client)
    assert_error(client.post(f"{API}/group/{gid}/contacts/{verb}", json=body, auth=AUTH), 400, *words)
    assert account_state(client) == before


def test_five_hundred_ids_are_accepted(client, three):
    gid = group_id(client, "Customers")
    resp = client.post(f"{API}/group/{gid}/contacts/attach", json={"contactIds": three + list(range(1, 498))},
                       auth=AUTH)
    assert resp.status_code == 200 and len(resp.get_json()["notFound"]) == 497


def test_attach_needs_ids(client):
    gid = group_id(client, "Customers")
    assert_error(client.post(f"{API}/group/{gid}/contacts/attach", json={}, auth=AUTH), 400, "contactIds")


@pytest.mark.parametrize("path", ["/group/999999/contacts/attach", "/group/abc/contacts/attach",
                                  "/group/999999/contacts/detach"])
def test_unknown_segment_is_404(client, three, path):
    assert_error(client.post(API + path, json={"contactIds": three}, auth=AUTH), 404, "segment")


def test_dynamic_segments_refuse_changes(client, three):
    gid = group_id(client, "Active")
    for verb in ("attach", "detach"):
        assert_error(client.post(f"{API}/group/{gid}/contacts/{verb}", json={"contactIds": three}, auth=AUTH), 400,
                     "Dynamic", "Static")
