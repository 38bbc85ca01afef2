"""Per-test cost of a 300-test suite, one request per test, against pytest-httpserver.

Each suite of ``bench/pertest/`` runs in its own pytest process (the same plugins loaded in
each); ``conftest.py`` there times every test's whole run protocol (set-up, call,
teardown), leaving out the first and last (the session's fixtures are set up and torn down
there). A suite's per-test cost is its median test less the bare suite's median test,
measured in the same round (the median: on a shared machine a mean is mostly the other
processes' load); the mean cost is shown too. The suites take turns over the rounds and
each figure is the median of the rounds.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

from run import HERE

SUITES = {
    "bare": "test_bare.py",
    "httpserver": "test_httpserver.py",
    "live": "test_live.py",
    "in-process": "test_inprocess.py",
    "moto": "test_moto.py",
}


def run_suite(name: str, tests: int) -> dict | None:
    """The suite's timing summary, or None when it was skipped (moto not installed)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        env = {**os.environ, "BENCH_PERTEST_OUT": out, "BENCH_PERTEST_TESTS": str(tests)}
        proc = subprocess.run([sys.executable, "-m", "pytest", str(HERE / "pertest" / SUITES[name]), "-q",
                               "-p", "no:cacheprovider", "-p", "no:randomly"],
                              env=env, capture_output=True, text=True, cwd=str(HERE / "pertest"), timeout=900)
        if not os.path.exists(out):
            if "skipped" in proc.stdout and name == "moto":
                return None
            raise RuntimeError(f"suite {name} wrote no timings:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        with open(out) as fh:
            result = json.load(fh)
    if result["failed"]:
        raise RuntimeError(f"suite {name}: {result['failed']} test(s) failed\n{proc.stdout[-2000:]}")
    return result


def rows(ctx) -> list[dict]:
    tests = 100 if ctx.quick else 300
    rounds = 1 if ctx.quick else 3
    names = ["bare", "httpserver", "live", "in-process", "moto"]
    costs: dict[str, list[float]] = {name: [] for name in names}
    mean_costs: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        order = names if i % 2 == 0 else names[::-1]
        means = {name: run_suite(name, tests) for name in order}
        for name in names:
            if means[name] is not None:
                costs[name].append(means[name]["median_s"] - means["bare"]["median_s"])
                mean_costs[name].append(means[name]["mean_s"] - means["bare"]["mean_s"])
    cost = {name: statistics.median(values) * 1000 for name, values in costs.items() if values}
    mean_cost = {name: statistics.median(values) * 1000 for name, values in mean_costs.items() if values}
    peer = cost["httpserver"]
    out = [ctx.row(f"per-test cost over a bare test, pytest-httpserver, one handler + one request "
                   f"({tests} tests, median of {rounds})", peer, "ms")]
    out.append(ctx.row("per-test cost, contact_emulator (live), one Octopush create", cost["live"], "ms"))
    out.append(ctx.row("per-test cost, emulated_vendors (in-process), one Octopush create", cost["in-process"], "ms"))
    out.append(ctx.row("live fixture / pytest-httpserver, per-test cost", cost["live"] / peer, "×", "≤ 1.0",
                       cost["live"] / peer <= 1.0))
    out.append(ctx.row("in-process fixture / pytest-httpserver, per-test cost", cost["in-process"] / peer, "×",
                       "≤ 0.7", cost["in-process"] / peer <= 0.7))
    out.append(ctx.row("mean per-test cost (pytest-httpserver / live / in-process): "
                       + " / ".join(f"{mean_cost[n]:.2f}" for n in ("httpserver", "live", "in-process")), float("nan"),
                       "ms"))
    if "moto" in cost:
        out.append(ctx.row("per-test cost, moto mock_aws + one DynamoDB put_item", cost["moto"], "ms"))
    else:
        out.append(ctx.row("per-test cost, moto mock_aws: not installed (pip install '.[bench]')", float("nan"), "ms"))
    return out
