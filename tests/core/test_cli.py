"""`contact-emulator` as a user runs it (a real subprocess): one-line errors, the banner, the
request log, reopening a persisted store, and waitress under many slow clients."""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from emulator import __version__, create_app
from emulator.cli import SERVE_FLAGS, flag
from emulator.settings import env_var

from .test_cli_and_plugin import start_serve, stop

REPO = Path(__file__).resolve().parents[2]
SERVERS = ["waitress", "dev"]
DEMO_SECRETS = ("esputnik-demo-key", "octopush-demo-key", "dengage-demo-password", "pushtech-demo-secret")


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
    return subprocess.run([sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=60,
                          env={**clean, **(env or {})})


def assert_one_line_error(done: subprocess.CompletedProcess, *names: str) -> str:
    """Exit code 2, nothing on stdout, one line on stderr naming each of ``names``, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == "", done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def busy_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock, sock.getsockname()[1]


# -- one-line errors -------------------------------------------------------------------
BAD_VALUES = [
    ("port", "99999", "0–65535"), ("port", "-1", "0–65535"), ("port", "eighty", "0–65535"),
    ("host", "999.1.1.1", "an IP address or a host name"), ("threads", "0", "≥ 1"),
    ("journal_size", "-1", "≥ 1"), ("journal_size", "0", "≥ 1"),
    ("log_level", "verbose", "debug, info, warning, error"), ("server", "gunicorn", "waitress, dev"),
    ("max_body_bytes", "0", "≥ 1"), ("connection_limit", "0", "≥ 1"), ("channel_timeout_s", "0", "≥ 1"),
    ("webhook_timeout_s", "nan", "> 0"), ("seed", "1.5", "an integer"),
    ("vendors", "esputnik,mailchimp", "esputnik, octopush, dengage, pushtech"),
]


@pytest.mark.parametrize(("name", "value", "allowed"), BAD_VALUES, ids=[f"{n}={v}" for n, v, _ in BAD_VALUES])
def test_a_bad_flag_is_one_line_naming_the_flag_and_what_is_allowed(name, value, allowed):
    line = assert_one_line_error(run_cli("serve", f"{flag(name)}={value}"), f"{flag(name)} {value}", allowed)
    assert line.startswith("contact-emulator: ")


@pytest.mark.parametrize(("name", "value", "allowed"), BAD_VALUES + [("quiet", "maybe", "true")],
                         ids=[f"{n}={v}" for n, v, _ in BAD_VALUES] + ["quiet=maybe"])
def test_a_bad_variable_is_one_line_naming_the_variable_and_what_is_allowed(name, value, allowed):
    assert_one_line_error(run_cli("serve", env={env_var(name): value}), f"{env_var(name)}={value}", allowed)


def test_a_flag_wins_over_its_variable_and_is_the_one_named():
    done = run_cli("serve", "--threads", "0", env={"EMULATOR_THREADS": "4"})
    assert_one_line_error(done, "--threads 0")


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("given", ["flag", "variable"])
def test_a_port_in_use_says_so_and_how_to_get_a_free_one(server, given):
    sock, port = busy_port()
    with sock:
        if given == "flag":
            done = run_cli("serve", "--server", server, "--port", str(port), "--fixture", "empty")
            line = assert_one_line_error(done)
            assert line == f"contact-emulator: port {port} is in use; pass --port 0 for a free one"
        else:
            done = run_cli("serve", "--fixture", "empty", env={"EMULATOR_SERVER": server, "EMULATOR_PORT": str(port)})
            line = assert_one_line_error(done)
            assert line == f"contact-emulator: EMULATOR_PORT={port}: port {port} is in use; pass --port 0 for a free one"


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize(("host", "says"), [("no-such-host.invalid", "cannot be resolved"),
                                            ("192.0.2.1", "cannot listen there")])  # TEST-NET: no machine's
def test_a_host_that_cannot_be_bound_is_one_line_naming_it(server, host, says):
    done = run_cli("serve", "--server", server, "--host", host, "--port", "0", "--fixture", "empty")
    assert_one_line_error(done, f"--host {host}", says)
    done = run_cli("serve", "--port", "0", env={"EMULATOR_SERVER": server, "EMULATOR_HOST": host})
    assert_one_line_error(done, f"EMULATOR_HOST={host}", says)


FIXTURE_ERRORS = {
    "an account without credentials": ({"vendors": {"esputnik": {"accounts": {"shop": {"settings": {}}}}}},
                                       "esputnik account 'shop': credentials.api_key must be a non-empty string"),
    "a credential left empty": ({"vendors": {"octopush": {"accounts": {"shop": {"credentials": {
        "api_login": "a@b.c", "api_key": ""}}}}}}, "octopush account 'shop': credentials.api_key"),
    "half of a login": ({"vendors": {"dengage": {"accounts": {"shop": {"credentials": {"userkey": "u"}}}}}},
                        "dengage account 'shop': credentials.password"),
    "an account that is not an object": ({"vendors": {"pushtech": {"accounts": {"shop": ["secret"]}}}},
                                         "pushtech account 'shop' must be an object"),
    "an unknown vendor": ({"vendors": {"mailchimp": {}}}, "unknown vendor(s) mailchimp"),
    "not an object": (["vendors"], "must be a JSON object"),
}


@pytest.mark.parametrize("case", list(FIXTURE_ERRORS))
def test_a_bad_fixture_is_one_line_naming_the_flag_and_the_fault(case, tmp_path):
    content, says = FIXTURE_ERRORS[case]
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(content))
    assert_one_line_error(run_cli("serve", "--port", "0", "--fixture", str(path)), f"--fixture {path}", says)
    assert_one_line_error(run_cli("serve", "--port", "0", env={"EMULATOR_FIXTURE": str(path)}),
                          f"EMULATOR_FIXTURE={path}", says)


def test_a_fixture_that_is_not_json_or_not_found_is_one_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{")
    assert_one_line_error(run_cli("serve", "--fixture", str(path)), f"--fixture {path}", "not valid JSON")
    assert_one_line_error(run_cli("serve", "--fixture", "no-such"), "--fixture no-such", "not found")


def test_a_db_path_that_is_a_directory_is_one_line(tmp_path):
    assert_one_line_error(run_cli("serve", "--port", "0", "--db", str(tmp_path)), f"--db {tmp_path}")


def test_an_unknown_flag_of_serve_points_at_serve_help():
    line = assert_one_line_error(run_cli("serve", "--bogus"))
    assert line == "contact-emulator serve: unrecognized arguments: --bogus (see contact-emulator serve --help)"
    line = assert_one_line_error(run_cli("serve", "--port"))
    assert line.endswith("argument --port: expected one argument (see contact-emulator serve --help)")
    assert_one_line_error(run_cli(), "contact-emulator --help")


def test_version_and_serve_help_list_every_flag_with_its_variable():
    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"contact-emulator {__version__}"
    done = run_cli("serve", "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for name in SERVE_FLAGS:
        assert flag(name) in text and f"[{env_var(name)}]" in text, name


# -- banner ----------------------------------------------------------------------------
def banner_urls(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.match(r"  (eSputnik|Octopush|D·engage|Pushtech)\s+(http://\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_the_banner_gives_each_base_url_as_a_client_uses_it_and_how_to_stop():
    proc, url, lines = start_serve("--fixture", "default", "--quiet")
    try:
        bases = banner_urls(lines)
        assert bases == {"eSputnik": f"{url}/esputnik/api/v1", "Octopush": f"{url}/octopush/v1/public",
                         "D·engage": f"{url}/dengage/rest", "Pushtech": f"{url}/pushtech/v2/account/demo"}
        # each base URL + the vendor's documented path, with the demo credentials: answered
        assert requests.get(f"{bases['eSputnik']}/groups", auth=("demo", "esputnik-demo-key"), timeout=5).ok
        assert requests.post(f"{bases['Octopush']}/contact-list/create", json={"list_name": "banner"}, timeout=5,
                             headers={"api-login": "demo@example.com", "api-key": "octopush-demo-key"}).ok
        assert requests.post(f"{bases['D·engage']}/login", timeout=5,
                             json={"userkey": "demo", "password": "dengage-demo-password"}).ok
        assert requests.get(f"{bases['Pushtech']}/contact", timeout=5,
                            headers={"Authorization": "Token token=pushtech-demo-secret"}).ok
    finally:
        stop(proc)
    text = "".join(lines)
    assert lines[0].startswith(f"contact-api-emulator {__version__} listening on {url} (fixture 'default', seed 0)")
    assert lines[-1].strip() == "Ctrl-C to stop"
    assert all(secret in text for secret in DEMO_SECRETS)  # loopback: the credentials are shown


@pytest.mark.parametrize("server", SERVERS)
def test_a_bind_beyond_loopback_shows_where_the_credentials_are_not_them(server):
    proc, url, lines = start_serve("--host", "0.0.0.0", "--server", server, "--quiet")
    try:
        assert requests.get(f"{url}/_emulator/health", timeout=5).ok
    finally:
        stop(proc)
    text = "".join(lines)
    assert not [secret for secret in DEMO_SECRETS if secret in text], text
    assert "account 'demo'" in text
    assert (f"Credentials are not shown on a bind to 0.0.0.0 (not loopback): see the fixture "
            f"{REPO / 'fixtures' / 'default.json'} (README, 'Demo credentials')") in text


# -- request log -----------------------------------------------------------------------
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO emulator\.requests: "
                      r"(?P<vendor>\w+) (?P<account>\S+) (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\S+) "
                      r"(?P<ms>\d+\.\d)ms notes=(?P<notes>\d+)$")


def log_lines(out: str) -> list[dict]:
    return [m.groupdict() for m in map(LOG_LINE.match, out.splitlines()) if m]


@pytest.mark.parametrize("server", SERVERS)
def test_each_vendor_request_is_one_info_line_without_credentials(server):
    proc, url, _ = start_serve("--server", server)
    try:
        requests.post(f"{url}/esputnik/api/v1/contact?apikey=query-secret", auth=("demo", "esputnik-demo-key"),
                      json={"channels": [{"type": "email", "value": " Ann@Example.COM"}]}, timeout=5)
        requests.get(f"{url}/pushtech/v2/account/demo/contact", timeout=5,
                     headers={"Authorization": "Token token=wrong-secret"})
        requests.get(f"{url}/_emulator/health", timeout=5)  # not a vendor request: not logged
    finally:
        _, _, out = stop(proc)
    lines = log_lines(out)
    assert [(e["vendor"], e["account"], e["method"], e["path"], e["status"]) for e in lines] == [
        ("esputnik", "demo", "POST", "/esputnik/api/v1/contact", "200"),
        ("pushtech", "-", "GET", "/pushtech/v2/account/demo/contact", "401")]
    assert int(lines[0]["notes"]) >= 1 and lines[1]["notes"] == "0"  # the email was trimmed and lower-cased
    for secret in ("query-secret", "esputnik-demo-key", "wrong-secret", "ZGVtbzplc3B1dG5pay1kZW1vLWtleQ"):
        assert secret not in out


def test_quiet_turns_the_request_log_off_and_debug_has_no_faker_chatter():
    proc, url, _ = start_serve("--quiet", env={"EMULATOR_LOG_LEVEL": "debug"})
    try:
        assert requests.get(f"{url}/esputnik/api/v1/groups", auth=("demo", "esputnik-demo-key"), timeout=5).ok
    finally:
        _, _, out = stop(proc)
    assert log_lines(out) == [] and "emulator.requests" not in out
    assert "faker" not in out.lower()  # the default fixture generates contacts with Faker
    proc, url, _ = start_serve(env={"EMULATOR_LOG_LEVEL": "debug", "EMULATOR_QUIET": "0"})
    try:
        assert requests.get(f"{url}/esputnik/api/v1/groups", auth=("demo", "esputnik-demo-key"), timeout=5).ok
    finally:
        _, _, out = stop(proc)
    assert len(log_lines(out.replace(" DEBUG ", " INFO "))) == 1 and "faker" not in out.lower()


# -- a persisted store remembers its fixture ---------------------------------------------
def shop_fixture(path: Path, account: str, secret: str) -> Path:
    path.write_text(json.dumps({"vendors": {"pushtech": {"accounts": {account: {
        "credentials": {"secret": secret}, "generate": {"contacts": 2}}}}}}))
    return path


def test_a_reopened_store_keeps_the_fixture_that_seeded_it(tmp_path):
    db = tmp_path / "store.json"
    alpha = shop_fixture(tmp_path / "alpha.json", "alpha", "alpha-secret")
    beta = shop_fixture(tmp_path / "beta.json", "beta", "beta-secret")
    app = create_app({"fixture": str(alpha), "db": str(db), "seed": 7})
    app.extensions["emulator"].close()
    app = create_app({"fixture": str(beta), "db": str(db), "seed": 1})
    engine = app.extensions["emulator"]
    try:
        assert engine.reopened and (engine.fixture_name(), engine.seed) == (str(alpha), 7)
        assert list(engine.accounts["pushtech"]) == ["alpha"]
        contacts = engine.state("pushtech")["vendors"]["pushtech"]["accounts"]["alpha"]["contacts"]
        assert len(contacts) == 2
        engine.reset()  # a reset reloads the fixture the store was seeded from
        assert list(engine.state("pushtech")["vendors"]["pushtech"]["accounts"]) == ["alpha"]
    finally:
        engine.close()


def test_serve_says_which_fixture_seeded_a_reopened_store_and_warns_of_another(tmp_path):
    db = tmp_path / "store.json"
    alpha = shop_fixture(tmp_path / "alpha.json", "alpha", "alpha-secret")
    beta = shop_fixture(tmp_path / "beta.json", "beta", "beta-secret")
    proc, _, first = start_serve("--fixture", str(alpha), "--db", str(db), "--seed", "7", "--quiet")
    stop(proc)
    assert f"(fixture '{alpha}', seed 7)" in first[0]

    proc, url, lines = start_serve("--fixture", str(beta), "--db", str(db), "--quiet")
    try:
        assert requests.get(f"{url}/pushtech/v2/account/alpha/contact", timeout=5,
                            headers={"Authorization": "Token token=alpha-secret"}).ok
    finally:
        stop(proc)
    warnings = [line for line in lines if "warning" in line]
    assert warnings == [f"contact-emulator: warning: --fixture {beta} ignored: the store {db} was seeded by "
                        f"fixture '{alpha}' with seed 7 and keeps it (delete the store, or POST /_emulator/seed, "
                        "to load another)\n"]
    banner = next(line for line in lines if "listening on" in line)
    assert f"(store {db}, seeded by fixture '{alpha}', seed 7)" in banner
    assert "account 'alpha'" in "".join(lines) and "beta" not in banner

    shop_fixture(alpha, "alpha", "edited-secret")  # the same name, edited since
    proc, _, lines = start_serve("--db", str(db), "--quiet", env={"EMULATOR_FIXTURE": str(alpha)})
    stop(proc)
    assert [line for line in lines if "warning" in line] == [
        f"contact-emulator: warning: fixture '{alpha}' changed since the store {db} was seeded by fixture "
        f"'{alpha}' with seed 7; the store keeps the accounts it was seeded with (delete it to seed it anew)\n"]


# -- waitress: slow clients do not starve the others --------------------------------------
@contextlib.contextmanager
def held_by_slow_clients(count: int, env: dict | None = None):
    """A waitress ``serve`` with ``count`` connections that send a request's headers one byte
    a second and never finish them; yields the server's URL."""
    proc, url, _ = start_serve("--fixture", "empty", "--quiet", env=env)
    halt = threading.Event()
    socks = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5)
            sock.sendall(b"POST /esputnik/api/v1/contact HTTP/1.1\r\nHost: x\r\n")
            socks.append(sock)

        def trickle():
            while not halt.wait(1):
                for sock in socks:
                    try:
                        sock.sendall(b"X")
                    except OSError:
                        pass

        threading.Thread(target=trickle, daemon=True).start()
        time.sleep(0.5)  # every slow connection accepted and holding its channel
        yield url
    finally:
        halt.set()
        for sock in socks:
            sock.close()
        stop(proc)


def normal_requests(url: str, n: int, timeout: float) -> list[int | str]:
    out: list[int | str] = []
    for _ in range(n):
        try:
            out.append(requests.get(f"{url}/_emulator/health", timeout=timeout).status_code)
        except requests.RequestException as exc:
            out.append(type(exc).__name__)
    return out


@pytest.mark.live
def test_a_hundred_slow_clients_do_not_lock_out_a_normal_one_under_waitress():
    with held_by_slow_clients(100) as url:
        assert normal_requests(url, 6, timeout=5) == [200] * 6


@pytest.mark.live
def test_the_connection_limit_is_what_lets_them_in():
    """Control: at waitress's own limit of 100 the same slow clients lock a normal one out."""
    with held_by_slow_clients(100, env={"EMULATOR_CONNECTION_LIMIT": "100"}) as url:
        assert normal_requests(url, 1, timeout=2) == ["ReadTimeout"]


@pytest.mark.live
def test_an_idle_connection_is_closed_after_the_channel_timeout():
    proc, url, _ = start_serve("--fixture", "empty", "--quiet", "--channel-timeout-s", "1")
    try:
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as idle:
            started = time.monotonic()
            assert idle.recv(1) == b""  # closed by the server, not by us
            assert time.monotonic() - started < 5
        assert normal_requests(url, 1, timeout=5) == [200]
    finally:
        stop(proc)
