"""``contact-emulator serve`` in a subprocess that a test can kill -9 and start again, and
peers that hold outbound calls: a slow link and a silent receiver (tests and bench)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path


class Served:
    """One ``serve`` process; its output goes to a file (a pipe nobody reads could fill up)."""

    def __init__(self, *args: str, log: Path, env: dict | None = None, timeout_s: float = 30.0):
        self.log = log
        self._out = open(log, "a", encoding="utf-8")  # noqa: SIM115 - closed in kill()
        start = log.stat().st_size
        self.proc = subprocess.Popen([sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
                                     stdout=self._out, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = log.read_text(encoding="utf-8")[start:]
            match = re.search(r"listening on (http://\S+)", text)
            if match and "health" in text[match.end():]:
                self.url = match.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise AssertionError("serve did not start:\n" + log.read_text(encoding="utf-8")[start:])

    def kill(self) -> None:
        """kill -9: no shutdown code runs (no compaction, nothing flushed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._out.close()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def poll(fn, *, until, timeout_s: float = 60.0, every_s: float = 0.1):
    """Call ``fn()`` until ``until(result)`` holds (or fail after ``timeout_s``); returns the result."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = fn()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still not there after {timeout_s} s: {result!r}"[:2000])
        time.sleep(every_s)


class SlowLink:
    """Accepts connections and answers each one byte every ``every_s`` seconds, for ever."""

    def __init__(self, every_s: float = 2.0):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/contacts.csv"
        self.every_s = every_s
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn):
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\nemail\n" + b"x" * 100000
        with conn:
            for byte in answer:
                if self.stop.wait(self.every_s):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the emulator gave up: its deadline passed

    def close(self):
        self.stop.set()
        self.sock.close()


@contextmanager
def silent_receiver():
    """Yields the URL of a receiver that takes connections (the kernel's backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as sock:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
