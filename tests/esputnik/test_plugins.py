"""The vendor's own integrations, replayed byte for byte over the test client and a live server:
method, path as the plugin spells it on the vendor's host (``yespo.io``), its auth header and its
body as the plugin builds and encodes it (empty strings, numbers as text, PHP's escaped slashes),
then what the plugin's code reads from the answer.

* ``Yespo-CDP/yespo-woocommerce`` at 804ecfd50dc559aa0080a16b2c37ba9fe6d55346:
  integrations/esputnik/Yespo_Curl_Request.php (headers, ``wp_json_encode``, what is read per
  status), Yespo_Contact.php (update, bulk export, phone removal, delete), Yespo_Contact_Mapping.php
  (the contact body), Yespo_Order.php and Yespo_Order_Mapping.php (orders); and at
  8b61de96808b4fbddb3143af383274717ef8beac Yespo_Contact.php ``get_bulk_response`` /
  ``get_yespo_user_id`` and Yespo_Export_Users.php (the last to read ``mapping``).
* ``Yespo-CDP/yespo-shopify`` at 39a73ef160e991e832423807347eb5f4b3ada48a: app/utils/auth.ts,
  app/utils/fetchWithErrorHandling.ts, app/api/{create-contact,update-contact,update-contacts,
  delete-contact,create-orders}.ts, app/services/{create-contact.server,update-contact.service,
  create-order.server}.ts, app/worker/services/{create-contact-payload,create-order-payload}.ts,
  app/worker/handlers/{customer,order}-sync-handler.ts.
"""
from __future__ import annotations

import base64
import json

import pytest

KEY = "esputnik-demo-key"
HOST = "yespo.io"


def php_json(value) -> bytes:
    """``wp_json_encode``: PHP's json_encode defaults (compact, ``\\/``, ASCII with \\u escapes)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def js_json(value) -> bytes:
    """``JSON.stringify``: compact, undefined members left out (None here means "not sent")."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    return json.dumps(strip(value), separators=(",", ":"), ensure_ascii=False).encode()


class WooCommerce:
    """Yespo_Curl_Request::curl_request: what the WordPress plugin puts on the wire."""

    HEADERS = {"Accept": "application/json; charset=UTF-8",
               "Authorization": "Basic " + base64.b64encode(f":{KEY}".encode()).decode(),
               "Content-Type": "application/json"}

    def __init__(self, api):
        self.api = api

    def request(self, method: str, url: str, body=None):
        """``url`` as the plugin's constants spell it (https://yespo.io/api/v1/..., earlier esputnik.com)."""
        host, _, path = url.removeprefix("https://").partition("/")
        data = php_json(body) if body else b""  # !empty($user_data) ? wp_json_encode($user_data) : ''
        return self.api.call(method, "/" + path, data=data, headers={**self.HEADERS, "Host": host}, auth=None,
                             prefix="")

    @staticmethod
    def contact(user: dict) -> dict:
        """Yespo_Contact_Mapping::data_woo_to_yes (sanitize_text_field trims, so ' ' becomes '')."""
        phone = "".join(ch for ch in user.get("phone", "") if ch.isdigit())  # preg_replace("/[^0-9]/", "", ...)
        data = {"channels": [{"value": user["email"], "type": "email"}, {"value": phone, "type": "sms"}],
                "externalCustomerId": user["ID"],  # absint(): a JSON number
                "firstName": user.get("first_name") or " ",  # not validated -> ' ' (not sanitised)
                "lastName": user.get("last_name") or " ",
                "address": {"region": user.get("state", ""), "town": user.get("city", ""),
                            "address": user.get("address_1", ""), "postcode": user.get("postcode", "")}}
        if user.get("languageCode"):
            data["languageCode"] = user["languageCode"]
        return data


class Shopify:
    """fetchWithErrorHandling with getAuthHeader: what the Shopify app puts on the wire."""

    HEADERS = {"content-type": "application/json",
               "Authorization": "Basic " + base64.b64encode(f"user:{KEY}".encode()).decode(), "Host": HOST}

    def __init__(self, api):
        self.api = api

    def request(self, method: str, path: str, body=None):
        resp = self.api.call(method, "/api/v1" + path, data=js_json(body) if body is not None else None,
                             headers=self.HEADERS, auth=None, prefix="")
        raw = resp.text
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw
        if not 200 <= resp.status_code < 300:  # FetchError(message) as the app builds it
            message = data if isinstance(data, str) else (data or {}).get("message") or "Unknown error"
            return resp.status_code, message
        return resp.status_code, data

    @staticmethod
    def contact(customer: dict, with_address: bool) -> dict:
        """createContactPayload / updateContactService: "" for a missing name, the id as text."""
        channels = []
        if customer.get("email"):
            channels.append({"type": "email", "value": customer["email"]})
        if customer.get("phone"):
            channels.append({"type": "sms", "value": customer["phone"]})
        body = {"firstName": customer.get("first_name") or "", "lastName": customer.get("last_name") or "",
                "channels": channels, "externalCustomerId": str(customer["id"])}
        if with_address and customer.get("address") is not None:
            address = customer["address"]
            body["address"] = {"town": address.get("city") or "", "address": address.get("address1") or "",
                               "postcode": address.get("zip") or ""}
        return body


# -- WooCommerce ----------------------------------------------------------------------------
def test_woocommerce_update_of_a_customer_without_phone_then_a_changed_email(api):
    woo = WooCommerce(api)
    user = {"ID": 42, "email": "ann@example.com", "first_name": "Ann", "languageCode": "uk"}
    resp = woo.request("POST", "https://yespo.io/api/v1/contact", woo.contact(user))
    assert resp.status_code == 200
    answer = resp.json()
    assert isinstance(answer["id"], int)  # isset($responseArray['id']) -> stored as yespo_contact_id
    # the admin changes the customer's email: same externalCustomerId, same contact
    user["email"] = "ann.new@example.com"
    resp = woo.request("POST", "https://yespo.io/api/v1/contact", woo.contact(user))
    assert resp.status_code == 200 and resp.json()["id"] == answer["id"]
    [doc] = api.state()["contacts"]
    assert doc["externalCustomerId"] == "42"
    assert doc["channels"] == [{"type": "email", "value": "ann.new@example.com", "confirmed": True}]
    assert (doc["firstName"], doc["lastName"], doc["address"], doc["languageCode"]) == ("Ann", None, None, "uk")


def test_woocommerce_customer_with_phone_and_address(api):
    woo = WooCommerce(api)
    user = {"ID": 7, "email": "bob@example.com", "first_name": "Bob", "last_name": "Lee",
            "phone": "+380 (50) 111-22-33", "state": "Kyivska", "city": "Kyiv", "address_1": "Khreshchatyk 1",
            "postcode": "01001"}
    resp = woo.request("POST", "https://yespo.io/api/v1/contact", woo.contact(user))
    assert resp.status_code == 200
    [doc] = api.state()["contacts"]
    assert doc["channels"][1] == {"type": "sms", "value": "380501112233"}
    assert doc["address"] == {"region": "Kyivska", "town": "Kyiv", "address": "Khreshchatyk 1", "postcode": "01001"}
    assert doc["lastName"] == "Lee"


def test_woocommerce_bulk_export_and_its_session(api):
    woo = WooCommerce(api)
    users = [{"ID": 100 + i, "email": f"u{i}@example.com", "first_name": "Ann"} for i in range(3)]
    body = {"dedupeOn": "externalCustomerId", "contacts": [woo.contact(u) for u in users]}
    resp = woo.request("POST", "https://yespo.io/api/v1/contacts", body)
    assert resp.status_code == 200
    response = resp.json()
    session = response["asyncSessionId"]  # isset($response["asyncSessionId"]) -> queued
    status = woo.request("GET", f"https://yespo.io/api/v1/importstatus/{session}").json()
    assert status["status"] == "FINISHED"
    assert [m["dedupeValue"] for m in status["mapping"]] == ["100", "101", "102"]
    assert len(api.state()["contacts"]) == 3


def test_woocommerce_bulk_export_with_a_bad_key_reads_status_401(api):
    woo = WooCommerce(api)
    woo.HEADERS = {**woo.HEADERS, "Authorization": "Basic " + base64.b64encode(b":wrong").decode()}
    resp = woo.request("POST", "https://yespo.io/api/v1/contacts", {"dedupeOn": "externalCustomerId", "contacts": []})
    assert resp.status_code == 401
    assert int(resp.json()["status"]) == 401  # intval($response["status"]) === 401 -> export stopped


@pytest.mark.parametrize("as_object", [False, True])
def test_woocommerce_older_export_reads_mapping_by_dedupe_value(make_api, as_object):
    """8b61de9: dedupeOn email, poll importstatus until status === "FINISHED", then each mapping
    item's dedupeValue is looked up as the user's email and contactId stored -- a single item
    may come as the object itself (count == 2, dedupeValue a string, contactId an int)."""
    api = make_api(single_item_as_object=True) if as_object else make_api()
    woo = WooCommerce(api)
    users = [{"ID": 5, "email": "solo@example.com", "first_name": "Solo"}]
    body = {"dedupeOn": "email", "contacts": [woo.contact(u) for u in users]}
    session = woo.request("POST", "https://esputnik.com/api/v1/contacts", body).json()["asyncSessionId"]
    response = woo.request("GET", f"https://esputnik.com/api/v1/importstatus/{session}").json()
    assert response["status"] == "FINISHED"
    mapping = response["mapping"]
    by_email = {u["email"]: u for u in users}
    stored = {}
    if isinstance(mapping, dict):
        assert as_object and len(mapping) == 2
        assert isinstance(mapping["dedupeValue"], str) and isinstance(mapping["contactId"], int)
        stored[by_email[mapping["dedupeValue"]]["ID"]] = mapping["contactId"]
    else:
        assert not as_object
        for item in mapping:
            stored[by_email[item["dedupeValue"]]["ID"]] = item["contactId"]
    [doc] = api.state()["contacts"]
    assert stored == {5: doc["id"]}


def test_woocommerce_phone_removal_clears_the_sms_and_reads_id(api):
    woo = WooCommerce(api)
    woo.request("POST", "https://yespo.io/api/v1/contact",
                woo.contact({"ID": 9, "email": "p@example.com", "phone": "380501112233"}))
    body = {"dedupeOn": "email", "contactFields": ["sms"],
            "contacts": [{"channels": [{"type": "email", "value": "p@example.com"}]}]}
    resp = woo.request("POST", "https://yespo.io/api/v1/contacts", body)
    assert resp.status_code == 200 and "id" in resp.json()  # isset($responseArray['id']) -> true
    woo.request("GET", f"https://yespo.io/api/v1/importstatus/{resp.json()['asyncSessionId']}")
    [doc] = api.state()["contacts"]
    assert [c["type"] for c in doc["channels"]] == ["email"]


@pytest.mark.parametrize("relocate, kept", [(False, False), (True, True)])
def test_woocommerce_delete_reads_the_status_code(api, relocate, kept):
    woo = WooCommerce(api)
    woo.request("POST", "https://yespo.io/api/v1/contact", woo.contact({"ID": 11, "email": "d@example.com"}))
    erase = "&erase=false" if relocate else "&erase=true"
    resp = woo.request("DELETE", "https://yespo.io/api/v1/contact?externalCustomerId=11" + erase)
    assert resp.status_code == 200  # DELETE: the plugin logs the HTTP code only
    docs = api.state()["contacts"]
    assert [d["deleted"] for d in docs] == ([True] if kept else [])


def woo_order(order_id: int, user_id: int, **fields) -> dict:
    """Yespo_Order_Mapping::order_woo_to_yes: ids and amounts as WooCommerce holds them."""
    order = {"status": "IN_PROGRESS", "externalOrderId": str(order_id), "externalCustomerId": user_id,
             "totalCost": "59.00", "email": "buyer@example.com", "date": "2024-07-11T10:00:00.000000+00:00",
             "currency": "UAH", "firstName": "Ann", "lastName": "Lee",
             "deliveryAddress": "Khreshchatyk 1 Kyiv Kyivska 01001 Ukraine ", "phone": "380501112233",
             "shipping": "10.00", "discount": "", "taxes": "", "source": "checkout", "paymentMethod": "cod",
             "items": [{"externalItemId": 77, "name": "Mug", "category": "no category", "quantity": 2, "cost": "49",
                        "url": "https://shop.example.com/product/mug/", "imageUrl": "", "description": ""}],
             "additionalInfo": {"comment": "Ring twice"}}
    if not user_id:
        del order["externalCustomerId"]  # if($orderArray['externalCustomerId']): a guest has none
    order.update(fields)
    return order


def test_woocommerce_order_export_reads_the_status_code(api):
    woo = WooCommerce(api)
    resp = woo.request("POST", "https://yespo.io/api/v1/orders", {"orders": [woo_order(501, 42), woo_order(502, 0)]})
    assert 199 < resp.status_code < 300  # ($response > 199 && $response < 300): marked as sent
    state = api.state()
    assert [o["externalOrderId"] for o in state["orders"]] == ["501", "502"]
    assert state["orders"][0]["totalCost"] == 59.0 and state["orders"][0]["discount"] is None
    assert state["orders"][0]["additionalInfo"] == {"comment": "Ring twice"}
    [doc] = state["contacts"]  # the guest's order matched the customer's email: one contact
    assert doc["externalCustomerId"] == "42" and {o["contactId"] for o in state["orders"]} == {doc["id"]}
    assert [e["type"] for e in state["events"]] == ["orderIN_PROGRESS", "orderIN_PROGRESS"]


def test_woocommerce_bulk_orders_without_a_date_fail_alone(api):
    woo = WooCommerce(api)
    resp = woo.request("POST", "https://yespo.io/api/v1/orders",
                       {"orders": [woo_order(601, 42), woo_order(602, 42, date=None)]})
    assert resp.status_code == 200  # the plugin counts the batch as sent
    assert [f["externalOrderId"] for f in resp.json()["failedOrders"]] == ["602"]
    assert [o["externalOrderId"] for o in api.state()["orders"]] == ["601"]


def test_woocommerce_older_lookup_by_external_id(api):
    woo = WooCommerce(api)
    contact_id = woo.request("POST", "https://yespo.io/api/v1/contact",
                             woo.contact({"ID": 3, "email": "l@example.com"})).json()["id"]
    found = woo.request("GET", "https://esputnik.com/api/v1/contacts?externalCustomerId=3&startindex=1&maxrows=500")
    assert found.json()[0]["id"] == contact_id  # $response[0]->id


# -- Shopify --------------------------------------------------------------------------------
CUSTOMER = {"id": 7391, "email": "kate@example.com", "phone": "+380501112233", "first_name": "Kate",
            "last_name": None, "address": {"city": "Lviv", "address1": None, "zip": "79000"}}


def test_shopify_create_then_update_by_external_id(api):
    shop = Shopify(api)
    status, created = shop.request("POST", "/contact", shop.contact(CUSTOMER, with_address=False))
    assert status == 200 and isinstance(created["id"], int)
    changed = {**CUSTOMER, "email": "kate.new@example.com", "phone": None}
    status, updated = shop.request("POST", "/contact", shop.contact(changed, with_address=True))
    assert status == 200 and updated["id"] == created["id"]
    [doc] = api.state()["contacts"]
    assert doc["externalCustomerId"] == "7391" and doc["lastName"] is None
    assert doc["channels"] == [{"type": "email", "value": "kate.new@example.com", "confirmed": True},
                               {"type": "sms", "value": "380501112233"}]
    assert doc["address"] == {"region": None, "town": "Lviv", "address": None, "postcode": "79000"}


def test_shopify_reads_duplicated_request_from_message(make_api):
    api = make_api(duplicate_window_s=60)
    shop = Shopify(api)
    body = shop.contact(CUSTOMER, with_address=False)
    assert shop.request("POST", "/contact", body)[0] == 200
    status, message = shop.request("POST", "/contact", body)
    assert status == 409 and "Duplicated request" in message  # swallowed by createContact


def test_shopify_error_message_is_read_from_message(api):
    status, message = Shopify(api).request("POST", "/contact", {"firstName": "Kate", "channels": [],
                                                                "externalCustomerId": "1"})
    assert status == 400 and "channel" in message and message != "Unknown error"


def test_shopify_bulk_sync_counts_failed_contacts(api):
    shop = Shopify(api)
    customers = [CUSTOMER, {"id": 7392, "email": "bad@", "first_name": "Bad"},
                 {"id": 7393, "email": None, "phone": None, "first_name": None}]
    body = {"contacts": [shop.contact(c, with_address=True) for c in customers], "dedupeOn": "externalCustomerId",
            "restoreDeleted": True}
    status, response = shop.request("POST", "/contacts", body)
    assert status == 200 and response["id"] == 0 and response["asyncSessionId"]
    failed = response["failedContacts"]
    chunk_failed = len(failed) if isinstance(failed, list) else 1  # customer-sync-handler.ts
    assert chunk_failed == 1
    status, result = shop.request("GET", f"/importstatus/{response['asyncSessionId']}")
    assert [f["errorCode"] for f in result["failedContacts"]] == ["INVALID_EMAIL", "NO_CHANNEL"]
    assert [d["externalCustomerId"] for d in api.state()["contacts"]] == ["7391"]


def test_shopify_delete_swallows_not_found(api):
    shop = Shopify(api)
    shop.request("POST", "/contact", shop.contact(CUSTOMER, with_address=False))
    status, _ = shop.request("DELETE", "/contact?externalCustomerId=7391&erase=false")
    assert status == 200
    status, message = shop.request("DELETE", "/contact?externalCustomerId=7391&erase=false")
    assert status == 404 and "not found" in message  # deleteContact does not rethrow
    status, _ = shop.request("DELETE", "/contact?externalCustomerId=7391&erase=true")
    assert status == 200 and api.state()["contacts"] == []


def shopify_order(order_id: str, **fields) -> dict:
    """createOrderPayload: amounts parsed as numbers, items without url, imageUrl or category."""
    order = {"externalCustomerId": "7391", "externalOrderId": order_id, "firstName": "Kate", "lastName": "",
             "email": "kate@example.com", "phone": "+380501112233", "totalCost": 129.9, "discount": 0,
             "shipping": 10, "taxes": 21.65, "currency": "UAH", "date": "2026-03-18T12:00:00+02:00",
             "status": "INITIALIZED", "deliveryAddress": "Kate, Svobody 1, Lviv, 79000, Ukraine",
             "items": [{"externalItemId": "4491", "name": "Mug", "quantity": 1, "cost": 119.9}]}
    order.update(fields)
    return order


def test_shopify_orders_and_failed_orders(api):
    shop = Shopify(api)
    status, response = shop.request("POST", "/orders", {"orders": [shopify_order("5101"),
                                                                   shopify_order("5102", status="REFUNDED")]})
    assert status == 200
    failed = response["failedOrders"]
    assert (len(failed) if isinstance(failed, list) else 1) == 1  # order-sync-handler.ts
    state = api.state()
    [doc] = state["contacts"]
    assert (doc["externalCustomerId"], doc["firstName"], doc["lastName"]) == ("7391", "Kate", None)
    # the webhook resends the changed order to the same endpoint: replaced
    status, response = shop.request("POST", "/orders", {"orders": [shopify_order("5101", status="DELIVERED")]})
    assert status == 200 and response == ""  # an empty 200: responseData is the raw text
    assert [o["status"] for o in api.state()["orders"]] == ["DELIVERED"]


def test_shopify_webhook_order_of_a_guest(api):
    shop = Shopify(api)
    # createOrderService: a webhook order without a customer (email and names "", no customer id)
    guest = shopify_order("5201", externalCustomerId=None, firstName="", email="", phone="+380671234567",
                          deliveryAddress="")
    status, response = shop.request("POST", "/orders", {"orders": [guest]})
    assert status == 200 and response == ""
    [doc] = api.state()["contacts"]
    assert doc["externalCustomerId"] is None and doc["firstName"] is None
    assert doc["channels"] == [{"type": "sms", "value": "380671234567"}]
