"""The dashboard at ``GET /_emulator/``: one server-rendered page of what the emulator holds.

Per vendor and account it shows the stored collections (paged, searchable over every
string or number in a document), the webhook deliveries, the last requests of the journal
with their notes, and the clock. Reset and clock changes are plain HTML forms that POST to
``/_emulator/dashboard/...`` and answer ``303 See Other`` back to the page (post, redirect,
get): the page needs no JavaScript, a reload never repeats an action, and the JSON admin
API stays JSON-only. Everything shown goes through Jinja with autoescaping on.
"""
from __future__ import annotations

import functools
import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, redirect, request

from .. import __version__
from ..core.errors import EmulatorError
from ..core.journal import mask_url_passwords
from ..core.store import copy_json

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
SEARCH_SCAN = 20_000
"""A search that no index answers looks through this many documents, newest first."""
SEARCH_MATCHES = 500
"""... and stops at this many matches (the page then says "first N matches")."""
RECENT_ROWS = 25
"""How many journal requests and webhook deliveries the page lists (newest first)."""
CELL_CHARS = 80
"""Longer cell values are cut on the page; the full value is in the cell's title."""
HOME = "/_emulator/"



@functools.cache
def _page_template():
    """The page template, compiled on first use (not on the start-up path)."""
    from jinja2 import Environment, PackageLoader

    templates = Environment(loader=PackageLoader("emulator.admin", "templates"), autoescape=True,
                            trim_blocks=True, lstrip_blocks=True)
    return templates.get_template("dashboard.html")


def register_dashboard(bp: Blueprint, engine) -> None:
    """Add the dashboard page and its two form endpoints to the admin blueprint."""

    @bp.get("")
    def dashboard():
        # the app's response class: whatever a stored value holds, the page is UTF-8
        return current_app.response_class(_page_template().render(**page_context(engine, request.args)),
                                          mimetype="text/html")

    @bp.post("/dashboard/reset")
    def dashboard_reset():
        _refuse_cross_site()
        vendor = request.form.get("vendor") or None
        if vendor is not None and vendor not in engine.vendors:
            return _back(error=f"unknown vendor {vendor!r}")
        engine.reset(vendor)
        title = engine.vendors[vendor].title if vendor else "every vendor"
        return _back(notice=f"Reset {title}: fixture reloaded" + ("" if vendor else ", journal cleared") + ".")

    @bp.post("/dashboard/clock")
    def dashboard_clock():
        _refuse_cross_site()
        action = request.form.get("action")
        if action == "advance":
            raw = (request.form.get("seconds") or "").strip()
            try:
                seconds = float(raw)
            except ValueError:
                seconds = math.nan
            if not math.isfinite(seconds):
                return _back(error=f"advance: seconds must be a number, got {raw!r}")
            engine.clock.advance(seconds)
            return _back(notice=f"Clock advanced by {seconds:g} s.")
        if action == "freeze":
            engine.clock.freeze()
            return _back(notice="Clock frozen at the current emulator time.")
        if action == "real":
            engine.clock.real()
            return _back(notice="Clock follows real time again.")
        return _back(error=f"clock: action must be advance, freeze or real, got {action!r}")


# -- the page --------------------------------------------------------------------------
def page_context(engine, args) -> dict[str, Any]:
    """Everything the template shows, from the engine and the query parameters."""
    problems: list[str] = []
    vendors = _overview(engine)
    vendor, account = _selected(engine, args.get("vendor"), args.get("account"), problems)
    spec = engine.vendors.get(vendor) if vendor else None
    kinds = list(spec.collections) if spec else []
    kind = args.get("kind") or (kinds[0] if kinds else None)
    if kind not in kinds:
        if kinds:
            problems.append(f"{spec.title} has no collection {kind!r}")
        kind = kinds[0] if kinds else None
    query = (args.get("q") or "").strip()
    size = _int(args.get("size"), DEFAULT_PAGE_SIZE)
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    page = max(1, _int(args.get("page"), 1))
    scan = bool(query) and args.get("scan") == "1"

    table = None
    if vendor and account and kind:
        table = _table(engine, vendor, account, kind, query, page, size, scan)
    params = {"vendor": vendor, "account": account, "kind": kind, "q": query or None, "scan": "1" if scan else None,
              "size": size if size != DEFAULT_PAGE_SIZE else None, "page": table["page"] if table else None}

    def link(**changes) -> str:
        merged = {**params, **changes}
        if "page" not in changes and any(k in changes for k in ("vendor", "account", "kind", "q", "scan", "size")):
            merged["page"] = None  # a new selection starts on its first page
        return HOME + _query(merged)

    error = args.get("error")
    if problems:
        error = "; ".join(filter(None, [error, *problems]))
    return {
        "version": __version__,
        "seed": engine.seed,
        "fixture": engine.fixture_name(),
        "clock": engine.clock.state(),
        "vendors": vendors,
        "vendor": vendor,
        "vendor_title": spec.title if spec else None,
        "account": account,
        "kinds": [(k, _count(engine, vendor, account, k)) for k in kinds],
        "kind": kind,
        "q": query,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "table": table,
        "requests": _recent_requests(engine),
        "journal_total": len(engine.journal),
        "webhooks": _recent_webhooks(engine),
        "link": link,
        "here": link(),
        "notice": args.get("notice"),
        "error": error,
    }


def _overview(engine) -> list[dict]:
    """Every vendor with its accounts and how many documents each collection holds."""
    out = []
    for name, spec in engine.vendors.items():
        accounts = [{"name": acct, "counts": [(k, _count(engine, name, acct, k)) for k in spec.collections]}
                    for acct in engine.accounts.get(name, {})]
        out.append({"name": name, "title": spec.title, "accounts": accounts})
    return out


def _selected(engine, vendor: str | None, account: str | None, problems: list[str]) -> tuple:
    """The vendor and account to show: the asked ones if they exist, else the first ones."""
    if vendor and vendor not in engine.vendors:
        problems.append(f"unknown vendor {vendor!r}")
        vendor = None
    if vendor is None:
        vendor = next(iter(engine.vendors), None)
    accounts = list(engine.accounts.get(vendor, {})) if vendor else []
    if account and account not in accounts:
        problems.append(f"vendor {vendor!r} has no account {account!r}")
        account = None
    if account is None:
        account = accounts[0] if accounts else None
    return vendor, account


def _count(engine, vendor: str | None, account: str | None, kind: str) -> int:
    if not (vendor and account):
        return 0
    return len(engine.store.collection(vendor, account, kind))


def _table(engine, vendor: str, account: str, kind: str, query: str, page: int, size: int,
           scan: bool = False) -> dict:
    """One page of a collection, newest first, narrowed to the documents ``query`` finds.

    Without a query the page is read straight from the store (what it skips and holds,
    whatever the store's size). A query is first looked up as an exact key in every index
    of the kind (an email, a phone number, a contact key, an id); if no index knows it, or
    ``scan`` is asked, the newest :data:`SEARCH_SCAN` documents are searched for it, up to
    :data:`SEARCH_MATCHES` matches, and the page says so.
    """
    collection = engine.store.collection(vendor, account, kind)
    search = None
    with engine.store.lock:
        stored = len(collection)
        if not query:
            total, ids = stored, None
        else:
            ids, indexes = ([], []) if scan else _index_hits(collection, query)
            search = {"how": "index", "indexes": indexes} if ids else None
    if query and search is None:
        ids, scanned, capped = _scan(engine.store, collection, query.casefold())
        search = {"how": "scan", "scanned": scanned, "stored": stored, "capped": capped,
                  "complete": scanned >= stored and not capped, "limit": SEARCH_MATCHES,
                  "indexed": bool(collection.indexes)}
    if ids is not None:
        total = len(ids)
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    start = (page - 1) * size
    with engine.store.lock:
        if ids is None:
            docs = [copy_json(doc) for _, doc in collection.page(start, size, newest_first=True)]
        else:
            docs = [copy_json(doc) for doc in map(collection.peek, ids[start:start + size]) if doc is not None]
    columns: list[str] = []
    for doc in docs:
        columns.extend(key for key in doc if key not in columns)
    rows = [[_cell(doc[c]) if c in doc else None for c in columns] for doc in docs]
    first = start + 1 if total else 0
    return {"columns": columns, "rows": rows, "total": total, "page": page, "pages": pages,
            "first": first, "last": first + len(rows) - 1 if rows else 0, "search": search}


_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{5,}")


def _key_forms(query: str) -> list:
    """The forms an exact key typed in the search box may be stored in: as typed, case-folded
    (emails), a phone number's digits with and without ``+``, a whole number (ids)."""
    forms: list = [query, query.casefold()]
    if _PHONE_LIKE.fullmatch(query):
        digits = re.sub(r"\D", "", query)
        forms += [digits, "+" + digits]
    if re.fullmatch(r"-?\d+", query):
        forms.append(int(query))
    return list(dict.fromkeys(forms))


def _index_hits(collection, query: str) -> tuple[list[int], list[str]]:
    """(ids newest first, names of the indexes that knew it) of the documents with ``query``
    as an exact key in some index of the collection (no scan)."""
    found: set[int] = set()
    indexes: list[str] = []
    for name in collection.indexes:
        hits = {doc_id for form in _key_forms(query) for doc_id in collection.ids_with(name, form)}
        if hits:
            found |= hits
            indexes.append(name)
    return sorted(found, reverse=True), indexes


SCAN_CHUNK = 2000
"""A search holds the store lock for this many documents at a time, so writes go on between."""


def _scan(store, collection, needle: str) -> tuple[list[int], int, bool]:
    """(ids newest first, documents looked at, whether it stopped at :data:`SEARCH_MATCHES`)
    of a search inside every value of the newest :data:`SEARCH_SCAN` documents."""
    with store.lock:
        newest = collection.page(0, SEARCH_SCAN, newest_first=True)
    matches: list[int] = []
    looked = 0
    for start in range(0, len(newest), SCAN_CHUNK):
        with store.lock:  # a document is only ever changed under the lock
            for doc_id, doc in newest[start:start + SCAN_CHUNK]:
                looked += 1
                if _contains(doc, needle):
                    matches.append(doc_id)
                    if len(matches) >= SEARCH_MATCHES:
                        return matches, looked, True
    return matches, looked, False


def _contains(value: Any, needle: str) -> bool:
    """Whether any string or number inside a JSON value contains ``needle`` (case-folded)."""
    if isinstance(value, str):
        return needle in value.casefold()
    if isinstance(value, dict):
        return any(_contains(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(_contains(v, needle) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return needle in str(value)
    return False


def _cell(value: Any) -> dict:
    """A value as the page shows it: text (cut if long), the full text, and a style hint."""
    if value is None:
        return {"text": "null", "full": "null", "kind": "null"}
    if isinstance(value, bool):
        text, kind = ("true" if value else "false"), "bool"
    elif isinstance(value, (int, float)):
        text, kind = str(value), "number"
    elif isinstance(value, str):
        text, kind = value, "string"
    else:
        text, kind = json.dumps(value, ensure_ascii=False, separators=(", ", ": ")), "json"
    text = mask_url_passwords(text)  # a stored webhook or upload link shows no password
    short = text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"
    return {"text": short, "full": text, "kind": kind}


def _recent_requests(engine) -> list[dict]:
    rows = []
    for entry in reversed(engine.journal.entries(limit=RECENT_ROWS, bodies=False)):
        query = entry.get("query") or {}
        rows.append({**entry, "target": entry.get("path", "") + (f"?{urlencode(query)}" if query else ""),
                     "notes": [_note_text(n) for n in entry.get("notes") or []]})
    return rows


def _note_text(note: dict) -> str:
    sent = json.dumps(note.get("sent"), ensure_ascii=False)
    used = json.dumps(note.get("used"), ensure_ascii=False)
    return f"{note.get('field')}: {sent} → {used} ({note.get('rule')})"


def _recent_webhooks(engine) -> list[dict]:
    rows = []
    for delivery in reversed(engine.jobs.deliveries()[-RECENT_ROWS:]):
        attempts = delivery.get("attempts") or []
        last = attempts[-1] if attempts else {}
        outcome = str(last["status"]) if "status" in last else last.get("error", "")
        rows.append({**delivery, "url": mask_url_passwords(str(delivery.get("url") or "")),
                     "attempt_count": len(attempts), "last_outcome": mask_url_passwords(outcome)})
    return rows


# -- the form endpoints ----------------------------------------------------------------
def _refuse_cross_site() -> None:
    """Refuse a form posted by another site's page (a browser names the posting origin)."""
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site" or (
            origin and origin != "null" and urlsplit(origin).netloc != request.host):
        raise EmulatorError("dashboard actions are accepted only from the dashboard's own origin", 403)


def _back(notice: str | None = None, error: str | None = None):
    """303 to the page the form was on (``back``), with the outcome shown in a banner."""
    target = request.form.get("back") or HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/_emulator"):
        parts = urlsplit(HOME)  # only ever back to the dashboard itself
    params = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("notice", "error")]
    params += [("notice", notice)] if notice else []
    params += [("error", error)] if error else []
    return redirect(urlunsplit(("", "", parts.path, urlencode(params), "")), code=303)


def _query(params: dict) -> str:
    pairs = [(k, v) for k, v in params.items() if v not in (None, "")]
    return "?" + urlencode(pairs) if pairs else ""


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return default
