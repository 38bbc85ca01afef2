"""schemathesis against a live server, every vendor, from the emulator's own OpenAPI document:
no generated request may get a server error."""
from __future__ import annotations

import base64
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from emulator.core.accounts import load_fixture

MAX_EXAMPLES = 25


def fuzz_fixture() -> dict:
    """The default fixture with the limits that would turn fuzzing into 409/429 answers off."""
    fixture = copy.deepcopy(load_fixture("default"))
    accounts = fixture["vendors"]
    accounts["esputnik"]["accounts"]["demo"]["settings"].update(duplicate_window_s=0, max_requests_per_second=0)
    accounts["dengage"]["accounts"]["demo"]["settings"].update(bulk_window_s=0)
    return fixture


@pytest.fixture(scope="module")
def server():
    from emulator import create_app
    from emulator.testing.live import LiveServer

    app = create_app({"fixture": fuzz_fixture(), "webhook_timeout_s": 0.5})
    live = LiveServer(app).start()
    yield live
    live.stop()


def auth_args(vendor: str, url: str) -> list[str]:
    if vendor == "esputnik":
        return ["-H", "Authorization: Basic " + base64.b64encode(b"demo:esputnik-demo-key").decode()]
    if vendor == "octopush":
        return ["-H", "api-login: demo@example.com", "-H", "api-key: octopush-demo-key"]
    if vendor == "dengage":
        token = requests.post(f"{url}/dengage/rest/login", json={"userkey": "demo", "password": "dengage-demo-password"},
                              timeout=5).json()["access_token"]
        return ["-H", f"Authorization: Bearer {token}"]
    return ["-H", "Authorization: Token token=pushtech-demo-secret"]


@pytest.mark.live
@pytest.mark.parametrize("vendor", ["esputnik", "octopush", "dengage", "pushtech"])
def test_no_server_error_for_any_generated_request(server, vendor, tmp_path):
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    cmd = [exe, "run", f"{server.url}/_emulator/openapi.json", "--checks", "not_a_server_error",
           "--max-examples", str(MAX_EXAMPLES), "--seed", "1", "--include-path-regex", f"^/{vendor}/",
           "--request-timeout", "10", "--report", "json", "--report-dir", str(tmp_path),
           *auth_args(vendor, server.url)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache stays there
    (report_path,) = tmp_path.glob("json-*.json")
    report = json.loads(report_path.read_text())
    cases = report["test_cases"]
    print(f"schemathesis {vendor}: {report['operations']['tested']} operations, {cases['generated']} requests, "
          f"{cases['with_failures']} with failures")
    assert run.returncode == 0, run.stdout[-4000:]
    assert report["operations"]["tested"] == report["operations"]["selected"] > 0
    assert cases["generated"] > 0 and cases["with_failures"] == 0 and not report["failures"]
    # whatever the generated requests stored (or were refused for), every read still answers
    for path in ("/_emulator/state", "/_emulator/requests", "/_emulator/lint", f"/_emulator/?vendor={vendor}"):
        resp = requests.get(server.url + path, timeout=30)
        assert resp.status_code == 200, (path, resp.text[:300])
