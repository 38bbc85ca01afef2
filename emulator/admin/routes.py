"""``/_emulator/``: health, reset, seed, state, journal, clock, webhooks.

JSON in, JSON out; errors are ``{"status": n, "error": "<message>"}``.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from .. import __version__
from ..core.accounts import FixtureError
from ..core.engine import STATE_LIMIT
from ..core.errors import EmulatorError
from ..core.faults import FaultRuleError
from ..core.journal import NOTE_KINDS, lint_summary
from ..http import json_object
from .dashboard import register_dashboard


def _int_arg(name: str, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise EmulatorError(f"query parameter {name!r} must be an integer, got {raw!r}") from None


def _flag_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    value = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(raw.lower())
    if value is None:
        raise EmulatorError(f"query parameter {name!r} must be 1 or 0 (true or false), got {raw!r}")
    return value


def _vendor_arg(engine) -> str | None:
    vendor = request.args.get("vendor") or None
    if vendor is not None and vendor not in engine.vendors:
        raise EmulatorError(f"query parameter 'vendor' must be one of {', '.join(sorted(engine.vendors))}, "
                            f"got {vendor!r}")
    return vendor


def _fixture_name(engine) -> str:
    return engine.fixture_ref if isinstance(engine.fixture_ref, str) else "(object)"


STATE_PARAMETERS = ("vendor", "account", "kind", "limit", "offset")
"""Query parameters of ``GET /_emulator/state``; any other one filters by an index of that name."""


def _check_filters(specs, kind: str | None, where: dict) -> None:
    """400 unless some collection shown has an index for every filter, naming those that do."""
    offered = {}
    for spec in specs:
        for k in spec.collections:
            if kind and k != kind:
                continue
            names = set(spec.indexes.get(k, {}))
            if set(where) <= names:
                return
            if names:
                offered[f"{spec.name} {k}"] = sorted(names)
    listed = "; ".join(f"{where_}: {', '.join(names)}" for where_, names in offered.items()) or "none"
    raise EmulatorError(f"no collection shown has an index for every filter of {sorted(where)}; "
                        f"filters by collection: {listed}")


def build_admin(engine) -> Blueprint:
    bp = Blueprint("emulator_admin", __name__)

    @bp.get("/health")
    def health():
        return {"status": "ok", "version": __version__, "vendors": sorted(engine.vendors)}

    @bp.post("/reset")
    def reset():
        body = json_object(required=False)
        unknown = sorted(set(body) - {"vendor", "session"})
        if unknown:
            raise EmulatorError(f"reset takes 'vendor' or 'session', got {', '.join(map(repr, unknown))}")
        vendor, session = body.get("vendor"), body.get("session", False)
        if vendor is not None and vendor not in engine.vendors:
            raise EmulatorError(f"'vendor' must be one of {', '.join(sorted(engine.vendors))}, got {vendor!r}")
        if not isinstance(session, bool):
            raise EmulatorError(f"'session' must be true or false, got {session!r}")
        if session and vendor is not None:
            raise EmulatorError("'session' resets everything: send it without 'vendor'")
        if session:
            engine.reset_session()
            return {"status": "ok", "reset": "session", "seed": engine.seed, "fixture": _fixture_name(engine)}
        engine.reset(vendor)
        return {"status": "ok", "reset": vendor or "all"}

    @bp.post("/seed")
    def seed():
        body = json_object()
        unknown = sorted(set(body) - {"seed", "fixture"})
        if unknown:
            raise EmulatorError(f"seed takes 'seed' and 'fixture', got {', '.join(map(repr, unknown))}")
        seed_value = body.get("seed")
        if seed_value is not None and (isinstance(seed_value, bool) or not isinstance(seed_value, int)):
            raise EmulatorError(f"'seed' must be an integer, got {seed_value!r}")
        fixture = body.get("fixture")
        if fixture is not None and not isinstance(fixture, (str, dict)):
            raise EmulatorError(f"'fixture' must be a fixture name or a fixture object, got {fixture!r}")
        try:
            engine.reseed(seed_value, fixture)
        except FixtureError as exc:
            raise EmulatorError(f"'fixture': {exc}") from None
        return {"status": "ok", "seed": engine.seed, "fixture": _fixture_name(engine)}

    @bp.get("/state")
    def state():
        vendor = request.args.get("vendor")
        if vendor and vendor not in engine.vendors:
            raise EmulatorError(f"unknown vendor {vendor!r}; known: {', '.join(sorted(engine.vendors))}", 404)
        specs = [engine.vendors[vendor]] if vendor else list(engine.vendors.values())
        kind = request.args.get("kind")
        if kind and not any(kind in spec.collections for spec in specs):
            known = sorted({k for spec in specs for k in spec.collections})
            raise EmulatorError(f"unknown kind {kind!r}; known: {', '.join(known)}", 404)
        limit, offset = _int_arg("limit", STATE_LIMIT), _int_arg("offset", 0)
        if limit < 0 or offset < 0:
            raise EmulatorError(f"'limit' and 'offset' must be 0 or more, got {limit} and {offset}")
        where = {}
        for name in request.args:
            if name not in STATE_PARAMETERS:
                values = request.args.getlist(name)
                if len(values) != 1:
                    raise EmulatorError(f"filter {name!r}: give one value, got {len(values)}")
                where[name] = values[0]
        if where:
            _check_filters(specs, kind, where)
        return jsonify(engine.state(vendor, request.args.get("account"), kind, limit=limit, offset=offset,
                                    where=where))

    @bp.get("/requests")
    def journal():
        entries = engine.journal.entries(vendor=_vendor_arg(engine), method=request.args.get("method"),
                                         path=request.args.get("path"), account=request.args.get("account"),
                                         limit=_int_arg("limit"), unmatched=_flag_arg("unmatched"))
        return jsonify({"requests": entries, "count": len(entries)})

    @bp.delete("/requests")
    def clear_journal():
        engine.journal.clear()
        return {"status": "ok"}

    @bp.get("/clock")
    def clock():
        return engine.clock.state()

    @bp.post("/clock")
    def set_clock():
        body = json_object()
        known = {"freeze", "advance", "real"}
        given = [k for k in body if k in known]
        unknown = [k for k in body if k not in known]
        if unknown or len(given) != 1:
            raise EmulatorError("clock: send exactly one of 'freeze' (ISO 8601 time or null for now), "
                                f"'advance' (seconds) or 'real' (true); got {sorted(body)}")
        key = given[0]
        if key == "freeze":
            try:
                engine.clock.freeze(body["freeze"])
            except (ValueError, TypeError):
                raise EmulatorError(f"'freeze' must be an ISO 8601 time, got {body['freeze']!r}") from None
        elif key == "advance":
            value = body["advance"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise EmulatorError(f"'advance' must be a number of seconds, got {value!r}")
            engine.clock.advance(value)
        else:
            if body["real"] is not True:
                raise EmulatorError("'real' must be true")
            engine.clock.real()
        return engine.clock.state()

    @bp.get("/webhooks")
    def webhooks():
        wait = request.args.get("wait")
        try:
            wait_s = engine.jobs.webhook_timeout_s + 1.0 if wait in (None, "") else float(wait)
        except ValueError:
            raise EmulatorError(f"query parameter 'wait' must be a number of seconds, got {wait!r}") from None
        if not 0 <= wait_s <= 60:
            raise EmulatorError(f"query parameter 'wait' must be from 0 to 60 seconds, got {wait!r}")
        engine.jobs.wait_deliveries(wait_s)
        items = engine.jobs.deliveries(vendor=request.args.get("vendor"), account=request.args.get("account"))
        return jsonify({"webhooks": items, "count": len(items)})

    @bp.post("/faults")
    def add_fault():
        body = json_object()
        try:
            rule = engine.faults.add(**body)
        except FaultRuleError as exc:
            raise EmulatorError(f"fault rule: {exc}") from None
        return rule.describe(), 201

    @bp.get("/faults")
    def list_faults():
        return {"faults": engine.faults.list()}

    @bp.delete("/faults")
    def clear_faults():
        engine.faults.clear()
        return {"status": "ok"}

    @bp.delete("/faults/<int:rule_id>")
    def remove_fault(rule_id: int):
        if not engine.faults.remove(rule_id):
            raise EmulatorError(f"no fault rule {rule_id}", 404)
        return {"status": "ok"}

    @bp.get("/openapi.json")
    def openapi():
        from flask import current_app

        from .openapi import build_openapi

        return jsonify(build_openapi(current_app, request.host_url.rstrip("/")))

    @bp.get("/lint")
    def lint():
        kind = request.args.get("kind") or None
        if kind is not None and kind not in NOTE_KINDS:
            raise EmulatorError(f"query parameter 'kind' must be one of {', '.join(NOTE_KINDS)}, got {kind!r}")
        entries = engine.journal.entries(vendor=_vendor_arg(engine), account=request.args.get("account"),
                                         bodies=False)
        return lint_summary(entries, kind)

    register_dashboard(bp, engine)
    return bp

