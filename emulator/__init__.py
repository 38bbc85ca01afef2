"""contact-api-emulator: stateful emulators of marketing vendors' contact APIs."""
from __future__ import annotations

__version__ = "0.1.0"


def create_app(settings=None, vendors=None):
    """Build the emulator's Flask app (see :func:`emulator.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(settings, vendors)


def intercept(app=None, *, strict: bool = False, settings: dict | None = None, hosts: dict | None = None,
              passthrough=()):
    """Route ``requests`` and ``httpx`` calls for real vendor hosts into an emulator, in-process
    (see :class:`emulator.testing.intercept.intercept`)."""
    from .testing.intercept import intercept as _intercept

    return _intercept(app, strict=strict, settings=settings, hosts=hosts, passthrough=passthrough)


def verify(directory, vendor: str | None = None, fixture=None, *, known=None, seed: int = 0):
    """Replay a recorded cassette against a fresh emulator and compare the answers; returns a
    :class:`~emulator.conformance.verifier.Report` (see :func:`emulator.conformance.verifier.verify`)."""
    from .conformance.verifier import verify as _verify

    return _verify(directory, vendor, fixture, known=known, seed=seed)


__all__ = ["create_app", "intercept", "verify", "__version__"]
