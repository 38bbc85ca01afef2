"""Plugin options: a fixed port for the live fixture, and strict interception for
``emulated_vendors`` from the command line or the ini file."""
from __future__ import annotations

import socket

pytest_plugins = ["pytester"]

PORT_SUITE = '''
import requests


def test_the_live_server_listens_on_the_fixed_port(contact_emulator, request):
    port = int(request.config.getoption("contact_emulator_port"))
    assert contact_emulator.url == f"http://127.0.0.1:{port}"
    assert requests.get(f"http://127.0.0.1:{port}/_emulator/", timeout=5).status_code == 200  # the dashboard
'''

STRICT_SUITE = '''
import pytest
import requests

from emulator.testing.intercept import UnexpectedHost


def test_other_hosts(emulated_vendors):
    with pytest.raises(UnexpectedHost):
        requests.get("https://example.org/", timeout=5)


@pytest.mark.contact_emulator(strict=False)
def test_marker_turns_it_off(emulated_vendors, httpserver):
    httpserver.expect_request("/x").respond_with_json({})
    assert requests.get(httpserver.url_for("/x"), timeout=5).status_code == 200
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fixed_port_option(pytester):
    pytester.makepyfile(test_port=PORT_SUITE)
    port = free_port()
    pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--contact-emulator-port={port}").assert_outcomes(
        passed=1)
    pytester.makeini(f"[pytest]\ncontact_emulator_port = {free_port()}\n")
    pytester.makepyfile(test_port=PORT_SUITE.replace('request.config.getoption("contact_emulator_port")',
                                                     'request.config.getini("contact_emulator_port")'))
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_fixed_port_in_use_is_a_usage_error_naming_the_option(pytester):
    pytester.makepyfile(test_port=PORT_SUITE)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--contact-emulator-port={port}")
    assert result.ret != 0
    assert f"contact_emulator_port={port}: cannot listen there" in result.stdout.str() + result.stderr.str()


def test_strict_option_and_ini(pytester):
    pytester.makepyfile(test_strict=STRICT_SUITE)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--emulated-vendors-strict").assert_outcomes(passed=2)
    pytester.makeini("[pytest]\nemulated_vendors_strict = true\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


XDIST_PORT_SUITE = '''
import os

import pytest


@pytest.mark.parametrize("i", range(4))
def test_each_worker_takes_port_plus_its_number(contact_emulator, request, i):
    base = int(request.config.getoption("contact_emulator_port"))
    worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    assert contact_emulator.url == f"http://127.0.0.1:{base + worker}"
'''


def test_fixed_port_under_xdist(pytester):
    pytester.makepyfile(test_port=XDIST_PORT_SUITE)
    with socket.socket() as a, socket.socket() as b:  # two free neighbouring ports are likely, not certain
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        try:
            b.bind(("127.0.0.1", port + 1))
        except OSError:
            port = None
    if port is None:
        port = free_port()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", f"--contact-emulator-port={port}")
    result.assert_outcomes(passed=4)
