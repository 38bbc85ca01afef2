"""Fault rules: make matching vendor requests fail, wait or lose their connection.

A rule matches vendor, method, a path glob (the vendor's own path, e.g.
``/api/v1/contact*``) and optionally the account; its effect is a status (with a body, or
the vendor's own error shape), a delay in milliseconds (real time, so client time-outs can
be tested), or a dropped connection. It fires ``times`` times, or always when ``times`` is
None. Plain Python: the app asks :meth:`Faults.match` and performs the effect.
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from fnmatch import fnmatchcase
from typing import Any


class FaultRuleError(ValueError):
    """A rule that cannot be used; the message names the field and the rule."""


@dataclass
class FaultRule:
    id: int
    vendor: str | None = None
    method: str | None = None
    path: str = "*"
    account: str | None = None
    status: int | None = None
    body: Any = None
    delay_ms: int = 0
    drop: bool = False
    times: int | None = None
    fired: int = field(default=0)

    def matches(self, vendor: str, method: str, path: str, account: str | None) -> bool:
        if self.vendor not in (None, "*", vendor):
            return False
        if self.method not in (None, "*") and self.method.upper() != method.upper():
            return False
        if not (fnmatchcase(path, self.path) or fnmatchcase(path.rstrip("/"), self.path.rstrip("/"))):
            return False
        return self.account is None or self.account == account

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def describe(self) -> dict:
        return asdict(self)


_FIELDS = {f.name for f in fields(FaultRule)} - {"id", "fired"}


class Faults:
    """The fault rules of one emulator (thread-safe)."""

    def __init__(self, vendors):
        self.vendors = set(vendors)
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, **spec) -> FaultRule:
        unknown = set(spec) - _FIELDS
        if unknown:
            raise FaultRuleError(f"unknown field(s) {', '.join(sorted(unknown))}; a rule takes "
                                 f"{', '.join(sorted(_FIELDS))}")
        rule = _validated(spec, self.vendors)
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def list(self) -> list[dict]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def clear(self) -> None:
        """Drop every rule; ids start again at 1."""
        with self._lock:
            self._rules.clear()
            self._next_id = 1

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def has_account_rules(self) -> bool:
        return any(r.account is not None for r in self._rules)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def match(self, vendor: str, method: str, path: str, account: str | None = None,
              *, account_known: bool = False) -> FaultRule | None:
        """The first live rule for this request, counted as fired; None when none applies.

        Before authentication (``account_known`` false) only rules without an account are
        considered; account rules are matched once the vendor has identified the account.
        """
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or (rule.account is not None) != account_known:
                    continue
                if rule.matches(vendor, method, path, account):
                    rule.fired += 1
                    return FaultRule(**asdict(rule))
        return None


def _validated(spec: dict, vendors: set[str]) -> FaultRule:
    rule = FaultRule(id=0, **spec)
    if rule.vendor not in (None, "*") and rule.vendor not in vendors:
        raise FaultRuleError(f"'vendor' must be one of {', '.join(sorted(vendors))} (or omitted), got {rule.vendor!r}")
    if rule.method is not None and (not isinstance(rule.method, str) or not rule.method.isalpha()):
        raise FaultRuleError(f"'method' must be an HTTP method name, got {rule.method!r}")
    if not isinstance(rule.path, str) or not rule.path:
        raise FaultRuleError(f"'path' must be a non-empty glob such as '/api/v1/contact*', got {rule.path!r}")
    if rule.account is not None and not isinstance(rule.account, str):
        raise FaultRuleError(f"'account' must be an account name, got {rule.account!r}")
    if rule.status is not None and (isinstance(rule.status, bool) or not isinstance(rule.status, int)
                                    or not 100 <= rule.status <= 599):
        raise FaultRuleError(f"'status' must be an HTTP status between 100 and 599, got {rule.status!r}")
    if isinstance(rule.delay_ms, bool) or not isinstance(rule.delay_ms, (int, float)) or not 0 <= rule.delay_ms <= 600_000:
        raise FaultRuleError(f"'delay_ms' must be a number of milliseconds between 0 and 600000, got {rule.delay_ms!r}")
    if not isinstance(rule.drop, bool):
        raise FaultRuleError(f"'drop' must be true or false, got {rule.drop!r}")
    if rule.times is not None and (isinstance(rule.times, bool) or not isinstance(rule.times, int) or rule.times < 1):
        raise FaultRuleError(f"'times' must be a positive integer (1 = one-shot) or null (always), got {rule.times!r}")
    if rule.status is None and not rule.drop and not rule.delay_ms:
        raise FaultRuleError("a rule needs an effect: 'status', 'delay_ms' or 'drop'")
    if rule.drop and rule.status is not None:
        raise FaultRuleError("'drop' and 'status' exclude each other: a dropped connection has no status")
    return rule
