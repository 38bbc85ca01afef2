"""``contact-emulator serve``: serve every vendor on one port.

Every flag has an ``EMULATOR_*`` environment variable (flags win). Binds to loopback
unless told otherwise. SIGTERM and Ctrl-C stop the server cleanly (the store is compacted
to its file when ``--db`` is used).
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contact-emulator",
                                     description="Emulator of the eSputnik, Octopush, D·engage and Pushtech contact APIs.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve every vendor on one port",
                           description="Serve every vendor on one port. Each flag has an EMULATOR_<FLAG> env var.")
    serve.add_argument("--host", help="bind address (EMULATOR_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port, 0 for any free port (EMULATOR_PORT, default 8080)")
    serve.add_argument("--fixture", help="fixture name or path (EMULATOR_FIXTURE, default 'default')")
    serve.add_argument("--seed", type=int, help="seed for generated data and ids (EMULATOR_SEED, default 0)")
    serve.add_argument("--db", help="persist to this TinyDB JSON file (EMULATOR_DB; default: in memory)")
    serve.add_argument("--log-level", dest="log_level", choices=["debug", "info", "warning", "error"],
                       help="log level (EMULATOR_LOG_LEVEL, default info)")
    serve.add_argument("--server", choices=["waitress", "dev"],
                       help="WSGI server: waitress (production) or dev (werkzeug) (EMULATOR_SERVER)")
    serve.add_argument("--threads", type=int, help="server threads (EMULATOR_THREADS, default 8)")
    return parser


def banner(settings: Settings, app, port: int) -> str:
    engine = app.extensions["emulator"]
    host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = f"http://{host}:{port}"
    lines = [f"contact-api-emulator listening on {base} (fixture {settings.fixture!r}, seed {engine.seed})"]
    for name, spec in engine.vendors.items():
        lines.append(f"  {spec.title:<10} {base}/{name}{spec.base_path}")
        for account in engine.accounts.get(name, {}).values():
            creds = spec.describe_credentials(account) if spec.describe_credentials else account.credentials
            lines.append(f"             account {account.name!r}: {creds}")
    lines.append(f"  dashboard  {base}/_emulator/")
    lines.append(f"  health     {base}/_emulator/health")
    return "\n".join(lines)


def serve(settings: Settings) -> int:
    from .app import create_app

    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .core.accounts import FixtureError

    settings = settings.with_(background_jobs=True)
    try:
        app = create_app(settings)
    except (FixtureError, ValueError) as exc:
        print(f"contact-emulator: {exc}", file=sys.stderr)
        return 2
    engine = app.extensions["emulator"]
    stopping = threading.Event()

    if settings.server == "dev":
        from werkzeug.serving import make_server

        server = make_server(settings.host, settings.port, app, threaded=True)
        port = server.server_port

        def stop(*_):
            if not stopping.is_set():
                stopping.set()
                threading.Thread(target=server.shutdown, daemon=True).start()

        run = server.serve_forever
    else:
        from waitress import create_server

        server = create_server(app, host=settings.host, port=settings.port, threads=settings.threads,
                               ident="contact-api-emulator", clear_untrusted_proxy_headers=True)
        port = server.effective_port

        def stop(*_):
            stopping.set()
            raise SystemExit(0)

        run = server.run
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(banner(settings, app, port), flush=True)
    try:
        run()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        if settings.server != "dev":
            server.close()
        else:
            server.server_close()
        engine.close()
        print("contact-api-emulator stopped", flush=True)
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        overrides = {k: v for k, v in vars(args).items() if k != "command"}
        try:
            settings = Settings.from_env(**overrides)
        except (TypeError, ValueError) as exc:
            print(f"contact-emulator: bad setting: {exc}", file=sys.stderr)
            return 2
        return serve(settings)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
