"""pytest-httpserver, one handler and one request per test (the peer's usual test)."""
import os

import pytest
import requests

TESTS = int(os.environ.get("BENCH_PERTEST_TESTS", "300"))


@pytest.mark.parametrize("i", range(TESTS))
def test_one_request(httpserver, i):
    httpserver.expect_request("/v1/public/contact/create", method="POST").respond_with_json(
        {"contacts_created": 1}, status=201)
    resp = requests.post(httpserver.url_for("/v1/public/contact/create"),
                         json={"contacts": [{"phone_number": f"+336{i:08d}", "first_name": "Ann"}]}, timeout=5)
    assert resp.status_code == 201
