"""Every Python block of the README and of ``docs/handle.md`` runs as written: each becomes a
test module of a pytest run with the plugin active, and every test in them must pass."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
PAGES = {"readme": REPO / "README.md", "handle": REPO / "docs" / "handle.md"}


def python_blocks(page: str) -> list[str]:
    return BLOCK.findall(PAGES[page].read_text(encoding="utf-8"))


def test_the_readme_links_the_handle_reference():
    assert "](docs/handle.md)" in PAGES["readme"].read_text(encoding="utf-8")


def test_the_handle_reference_covers_every_public_handle_method_and_admin_route():
    from emulator import create_app
    from emulator.testing.handle import Clock, EmulatorHandle, Faults

    text = PAGES["handle"].read_text(encoding="utf-8")
    public = {name for cls in (EmulatorHandle, Clock, Faults) for name in vars(cls)
              if not name.startswith("_") and name not in ("engine", "helper")}
    missing = {name for name in public if f"{name}(" not in text and f"`{name}`" not in text}
    assert not missing, f"docs/handle.md does not describe {sorted(missing)}"
    app = create_app({"fixture": "empty"})
    routes = {rule.rule.removeprefix("/_emulator") for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/_emulator") and "/dashboard" not in rule.rule}
    app.extensions["emulator"].close()
    for route in routes:
        shown = re.sub(r"<(?:int:)?(\w+)>", r"<\1>", route) or "/"
        assert f"`{shown}" in text or f"{shown}`" in text or f"/{shown.strip('/')}`" in text, route


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_python_block_runs(pytester, page):
    blocks = python_blocks(page)
    assert blocks, f"no Python block in {PAGES[page]}"
    files = {f"test_{page}_block_{i}": block for i, block in enumerate(blocks)}
    pytester.makepyfile(**files)
    tests_defined = sum(len(re.findall(r"^def test_", block, re.M)) for block in blocks)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("errors", 0) == 0, result.stdout.str()[-4000:]
    assert outcomes.get("passed", 0) == tests_defined, result.stdout.str()[-4000:]
