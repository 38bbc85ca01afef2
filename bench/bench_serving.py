"""Serving rows: the production server (issue: waitress) and in-process interception.

Both use the Octopush single-contact create, the smallest vendor write, against the
minimal Flask app measured in the same run.
"""
from __future__ import annotations

import itertools
import sys

from run import ROOT

CREATE = "/v1/public/contact/create"
HEADERS = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}
BODY = {"contacts": [{"phone_number": "+33612345678", "first_name": "Ann", "last_name": "Lee"}]}


def rows(ctx) -> list[dict]:
    out = []
    # serve mode (waitress, own process) vs the minimal app on the werkzeug dev server (own process)
    port = ctx.free_port()
    with ctx.serve_process([sys.executable, str(ROOT / "bench" / "minimal_app.py"), str(port)], port,
                           health_path="/health") as url:
        minimal, tool = ctx.load(f"{url}/contacts", BODY, {})
    port = ctx.free_port()
    cmd = [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--fixture", "empty"]
    with ctx.serve_process(cmd, port) as url:
        served, _ = ctx.load(f"{url}/octopush{CREATE}", BODY, HEADERS)
    out.append(ctx.row(f"minimal Flask app, dev server, own process ({tool}, 8 connections)", minimal, "req/s"))
    out.append(ctx.row("contact-emulator serve (waitress), Octopush create", served, "req/s"))
    out.append(ctx.row("serve mode / minimal app on the dev server", served / minimal, "×", "≥ 1.4",
                       served / minimal >= 1.4))

    # in-process interception vs live, one client thread in this process
    from emulator import intercept

    app = ctx.make_app(vendors=None)
    numbers = itertools.count(600000000)

    def body():
        return {"contacts": [{"phone_number": f"+33{next(numbers)}", "first_name": "Ann"}]}

    before = ctx.reference_rate(1, fresh=True)
    with ctx.live(app) as server:
        url = f"{server.url}/octopush{CREATE}"
        live = ctx.rate(lambda: ctx.session().post(url, json=body(), headers=HEADERS))
    with intercept(app):
        session = ctx.session()
        in_process = ctx.rate(lambda: session.post(f"https://api.octopush.com{CREATE}", json=body(), headers=HEADERS))
    reference = (before + ctx.reference_rate(1, fresh=True)) / 2  # measured around ours: the machine drifts
    out.append(ctx.row("minimal Flask app, live (dev server, this process), around the two below", reference, "req/s"))
    out.append(ctx.row("Octopush create, live (dev server, this process)", live, "req/s"))
    out.append(ctx.row("Octopush create, in-process interception", in_process, "req/s"))
    out.append(ctx.row("live create / minimal app live", live / reference, "×", "≥ 0.9", live / reference >= 0.9))
    out.append(ctx.row("in-process create / minimal app live", in_process / reference, "×", "≥ 4",
                       in_process / reference >= 4))
    return out
