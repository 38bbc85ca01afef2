"""pytest plugin (active once the package is installed): ``contact_emulator``,
``emulated_vendors`` and ``fake_contact``.

One emulator per test session (per worker under pytest-xdist), put back before every test
to the session's fixture, seed and data, with an empty journal, no fault rules and the real
clock: what a test changes (``seed()`` included) lasts for that test only. Options (command
line, or ini without the dashes):

* ``--contact-emulator-fixture`` (default ``default``), ``--contact-emulator-seed`` (0);
* ``--contact-emulator-port`` (0: a free port): a fixed port for the live server, to open the
  dashboard during a test; worker ``gwN`` of pytest-xdist takes ``port + N``;
* ``--contact-emulator-check``: run ``handle.check()`` after every test that used a fixture;
* ``--emulated-vendors-strict``: ``emulated_vendors`` refuses any host it does not emulate.

The marker ``@pytest.mark.contact_emulator(check=..., strict=...)`` overrides the last two for
one test. With ``--contact-emulator-record DIR`` and ``--contact-emulator-upstream VENDOR=URL``
the live server forwards that vendor's requests to the real vendor and records them into DIR
(:mod:`emulator.conformance.record`).
"""
from __future__ import annotations

import pytest

from .handle import EmulatorHandle

_OPTIONS = {  # name -> (help, ini default)
    "contact_emulator_fixture": ("fixture the emulator loads for the session", "default"),
    "contact_emulator_seed": ("seed of the session's generated data and ids", "0"),
    "contact_emulator_port": ("fixed port of the contact_emulator live server (0: a free port; "
                              "xdist worker gwN takes port + N)", "0"),
    "contact_emulator_check": ("fail a test that made a request no route answered or that got a 5xx "
                               "(handle.check() after the test)", "false"),
    "emulated_vendors_strict": ("emulated_vendors: a request to any host the emulator does not serve "
                                "raises UnexpectedHost", "false"),
}
_FLAGS = {"contact_emulator_check", "emulated_vendors_strict"}


def pytest_addoption(parser):
    group = parser.getgroup("contact-emulator")
    for name, (text, default) in _OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if name in _FLAGS:
            group.addoption(flag, action="store_const", const="true", default=None, help=text)
        else:
            group.addoption(flag, default=None, help=f"{text} (default: {default})")
        parser.addini(name, text, default=default)
    group.addoption("--contact-emulator-record", default=None, metavar="DIR",
                    help="contact_emulator records the vendor of --contact-emulator-upstream into DIR "
                         "(a cassette for `contact-emulator verify`) instead of emulating it")
    group.addoption("--contact-emulator-upstream", default=None, metavar="VENDOR=URL",
                    help="the real vendor --contact-emulator-record forwards to, e.g. esputnik=https://esputnik.com")


def pytest_configure(config):
    config.addinivalue_line("markers", "contact_emulator(check=None, strict=None): per-test options of the "
                                       "contact emulator fixtures")
    _check_recording_options(config)


def _option(config, name: str) -> str:
    value = config.getoption(name)
    return str(config.getini(name) if value is None else value)


def _int_option(config, name: str) -> int:
    raw = _option(config, name)
    try:
        return int(raw)
    except ValueError:
        raise pytest.UsageError(f"{name} must be an integer, got {raw!r}") from None


def _flag(item, name: str, marker_key: str) -> bool:
    marker = item.get_closest_marker("contact_emulator")
    if marker is not None and marker.kwargs.get(marker_key) is not None:
        return bool(marker.kwargs[marker_key])
    return _option(item.config, name).strip().lower() in {"1", "true", "yes", "on"}


def _check_recording_options(config):
    """The recording options go together and name a known vendor and an http(s) URL."""
    out, upstream = config.getoption("--contact-emulator-record"), config.getoption("--contact-emulator-upstream")
    if (out is None) != (upstream is None):
        given, missing = (("--contact-emulator-record", "--contact-emulator-upstream VENDOR=URL") if out
                          else ("--contact-emulator-upstream", "--contact-emulator-record DIR"))
        raise pytest.UsageError(f"{given} needs {missing}")
    if upstream is not None:
        from ..conformance.record import parse_upstream

        try:
            parse_upstream(upstream)
        except ValueError as exc:
            raise pytest.UsageError(f"--contact-emulator-upstream {exc}") from None


def _settings(config) -> dict:
    return {"fixture": _option(config, "contact_emulator_fixture"),
            "seed": _int_option(config, "contact_emulator_seed")}


def _port(config) -> int:
    port = _int_option(config, "contact_emulator_port")
    # an xdist worker's config has ``workerinput`` (the environment variable alone is inherited
    # by a pytest run started from inside a worker)
    worker = (getattr(config, "workerinput", None) or {}).get("workerid", "")
    if port and worker.startswith("gw") and worker[2:].isdigit():
        port += int(worker[2:])
    return port


@pytest.fixture(scope="session")
def contact_emulator_server(request):
    """The session's live emulator (a :class:`~emulator.testing.live.LiveServer`)."""
    from .. import create_app
    from .live import LiveServer

    app = create_app(_settings(request.config))
    if request.config.getoption("--contact-emulator-record"):
        from ..conformance.record import record_live_app

        record_live_app(app, request.config.getoption("--contact-emulator-record"),
                        request.config.getoption("--contact-emulator-upstream"))
    port = _port(request.config)
    try:
        server = LiveServer(app, port=port)  # binds now, in this thread: a bind error fails here
    except (OSError, SystemExit) as exc:  # werkzeug exits when the port is taken
        app.extensions["emulator"].close()
        reason = exc if isinstance(exc, OSError) else "the address is in use"
        raise pytest.UsageError(f"contact_emulator_port={port}: cannot listen there ({reason})") from None
    server.start()
    server.handle = EmulatorHandle(app, server.url)
    yield server
    server.stop()
    app.extensions["emulator"].close()


@pytest.fixture(scope="session")
def emulated_vendors_app(request):
    """The session's in-process emulator app (no server)."""
    from .. import create_app

    app = create_app(_settings(request.config))
    app.handle = EmulatorHandle(app)
    yield app
    app.extensions["emulator"].close()


@pytest.fixture
def emulated_vendors(request, emulated_vendors_app) -> EmulatorHandle:
    """``requests`` and ``httpx`` calls to the vendors' real hosts go into the emulator
    in-process (no socket), which is put back to the session's state for this test. Other
    hosts pass through untouched unless strict (``--emulated-vendors-strict``)."""
    from .intercept import intercept

    emulated_vendors_app.extensions["emulator"].reset_session()
    strict = _flag(request.node, "emulated_vendors_strict", "strict")
    with intercept(emulated_vendors_app, strict=strict, handle=emulated_vendors_app.handle) as handle:
        yield handle


@pytest.fixture
def contact_emulator(contact_emulator_server) -> EmulatorHandle:
    """A handle on the session's live emulator, put back to the session's state for this test."""
    contact_emulator_server.app.extensions["emulator"].reset_session()
    return contact_emulator_server.handle


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With ``contact_emulator_check``, a passed test that made an unmatched request or got a
    5xx no fault rule asked for is reported failed, with the requests in question."""
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.passed:
        return
    funcargs = getattr(item, "funcargs", {})
    handles = [funcargs[name] for name in ("contact_emulator", "emulated_vendors") if name in funcargs]
    if not handles or not _flag(item, "contact_emulator_check", "check"):
        return
    for handle in handles:
        try:
            handle.check()
        except AssertionError as exc:
            report.outcome = "failed"
            report.longrepr = f"contact emulator check (contact_emulator_check): {exc}"
            return


@pytest.fixture
def fake_contact(request):
    """``fake_contact(vendor, endpoint=None, n=None, **options)`` -> a valid vendor payload.

    Faker is seeded from the test's node id, so a rerun gets the same payloads.
    ``fake_contact("esputnik")`` is one contact as the vendor's create endpoint takes it;
    ``fake_contact("esputnik", "bulk", n=50)``, ``fake_contact("dengage", columns=[...])``
    use the vendor's named payload factories.
    """
    from ..seeding import faker_for
    from ..vendors import load_vendors

    fake = faker_for(request.node.nodeid, "fake_contact", "")
    specs = {}

    def factory(vendor: str, endpoint: str | None = None, n: int | None = None, **options):
        if not specs:
            specs.update({s.name: s for s in load_vendors()})
        return make_fake_payload(specs, fake, vendor, endpoint, n, **options)

    return factory


def make_fake_payload(specs: dict, fake, vendor: str, endpoint: str | None = None, n: int | None = None,
                      **options):
    """A valid payload of ``vendor`` (see the ``fake_contact`` fixture)."""
    from .handle import BadArgument

    spec = specs.get(vendor)
    if spec is None:
        raise BadArgument(f"vendor={vendor!r} is not known; known: {', '.join(sorted(specs))}")
    if endpoint is None and n is None and not options:
        return spec.fake_contact(fake)
    factory = spec.fake_payloads.get(endpoint or "default")
    if factory is None:
        raise BadArgument(f"endpoint={endpoint!r}: {vendor} has no fake payload {endpoint or 'default'!r}; "
                          f"known: {', '.join(sorted(spec.fake_payloads)) or 'none'}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise BadArgument(f"n must be a positive whole number, got {n!r}")
    return factory(fake, n=n, **options)
