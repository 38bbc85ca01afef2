"""Shared fixtures: an app per test (test client) and live servers on free ports.

The hooks of :mod:`tests.machine` deselect (and report) tests whose tool cannot exist here.
"""
from __future__ import annotations

import pytest

from emulator import create_app
from emulator.testing.live import LiveServer
from tests.machine import (  # noqa: F401 - hooks, registered by being here
    pytest_collection_modifyitems,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)


@pytest.fixture
def make_app():
    """``make_app(**settings)`` -> a fresh app; closed after the test."""
    apps = []

    def factory(vendors=None, **settings):
        settings.setdefault("fixture", "default")
        app = create_app(settings, vendors=vendors)
        app.testing = True
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["emulator"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def engine(app):
    return app.extensions["emulator"]


@pytest.fixture
def live():
    """``live(app)`` -> a started :class:`LiveServer` (stopped after the test)."""
    servers = []

    def start(app):
        server = LiveServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
