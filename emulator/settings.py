"""One settings object, from defaults, ``EMULATOR_*`` environment variables and flags."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

ENV_PREFIX = "EMULATOR_"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    fixture: Any = "default"
    """A fixture name (``fixtures/<name>.json``), a path, or a fixture object."""
    seed: int = 0
    db: str | None = None
    """Path of a TinyDB JSON file to persist to; ``None`` keeps the store in memory."""
    log_level: str = "info"
    max_body_bytes: int = 16 * 1024 * 1024
    journal_size: int = 10_000
    server: str = "waitress"
    threads: int = 8
    background_jobs: bool = False
    """Tick due jobs and webhooks in a thread (live servers); tests rely on request-time runs."""
    webhook_timeout_s: float = 5.0
    vendors: tuple[str, ...] | None = None
    """Serve only these vendors (default: every registered vendor)."""
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> Settings:
        """Defaults, then ``EMULATOR_<FIELD>`` variables, then explicit overrides (not None)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw not in (None, "") and f.name != "extra":
                values[f.name] = _cast(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def coerce(cls, value: Settings | dict | None) -> Settings:
        if value is None:
            return cls()
        if isinstance(value, Settings):
            return value
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**value)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def _cast(name: str, raw: str) -> Any:
    if name in {"port", "seed", "max_body_bytes", "journal_size", "threads"}:
        return int(raw)
    if name == "webhook_timeout_s":
        return float(raw)
    if name == "background_jobs":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if name == "vendors":
        return tuple(v.strip() for v in raw.split(",") if v.strip())
    return raw
