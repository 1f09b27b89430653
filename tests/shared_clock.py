"""One test clock shared by several processes.

:class:`SharedClock` satisfies :class:`engine.clock.Clock`: ``now()`` reads an instant
(UTC seconds since the epoch) from shared memory that the test moves with :meth:`set`
or :meth:`advance`. Hand the clock to spawned processes as a ``Process`` argument; every
process then sees the same time, and time moves only when the test says so.

The shared values carry no lock. Tests SIGSTOP and SIGKILL processes that read them; a
process stopped or killed while holding a ``multiprocessing`` lock would leave every
other process waiting on it forever. Only the test process writes, and an aligned
8-byte store is read whole, so no lock is needed.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from datetime import datetime, timedelta, timezone
from typing import Any


class SharedClock:
    def __init__(self, start: datetime, context: Any = None) -> None:
        if start.tzinfo is None:
            raise ValueError("SharedClock needs an aware datetime")
        context = context or mp.get_context("spawn")
        self._seconds = context.RawValue("d", start.timestamp())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._seconds.value, timezone.utc)

    def set(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("SharedClock needs an aware datetime")
        self._seconds.value = instant.timestamp()
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        self._seconds.value += delta.total_seconds()
        return self.now()


class SharedFlag:
    """A stop flag for processes that may be killed: ``multiprocessing.Event`` takes a lock
    in ``is_set()``, and a worker SIGKILLed inside it would leave ``set()`` blocked forever."""

    def __init__(self, context: Any = None) -> None:
        context = context or mp.get_context("spawn")
        self._value = context.RawValue("b", 0)

    def set(self) -> None:
        self._value.value = 1

    def is_set(self) -> bool:
        return bool(self._value.value)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, returning early (and True) once the flag is set."""
        deadline = time.monotonic() + seconds
        while not self.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.01, seconds))
        return self.is_set()
