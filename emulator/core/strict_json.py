"""Strict JSON: read only what RFC 8259 calls JSON, and write out whatever is stored.

Python's :mod:`json` reads more than JSON (``NaN``, ``Infinity``, ``1e400`` as infinity,
lone UTF-16 surrogates) and nests as deep as the recursion limit allows. Stored, each of
those breaks later reads: a surrogate cannot be encoded as UTF-8, ``NaN`` is not JSON, a
deep value runs a reader out of recursion. Request bodies are read with :func:`parse_json`,
so none of them is ever stored; :func:`printable` is the fallback of the app's JSON output
for values that reached the store another way (a fixture, an older store file).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_JSON_DEPTH = 64
"""How deeply a request body may nest arrays and objects (the top level is depth 1). It is the
default of .NET's System.Text.Json and Json.NET (Ruby's JSON stops at 100): deeper bodies are
refused rather than stored, so no read of a stored value can run out of recursion."""


class _Refused(ValueError):
    """Valid to Python's parser, not JSON (RFC 8259): NaN, Infinity, a number out of range."""


def _no_constant(name: str):
    raise _Refused(f"{name} is not a JSON value (RFC 8259 section 6)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (_INF, -_INF):
        raise _Refused(f"the number {text[:40]} is out of range (RFC 8259 section 6: numbers must be finite)")
    return value


_INF = float("inf")
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)
# an escaped UTF-16 surrogate (\ud800-\udfff): a pair is one character, a lone one is not text
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(data: bytes) -> Any:
    """``data`` as JSON (RFC 8259), or :class:`ValueError` naming what is wrong and where.

    Stricter than :func:`json.loads` where that reads what JSON is not: invalid UTF-8 (a
    surrogate's bytes ``ED A0 80`` included), a lone surrogate escape (``"\\ud800"``), ``NaN``,
    ``Infinity`` and numbers out of range such as ``1e400``, and nesting deeper than
    :data:`MAX_JSON_DEPTH`. Each of those, stored, would break every later read of it.
    """
    try:
        text = data.decode(json.detect_encoding(data))
    except UnicodeDecodeError as exc:
        raise ValueError(f"it is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise ValueError(f"it nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects") from None
    # Cheap bounds first: a body with few brackets cannot nest deeply, one without a
    # surrogate escape holds no lone surrogate.
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH:
        where = _too_deep(value)
        if where is not None:
            raise ValueError(f"{where or 'the value'} nests deeper than {MAX_JSON_DEPTH} levels "
                             "of arrays and objects")
    if _ESCAPED_SURROGATE.search(text) is not None:
        where = _lone_surrogate(value)
        if where is not None:
            raise ValueError(f"{where[0] or 'the value'} holds a lone UTF-16 surrogate "
                             f"{where[1]} (RFC 8259 section 8.2: strings must be Unicode text)")
    return value


def _too_deep(value: Any) -> str | None:
    """The path of the first array or object below :data:`MAX_JSON_DEPTH`, or None."""
    stack = [(value, 1)] if value.__class__ is dict or value.__class__ is list else []
    deepest = None
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            deepest = item
            break
        for child in (item.values() if item.__class__ is dict else item):
            if child.__class__ is dict or child.__class__ is list:
                stack.append((child, depth + 1))
    if deepest is None:
        return None
    path = _path_to(value, lambda v: v is deepest, MAX_JSON_DEPTH + 1) or ""
    return path if len(path) <= 80 else path[:80] + "..."


def _lone_surrogate(value: Any) -> tuple[str, str] | None:
    """(path, escaped character) of the first key or string holding a lone surrogate."""
    found: list = []

    def bad(item) -> bool:
        if item.__class__ is str and _SURROGATE.search(item):
            found.append(item)
            return True
        return False

    path = _path_to(value, bad, MAX_JSON_DEPTH + 1, keys=True)
    if path is None:
        return None
    char = _SURROGATE.search(found[0]).group()
    return path.encode("utf-8", "backslashreplace").decode(), f"\\u{ord(char):04x}"


def _path_to(value: Any, match, depth: int, keys: bool = False, path: str = "") -> str | None:
    """The path (``contacts[2].first_name``) of the first value ``match`` accepts, or None."""
    if match(value):
        return path
    if depth <= 0:
        return None
    if value.__class__ is dict:
        for key, child in value.items():
            at = f"{path}.{key}" if path else str(key)
            if keys and match(key):
                return at
            found = _path_to(child, match, depth - 1, keys, at)
            if found is not None:
                return found
    elif value.__class__ is list:
        for index, child in enumerate(value):
            found = _path_to(child, match, depth - 1, keys, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def printable(value: Any, depth: int = MAX_JSON_DEPTH * 2) -> Any:
    """A copy of ``value`` that :func:`json.dumps` can write as strict JSON: non-finite
    numbers become ``null`` (as JavaScript's ``JSON.stringify`` writes them), and what nests
    deeper than ``depth`` is replaced by a string saying so."""
    if value.__class__ is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        if depth <= 0:
            return "(nested too deep to show)"
        return {k: printable(v, depth - 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if depth <= 0:
            return "(nested too deep to show)"
        return [printable(v, depth - 1) for v in value]
    return value


def json_type(value: Any) -> str:
    """The JSON type of a parsed value: ``object``, ``array``, ``string``, ``number``,
    ``boolean`` or ``null`` (a bool is not a number here, as in JSON)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
