"""One emulator clock: real time by default, frozen or shifted on request."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime


def parse_instant(value: str | int | float | datetime) -> datetime:
    """An aware UTC datetime from ISO 8601 text, epoch seconds or a datetime."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a time: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` and millisecond precision."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00")
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))


def iso_epoch(epoch: float) -> str:
    """``iso(datetime.fromtimestamp(epoch, UTC))`` without building a datetime: the text of
    the whole second is kept from the previous call (stamps on hot paths share seconds),
    and the milliseconds come from a table."""
    global _last_second
    seconds = int(epoch)
    if seconds > epoch:  # before 1970: int() rounds towards zero
        seconds -= 1
    micros = round((epoch - seconds) * 1e6)  # rounded as datetime.fromtimestamp rounds
    if micros >= 1_000_000:
        seconds += 1
        micros -= 1_000_000
    last = _last_second
    if last[0] != seconds:
        last = _last_second = (seconds, datetime.fromtimestamp(seconds, tz=UTC).isoformat()[:19])
    return last[1] + _MILLIS[micros // 1000]


class Clock:
    """Time as the emulator sees it.

    Real: follows ``time.time()`` plus an offset (``advance`` while real moves the
    offset). Frozen: stands still at one instant until advanced or set back to real.
    Listeners are called after every change, so due jobs can run at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen_at: float | None = None
        self._offset = 0.0
        self.listeners: list = []

    def time(self) -> float:
        frozen = self._frozen_at
        return frozen if frozen is not None else time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def iso_now(self) -> str:
        """``iso(self.now())``, cheaper."""
        return iso_epoch(self.time())

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: str | int | float | datetime | None = None) -> None:
        with self._lock:
            self._frozen_at = self.time() if at is None else parse_instant(at).timestamp()
        self._changed()

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += float(seconds)
            else:
                self._offset += float(seconds)
        self._changed()

    def real(self) -> None:
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0
        self._changed()

    @contextmanager
    def pinned(self, at: str | int | float | datetime):
        """Stand still at ``at`` inside the block, then resume as before (no listeners run)."""
        with self._lock:
            saved = self._frozen_at
            self._frozen_at = parse_instant(at).timestamp()
        try:
            yield
        finally:
            with self._lock:
                self._frozen_at = saved

    def state(self) -> dict:
        return {"now": iso(self.now()), "epoch": round(self.time(), 3), "frozen": self.frozen,
                "offset_s": round(self._offset, 3)}

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()
