"""One settings object, from defaults, ``EMULATOR_*`` environment variables and flags.

Every value is checked where it enters: a bad one raises :class:`SettingError` whose message
names where it came from (``--port``, ``EMULATOR_PORT`` or the field name) and what is
allowed, so the command line can print it as one line.
"""
from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

ENV_PREFIX = "EMULATOR_"
LOG_LEVELS = ("debug", "info", "warning", "error")
SERVERS = ("waitress", "dev")


class SettingError(ValueError):
    """A setting outside its allowed values; the message names the flag or variable."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    fixture: Any = "default"
    """A fixture name (``fixtures/<name>.json``), a path, or a fixture object."""
    seed: int = 0
    db: str | None = None
    """Path of the TinyDB JSON file to persist to (its write-ahead logs are kept beside it); ``None``: in memory."""
    log_level: str = "info"
    quiet: bool = False
    """No request log lines (``serve`` logs one per vendor request at ``info`` otherwise)."""
    max_body_bytes: int = 16 * 1024 * 1024
    journal_size: int = 10_000
    journal_body_bytes: int = 1024 * 1024
    """Body bytes a journal entry keeps whole, request and response each (above: the first 2 KiB)."""
    journal_total_bytes: int = 64 * 1024 * 1024
    """Body bytes the whole journal keeps; past it the oldest entries give up their bodies."""
    server: str = "waitress"
    threads: int = 8
    connection_limit: int = 1000
    """Open connections waitress accepts before it stops accepting (its own default is 100)."""
    channel_timeout_s: int = 30
    """An idle connection (no bytes in that long, no request being served) is closed (waitress)."""
    webhook_timeout_s: float = 5.0
    vendors: tuple[str, ...] | None = None
    """Serve only these vendors (default: every registered vendor)."""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        for f in fields(self):
            rule = _rule(f.name, f.type)
            if rule is not None:
                value = getattr(self, f.name)
                checked = _check(f.name, value, rule)
                if checked is not value:
                    object.__setattr__(self, f.name, checked)

    @classmethod
    def from_env(cls, env: dict | None = None, *, source: Callable[[str], str] | None = None,
                 **overrides) -> Settings:
        """Defaults, then ``EMULATOR_<FIELD>`` variables, then explicit overrides (not None).

        ``source(field)`` names where an override came from in error messages (the command
        line passes its flag names); without it the field name is used.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            rule = _rule(f.name, f.type)
            raw = env.get(env_var(f.name))
            if raw not in (None, "") and f.name != "extra":
                values[f.name] = _check(f"{env_var(f.name)}={raw}", raw, rule) if rule else raw
        for name, value in overrides.items():
            if value is None:
                continue
            rule = _rule(name, next((f.type for f in fields(cls) if f.name == name), None))
            label = source(name) if source else name
            values[name] = _check(f"{label} {value}" if source else label, value, rule) if rule else value
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


def env_var(name: str) -> str:
    """The environment variable of a setting: ``port`` -> ``EMULATOR_PORT``."""
    return ENV_PREFIX + name.upper()


# -- checks ----------------------------------------------------------------------------
# A rule is (parse, allowed): ``parse`` turns a string (from a flag or a variable) or a
# value (from code) into the setting's value or raises ValueError; ``allowed`` says what
# is accepted, for the message.

Rule = tuple[Callable[[Any], Any], str]


def _integer(low: int | None = None, high: int | None = None) -> Callable[[Any], int]:
    def parse(value):
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError
        return value
    return parse


def _number(value) -> float:
    if isinstance(value, str):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError
    return float(value)


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value):
        if not isinstance(value, str) or value.strip().lower() not in choices:
            raise ValueError
        return value.strip().lower()
    return parse


_HOSTNAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")


def _host(value) -> str:
    """An IP address, or a host name that is not an IP address gone wrong (``999.1.1.1``)."""
    if not isinstance(value, str):
        raise ValueError
    text = value.strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(text) or re.fullmatch(r"[\d.]+", text):
        raise ValueError
    return text


def _vendors(value) -> tuple[str, ...]:
    names = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(n.strip() for n in names if isinstance(n, str) and n.strip())
    from .vendors import VENDOR_PACKAGES

    if not names or any(n not in VENDOR_PACKAGES for n in names):
        raise ValueError
    return names


def _vendors_allowed() -> str:
    from .vendors import VENDOR_PACKAGES

    return f"a comma list of {', '.join(VENDOR_PACKAGES)}"


RULES: dict[str, Rule] = {
    "host": (_host, "an IP address or a host name (127.0.0.1, 0.0.0.0, ::1, localhost)"),
    "port": (_integer(0, 65535), "an integer 0–65535 (0: any free port)"),
    "seed": (_integer(), "an integer"),
    "log_level": (_one_of(LOG_LEVELS), "one of " + ", ".join(LOG_LEVELS)),
    "server": (_one_of(SERVERS), "one of " + ", ".join(SERVERS)),
    "threads": (_integer(1), "an integer ≥ 1"),
    "journal_size": (_integer(1), "an integer ≥ 1 (entries kept)"),
    "max_body_bytes": (_integer(1), "an integer ≥ 1 (bytes)"),
    "journal_body_bytes": (_integer(1), "an integer ≥ 1 (bytes kept per body)"),
    "journal_total_bytes": (_integer(1), "an integer ≥ 1 (body bytes the journal keeps)"),
    "connection_limit": (_integer(1), "an integer ≥ 1 (open connections)"),
    "channel_timeout_s": (_integer(1), "an integer ≥ 1 (seconds)"),
    "webhook_timeout_s": (_number, "a number > 0 (seconds)"),
    "vendors": (_vendors, ""),
}
_BY_TYPE: dict[str, Rule] = {
    "int": (_integer(), "an integer"),
    "float": (_number, "a number > 0"),
    "bool": (_flag, "1, true, yes, on, 0, false, no or off"),
}


def _rule(name: str, annotation) -> Rule | None:
    """The check of a setting: its own rule, else one by its type (None: taken as given)."""
    if name in RULES:
        return RULES[name]
    return _BY_TYPE.get(annotation if isinstance(annotation, str) else getattr(annotation, "__name__", ""))


def _check(label: str, value: Any, rule: Rule) -> Any:
    if value is None:
        return None
    parse, allowed = rule
    try:
        return parse(value)
    except (ValueError, TypeError):
        pass
    if parse is _vendors:
        allowed = _vendors_allowed()
    shown = label if "=" in label or " " in label else f"{label} {value!r}"
    raise SettingError(f"{shown}: must be {allowed}")
