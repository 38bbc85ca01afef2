"""The files of a persistent store, and compaction in a background process.

``Store(path)`` keeps, beside ``PATH``:

* ``PATH`` -- the snapshot: a header line, a JSON line ``{"generation": n, ...}`` and the
  tables (``{name: {str(id): document}}``) in Python's :mod:`marshal` format (JSON types
  only; it reads a million contacts back several times faster than JSON does). A plain
  TinyDB JSON file, as older versions wrote, is read too (generation 0).
* ``PATH.wal`` -- the log being written: one JSON line per changed document.
* ``PATH.wal.<n>`` -- logs closed by a rotation, waiting to be merged into the snapshot.
  The snapshot's generation is the highest ``n`` it holds; later ones are replayed on open.
* ``PATH.lock`` -- locked (``flock``) while the set of files changes or is read on open.

Compaction rotates the log (a rename, under the store lock: microseconds) and starts a
child process that merges the old snapshot and the closed logs *from
the files* into ``PATH.tmp.<pid>``, fsyncs it, and under ``PATH.lock`` renames it over
``PATH`` and deletes the logs it merged. The files it reads never change, so it needs no
lock the server holds, and a request never waits on it. Replaying a log line twice gives
the same result, so a crash between the rename and the deletes loses nothing either.
"""
from __future__ import annotations

import contextlib
import gc
import glob
import json
import logging
import marshal
import os
import subprocess
import sys
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows: the files are then not locked against a second process
    fcntl = None

log = logging.getLogger("emulator.store")

MAGIC = b"contact-api-emulator snapshot\n"
WRITE_CHUNK = 4 << 20
"""A snapshot is written and synced in pieces of this many bytes: a big file's pages left
dirty would make the server's own log fsync wait while the kernel writes them out."""


# -- snapshot -----------------------------------------------------------------------
def read_snapshot(path: str) -> tuple[dict, int]:
    """(tables, generation) of the snapshot at ``path``; ``({}, 0)`` when there is none."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return {}, 0
    if not data.startswith(MAGIC):
        text = data.decode("utf-8")
        return (json.loads(text) if text.strip() else {}), 0
    end = data.index(b"\n", len(MAGIC))
    header = json.loads(data[len(MAGIC):end])
    was_enabled = gc.isenabled()
    gc.disable()  # millions of new documents: the collector would walk them over and over
    try:
        tables = marshal.loads(memoryview(data)[end + 1:])
    finally:
        if was_enabled:
            gc.enable()
    return tables, int(header["generation"])


def snapshot_generation(path: str) -> int:
    """The generation of the snapshot at ``path`` (0: none, or a JSON file), reading its header only."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + 200)
    except FileNotFoundError:
        return 0
    if not head.startswith(MAGIC):
        return 0
    return int(json.loads(head[len(MAGIC):head.index(b"\n", len(MAGIC))])["generation"])


def write_snapshot(path: str, tables: dict, generation: int) -> str:
    """Write ``tables`` to a temporary file beside ``path``, synced; returns its name.

    The caller renames it over ``path`` (:func:`install_snapshot`)."""
    blob = marshal.dumps(tables)
    header = json.dumps({"generation": generation, "marshal": marshal.version,
                         "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}).encode()
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, MAGIC + header + b"\n")
        view = memoryview(blob)
        for start in range(0, len(view), WRITE_CHUNK):
            _write_all(fd, view[start:start + WRITE_CHUNK])
            os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def install_snapshot(path: str, tmp: str, upto: int) -> None:
    """Rename ``tmp`` over ``path`` and delete the closed logs up to ``upto`` (hold the file lock)."""
    os.replace(tmp, path)
    fsync_dir(path)
    for seq, name in log_segments(path):
        if seq <= upto:
            os.unlink(name)


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# -- logs -----------------------------------------------------------------------------
def log_segments(path: str) -> list[tuple[int, str]]:
    """The closed logs ``PATH.wal.<n>``, oldest first."""
    out = []
    for name in glob.glob(glob.escape(path) + ".wal.*"):
        suffix = name.rsplit(".", 1)[1]
        if suffix.isdigit():
            out.append((int(suffix), name))
    return sorted(out)


def read_log(name: str) -> tuple[list, int]:
    """(entries, bytes they take) of a log file; reading stops at the first line that is not
    a whole JSON value (a line torn by a crash: everything before it counts)."""
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return [], 0
    end = data.rfind(b"\n") + 1  # a last line without its newline was cut short
    body = data[:end]
    if not body:
        return [], 0
    try:  # one parse of the whole file: several times faster than a parse per line
        return json.loads(b"[" + body[:-1].replace(b"\n", b",") + b"]"), end
    except ValueError:
        pass
    entries, good = [], 0
    for line in body.splitlines(keepends=True):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:
                break
        good += len(line)
    return entries, good


def apply(tables: dict, entry: list) -> None:
    """Apply one log entry to raw tables (``put``, ``del``, ``drop``; applying twice is harmless)."""
    op, name = entry[0], entry[1]
    if op == "put":
        tables.setdefault(name, {})[str(entry[2])] = entry[3]
    elif op == "del":
        tables.get(name, {}).pop(str(entry[2]), None)
    elif op == "drop":
        tables.pop(name, None)


class Opened:
    """What :func:`open_files` found."""

    def __init__(self, tables: dict, existed: bool, generation: int, last_segment: int, wal_lines: int):
        self.tables, self.existed, self.generation = tables, existed, generation
        self.last_segment, self.wal_lines = last_segment, wal_lines


def open_files(path: str) -> Opened:
    """Read the snapshot and replay every later log, under the file lock (a compaction of
    another process cannot swap files meanwhile). A torn last line of the open log is cut
    off, so what is appended next is read back."""
    wal = path + ".wal"
    with file_lock(path):
        existed = os.path.exists(path) or os.path.exists(wal)
        tables, generation = read_snapshot(path)
        last = generation
        for seq, name in log_segments(path):
            existed = True
            if seq <= generation:  # merged already (a crash came before its delete)
                os.unlink(name)
                continue
            for entry in read_log(name)[0]:
                apply(tables, entry)
            last = max(last, seq)
        entries, good = read_log(wal)
        for entry in entries:
            apply(tables, entry)
        if os.path.exists(wal) and os.path.getsize(wal) > good:
            os.truncate(wal, good)
        for stale in glob.glob(glob.escape(path) + ".tmp*"):
            os.unlink(stale)  # a snapshot a stopped or crashed compaction left half written
    return Opened(tables, existed, generation, last, len(entries))


# -- the file lock --------------------------------------------------------------------
@contextlib.contextmanager
def file_lock(path: str):
    """Hold ``PATH.lock`` (``flock``, exclusive) for the block."""
    if fcntl is None:
        yield
        return
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def fsync_dir(path: str) -> None:
    """Make a rename or a new file in ``path``'s folder durable."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- compaction -----------------------------------------------------------------------
ORPHANED = 3
"""Exit status of a compaction that gave up: its server is gone, or the files changed under it."""


def merge(path: str, upto: int, parent: int | None = None) -> int:
    """Merge the snapshot and the closed logs up to ``upto`` into a new snapshot; 0 when done.

    Reads only files nobody writes any more, so it runs beside a serving store. It gives up
    (:data:`ORPHANED`) when a log it needs is gone, or when the snapshot was replaced while
    it worked (another process compacted: its result holds at least as much), or when the
    server that started it died (a restarted server merges again).
    """
    base = snapshot_generation(path)
    tables, generation = read_snapshot(path)
    needed = [(seq, name) for seq, name in log_segments(path) if generation < seq <= upto]
    if generation != base or [seq for seq, _ in needed] != list(range(generation + 1, upto + 1)):
        return ORPHANED
    for _, name in needed:
        entries, _ = read_log(name)
        for entry in entries:
            apply(tables, entry)
    tmp = write_snapshot(path, tables, upto)
    del tables
    try:
        with file_lock(path):
            if (parent is not None and os.getppid() != parent) or snapshot_generation(path) != generation:
                return ORPHANED
            install_snapshot(path, tmp, upto)
    except FileNotFoundError:  # a server opening the store cleared the half-written snapshot away
        return ORPHANED
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return 0


def main(argv: list[str]) -> int:
    """The compaction process: ``PATH UPTO PARENT_PID``."""
    gc.disable()  # a short-lived process that builds millions of documents
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)  # the server comes first on a busy machine
    path, upto, parent = argv
    return merge(path, int(upto), int(parent))


_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); from emulator.core.persistence import main; "
          "sys.exit(main(sys.argv[2:]))")


class Compactor:
    """The compaction process of one store (at most one at a time). ``on_end`` is called
    from a watching thread when a compaction ends, whatever its outcome."""

    def __init__(self, path: str, on_end=None):
        self.path = path
        self.on_end = on_end
        self.proc: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None
        self.upto = 0
        self._thread_status: int | None = None

    def start(self, upto: int) -> None:
        """Merge the closed logs up to ``upto`` in another process (in a thread if no process can be started)."""
        self.upto = upto
        try:
            proc = subprocess.Popen([sys.executable, "-c", _CHILD, _PACKAGE_ROOT, self.path, str(upto),
                                     str(os.getpid())], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError:
            self.proc = None
            self._thread_status = None
            self.thread = threading.Thread(target=self._in_thread, name="emulator-compaction", daemon=True)
            self.thread.start()
            return
        self.proc = proc
        threading.Thread(target=self._watch, args=(proc,), name="emulator-compaction-watch", daemon=True).start()

    def _watch(self, proc: subprocess.Popen) -> None:
        proc.wait()
        if self.on_end is not None:
            self.on_end()

    def _in_thread(self) -> None:
        try:
            self._thread_status = merge(self.path, self.upto)
        except Exception:  # noqa: BLE001 - reported as a failed compaction, the logs stay
            log.exception("compaction failed")
            self._thread_status = 1
        if self.on_end is not None:
            self.on_end()

    def running(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.thread is not None and self.thread.is_alive()

    def finished(self) -> int | None:
        """The outcome of the last compaction once it ended (None while it runs or if none ran),
        and forget it."""
        if self.running():
            return None
        if self.proc is not None:
            status, self.proc = self.proc.returncode, None
        elif self.thread is not None:
            status, self.thread = self._thread_status, None
        else:
            return None
        if status != 0:
            log.warning("compaction up to log %s ended with status %s; its logs stay and are merged next time",
                        self.upto, status)
        return status

    def wait(self) -> None:
        """Wait until the compaction under way (if any) ends; :meth:`finished` then tells how."""
        proc, thread = self.proc, self.thread
        if proc is not None:
            proc.wait()
        elif thread is not None:
            thread.join()

    def stop(self) -> None:
        """End a running compaction at once (the logs it would have merged stay)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
        elif self.thread is not None:
            self.thread.join()  # a merge in a thread cannot be interrupted; it is the rare fallback
            self.thread = None
