"""The vendor registry: every emulated vendor, by name, in one place."""
from __future__ import annotations

import importlib

VENDOR_PACKAGES: tuple[str, ...] = (
    "esputnik",
    "octopush",
    "dengage",
    "pushtech",
)


def load_vendors(names=None) -> list:
    """The :class:`~emulator.core.vendor.VendorSpec` of each registered vendor (or of ``names``)."""
    wanted = list(names) if names else list(VENDOR_PACKAGES)
    unknown = [n for n in wanted if n not in VENDOR_PACKAGES]
    if unknown:
        raise ValueError(f"unknown vendor(s): {', '.join(unknown)}; known: {', '.join(VENDOR_PACKAGES)}")
    return [importlib.import_module(f"{__name__}.{name}").VENDOR for name in wanted]
