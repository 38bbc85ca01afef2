"""``make bench``: measure the emulator, print a table, write ``bench/results.json``.

Core rows live here; each vendor adds rows in ``bench/bench_<vendor>.py`` (a ``rows(ctx)``
function). Every speed target is a ratio against a reference measured in the same run on
the same machine (a minimal Flask app), so the figures mean something on any machine.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from emulator import create_app  # noqa: E402
from emulator.testing.live import LiveServer  # noqa: E402

MINIMAL_APP = HERE / "minimal_app.py"


class Context:
    """What a bench module's ``rows(ctx)`` gets."""

    def __init__(self, quick: bool = False):
        self.quick = quick
        self._reference: dict[int, float] = {}
        self._local = threading.local()

    # -- apps and servers ----------------------------------------------------------
    def make_app(self, vendors=None, **settings):
        settings.setdefault("fixture", "empty")
        return create_app(settings, vendors=vendors)

    @staticmethod
    def engine(app):
        return app.extensions["emulator"]

    @contextmanager
    def live(self, app, health_path: str = "/_emulator/health"):
        server = LiveServer(app, health_path=health_path).start()
        try:
            yield server
        finally:
            server.stop()

    def session(self) -> requests.Session:
        """A ``requests.Session`` of the calling thread (kept between calls)."""
        sess = getattr(self._local, "session", None)
        if sess is None:
            sess = self._local.session = requests.Session()
        return sess

    # -- measuring -----------------------------------------------------------------
    def rate(self, fn, threads: int = 1, seconds: float = 2.0) -> float:
        """Calls per second of ``fn()``, run in ``threads`` threads for ``seconds``."""
        if self.quick:
            seconds = min(seconds, 0.5)
        for _ in range(20):  # warm up connections and caches
            fn()
        counts = [0] * threads
        stop = time.perf_counter() + seconds
        barrier = threading.Barrier(threads + 1)

        def worker(i):
            barrier.wait()
            n = 0
            while time.perf_counter() < stop:
                fn()
                n += 1
            counts[i] = n

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        started = time.perf_counter()
        barrier.wait()
        for t in pool:
            t.join()
        return sum(counts) / (time.perf_counter() - started)

    def reference_rate(self, threads: int = 1, fresh: bool = False) -> float:
        """Rate of a minimal Flask app (one JSON POST route) on the same server, this run.

        ``fresh`` measures again instead of reusing this run's first figure (measure just
        before and after the figure it is compared with: the machine's speed drifts)."""
        if fresh or threads not in self._reference:
            from minimal_app import create_minimal_app

            with self.live(create_minimal_app(), health_path="/health") as server:
                url = f"{server.url}/contacts"
                payload = {"email": "ann@example.com", "name": "Ann"}
                self._reference[threads] = self.rate(lambda: self.session().post(url, json=payload), threads)
        return self._reference[threads]

    @contextmanager
    def minimal_live(self):
        """The minimal Flask app on a live server; yields ``call(json=None, **kwargs)``, which
        POSTs one request to it (a small contact unless ``json`` is given; ``kwargs`` go to
        ``requests``). A vendor row sends it the vendor request itself (same body, same auth
        headers): the client then does the same work on both sides, and the ratio compares
        what the two servers do with one request."""
        from minimal_app import create_minimal_app

        with self.live(create_minimal_app(), health_path="/health") as server:
            url = f"{server.url}/contacts"
            payload = {"email": "ann@example.com", "name": "Ann"}

            def call(json=None, **kwargs):
                resp = self.session().post(url, json=payload if json is None else json, **kwargs)
                assert resp.status_code == 201, resp.text
                return resp

            yield call

    def paired_rates(self, ours, reference, threads: int = 1, rounds: int = 6, seconds: float = 0.8,
                     ours_within=contextlib.nullcontext) -> tuple[float, float]:
        """(ours, reference): median rates over ``rounds`` alternating runs (A B B A A B ...).

        Both are measured in the same stretch of time, in turn, so a drift of the machine's
        speed weighs on both alike; the median drops a round a hiccup spoiled. ``ours`` runs
        inside ``ours_within()`` (say, an interception), the reference outside it.
        """
        return self.paired(lambda: self._rate_within(ours_within, ours, threads, seconds),
                           lambda: self.rate(reference, threads, seconds), rounds)

    def interleaved_rates(self, ours, reference, calls: int = 1000) -> tuple[float, float]:
        """(ours, reference): calls per second of each, one thread, the calls made in turn
        one by one (A B B A A B ...) and each timed alone.

        The rate is ``calls / time spent in them`` (a mean, so a slow call or a collector
        pause counts in full). For a single client thread this is the steadiest comparison
        we have: the machine's speed drifts within a second, and alternating call by call
        gives the drift no time to favour either side, where rounds of 0.8 s in turn
        (:meth:`paired_rates`) still spread the same ratio over ±7 %.
        """
        if self.quick:
            calls = 200
        for _ in range(20):  # warm up connections and caches
            ours()
            reference()
        spent = [0.0, 0.0]
        clock = time.perf_counter
        for i in range(calls):
            for side in ((0, 1) if i % 4 in (0, 3) else (1, 0)):
                fn = ours if side == 0 else reference
                started = clock()
                fn()
                spent[side] += clock() - started
        return calls / spent[0], calls / spent[1]

    def _rate_within(self, within, fn, threads, seconds) -> float:
        with within():
            return self.rate(fn, threads, seconds)

    def paired(self, measure_ours, measure_reference, rounds: int = 6) -> tuple[float, float]:
        """(ours, reference): medians of two measurements taken in turn, A B B A A B ..."""
        if self.quick:
            rounds = 2
        mine, theirs = [], []
        for i in range(rounds):
            pair = [(measure_ours, mine), (measure_reference, theirs)]
            for measure, out in (pair if i % 2 == 0 else pair[::-1]):
                out.append(measure())
        return statistics.median(mine), statistics.median(theirs)

    @contextmanager
    def serve_process(self, cmd: list[str], port: int, health_path: str = "/_emulator/health", env=None):
        """Run a server command in its own process; yields its base URL once it answers."""
        env = {**os.environ, **(env or {})}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.perf_counter() + 30
            while True:
                try:
                    if requests.get(url + health_path, timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    if time.perf_counter() > deadline:
                        raise
                    time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    def load(self, url: str, body: dict, headers: dict, seconds: float = 3.0, connections: int = 8) -> tuple[float, str]:
        """(requests/second, tool) of POSTs of ``body`` to ``url`` from outside this process's GIL:
        ``wrk`` when installed (``apt-get install wrk``), else threads of ``http.client``."""
        if self.quick:
            seconds = min(seconds, 1.0)
        payload = json.dumps(body)
        if shutil.which("wrk"):
            lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(payload)}",
                     'wrk.headers["Content-Type"] = "application/json"']
            lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                fh.write("\n".join(lines) + "\n")
            try:
                out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "-s", fh.name, url],
                                     capture_output=True, text=True, timeout=seconds + 30).stdout
            finally:
                os.unlink(fh.name)
            match = re.search(r"Requests/sec:\s+([\d.]+)", out)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if match and not non2xx:
                return float(match.group(1)), "wrk"
            raise RuntimeError(f"wrk run failed or got errors:\n{out}")
        return self._threaded_load(url, payload, headers, seconds, connections), "http.client"

    @staticmethod
    def _threaded_load(url, payload, headers, seconds, connections) -> float:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        counts = [0] * connections
        stop = time.perf_counter() + seconds

        def worker(i):
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            hdrs = {"Content-Type": "application/json", **headers}
            while time.perf_counter() < stop:
                conn.request("POST", parts.path, payload, hdrs)
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 300:
                    raise RuntimeError(f"{url} answered {resp.status}")
                counts[i] += 1

        started = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return sum(counts) / (time.perf_counter() - started)

    @staticmethod
    def free_port() -> int:
        return _free_port()

    @staticmethod
    def best_time(fn, setup=None, repeat: int = 5) -> float:
        """Best wall time (seconds) of ``fn(setup())`` over ``repeat`` runs."""
        best = float("inf")
        for _ in range(repeat):
            arg = setup() if setup is not None else None
            gc.collect()
            started = time.perf_counter()
            fn(arg) if setup is not None else fn()
            best = min(best, time.perf_counter() - started)
        return best

    def best_times_in_turn(self, fn, setups, repeat: int = 5) -> list[float]:
        """Best wall time of ``fn(setup())`` for each of ``setups``, the setups taking turns
        run after run (A B A B ...), so a drift of the machine's speed weighs on all alike."""
        best = [float("inf")] * len(setups)
        for _ in range(repeat):
            for i, setup in enumerate(setups):
                best[i] = min(best[i], self.best_time(fn, setup=setup, repeat=1))
        return best

    @staticmethod
    def row(name: str, value: float, unit: str, target: str | None = None, ok: bool | None = None) -> dict:
        return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok}

    def versus_minimal_rows(self, what: str, ours: float, reference: float, at_least: float) -> list[dict]:
        """The three rows of a live one-thread comparison with the minimal app
        (:meth:`interleaved_rates`): its rate, ours, and the ratio against ``at_least``."""
        ratio = ours / reference
        return [
            self.row("minimal Flask app, live, 1 thread, the same request (call by call in turn with the row below)",
                     reference, "req/s"),
            self.row(f"{what}, live, 1 thread", ours, "req/s"),
            self.row(f"{what} / minimal Flask app (same run)", ratio, "×", f"≥ {at_least}", ratio >= at_least),
        ]


# -- core rows ---------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _time_to_first_good_request(cmd: list[str], port: int, path: str, env: dict) -> tuple[float, float]:
    """(seconds from spawn to the first 200, resident memory in MiB at that moment)."""
    import http.client

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 20
        while time.perf_counter() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    return time.perf_counter() - started, _rss_mib(proc.pid)
            except OSError:
                time.sleep(0.002)
        raise RuntimeError(f"{cmd} did not answer within 20 s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def startup_rows(ctx: Context) -> list[dict]:
    # An installed package has its bytecode compiled at install time; a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 never writes it. Compile it, so both sides start from bytecode.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "emulator")], check=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    runs = 3 if ctx.quick else 7
    ours, ref, ours_waitress = [], [], []
    for _ in range(runs):
        port = _free_port()
        ref.append(_time_to_first_good_request([sys.executable, str(MINIMAL_APP), str(port)], port, "/health", env))
        port = _free_port()
        ours.append(_time_to_first_good_request(
            [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--fixture", "empty", "--server", "dev"],
            port, "/_emulator/health", env))
        port = _free_port()
        ours_waitress.append(_time_to_first_good_request(
            [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--fixture", "empty"],
            port, "/_emulator/health", env))
    r, o, w = (statistics.median(t for t, _ in runs) for runs in (ref, ours, ours_waitress))
    mem_r, mem_o, mem_w = (statistics.median(m for _, m in runs) for runs in (ref, ours, ours_waitress))
    return [
        ctx.row("start-up to first good request: minimal Flask app (reference)", r * 1000, "ms"),
        ctx.row("start-up to first good request: emulator, empty fixture, dev server", o * 1000, "ms"),
        ctx.row("start-up to first good request: emulator, empty fixture, waitress", w * 1000, "ms"),
        ctx.row("start-up ratio emulator (dev server) / minimal Flask app", o / r, "×", "≤ 1.5", o / r <= 1.5),
        ctx.row("resident memory at first request: minimal Flask app", mem_r, "MiB"),
        ctx.row("resident memory at first request: emulator, dev server", mem_o, "MiB"),
        ctx.row("resident memory at first request: emulator, waitress", mem_w, "MiB"),
    ]


def reset_rows(ctx: Context) -> list[dict]:
    app = ctx.make_app(fixture="default")
    engine = ctx.engine(app)
    client = app.test_client()
    engine.reset()
    direct = ctx.best_time(engine.reset, repeat=20)
    http = ctx.best_time(lambda: client.post("/_emulator/reset"), repeat=20)
    # the per-test reset of the pytest fixtures: after one create, back to the session's state
    headers = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}

    def one_create():
        resp = client.post("/octopush/v1/public/contact/create", headers=headers,
                           json={"contacts": [{"phone_number": "+33612345678"}]})
        assert resp.status_code == 201

    session = ctx.best_time(lambda _: engine.reset_session(), setup=one_create, repeat=50)
    return [
        ctx.row("reset, default fixture (engine.reset)", direct * 1000, "ms", "≤ 5", direct * 1000 <= 5),
        ctx.row("reset, default fixture (POST /_emulator/reset)", http * 1000, "ms", "≤ 5", http * 1000 <= 5),
        ctx.row("per-test reset after one create (engine.reset_session: data, journal, faults, clock)",
                session * 1000, "ms", "≤ 0.5", session * 1000 <= 0.5),
    ]


def store_rows(ctx: Context) -> list[dict]:
    from emulator.core.store import Index, Store

    n_ops = 2000 if ctx.quick else 5000
    big = 20_000 if ctx.quick else 100_000

    def make(stored: int):
        store = Store()
        store.define_indexes("bench:contacts", {"email": Index(lambda d: d["email"])})
        coll = store.collection("bench", "a", "contacts")
        if stored:
            coll.write_many({"email": f"seed{i}@example.com", "name": f"Seed {i}", "n": i} for i in range(stored))
        return coll

    def inserts(coll):
        for i in range(n_ops):
            coll.insert({"email": f"new{i}@example.com", "name": f"New {i}", "n": i})

    def lookups(coll):
        for i in range(n_ops):
            coll.find("email", f"seed{i % 1000}@example.com")

    rows = []
    empty_coll, big_coll = make(1000), make(big)
    ins0, insb = (t / n_ops for t in ctx.best_times_in_turn(inserts, [lambda: make(0), lambda: make(big)], repeat=5))
    look0 = ctx.best_time(lambda: lookups(empty_coll), repeat=3) / n_ops
    lookb = ctx.best_time(lambda: lookups(big_coll), repeat=3) / n_ops
    rows.append(ctx.row("store insert, empty table", ins0 * 1e6, "µs/op"))
    rows.append(ctx.row(f"store insert, {big:,} stored", insb * 1e6, "µs/op"))
    rows.append(ctx.row(f"store insert ratio {big:,} / empty", insb / ins0, "×", "≤ 1.2", insb / ins0 <= 1.2))
    rows.append(ctx.row("store index look-up, 1,000 stored", look0 * 1e6, "µs/op"))
    rows.append(ctx.row(f"store index look-up, {big:,} stored", lookb * 1e6, "µs/op"))
    rows.append(ctx.row(f"store look-up ratio {big:,} / 1,000", lookb / look0, "×", "≤ 1.2", lookb / look0 <= 1.2))
    return rows


def journal_rows(ctx: Context) -> list[dict]:
    """Resident memory once the journal is full of 1 MB bodies, with the default budgets.

    Each request is a D·engage login with a wrong password and a 1 MB unknown key: the route
    parses the body and notes the key, as a real refused request would, and the journal
    keeps an entry of it (10,000 by default)."""
    app = ctx.make_app()
    engine = ctx.engine(app)
    client = app.test_client()
    entries = 2_000 if ctx.quick else engine.settings.journal_size
    shell = json.dumps({"userkey": "demo", "password": "wrong", "pad": ""})
    body = json.dumps({"userkey": "demo", "password": "wrong", "pad": "x" * (1_000_000 - len(shell))}).encode()
    assert len(body) == 1_000_000
    gc.collect()
    before = _rss_mib(os.getpid())
    started = time.perf_counter()
    for _ in range(entries):
        resp = client.post("/dengage/rest/login", data=body, content_type="application/json")
    spent = time.perf_counter() - started
    assert resp.status_code == 401, resp.data[:200]
    assert len(engine.journal) == entries
    gc.collect()
    after = _rss_mib(os.getpid())
    read = ctx.best_time(lambda: client.get("/_emulator/requests?limit=1"), repeat=5)
    return [
        ctx.row("resident memory before the journal fills", before, "MiB"),
        ctx.row(f"RSS after {entries:,} journal entries of 1 MB bodies", after, "MiB", "≤ 300", after <= 300),
        ctx.row("body bytes the journal holds (EMULATOR_JOURNAL_TOTAL_BYTES)", engine.journal.body_bytes_held() / 2**20,
                "MiB"),
        ctx.row("one refused 1 MB request, journaled (in-process)", spent / entries * 1000, "ms"),
        ctx.row(f"GET /_emulator/requests?limit=1 with {entries:,} entries", read * 1000, "ms"),
    ]


CORE_SECTIONS = {"startup": startup_rows, "reset": reset_rows, "store": store_rows, "journal": journal_rows}


def vendor_sections() -> dict:
    out = {}
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out[path.stem.removeprefix("bench_")] = module.rows
    return out


def run_section(name: str, quick: bool) -> list[dict]:
    """Run one section in this process and return its rows."""
    sys.path.insert(0, str(HERE))
    ctx = Context(quick=quick)
    sections = {**CORE_SECTIONS, **vendor_sections()}
    try:
        rows = sections[name](ctx)
    except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
        rows = [ctx.row(f"{name}: failed ({type(exc).__name__}: {exc})", float("nan"), "", None, False)]
    for row in rows:
        row["section"] = name
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (rough figures)")
    parser.add_argument("--only", nargs="*", help="sections to run (startup, reset, store, <vendor> ...)")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    parser.add_argument("--section", help=argparse.SUPPRESS)  # internal: run one section, rows to stdout
    args = parser.parse_args(argv)
    if args.section:
        print(json.dumps(run_section(args.section, args.quick), default=str))
        return 0
    names = [n for n in [*CORE_SECTIONS, *vendor_sections()] if not args.only or n in args.only]
    results = []
    for name in names:
        # Each section runs in a fresh process: one section's large stores must not slow the
        # next one down (every garbage collection walks the whole heap).
        started = time.perf_counter()
        cmd = [sys.executable, __file__, "--section", name] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        try:
            rows = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            rows = [{"name": f"{name}: failed (exit {proc.returncode}) {proc.stderr[-300:]}", "value": float("nan"),
                     "unit": "", "target": None, "ok": False, "section": name}]
        results.extend(rows)
        _print_rows(name, rows, time.perf_counter() - started)
    Path(args.out).write_text(json.dumps({"python": sys.version.split()[0], "quick": args.quick,
                                          "cpus": os.cpu_count(), "rows": results}, indent=2, default=str))
    failed = [r for r in results if r.get("ok") is False]
    print(f"\n{len(results)} rows, {len(failed)} below target; written to {args.out}")
    return 0


def _print_rows(section: str, rows: list[dict], elapsed: float) -> None:
    print(f"\n== {section} ({elapsed:.1f} s)")
    for r in rows:
        mark = {True: "ok ", False: "LOW", None: "   "}[r["ok"]]
        value = r["value"]
        shown = f"{value:,.3f}" if isinstance(value, float) and abs(value) < 100 else f"{value:,.0f}"
        target = f"  (target {r['target']})" if r["target"] else ""
        print(f"  {mark} {r['name']:<72} {shown:>12} {r['unit']}{target}")


if __name__ == "__main__":
    raise SystemExit(main())
