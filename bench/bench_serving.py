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
    minimal_port, port = ctx.free_port(), ctx.free_port()
    cmd = [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--fixture", "empty"]
    with ctx.serve_process([sys.executable, str(ROOT / "bench" / "minimal_app.py"), str(minimal_port)],
                           minimal_port, health_path="/health") as minimal_url, ctx.serve_process(cmd, port) as url:
        tools = set()

        def load(target, body, headers):
            rate, tool = ctx.load(target, body, headers, seconds=2.0)
            tools.add(tool)
            return rate

        served, minimal = ctx.paired(lambda: load(f"{url}/octopush{CREATE}", BODY, HEADERS),
                                     lambda: load(f"{minimal_url}/contacts", BODY, {}), rounds=4)
    tool = "/".join(sorted(tools))
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

    with ctx.live(app) as server, ctx.minimal_live() as minimal_call:
        url = f"{server.url}/octopush{CREATE}"
        # one thread: call by call in turn (see Context.interleaved_rates)
        live, reference = ctx.interleaved_rates(lambda: ctx.session().post(url, json=body(), headers=HEADERS),
                                                minimal_call)
        session = ctx.session()
        # interception is switched on for a round, not per call: rounds in turn
        in_process, reference_again = ctx.paired_rates(
            lambda: session.post(f"https://api.octopush.com{CREATE}", json=body(), headers=HEADERS),
            minimal_call, ours_within=lambda: intercept(app))
    out.append(ctx.row("minimal Flask app, live (dev server, this process), call by call in turn with the row below",
                       reference, "req/s"))
    out.append(ctx.row("Octopush create, live (dev server, this process)", live, "req/s"))
    out.append(ctx.row("live create / minimal app live", live / reference, "×", "≥ 0.9", live / reference >= 0.9))
    out.append(ctx.row("minimal Flask app, live, in rounds in turn with the row below", reference_again, "req/s"))
    out.append(ctx.row("Octopush create, in-process interception", in_process, "req/s"))
    out.append(ctx.row("in-process create / minimal app live", in_process / reference_again, "×", "≥ 4",
                       in_process / reference_again >= 4))
    return out
