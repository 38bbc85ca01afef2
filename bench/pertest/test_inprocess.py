"""The in-process ``emulated_vendors`` fixture, one Octopush create per test to the real host."""
import os

import pytest
import requests

TESTS = int(os.environ.get("BENCH_PERTEST_TESTS", "300"))

AUTH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}


@pytest.mark.parametrize("i", range(TESTS))
def test_one_create(emulated_vendors, i):
    resp = requests.post("https://api.octopush.com/v1/public/contact/create", headers=AUTH,
                         json={"contacts": [{"phone_number": f"+336{i:08d}", "first_name": "Ann"}]}, timeout=5)
    assert resp.status_code == 201
