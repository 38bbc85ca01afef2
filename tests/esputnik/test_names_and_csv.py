"""Issue item 5, over the test client and a live server: the name rule of the vendor's bulk-file
reference, and CSV upload columns under the vendor's own names (case-insensitive, the former
names as aliases)."""
from __future__ import annotations

import pytest

from .conftest import contact, email, error_of

VALID = ["Ann", "Jean-Luc", "O'Neil", "Oʼneil", "D`Artagnan", "N´Dour", "Haꞌa", "Mary Ann", "Олена", "José", "张伟",
         "Louis 14", "Jr.", "John Jr.", "Sen. Lee", "Mary Ann Lee Smith", "Ann Bo Dora Emma Cy", "x" * 40,
         "  Ann  ", "Zoë", "Nguyễn Văn"]
INVALID = [
    ("12345", "only digits"),
    ("- '", "only inside a word"),
    ("!!!", "not allowed"),
    ("x" * 41, "at most 40"),
    ("Ann1234", "at most 3 digits"),
    ("-Ann", "only inside a word"),
    ("Ann-", "only inside a word"),
    ("Ann--Lee", "only inside a word"),
    ("O''Neil", "only inside a word"),
    ("Ann - Lee", "only inside a word"),
    ("O’Neil", "not allowed"),  # U+2019 is not among the reference's apostrophes
    ("Anna.", "at most 3 characters"),
    ("Ann..", "dot"),
    ("J.R.", "not allowed"),
    (".", "a dot may only end a word"),
    ("Anna Maria Luisa Sofia", "three words longer than 3"),
    ("Al Bo Cy Di", "three of at most 3"),
    ("Ann\tLee", "not allowed"),
    ("<script>", "not allowed"),
]


@pytest.mark.parametrize("name", VALID)
def test_names_the_reference_allows(api, name):
    api.add(contact(email("n@example.com"), firstName=name, lastName=name))
    [doc] = api.state()["contacts"]
    assert doc["firstName"] == doc["lastName"] == name.strip()


@pytest.mark.parametrize("name, words", INVALID)
def test_names_the_reference_refuses_are_400_and_store_nothing(api, name, words):
    error_of(api.post("/contact", contact(email("n@example.com"), lastName=name)), 400, "lastName", words)
    assert api.state()["contacts"] == []


def test_in_bulk_a_bad_name_fails_its_record_only(api):
    result = api.bulk({"contacts": [contact(email("a@example.com"), firstName="Anna Maria Luisa Sofia"),
                                    contact(email("b@example.com"), firstName="Jr.")]})
    assert [(f["index"], f["errorCode"]) for f in result["failedContacts"]] == [(0, "INVALID_NAME")]
    assert [d["firstName"] for d in api.state()["contacts"]] == ["Jr."]


VENDOR_CSV = ("First name,LAST NAME,email,Sms,City,Region,Address,Postcode,Language code,Timezone,Contact id,"
              "Additional info,PERSONAL.CITY,loyalty.loyalty_tier,PERSONAL.SHOE,field_999,nickname\n"
              "Ann,Lee,ann@example.com,380501112233,London,West,First str. 1,12345,en,Europe/London,crm-1,"
              "VIP since 2020,Kyiv,gold,42,x,annie\n"
              "Bob,,bob@example.com,,,,,,,,,,,,,,\n")


def test_upload_reads_the_vendors_column_names(api, httpserver):
    httpserver.expect_request("/vendor.csv").respond_with_data(VENDOR_CSV, content_type="text/csv")
    resp = api.post("/contacts/upload", {"link": httpserver.url_for("/vendor.csv")})
    assert resp.status_code == 200 and set(resp.json()) == {"asyncSessionId"}
    result = api.get(f"/importstatus/{resp.json()['asyncSessionId']}").json()
    assert result["status"] == "FINISHED" and result["failedContacts"] == []
    docs = {d["channels"][0]["value"]: d for d in api.state()["contacts"]}
    ann = docs["ann@example.com"]
    assert (ann["firstName"], ann["lastName"], ann["externalCustomerId"], ann["languageCode"], ann["timeZone"]) == (
        "Ann", "Lee", "crm-1", "en", "Europe/London")
    assert ann["channels"][1] == {"type": "sms", "value": "380501112233"}
    assert ann["address"] == {"region": "West", "town": "London", "address": "First str. 1", "postcode": "12345"}
    assert ann["fields"] == [{"id": 12345, "value": "Kyiv"}, {"id": 12347, "value": "gold"}]
    assert docs["bob@example.com"]["lastName"] is None
    [session] = api.state()["sessions"]
    notes = {(n["field"], n["kind"]) for n in session["notes"]}
    assert ("column PERSONAL.SHOE", "ignored") in notes          # a custom field the account does not have
    assert ("column field_999", "ignored") in notes
    assert ("column Additional info", "unverified") in notes     # read, not stored
    assert ("column nickname", "ignored") in notes
    assert all("VIP" not in str(d) for d in api.state()["contacts"])


def test_upload_keeps_the_former_names_as_aliases(api, httpserver):
    httpserver.expect_request("/old.csv").respond_with_data(
        "email,sms,firstName,lastName,externalCustomerId,town,region,address,postcode,field_12345\n"
        "old@example.com,380501112233,Ann,Lee,crm-2,London,West,First str. 1,12345,Kyiv\n")
    resp = api.post("/contacts/upload", {"link": httpserver.url_for("/old.csv")})
    result = api.get(f"/importstatus/{resp.json()['asyncSessionId']}").json()
    assert result["status"] == "FINISHED", result
    [doc] = api.state()["contacts"]
    assert (doc["firstName"], doc["externalCustomerId"], doc["address"]["town"], doc["fields"]) == (
        "Ann", "crm-2", "London", [{"id": 12345, "value": "Kyiv"}])
    assert api.state()["sessions"][0]["notes"] == []


def test_a_header_with_no_known_column_names_the_vendors_columns(api, httpserver):
    httpserver.expect_request("/bad.csv").respond_with_data("mail,phone\nx@example.com,1\n")
    resp = api.post("/contacts/upload", {"link": httpserver.url_for("/bad.csv")})
    result = api.get(f"/importstatus/{resp.json()['asyncSessionId']}").json()
    assert result["status"] == "ERROR"
    assert "First name" in result["error"] and "KEY_PROFILE.KEY_CUSTOMFIELD" in result["error"]
    assert api.state()["contacts"] == []
