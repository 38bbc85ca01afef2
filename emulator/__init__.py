"""contact-api-emulator: stateful emulators of marketing vendors' contact APIs."""
from __future__ import annotations

__version__ = "0.1.0"


def create_app(settings=None, vendors=None):
    """Build the emulator's Flask app (see :func:`emulator.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(settings, vendors)


__all__ = ["create_app", "__version__"]
