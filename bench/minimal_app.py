"""The reference: the smallest Flask app that does what a vendor create does on the wire."""
from __future__ import annotations

import sys

from flask import Flask, request


def create_minimal_app() -> Flask:
    app = Flask("minimal")

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.post("/contacts")
    def create():
        body = request.get_json()
        return {"id": 1, "email": body.get("email")}, 201

    return app


if __name__ == "__main__":
    from werkzeug.serving import make_server

    make_server("127.0.0.1", int(sys.argv[1]), create_minimal_app(), threaded=True).serve_forever()
