"""The command line (a real subprocess) and the pytest plugin (pytester runs, with xdist)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import requests
from tinydb import TinyDB

pytest_plugins = ["pytester"]


def start_serve(*args, env=None):
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    lines = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            while "Ctrl-C to stop" not in lines[-1]:  # the banner's last line
                lines.append(proc.stdout.readline())
            return proc, match.group(1), lines
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("serve did not start:\n" + "".join(lines) + proc.stdout.read())


def stop(proc) -> tuple[int, float, str]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    return proc.returncode, time.monotonic() - started, out


def test_serve_port_zero_banner_health_and_sigterm(tmp_path):
    proc, url, lines = start_serve("--fixture", "empty", "--server", "dev")
    try:
        assert url.startswith("http://127.0.0.1:")  # loopback by default
        health = requests.get(f"{url}/_emulator/health", timeout=5).json()
        assert health["status"] == "ok"
    finally:
        code, took, out = stop(proc)
    assert code == 0 and took < 2, out
    assert "contact-api-emulator stopped" in out
    banner = "".join(lines)
    assert f"dashboard  {url}/_emulator/" in banner and f"health     {url}/_emulator/health" in banner


def test_serve_with_waitress_env_vars_and_a_persistent_db(tmp_path):
    db = tmp_path / "store.json"
    proc, url, banner = start_serve(env={"EMULATOR_FIXTURE": "empty", "EMULATOR_DB": str(db), "EMULATOR_SEED": "5"})
    try:
        assert requests.get(f"{url}/_emulator/health/", timeout=5).status_code == 200
    finally:
        code, took, out = stop(proc)
    assert "(fixture 'empty', seed 5)" in banner[0]
    assert code == 0 and took < 2, out
    with TinyDB(str(db)) as written:  # a small store is written as a snapshot on shutdown: TinyDB JSON
        assert "_emulator:seeded" in written.tables()


def test_serve_refuses_an_unknown_fixture():
    proc = subprocess.run([sys.executable, "-m", "emulator", "serve", "--fixture", "no-such"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "fixture 'no-such' not found" in proc.stderr


def test_start_up_with_the_empty_fixture_imports_no_heavy_library():
    """Faker, requests, marshmallow, phonenumbers and email-validator load on first use only."""
    heavy = ["faker", "requests", "marshmallow", "phonenumbers", "email_validator"]
    code = ("import sys; from emulator import create_app; app = create_app({'fixture': 'empty'}); "
            "app.test_client().get('/_emulator/health'); "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


PLUGIN_TESTS = '''
import requests
from tinydb import TinyDB

def test_health(contact_emulator):
    assert requests.get(contact_emulator.url + "/_emulator/health").json()["status"] == "ok"

def test_clock_is_reset_between_tests_first(contact_emulator):
    contact_emulator.clock.freeze("2026-01-01T00:00:00Z")
    assert contact_emulator.clock.now() == "2026-01-01T00:00:00.000Z"

def test_clock_is_reset_between_tests_second(contact_emulator):
    assert contact_emulator.clock.state()["frozen"] is False

def test_same_server_for_the_session(contact_emulator, contact_emulator_server):
    assert contact_emulator.url == contact_emulator_server.url
'''


def test_plugin_fixture_in_a_pytester_run(pytester):
    pytester.makepyfile(test_uses_plugin=PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("--contact-emulator-fixture", "empty", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_plugin_under_xdist_gives_each_worker_its_own_server(pytester):
    pytester.makepyfile(test_uses_plugin=PLUGIN_TESTS + '''
import os

def test_worker_port(contact_emulator):
    print("WORKER", os.environ.get("PYTEST_XDIST_WORKER"), contact_emulator.url)
''')
    result = pytester.runpytest_subprocess("-n", "2", "-s", "--contact-emulator-fixture", "empty",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
