"""A bare test: what pytest itself costs per test."""
import os

import pytest

TESTS = int(os.environ.get("BENCH_PERTEST_TESTS", "300"))


@pytest.mark.parametrize("i", range(TESTS))
def test_bare(i):
    assert i >= 0
