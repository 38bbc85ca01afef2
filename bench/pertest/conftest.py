"""Times each test of a per-test-cost suite (``bench/bench_pertest.py`` runs them).

The whole run protocol of a test (set-up, call, teardown) is timed; the first and the last
test are left out, since they also set up and tear down the session's fixtures. The mean
and the median are written as JSON to ``$BENCH_PERTEST_OUT``.
"""
from __future__ import annotations

import json
import os
import statistics
import time

import pytest

TESTS = int(os.environ.get("BENCH_PERTEST_TESTS", "300"))
_times: list[float] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.perf_counter()
    yield
    _times.append(time.perf_counter() - started)


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("BENCH_PERTEST_OUT")
    if out and len(_times) > 2:
        inner = _times[1:-1]
        with open(out, "w") as fh:
            json.dump({"tests": len(_times), "mean_s": sum(inner) / len(inner), "median_s": statistics.median(inner),
                       "failed": session.testsfailed}, fh)
