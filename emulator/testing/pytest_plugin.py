"""pytest plugin (active once the package is installed): the ``contact_emulator`` fixture.

One live emulator per test session (per worker under pytest-xdist), on a free loopback
port, reset before every test. Options: ``--contact-emulator-fixture`` /
``contact_emulator_fixture`` (default ``default``) and ``--contact-emulator-seed`` /
``contact_emulator_seed`` (default 0).
"""
from __future__ import annotations

import pytest

from .handle import EmulatorHandle


def pytest_addoption(parser):
    group = parser.getgroup("contact-emulator")
    group.addoption("--contact-emulator-fixture", default=None,
                    help="fixture the contact_emulator server loads (default: 'default')")
    group.addoption("--contact-emulator-seed", default=None, type=int,
                    help="seed of the contact_emulator server (default: 0)")
    parser.addini("contact_emulator_fixture", "fixture the contact_emulator server loads", default="default")
    parser.addini("contact_emulator_seed", "seed of the contact_emulator server", default="0")


def _settings(config) -> dict:
    fixture = config.getoption("--contact-emulator-fixture") or config.getini("contact_emulator_fixture")
    seed = config.getoption("--contact-emulator-seed")
    if seed is None:
        seed = int(config.getini("contact_emulator_seed") or 0)
    return {"fixture": fixture, "seed": seed, "background_jobs": True}


@pytest.fixture(scope="session")
def contact_emulator_server(request):
    """The session's live emulator (a :class:`~emulator.testing.live.LiveServer`)."""
    from .. import create_app
    from .live import LiveServer

    app = create_app(_settings(request.config))
    server = LiveServer(app)  # binds now, in this thread: a bind error fails here
    server.start()
    yield server
    server.stop()
    app.extensions["emulator"].close()


@pytest.fixture(scope="session")
def emulated_vendors_app(request):
    """The session's in-process emulator app (no server)."""
    from .. import create_app

    app = create_app({k: v for k, v in _settings(request.config).items() if k != "background_jobs"})
    yield app
    app.extensions["emulator"].close()


@pytest.fixture
def emulated_vendors(emulated_vendors_app) -> EmulatorHandle:
    """``requests`` calls to the vendors' real hosts go into the emulator in-process (no
    socket); the handle is reset for this test. Other hosts pass through untouched."""
    from .intercept import intercept

    with intercept(emulated_vendors_app) as handle:
        handle.clock.real()
        handle.reset()
        yield handle


@pytest.fixture
def contact_emulator(contact_emulator_server) -> EmulatorHandle:
    """A handle on the session's live emulator, reset (data, journal, clock) for this test."""
    handle = EmulatorHandle(contact_emulator_server.app, contact_emulator_server.url)
    handle.clock.real()
    handle.reset()
    return handle


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
    spec = specs.get(vendor)
    if spec is None:
        raise KeyError(f"unknown vendor {vendor!r}; known: {', '.join(sorted(specs))}")
    if endpoint is None and n is None and not options:
        return spec.fake_contact(fake)
    factory = spec.fake_payloads.get(endpoint or "default")
    if factory is None:
        raise KeyError(f"{vendor} has no fake payload {endpoint or 'default'!r}; "
                       f"known: {', '.join(sorted(spec.fake_payloads)) or 'none'}")
    return factory(fake, n=n, **options)
