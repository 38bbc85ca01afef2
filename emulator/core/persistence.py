"""The files of a persistent store, and compaction in a background process.

``Store(path)`` keeps, beside ``PATH``:

* ``PATH`` -- the snapshot: a TinyDB JSON document (``{table: {str(id): document}}``, what
  ``TinyDB(PATH)`` reads), whose first table ``_emulator:snapshot`` holds its generation.
  Written one document per line, so a table is parsed at a time and a merge copies the
  documents it does not change without parsing them. Any other TinyDB JSON file (older
  versions, TinyDB itself) is read as generation 0, a marshal snapshot of unreleased
  versions too; the next compaction replaces either.
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
import re
import subprocess
import sys
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows: the files are then not locked against a second process
    fcntl = None

log = logging.getLogger("emulator.store")

WRITE_CHUNK = 4 << 20
"""A snapshot is written and synced in pieces of this many bytes: a big file's pages left
dirty would make the server's own log fsync wait while the kernel writes them out."""


# -- snapshot -----------------------------------------------------------------------
SNAPSHOT_TABLE = "_emulator:snapshot"
"""The snapshot's own table, first in the file: ``{"1": {"generation": n}}``."""

MAGIC = b"contact-api-emulator snapshot\n"
"""How a snapshot in :mod:`marshal` format began (unreleased versions wrote them for a while):
read, never written; the next compaction replaces it."""

_HEAD = re.compile(rb'\{\s*"' + re.escape(SNAPSHOT_TABLE.encode()) + rb'"\s*:\s*\{\s*"1"\s*:\s*\{\s*"generation"\s*:\s*(\d+)')


def read_snapshot(path: str) -> tuple[dict, int]:
    """(tables, generation) of the snapshot at ``path``; ``({}, 0)`` when there is none.

    A file in the layout :func:`write_snapshot` gives is parsed a table at a time; any other
    TinyDB JSON file (written by TinyDB, by hand, by older versions: generation 0) as one
    document; a marshal snapshot of earlier development versions is read too."""
    tables, generation = _read(path)
    with _collector_off():
        for name, table in tables.items():
            if isinstance(table, bytes):
                tables[name] = _parse(table)
    return tables, generation


def _read(path: str) -> tuple[dict, int]:
    """Like :func:`read_snapshot`, but a table of the line layout is left as its text
    (``bytes``, its documents one per line): a merge copies untouched tables as they are."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return {}, 0
    with _collector_off():
        if data.startswith(MAGIC):
            end = data.index(b"\n", len(MAGIC))
            return marshal.loads(memoryview(data)[end + 1:]), int(json.loads(data[len(MAGIC):end])["generation"])
        try:
            return _split_tables(data)
        except ValueError:  # not our layout (or edited out of it): one document
            pass
        tables = _parse(data) if data.strip() else {}
    meta = tables.pop(SNAPSHOT_TABLE, None) or {}
    return tables, int((meta.get("1") or {}).get("generation", 0))


def _split_tables(data: bytes) -> tuple[dict, int]:
    """The tables of a snapshot in :func:`write_snapshot`'s layout, each as its text."""
    head_end = data.index(b"\n")
    head = data[:head_end]
    match = _HEAD.match(head)
    if match is None or not head.endswith((b"}},", b"}}}")):
        raise ValueError("not in the line layout")
    generation, tables, pos = int(match.group(1)), {}, head_end + 1
    if head.endswith(b"}}}"):
        if data[pos:].strip():
            raise ValueError("text after the document")
        return tables, generation
    while True:
        line_end = data.index(b"\n", pos)
        opener = data[pos:line_end]
        if not opener.endswith(b":{"):
            raise ValueError(f"not a table's first line at byte {pos}")
        name = json.loads(opener[:-2])
        close = data.index(b"\n}", line_end)  # a document's line starts with its key's quote
        tables[name] = data[line_end - 1:close + 2]  # "{\n<documents>\n}"
        after = data[close + 2:close + 4]
        if after == b",\n":
            pos = close + 4
        elif after == b"\n}" and not data[close + 4:].strip():
            return tables, generation
        else:
            raise ValueError(f"unexpected text at byte {close + 2}")


def _doc_lines(table: bytes) -> dict:
    """A table's text as {id: the document's line}, without parsing the documents."""
    docs = {}
    body = table[2:-2]
    for line in body.split(b",\n") if body else ():
        key = line[1:line.find(b'"', 1)]
        if line[:1] == b'"' and key.isdigit() and line[len(key) + 2:len(key) + 3] == b":":
            docs[key.decode()] = line
        else:  # not a plain document id: let the parser read the line
            docs.update(_parse(b"{" + line + b"}"))
    return docs


def snapshot_generation(path: str) -> int:
    """The generation of the snapshot at ``path`` (0: none, or a file without one), reading its start only."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except FileNotFoundError:
        return 0
    if head.startswith(MAGIC):
        return int(json.loads(head[len(MAGIC):head.index(b"\n", len(MAGIC))])["generation"])
    match = _HEAD.match(head.lstrip())
    return int(match.group(1)) if match else 0


def write_snapshot(path: str, tables: dict, generation: int) -> str:
    """Write ``tables`` as a TinyDB JSON document to a temporary file beside ``path``,
    synced; returns its name (the caller renames it over ``path``: :func:`install_snapshot`).

    The layout: the snapshot's own table on the first line, then per table a line
    ``"name":{``, one line per document and a line ``}``. It is still one JSON document
    (what ``TinyDB(path)`` reads), and lets :func:`read_snapshot` parse a table at a time
    and a merge copy documents without parsing them. A table may be given as the text
    :func:`_read` kept, a document as its JSON text (``bytes``)."""
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        out = _SyncedWriter(fd)
        out.write(b'{"' + SNAPSHOT_TABLE.encode() + b'":{"1":{"generation":%d}}' % generation
                  + (b",\n" if tables else b"}\n"))
        for number, (name, table) in enumerate(tables.items(), 1):
            out.write(_dumps(name) + b":")
            if isinstance(table, bytes):
                out.write(table)
            else:
                out.write(b"{\n")
                separator = b""
                for key, doc in table.items():  # a document kept as its line, or one to write
                    out.write(separator + (doc if isinstance(doc, bytes) else _dumps(str(key)) + b":" + _dumps(doc)))
                    separator = b",\n"
                out.write(b"\n}" if separator else b"}")
            out.write(b",\n" if number < len(tables) else b"\n}\n")
        out.close()
        os.fsync(fd)
    except BaseException:  # a full disk mid-write: leave no half snapshot behind
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    return tmp


class _SyncedWriter:
    """Buffered writes to ``fd``, synced every :data:`WRITE_CHUNK` bytes."""

    def __init__(self, fd: int):
        self.fd, self.parts, self.size = fd, [], 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= WRITE_CHUNK:
            self.close()

    def close(self) -> None:
        """Write what is buffered (a table copied as it is may be big: in synced pieces too)."""
        view = memoryview(b"".join(self.parts))
        self.parts, self.size = [], 0
        while view:
            piece = view[:WRITE_CHUNK]
            while piece:
                piece = piece[os.write(self.fd, piece):]
            view = view[WRITE_CHUNK:]
            os.fdatasync(self.fd) if hasattr(os, "fdatasync") else os.fsync(self.fd)


def _dumps(value) -> bytes:
    """Compact JSON as UTF-8, as the log writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _parse(data: bytes):
    return json.loads(data)


@contextlib.contextmanager
def _collector_off():
    """Millions of new documents: the collector would walk them over and over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def install_snapshot(path: str, tmp: str, upto: int) -> None:
    """Rename ``tmp`` over ``path`` and delete the closed logs up to ``upto`` (hold the file lock)."""
    os.replace(tmp, path)
    fsync_dir(path)
    for seq, name in log_segments(path):
        if seq <= upto:
            os.unlink(name)


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
    tables, generation = _read(path)
    needed = [(seq, name) for seq, name in log_segments(path) if generation < seq <= upto]
    if generation != base or [seq for seq, _ in needed] != list(range(generation + 1, upto + 1)):
        return ORPHANED
    entries = [entry for _, name in needed for entry in read_log(name)[0]]
    for name in {entry[1] for entry in entries}:  # the others are copied as they are
        if isinstance(tables.get(name), bytes):
            tables[name] = _doc_lines(tables[name])
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
