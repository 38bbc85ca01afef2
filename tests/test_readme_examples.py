"""Every curl example of the README runs against a live server and gets no HTTP error."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def curl_blocks() -> list[str]:
    """The README's shell blocks that talk to a served emulator with curl (not docker or make)."""
    blocks = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        if "curl" in block and "localhost:8080" in block and not re.search(r"^\s*(docker|make)\b", block, re.M):
            blocks.append(block)
    return blocks


def test_the_readme_has_a_curl_example_per_vendor():
    text = "\n".join(curl_blocks())
    for vendor in ("esputnik", "octopush", "dengage", "pushtech"):
        assert f"localhost:8080/{vendor}/" in text, vendor


@pytest.mark.live
@pytest.mark.parametrize("block", curl_blocks(), ids=lambda b: b.split("localhost:8080", 1)[1].split()[0][:40])
def test_readme_curl_example_runs(block, make_app, live):
    assert shutil.which("curl"), "the README examples need curl"
    server = live(make_app(fixture="default"))
    script = block.replace("localhost:8080", server.url.removeprefix("http://"))
    script = script.replace("curl -s ", "curl -sS --fail-with-body ")
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"{script}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
