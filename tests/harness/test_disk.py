"""A full or read-only disk, for real: a small tmpfs under a served emulator with ``--db``.

Mounting needs root; elsewhere these tests are skipped and the failing-storage stub tests
(``tests/core/test_store_failures.py``) still cover the same rules.
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest
import requests

from .served import Served

PUSHTECH = "/pushtech/v2/account/demo"
AUTH = {"Authorization": "Token token=pushtech-demo-secret"}


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(size, read_only=False)`` -> a freshly mounted tmpfs directory (unmounted after)."""
    mounts = []

    def mount(size: str, read_only: bool = False):
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root; the failing-storage stub tests cover this elsewhere")
        where = tmp_path / f"disk{len(mounts)}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounts.append(where)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        return where

    yield mount
    for where in mounts:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory) -> None:
    """Write a file until the disk is full."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
        try:
            while True:
                os.write(fd, b"\0")
        except OSError:
            pass
    finally:
        os.close(fd)


def emails(url: str) -> set[str]:
    accounts = requests.get(f"{url}/_emulator/state?vendor=pushtech&limit=100000", timeout=10).json()["vendors"]["pushtech"]
    return {c.get("email") for c in accounts["accounts"]["demo"]["contacts"]}


def create(url: str, email: str):
    # a body larger than a memory page, so its log line cannot fit in the last page's slack
    return requests.post(f"{url}{PUSHTECH}/contact", headers=AUTH, timeout=10,
                         json={"email": email, "notes_field": "x" * 20_000})


def test_a_write_on_a_full_disk_is_a_503_and_is_gone_after_restart(tmp_path, tmpfs):
    disk = tmpfs("4m")
    args = ("--fixture", "empty", "--db", str(disk / "store.json"))
    with Served(*args, log=tmp_path / "serve.log") as server:
        assert create(server.url, "before@example.com").status_code == 201
        fill(disk)
        for _ in range(3):
            refused = create(server.url, "refused@example.com")
            assert refused.status_code == 503, refused.text
            assert "the disk is full (ENOSPC)" in refused.json()["error"]
        assert emails(server.url) == {"before@example.com"}
        assert requests.get(f"{server.url}/_emulator/health", timeout=5).status_code == 200
        os.unlink(disk / "filler")
        assert create(server.url, "after@example.com").status_code == 201
        server.proc.kill()
    with Served(*args, log=tmp_path / "serve.log") as server:
        assert emails(server.url) == {"before@example.com", "after@example.com"}


@pytest.mark.parametrize("case, words", [("read-only", "the file system is read-only (EROFS)"),
                                         ("full", "the disk is full (ENOSPC)")])
def test_a_read_only_or_full_store_directory_is_a_one_line_error_at_start(tmpfs, case, words):
    disk = tmpfs("256k", read_only=case == "read-only")
    if case == "full":
        fill(disk)
    proc = subprocess.run([sys.executable, "-m", "emulator", "serve", "--port", "0", "--fixture", "empty",
                           "--db", str(disk / "store.json")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and words in proc.stderr, proc.stderr
    assert str(disk / "store.json") in proc.stderr
