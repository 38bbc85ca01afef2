"""``GET /_emulator/openapi.json``: an OpenAPI 3 document of every emulated vendor route.

Paths come from the app's URL map (so no route is forgotten) under the emulator's
``/<vendor>`` prefix; request bodies and queries come from the vendors' payload declarations
(:class:`~emulator.core.payload.Shape`, each a component of its own), or from marshmallow
schemas through apispec, with each vendor's auth scheme and error shape.
"""
from __future__ import annotations

import re

from .. import __version__
from ..core.payload import Shape

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}, "path": {"type": "string"},
          "string": {"type": "string"}, None: {"type": "string"}}


def build_openapi(app, server_url: str | None = None) -> dict:
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    engine = app.extensions["emulator"]
    spec = APISpec(title="contact-api-emulator", version=__version__, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Emulated vendor contact APIs; each vendor under /<vendor>."},
                   servers=[{"url": server_url}] if server_url else [])
    shapes = _ShapeComponents(spec)
    for name, vendor in engine.vendors.items():
        for scheme_name, scheme in vendor.security_schemes.items():
            spec.components.security_scheme(f"{name}_{scheme_name}", dict(scheme))
        error_ref = None
        error_schema = vendor.error_schema() if callable(vendor.error_schema) else vendor.error_schema
        metadata = vendor.openapi() if callable(vendor.openapi) else vendor.openapi
        if error_schema is not None:
            spec.components.schema(f"{name}_error", dict(error_schema))
            error_ref = {"$ref": f"#/components/schemas/{name}_error"}
        security = [{f"{name}_{s}": []} for s in vendor.security_schemes]
        prefix = vendor.prefix()
        by_path: dict[str, dict] = {}
        for rule in app.url_map.iter_rules():
            if not (rule.rule == prefix or rule.rule.startswith(prefix + "/")):
                continue
            route = rule.rule[len(prefix):] or "/"
            path = _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
            view = app.view_functions.get(rule.endpoint)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                meta = dict(metadata.get(f"{method} {route}", {}))
                op = _operation(vendor, method, route, rule, view, meta, security, error_ref, shapes)
                by_path.setdefault(path, {})[method.lower()] = op
        for path, operations in sorted(by_path.items()):
            spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(vendor, method, route, rule, view, meta, security, error_ref, shapes) -> dict:
    doc = (view.__doc__ or "").strip().splitlines() if view is not None else []
    status = str(meta.get("status", 200))
    op: dict = {
        "tags": [vendor.title],
        "summary": meta.get("summary") or (doc[0] if doc else f"{method} {route}"),
        "operationId": f"{vendor.name}_{method.lower()}_" + (
            re.sub(r"[^A-Za-z0-9]+", "_", _CONVERTER.sub(lambda m: m.group(2), route)).strip("_") or "root"),
        "parameters": [{"name": m.group(2), "in": "path", "required": True, "schema": _TYPES.get(m.group(1),
                                                                                              {"type": "string"})}
                       for m in _CONVERTER.finditer(rule.rule)],
        "responses": {status: {"description": "success"}},
    }
    error = {"description": f"error in {vendor.title}'s own shape"}
    if error_ref is not None:
        error["content"] = {"application/json": {"schema": error_ref}}
    op["responses"]["4XX"] = error
    op["security"] = security if meta.get("auth", True) else []
    schema = meta.get("schema")
    if schema is not None:
        body = shapes.ref(schema) if isinstance(schema, Shape) else _schema_class(schema)
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    query = meta.get("query")
    if isinstance(query, Shape):
        op["parameters"].extend({"in": "query", "name": key, "required": field.required,
                                 "schema": field.json_schema(shapes.ref)} for key, field in query.fields.items())
    elif query is not None:
        op["parameters"].append({"in": "query", "schema": _schema_class(query)})
    return op


class _ShapeComponents:
    """Registers each payload shape once as a component; ``ref(shape)`` is its reference."""

    def __init__(self, spec):
        self.spec, self.seen = spec, set()

    def ref(self, shape: Shape) -> dict:
        if shape.name not in self.seen:
            self.seen.add(shape.name)  # before its nested shapes: a shape may nest itself
            self.spec.components.schema(shape.name, shape.json_schema(self.ref))
        return {"$ref": f"#/components/schemas/{shape.name}"}


def _schema_class(schema) -> type:
    """The schema class; apispec's marshmallow plugin registers and names it once."""
    return schema if isinstance(schema, type) else type(schema)
