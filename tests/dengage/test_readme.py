"""The README's D·engage section: its curl examples work against the shipped demo account."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from emulator.vendors.dengage import VENDOR

from .test_live import shipped

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def section() -> str:
    start = README.index("### D·engage")
    return README[start:README.index("\n### ", start + 1)]


def curl_calls(text: str) -> list[tuple[str, dict | None]]:
    """(path, JSON body) of each curl call of the first sh block, in order."""
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    words = shlex.split(block, comments=True)
    calls: list[list] = []
    for i, word in enumerate(words):
        if word.endswith("curl"):
            calls.append([None, None])
        elif calls and calls[-1][0] is None and word.startswith(("localhost", "http")):
            calls[-1][0] = word.split(":8080", 1)[1]
        elif calls and word == "-d":
            calls[-1][1] = json.loads(words[i + 1])
    return [(path, data) for path, data in calls]


def test_readme_examples_work_on_the_demo_account(make_app):
    client = make_app(vendors=[VENDOR], fixture=shipped("default")).test_client()
    calls = curl_calls(section())
    assert [path.split("?")[0] for path, _ in calls] == [
        "/dengage/rest/login", "/dengage/rest/bulk/contacts", "/dengage/rest/contacts/C-1", "/_emulator/state"]
    token = client.post(calls[0][0], json=calls[0][1]).get_json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    resp = client.post(calls[1][0], json=calls[1][1], headers=auth)
    assert resp.status_code == 200 and resp.get_json()["data"]["inserted"] == ["C-1"]
    resp = client.get(calls[2][0], headers=auth)
    assert resp.get_json()["data"]["contacts"] == [{"email": "ann@x.io", "email_status": "A"}]
    state = client.get(calls[3][0]).get_json()["vendors"]["dengage"]["accounts"]["demo"]
    assert set(state) == {"contacts", "tokens", "limits"}


def test_readme_names_every_setting_and_the_demo_credentials():
    text = section()
    for setting in VENDOR.default_settings:
        assert f"`{setting}`" in text
    assert "`userkey` `demo`, `password` `dengage-demo-password`" in text
