"""One test clock shared by several processes.

:class:`SharedClock` satisfies :class:`engine.clock.Clock`: ``now()`` reads an instant
(UTC seconds since the epoch) from a ``multiprocessing.Value('d')`` that the test moves
with :meth:`set` or :meth:`advance`. Hand the clock to spawned processes as a
``Process`` argument; every process then sees the same time, and time moves only when
the test says so.
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import datetime, timedelta, timezone
from typing import Any


class SharedClock:
    def __init__(self, start: datetime, context: Any = None) -> None:
        if start.tzinfo is None:
            raise ValueError("SharedClock needs an aware datetime")
        context = context or mp.get_context("spawn")
        self._seconds = context.Value("d", start.timestamp())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._seconds.value, timezone.utc)

    def set(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("SharedClock needs an aware datetime")
        self._seconds.value = instant.timestamp()
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        with self._seconds.get_lock():
            self._seconds.value += delta.total_seconds()
        return self.now()
