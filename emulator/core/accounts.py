"""Fixtures and the accounts they declare.

A fixture file (``fixtures/<name>.json``)::

    {"description": "...",
     "vendors": {
       "<vendor>": {"accounts": {
          "<account>": {"credentials": {...}, "settings": {...}, "generate": {"contacts": 5}}}}}}

``credentials`` are the vendor's (see each vendor's README section); ``settings`` override
the vendor's per-account defaults; ``generate.contacts`` is how many Faker contacts to store.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class FixtureError(ValueError):
    """A fixture that cannot be found or does not have the documented shape."""


@dataclass
class Account:
    vendor: str
    name: str
    credentials: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    generate: dict = field(default_factory=dict)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


def fixtures_dirs() -> list[Path]:
    """Where fixture names are looked up: ``$EMULATOR_FIXTURES_DIR``, then the project's."""
    dirs = []
    if os.environ.get("EMULATOR_FIXTURES_DIR"):
        dirs.append(Path(os.environ["EMULATOR_FIXTURES_DIR"]))
    here = Path(__file__).resolve().parent.parent
    dirs.append(here / "fixtures")         # installed wheel: emulator/fixtures
    dirs.append(here.parent / "fixtures")  # source checkout: <repo>/fixtures
    return dirs


def fixture_path(ref: Any) -> Path | None:
    """The file a fixture name or path refers to (None: an object, or not found)."""
    if not isinstance(ref, (str, os.PathLike)):
        return None
    text = os.fspath(ref)
    candidates = [Path(text)] if (text.endswith(".json") or os.sep in text) else []
    candidates += [d / f"{text}.json" for d in fixtures_dirs()]
    return next((path for path in candidates if path.is_file()), None)


def load_fixture(ref: Any) -> dict:
    """A fixture object from a name (``default``), a path, or an object (copied)."""
    if isinstance(ref, dict):
        return copy.deepcopy(ref)
    if not isinstance(ref, (str, os.PathLike)):
        raise FixtureError(f"fixture must be a name, a path or an object, not {type(ref).__name__}")
    path = fixture_path(ref)
    if path is None:
        raise FixtureError(f"fixture {os.fspath(ref)!r} not found "
                           f"(looked in {', '.join(str(d) for d in fixtures_dirs())})")
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise FixtureError(f"fixture {path}: not valid JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise FixtureError(f"fixture {path}: must be a JSON object")
    return loaded


def build_accounts(fixture: dict, vendors: dict) -> dict[str, dict[str, Account]]:
    """vendor -> account name -> :class:`Account`, with vendor defaults under the settings."""
    declared = fixture.get("vendors", {})
    if not isinstance(declared, dict):
        raise FixtureError("fixture: 'vendors' must be an object")
    from ..vendors import VENDOR_PACKAGES

    unknown = set(declared) - set(vendors) - set(VENDOR_PACKAGES)
    if unknown:
        raise FixtureError(f"fixture: unknown vendor(s) {', '.join(sorted(unknown))}; known: {', '.join(vendors)}")
    out: dict[str, dict[str, Account]] = {name: {} for name in vendors}
    for vendor, block in declared.items():
        if vendor not in vendors:
            continue  # a registered vendor this app does not serve
        accounts = (block or {}).get("accounts", {})
        if not isinstance(accounts, dict):
            raise FixtureError(f"fixture: vendors.{vendor}.accounts must be an object")
        for name, spec in accounts.items():
            spec = spec or {}
            where = f"fixture: {vendor} account {name!r}"
            if not isinstance(spec, dict):
                raise FixtureError(f"{where} must be an object")
            for part in ("credentials", "settings", "generate"):
                if not isinstance(spec.get(part, {}), dict):
                    raise FixtureError(f"{where}: {part} must be an object")
            for key in vendors[vendor].credential_keys:
                value = spec.get("credentials", {}).get(key)
                if not isinstance(value, str) or not value:
                    raise FixtureError(f"{where}: credentials.{key} must be a non-empty string "
                                       f"(every {vendors[vendor].title} account needs "
                                       f"{', '.join(vendors[vendor].credential_keys)})")
            settings = copy.deepcopy(dict(vendors[vendor].default_settings))
            settings.update(copy.deepcopy(spec.get("settings", {})))
            out[vendor][name] = Account(vendor=vendor, name=name,
                                        credentials=dict(spec.get("credentials", {})),
                                        settings=settings, generate=dict(spec.get("generate", {})))
    return out
