"""Issue item 7 and two read endpoints of item 8, over the test client and a live server:
GET /groups with name and paging, TotalCount on GET /contacts, GET /group/{id}/contacts,
GET /contacts/email and GET /addressbooks."""
from __future__ import annotations

import pytest

from .conftest import contact, email, error_of, sms


def test_groups_filter_by_name_and_page(api):
    for name in ("VIP Customers", "Newsletter", "vip-old"):
        api.post("/contact/subscribe", {"contact": contact(email(f"{name[:3]}@example.com")), "groups": [name]})
    everything = api.get("/groups")
    assert everything.status_code == 200 and everything.headers["TotalCount"] == "6"
    assert [g["name"] for g in everything.json()] == ["Subscribers", "Customers", "Active", "VIP Customers",
                                                      "Newsletter", "vip-old"]
    assert all(set(g) == {"id", "name", "type"} for g in everything.json())
    vip = api.get("/groups?name=vip")
    assert [g["name"] for g in vip.json()] == ["VIP Customers", "vip-old"] and vip.headers["TotalCount"] == "2"
    page = api.get("/groups?startindex=2&maxrows=2")
    assert [g["name"] for g in page.json()] == ["Customers", "Active"] and page.headers["TotalCount"] == "6"
    assert api.get("/groups?name=CUSTOMERS").headers["TotalCount"] == "2"
    assert api.get("/groups?name=nothing").json() == []
    error_of(api.get("/groups?maxrows=501"), 400, "maxrows", "1..500")
    error_of(api.get("/groups?startindex=0"), 400, "startindex")


def test_search_sends_total_count_over_all_matches(api):
    ids = [api.add(contact(email(f"u{i}@example.com"), lastName="Lee")) for i in range(5)]
    resp = api.get("/contacts?lastname=lee&startindex=2&maxrows=2")
    assert resp.headers["TotalCount"] == "5" and [c["id"] for c in resp.json()] == ids[1:3]
    resp = api.get("/contacts?externalCustomerId=nobody")
    assert resp.json() == [] and resp.headers["TotalCount"] == "0"


def test_group_contacts_pages_the_segment_and_counts_it(api):
    customers = next(g["id"] for g in api.get("/groups").json() if g["name"] == "Customers")
    ids = [api.add(contact(email(f"g{i}@example.com"))) for i in range(5)]
    api.add(contact(email("outside@example.com")))
    assert api.post(f"/group/{customers}/contacts/attach", {"contactIds": ids}).status_code == 200
    api.delete(f"/contact/{ids[4]}")  # deleted contacts are left out
    resp = api.get(f"/group/{customers}/contacts")
    assert resp.status_code == 200 and resp.headers["TotalCount"] == "4"
    assert [c["id"] for c in resp.json()] == ids[:4]
    assert resp.json()[0] == api.get(f"/contact/{ids[0]}").json()  # shaped as GET /contact/{id}
    page = api.get(f"/group/{customers}/contacts?startindex=3&maxrows=5")
    assert [c["id"] for c in page.json()] == ids[2:4] and page.headers["TotalCount"] == "4"
    empty = next(g["id"] for g in api.get("/groups").json() if g["name"] == "Subscribers")
    assert api.get(f"/group/{empty}/contacts").json() == []
    error_of(api.get("/group/999999/contacts"), 404, "segment", "not found")
    error_of(api.get("/group/abc/contacts"), 404, "not found")
    error_of(api.get(f"/group/{customers}/contacts?maxrows=0"), 400, "maxrows")


def test_contact_emails_by_id(api):
    with_mail = api.add(contact(email("a@example.com")))
    phone_only = api.add(contact(sms("380501112233")))
    deleted = api.add(contact(email("d@example.com")))
    api.delete(f"/contact/{deleted}")
    resp = api.get(f"/contacts/email?ids={with_mail},{phone_only},{deleted},999999,{with_mail}")
    assert resp.status_code == 200
    assert resp.json() == {"results": [{"contactId": with_mail, "email": "a@example.com"}]}
    assert api.get(f"/contacts/email?ids={with_mail}").json()["results"][0]["email"] == "a@example.com"


@pytest.mark.parametrize("query, words", [("", ["ids is required"]), ("?ids=", ["ids is required"]),
                                          ("?ids=1,x", ["ids", "integer", "'x'"]), ("?ids=1;2", ["ids"]),
                                          ("?ids=-1", ["ids"]), ("?ids=1,,2", ["ids"])])
def test_contact_emails_needs_integer_ids(api, query, words):
    error_of(api.get(f"/contacts/email{query}"), 400, *words)


def test_address_books_list_the_fixtures_custom_fields(api):
    resp = api.get("/addressbooks")
    assert resp.status_code == 200
    assert resp.json() == {"addressBook": {"addressBookId": 7200, "name": "Contacts", "fieldGroups": [
        {"name": "Personal", "profileKey": "PERSONAL", "fields": [
            {"id": 12345, "name": "city", "fieldKey": "CITY",
             "description": {"type": "textfield", "required": False, "readonly": False}},
            {"id": 12346, "name": "birthday", "fieldKey": "BIRTHDAY",
             "description": {"type": "date", "required": False, "readonly": False}}]},
        {"name": "Loyalty", "profileKey": "LOYALTY", "fields": [
            {"id": 12347, "name": "loyalty tier", "fieldKey": "LOYALTY_TIER",
             "description": {"type": "combobox", "required": False, "readonly": False,
                             "allowedValues": {"possibleValues": ["bronze", "silver", "gold"]}}}]}]}}
    # an account without declared fields has an empty catalogue
    assert api.get("/addressbooks", auth=("", "other-key")).json()["addressBook"]["fieldGroups"] == []


def test_address_book_keys_and_names_come_from_the_fixture(make_api):
    api = make_api(address_book_id=99, address_book_name="Shop",
                   fields=[{"id": 1, "name": "Shoe size", "type": "number", "group": "Body", "profileKey": "B",
                            "fieldKey": "SHOE", "required": True}])
    book = api.get("/addressbooks").json()["addressBook"]
    assert (book["addressBookId"], book["name"]) == (99, "Shop")
    assert book["fieldGroups"] == [{"name": "Body", "profileKey": "B", "fields": [
        {"id": 1, "name": "Shoe size", "fieldKey": "SHOE",
         "description": {"type": "number", "required": True, "readonly": False}}]}]
    contact_id = api.add(contact(email("a@example.com"), addressBookId=99))
    assert api.notes() == []
    assert api.get(f"/contact/{contact_id}").json()["addressBookId"] == 99


def test_a_broken_catalogue_in_the_fixture_is_refused_at_start(make_app):
    from emulator.core.errors import EmulatorError
    from emulator.vendors.esputnik import VENDOR

    from .conftest import esputnik_fixture

    with pytest.raises(EmulatorError, match="custom field"):
        app = make_app(vendors=[VENDOR], fixture=esputnik_fixture(fields=[{"id": 1, "name": "x", "type": "blob"}]))
        app.test_client().get("/esputnik/api/v1/addressbooks", auth=("demo", "esputnik-demo-key"))
