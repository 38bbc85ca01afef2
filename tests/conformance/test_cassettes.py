"""The project's cassettes (``conformance/<vendor>/``, from the vendors' documented examples):
``make conformance`` replays them, and so does this suite (so ``make test`` and CI fail when
one differs beyond ``conformance/known-differences.json``)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from emulator.conformance.cassette import read_cassette
from emulator.vendors import VENDOR_PACKAGES

from .test_record import run_cli

REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO / "conformance"
KNOWN = CONFORMANCE / "known-differences.json"
SOURCES = {  # the pages in ../shared/vendor-docs and ../shared/spec the cassettes are written from
    "vendor-docs/esputnik-adding-contacts.txt", "vendor-docs/octopush-add-contacts.txt",
    "vendor-docs/dengage-bulk-upsert.txt", "vendor-docs/pushtech-contact-create.txt",
    "vendor-docs/pushtech-contact-bulk-create.txt", "spec/esputnik.md", "spec/octopush.md", "spec/dengage.md",
    "spec/pushtech.md",
}


@pytest.mark.parametrize("vendor", VENDOR_PACKAGES)
def test_the_emulator_agrees_with_the_vendors_documented_examples(vendor):
    done = run_cli("verify", str(CONFORMANCE / vendor), "--vendor", vendor, "--known", str(KNOWN), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 differ" in done.stdout.splitlines()[-1]
    # a known difference the emulator no longer has is taken out of the file, so it stays true
    assert "no longer seen" not in done.stdout, done.stdout


@pytest.mark.parametrize("vendor", VENDOR_PACKAGES)
def test_every_cassette_file_names_its_source(vendor):
    exchanges = read_cassette(CONFORMANCE / vendor, vendor)
    assert len(exchanges) >= 5
    for exchange in exchanges:
        named = set(re.findall(r"(?:vendor-docs|spec)/[\w.-]+\.(?:txt|md)", exchange.source or ""))
        assert named and named <= SOURCES, (exchange.name, exchange.source)
        assert f"{vendor}" in " ".join(named), (exchange.name, exchange.source)
        assert re.match(r"^\d{3}-[a-z-]+\.json$", exchange.name) and int(exchange.name[:3]) == exchange.seq


def test_every_known_difference_names_a_cassette_file_and_a_reason():
    data = json.loads(KNOWN.read_text())
    for item in data["differences"]:
        assert (CONFORMANCE / item["vendor"] / item["file"]).is_file(), item
        assert re.search(r"(?:vendor-docs|spec)/\w+", item["reason"]), item


def test_make_conformance_runs_verify_on_every_vendor_with_the_known_differences():
    done = subprocess.run(["make", "-n", "conformance"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "contact-emulator verify $dir --known conformance/known-differences.json" in done.stdout
    assert "for dir in conformance/*/" in done.stdout
