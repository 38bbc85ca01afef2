"""The README's container and dashboard sections: names that exist, examples that work."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from emulator.settings import Settings
from tests.core.sample_vendor import SAMPLE, sample_fixture

from .dockerfile import parse_dockerfile

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
IMAGE_ENV = parse_dockerfile(REPO / "Dockerfile")[-1].env
SETTING_VARS = {f"EMULATOR_{name.upper()}" for name in Settings.__dataclass_fields__ if name != "extra"}
KNOWN_VARS = SETTING_VARS | {"EMULATOR_FIXTURES_DIR"}


def section(start: str, end: str) -> str:
    return README[README.index(start):README.index(end, README.index(start))]


CONTAINER = section("### 3. CI service container", "\n## ")
DASHBOARD = section("## Dashboard (`/_emulator/`)", "\n## Behaviour")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", CONTAINER, re.S)


def block(marker: str) -> str:
    found = [text for _, text in BLOCKS if marker in text]
    assert len(found) == 1, f"expected one code block with {marker!r} in the container section"
    return found[0]


DOCKER_RUN, COMPOSE, GITHUB, GITLAB = (block("docker run"), block("depends_on:"), block("runs-on:"),
                                       block("alias: emulator"))


def test_every_env_var_the_container_section_names_is_a_setting():
    named = set(re.findall(r"EMULATOR_[A-Z_]+", CONTAINER))
    assert named and not named - KNOWN_VARS, f"not settings: {sorted(named - KNOWN_VARS)}"


@pytest.mark.parametrize("name", ["docker run", "compose", "GitHub Actions", "GitLab CI"])
def test_each_example_sets_env_vars_and_checks_health(name):
    text = {"docker run": DOCKER_RUN, "compose": COMPOSE, "GitHub Actions": GITHUB, "GitLab CI": GITLAB}[name]
    assert re.search(r"EMULATOR_[A-Z_]+", text), f"{name}: no EMULATOR_* variable"
    assert "/_emulator/health" in text, f"{name}: no health check"


def test_the_variable_table_lists_every_setting_with_the_image_defaults():
    table = dict(re.findall(r"^\| `(EMULATOR_[A-Z_]+)` \| ([^|]+) \|", CONTAINER, re.M))
    assert set(table) == KNOWN_VARS
    for var, value in IMAGE_ENV.items():
        if var.startswith("EMULATOR_"):
            assert table[var].strip() == f"`{value}`", var
    defaults = Settings()
    for var in ("EMULATOR_JOURNAL_SIZE", "EMULATOR_MAX_BODY_BYTES", "EMULATOR_WEBHOOK_TIMEOUT_S"):
        assert table[var].strip() == f"`{getattr(defaults, var.removeprefix('EMULATOR_').lower())}`", var


def test_the_compose_service_uses_the_image_port_and_fixtures_path():
    assert '"127.0.0.1:8080:8080"' in COMPOSE and "8080:8080" in GITHUB
    assert ":/fixtures:ro" in COMPOSE and IMAGE_ENV["EMULATOR_FIXTURES_DIR"] == "/fixtures"


@pytest.fixture
def server(make_app, live):
    return live(make_app(vendors=[SAMPLE], fixture=sample_fixture()))


def _run_python(code: str) -> int:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode


@pytest.mark.live
def test_the_health_checks_of_the_examples_pass_against_a_live_server(server):
    port = str(server.port)
    compose_cmd = json.loads(re.search(r"test: (\[.*\])", COMPOSE).group(1))
    assert compose_cmd[:3] == ["CMD", "python", "-c"]
    github_cmd = shlex.split(re.search(r'--health-cmd (".*")', GITHUB).group(1))[0]
    assert github_cmd.startswith("python -c ")
    gitlab_code = json.loads(re.search(r"HEALTH_CHECK: (\".*\")", GITLAB).group(1))
    codes = [compose_cmd[3], shlex.split(github_cmd)[2], gitlab_code]
    for code in codes:
        here = code.replace("emulator:8080", f"127.0.0.1:{port}").replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        assert here != code and _run_python(here) == 0, code
    curl = re.search(r"curl -s localhost:8080(/_emulator/health)", DOCKER_RUN).group(1)
    assert requests.get(f"{server.url}{curl}", timeout=5).json()["status"] == "ok"
    server.stop()
    assert all(_run_python(code.replace("emulator:8080", f"127.0.0.1:{port}")
                           .replace("127.0.0.1:8080", f"127.0.0.1:{port}")) != 0 for code in codes)


@pytest.mark.live
def test_the_dashboard_curl_lines_answer_303(server):
    lines = [line for line in re.findall(r"^curl .*$", DASHBOARD, re.M)]
    assert len(lines) == 2
    for line in lines:
        words = shlex.split(line)
        method = next(w[2:] for w in words if w.startswith("-X"))
        data = [words[i + 1] for i, w in enumerate(words) if w == "-d"]
        url = next(w for w in words if w.startswith("localhost:8080"))
        assert "%{http_code}" in words[words.index("-w") + 1]
        resp = requests.request(method, server.url + url.removeprefix("localhost:8080"),
                                data=[tuple(d.split("=", 1)) for d in data], allow_redirects=False, timeout=5)
        assert resp.status_code == 303, (line, resp.text)
    assert requests.get(f"{server.url}/_emulator/clock", timeout=5).json()["offset_s"] == 3600


def test_the_dashboard_example_link_names_the_parameters_the_page_reads(make_app):
    link = re.search(r"`(/_emulator/\?[^`]+)`", DASHBOARD).group(1)
    assert set(re.findall(r"[?&](\w+)=", link)) == {"vendor", "account", "kind", "q", "page", "size"}
    client = make_app(vendors=[SAMPLE], fixture=sample_fixture(contacts=60)).test_client()
    sample_link = link.replace("vendor=octopush", "vendor=sample").replace("account=demo", "account=a")
    html = client.get(sample_link.replace("q=%2B336", "q=example")).get_data(as_text=True)
    assert "page 2 of 2" in html and 'selected>50 a page' in html
