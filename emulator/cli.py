"""``contact-emulator serve``: serve every vendor on one port (also ``record`` and ``verify``,
:mod:`emulator.conformance`).

Every flag has an ``EMULATOR_*`` environment variable (flags win). Binds to loopback
unless told otherwise. A bad flag or variable is one line on stderr and exit code 2, never
a traceback. SIGTERM and Ctrl-C stop the server cleanly (the store is compacted to its file
when ``--db`` is used).
"""
from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import logging.handlers
import os
import queue
import signal
import socket
import sys
import threading
from urllib.parse import quote

from . import __version__
from .settings import SettingError, Settings, env_var

PROG = "contact-emulator"
USAGE_ERROR = 2

SERVE_FLAGS: dict[str, str] = {
    "host": "bind address (default 127.0.0.1: loopback only)",
    "port": "port 0–65535, 0 for any free port (default 8080)",
    "fixture": "fixture name or path (default 'default')",
    "seed": "seed of generated data and ids (default 0)",
    "db": "persist to this TinyDB JSON file, its write-ahead logs kept beside it (default: in memory)",
    "log_level": "debug, info, warning or error (default info)",
    "quiet": "no request log (one line per vendor request at info otherwise)",
    "server": "WSGI server: waitress (default) or dev (werkzeug)",
    "threads": "server threads, ≥ 1 (default 8)",
    "connection_limit": "open connections waitress accepts, ≥ 1 (default 1000)",
    "channel_timeout_s": "seconds before waitress closes an idle connection, ≥ 1 (default 30)",
    "journal_size": "request journal entries kept, ≥ 1 (default 10000)",
    "max_body_bytes": "request body cap in bytes, ≥ 1 (default 16 MiB; 413 above it)",
    "vendors": "comma list of the vendors to serve (default: all)",
    "webhook_timeout_s": "seconds one webhook delivery attempt may take, > 0 (default 5)",
}
"""``serve``'s flags: each is ``--<setting>`` (``_`` as ``-``) with the variable ``EMULATOR_<SETTING>``."""


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error as one line that points at ``--help`` (exit code 2)."""

    def error(self, message: str):
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG,
                           description="Emulator of the eSputnik, Octopush, D·engage and Pushtech contact APIs.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    serve = sub.add_parser("serve", help="serve every vendor on one port",
                           description="Serve every vendor on one port. Each flag --x-y has an environment "
                                       "variable EMULATOR_X_Y; flags win.")
    for name, text in SERVE_FLAGS.items():
        help_text = f"{text} [{env_var(name)}]"
        if name == "quiet":
            serve.add_argument(flag(name), dest=name, action="store_const", const=True, help=help_text)
        else:  # strings: Settings checks them and names the flag in its message
            serve.add_argument(flag(name), dest=name, metavar=name.split("_")[0].upper(), help=help_text)
    from .conformance import record, verifier  # light modules: their work imports on use

    parser.subcommands = {"serve": serve, "record": record.add_parser(sub), "verify": verifier.add_parser(sub)}
    return parser


class Sources:
    """Where each setting came from (a flag, a variable, or the default), for messages."""

    def __init__(self, flags: set[str], env):
        self.flags = flags
        self.env = {name for name in SERVE_FLAGS if env.get(env_var(name)) not in (None, "")}

    def given(self, name: str) -> bool:
        return name in self.flags or name in self.env

    def show(self, name: str, value) -> str:
        """``--port 80``, ``EMULATOR_PORT=80`` or ``port 80`` (the default), for a message."""
        if name in self.flags:
            return f"{flag(name)} {value}"
        return f"{env_var(name)}={value}" if name in self.env else f"{name} {value}"


def fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)
    return USAGE_ERROR


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.subcommands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "record":
        return record(args)
    if args.command == "verify":
        from .conformance import verifier

        return verifier.run(args, fail)
    overrides = {k: v for k, v in vars(args).items() if k in SERVE_FLAGS}
    sources = Sources({k for k, v in overrides.items() if v is not None}, os.environ)
    try:
        settings = Settings.from_env(source=flag, **overrides)
    except SettingError as exc:
        return fail(str(exc))
    return serve(settings, sources)


# -- serve ------------------------------------------------------------------------------
def configure_logging(settings: Settings) -> logging.handlers.QueueListener:
    """Log lines go through a queue to a thread that writes them: a request thread never waits
    on stderr (a write per request, with 8 threads, cost a quarter of waitress's throughput)."""
    lines: queue.SimpleQueue = queue.SimpleQueue()
    enqueue = logging.handlers.QueueHandler(lines)  # formats the line when it is logged (its time)
    enqueue.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[enqueue], force=True)
    listener = logging.handlers.QueueListener(lines, logging.StreamHandler(sys.stderr))
    listener.start()
    logging.getLogger("faker").setLevel(logging.WARNING)  # it lists every locale it loads at debug
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the request log below replaces its lines
    if settings.quiet:
        logging.getLogger("emulator.requests").setLevel(logging.WARNING)
    return listener


def serve(settings: Settings, sources: Sources | None = None) -> int:
    sources = sources or Sources(set(), {})
    log_writer = configure_logging(settings)
    try:
        return _serve(settings, sources)
    finally:
        log_writer.stop()  # every queued line written


def _serve(settings: Settings, sources: Sources) -> int:
    from .app import create_app
    from .core.accounts import FixtureError

    try:
        address = resolve(settings.host, settings.port)
    except OSError as exc:
        return fail(f"{sources.show('host', settings.host)}: cannot be resolved ({_reason(exc)})")
    try:
        app = create_app(settings)
    except FixtureError as exc:
        return fail(f"{sources.show('fixture', settings.fixture)}: {str(exc).removeprefix('fixture: ')}")
    except SettingError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"{sources.show('db', settings.db)}: {_reason(exc)}")
    except ValueError as exc:  # a store file that is not one
        return fail(f"{sources.show('db', settings.db)}: cannot be read ({exc})")
    engine = app.extensions["emulator"]
    try:
        server, port, run, stop, close = make_server(settings, app, address)
    except OSError as exc:
        engine.close()
        return fail(bind_error(exc, settings, sources))
    for line in reopen_warnings(settings, engine, sources):
        print(f"{PROG}: warning: {line}", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(banner(settings, app, port), flush=True)
    try:
        run()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        close()
        engine.close()
        print("contact-api-emulator stopped", flush=True)
    return 0


def resolve(host: str, port: int) -> tuple:
    """The first address ``host`` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return infos[0][4]


def make_server(settings: Settings, app, address: tuple):
    """The server, bound: ``(server, port, run, stop, close)``. Binding errors are OSError."""
    stopping = threading.Event()
    host = address[0]
    if settings.server == "dev":
        from werkzeug.serving import make_server as werkzeug_server

        # Bound here, not by werkzeug: on a bind error it prints two lines and exits itself.
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(socket.SOMAXCONN)
            server = werkzeug_server(host, settings.port, app, threaded=True, fd=sock.fileno())

        def stop(*_):
            if not stopping.is_set():
                stopping.set()
                threading.Thread(target=server.shutdown, daemon=True).start()

        return server, server.port, server.serve_forever, stop, server.server_close

    from waitress import create_server

    raise_open_files_limit(settings.connection_limit)
    try:
        server = create_server(
            app, host=host, port=settings.port, threads=settings.threads, ident="contact-api-emulator",
            clear_untrusted_proxy_headers=True,
            # waitress stops accepting at connection_limit (100 by its default: 100 slow clients
            # lock everyone else out); idle ones go after channel_timeout, checked every
            # cleanup_interval; poll() has no 1024-descriptor ceiling as select() has.
            connection_limit=settings.connection_limit, channel_timeout=settings.channel_timeout_s,
            cleanup_interval=min(30, settings.channel_timeout_s), asyncore_use_poll=True)
    except ValueError as exc:  # waitress's own "Invalid host/port specified."
        raise OSError(errno.EADDRNOTAVAIL, str(exc)) from exc

    def stop(*_):
        stopping.set()
        raise SystemExit(0)

    return server, server.effective_port, server.run, stop, server.close


def raise_open_files_limit(connections: int) -> None:
    """Let the process hold ``connections`` sockets (and its files) where the soft limit is lower."""
    try:
        import resource
    except ImportError:  # not a Unix
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = connections + 64
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY else min(need, hard), hard))
    except (ValueError, OSError):
        pass


def bind_error(exc: OSError, settings: Settings, sources: Sources) -> str:
    if exc.errno == errno.EADDRINUSE:
        where = f"{env_var('port')}={settings.port}: " if "port" in sources.env and "port" not in sources.flags else ""
        return f"{where}port {settings.port} is in use; pass --port 0 for a free one"
    if exc.errno == errno.EACCES:
        return (f"{sources.show('port', settings.port)}: this user may not bind ports below 1024; "
                "pick one above 1023, or 0 for a free one")
    return f"{sources.show('host', settings.host)}: cannot listen there ({_reason(exc)})"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def reopen_warnings(settings: Settings, engine, sources: Sources) -> list[str]:
    """What a reopened store ignores: a different fixture or seed, or a fixture edited since."""
    if not engine.reopened:
        return []
    from .core.accounts import FixtureError, load_fixture

    seeded = f"the store {settings.db} was seeded by fixture {engine.fixture_name()!r} with seed {engine.seed}"
    keep = "and keeps it (delete the store, or POST /_emulator/seed, to load another)"
    out = []
    if sources.given("fixture") and str(settings.fixture) != engine.fixture_name():
        out.append(f"{sources.show('fixture', settings.fixture)} ignored: {seeded} {keep}")
    elif str(settings.fixture) == engine.fixture_name():
        try:
            changed = load_fixture(settings.fixture) != engine.fixture
        except FixtureError:
            changed = False
        if changed:
            out.append(f"fixture {engine.fixture_name()!r} changed since {seeded}; "
                       "the store keeps the accounts it was seeded with (delete it to seed it anew)")
    if sources.given("seed") and settings.seed != engine.seed:
        out.append(f"{sources.show('seed', settings.seed)} ignored: {seeded} {keep}")
    return out


# -- record -----------------------------------------------------------------------------
def record(args) -> int:
    """``contact-emulator record``: the proxy of :mod:`emulator.conformance.record` on a server
    bound to loopback, until SIGTERM or Ctrl-C."""
    from .conformance.cassette import CassetteError
    from .conformance.record import Recorder, check_upstream
    from .vendors import VENDOR_PACKAGES

    if args.vendor not in VENDOR_PACKAGES:
        return fail(f"--vendor {args.vendor}: must be one of {', '.join(VENDOR_PACKAGES)}")
    try:
        upstream = check_upstream(args.upstream)
    except ValueError as exc:
        return fail(f"--upstream {exc}")
    try:
        timeout_s = float(args.timeout_s)
        if not 0 < timeout_s < float("inf"):
            raise ValueError
    except ValueError:
        return fail(f"--timeout-s {args.timeout_s}: must be a number > 0")
    try:
        max_body = int(args.max_body_bytes)
        if max_body < 1:
            raise ValueError
    except ValueError:
        return fail(f"--max-body-bytes {args.max_body_bytes}: must be an integer ≥ 1")
    try:
        port = int(args.port)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        return fail(f"--port {args.port}: must be an integer 0–65535 (0: any free port)")
    settings = Settings(host="127.0.0.1", port=port, server="waitress", threads=8)
    try:
        recorder = Recorder(args.vendor, upstream, args.out, timeout_s=timeout_s, max_body_bytes=max_body)
    except CassetteError as exc:
        return fail(f"--out {exc}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    try:
        server, port, serve_forever, stop, close = make_server(settings, recorder, resolve("127.0.0.1",
                                                                                          settings.port))
    except OSError as exc:
        return fail(bind_error(exc, settings, Sources({"port"}, {})))
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"contact-emulator record: {args.vendor} through http://127.0.0.1:{port} to {upstream}\n"
          f"  point the client's base URL at http://127.0.0.1:{port} (the prefix /{args.vendor} is accepted too)\n"
          f"  one file per exchange in {recorder.writer.root} (credentials redacted)\n"
          f"  then: contact-emulator verify {recorder.writer.root}\n"
          "Ctrl-C to stop", flush=True)
    try:
        serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        close()
        print("contact-emulator record stopped", flush=True)
    return 0


# -- banner -----------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def url_host(host: str) -> str:
    """The host as a client on this machine writes it in a URL."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def banner(settings: Settings, app, port: int) -> str:
    """Every base URL as a client uses it and, on a loopback bind only, the credentials."""
    from .core.accounts import fixture_path

    engine = app.extensions["emulator"]
    base = f"http://{url_host(settings.host)}:{port}"
    show_credentials = is_loopback(settings.host)
    if engine.reopened:
        origin = f"store {settings.db}, seeded by fixture {engine.fixture_name()!r}, seed {engine.seed}"
    else:
        origin = f"fixture {engine.fixture_name()!r}, seed {engine.seed}"
    lines = [f"contact-api-emulator {__version__} listening on {base} ({origin})"]
    for name, spec in engine.vendors.items():
        accounts = list(engine.accounts.get(name, {}).values())
        per_account = "{account}" in spec.base_path
        if not accounts:
            path = spec.base_path.format(account="<account>") if per_account else spec.base_path
            lines.append(f"  {spec.title:<10} {base}/{name}{path} (no accounts in the fixture)")
            continue
        if not per_account:
            lines.append(f"  {spec.title:<10} {base}/{name}{spec.base_path}")
        for i, account in enumerate(accounts):
            if per_account:
                title = spec.title if i == 0 else ""
                lines.append(f"  {title:<10} {base}/{name}{spec.base_path.format(account=quote(account.name))}")
            if show_credentials:
                creds = spec.describe_credentials(account) if spec.describe_credentials else account.credentials
                lines.append(f"             account {account.name!r}: {creds}")
            else:
                lines.append(f"             account {account.name!r}")
    lines.append(f"  dashboard  {base}/_emulator/")
    lines.append(f"  health     {base}/_emulator/health")
    if not show_credentials:
        path = fixture_path(engine.fixture_name())
        where = f"the fixture {path}" if path else f"the fixture {engine.fixture_name()!r}"
        if path is not None and path.parent.name == "fixtures" and path.stem in ("default", "empty"):
            where += " (README, 'Demo credentials')"
        lines.append(f"Credentials are not shown on a bind to {settings.host} (not loopback): see {where}")
    lines.append("Ctrl-C to stop")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
