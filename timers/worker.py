"""The worker loop: acquire due timers, fire them, repeat until a batch comes back short.

APScheduler only provides the tick (an interval job, ``max_instances=1`` and
``coalesce=True`` so a slow pass never stacks up); the schedule itself is the ``timer``
table, which any number of workers on PostgreSQL share through leases.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from engine.app import CaseClock
from engine.clock_control import RecomputeClocks
from engine.collection.daily import run_collection_day
from engine.collection.risk import MonthlyGradeSummary
from engine.digests import ComposeDigests
from engine.due_timers import (
    DEFAULT_LEASE,
    AcquireDueTimers,
    FireTimer,
    RecordTimerFailure,
    ReleaseLeases,
)
from engine.errors import CaseClockError

from .sender import OutboxSender, SendResult

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # the scan is a few ms: poll often, so timers fire within a second
DIGEST_AT = (8, 30)  # local time of the daily digest e-mails
# Local time of the daily collection job (new ladder cases, promises, debtor notices):
# inside the debtors' contact hours, when the ladder's steps of the day come due.
COLLECTION_AT = (9, 0)
# Day and local time of the monthly risk-grade summary (after the 1st's collection job).
GRADE_SUMMARY_AT = (1, 10, 0)
BATCH = 50


@dataclass
class PassResult:
    fired: int = 0
    failed: int = 0
    sent: int = 0
    send_failed: int = 0


@dataclass
class WorkerStats(PassResult):
    """Counters since the worker started, for the /metrics endpoint."""

    passes: int = 0


class Worker:
    def __init__(
        self,
        app: CaseClock,
        owner: str | None = None,
        batch: int = BATCH,
        sender: OutboxSender | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.app = app
        self.lease = lease
        self.owner = owner or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.batch = batch
        # Notices leave only after the commands that wrote them committed.
        self.sender = sender or OutboxSender(app, owner=f"{self.owner}-outbox")
        self.stats = WorkerStats()
        self._scheduler: BackgroundScheduler | None = None

    def run_once(self) -> PassResult:
        """Fire what is due and send the outbox, a batch of each in turn, until both are
        drained (``caseclock worker --once``). Alternating keeps a large outbox backlog
        from delaying timers that come due meanwhile, and the reverse."""
        result = PassResult()
        sent = SendResult()
        timers_left = notices_left = True
        while timers_left or notices_left:
            if timers_left:
                acquire = AcquireDueTimers(self.owner, self.batch, self.lease)
                ids = self.app.execute(acquire, actor="worker")
                for timer_id in ids:
                    self._fire(timer_id, result)
                timers_left = len(ids) == self.batch
            # Notices the timers just wrote are due too: keep sending while they come.
            notices_left = self.sender.send_batch(sent) or timers_left
        result.sent, result.send_failed = sent.sent, sent.failed
        self.stats.passes += 1
        for name in ("fired", "failed", "sent", "send_failed"):
            setattr(self.stats, name, getattr(self.stats, name) + getattr(result, name))
        return result

    def _fire(self, timer_id: int, result: PassResult) -> None:
        try:
            if self.app.execute(FireTimer(timer_id, self.owner), actor="worker"):
                result.fired += 1
        except Exception as exc:  # any failure is recorded and retried later, never lost
            message = exc.message if isinstance(exc, CaseClockError) else repr(exc)
            result.failed += 1
            log.warning("timer %s failed: %s", timer_id, message)
            self.app.execute(RecordTimerFailure(timer_id, message), actor="worker")

    def start(self, interval: float = POLL_SECONDS) -> None:
        # A restart may follow a chinesecalendar upgrade with a new year's holidays:
        # deadlines planned without official data move to where they belong.
        moved = self.app.execute(RecomputeClocks(), actor="worker")
        if moved:
            log.info("recomputed %d open clock(s) at start", len(moved))
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._scheduler.add_job(
            self._tick, "interval", seconds=interval, max_instances=1, coalesce=True
        )
        self._scheduler.add_job(
            self._digest, "cron", hour=DIGEST_AT[0], minute=DIGEST_AT[1],
            timezone=self.app.services.timezone, max_instances=1, coalesce=True,
        )  # fmt: skip
        self._scheduler.add_job(
            self._collection_day, "cron", hour=COLLECTION_AT[0], minute=COLLECTION_AT[1],
            timezone=self.app.services.timezone, max_instances=1, coalesce=True,
        )  # fmt: skip
        self._scheduler.add_job(
            self._grade_summary, "cron", day=GRADE_SUMMARY_AT[0], hour=GRADE_SUMMARY_AT[1],
            minute=GRADE_SUMMARY_AT[2], timezone=self.app.services.timezone, max_instances=1,
            coalesce=True,
        )  # fmt: skip
        self._scheduler.start()
        log.info("timer worker %s polling every %.1fs", self.owner, interval)

    def _tick(self) -> None:
        try:
            result = self.run_once()
        except Exception:  # the loop must survive a bad pass (e.g. database restart)
            log.exception("timer pass failed")
            return
        if result.fired or result.failed or result.sent or result.send_failed:
            log.info("timers fired=%d failed=%d; outbox sent=%d failed=%d",
                     result.fired, result.failed, result.sent, result.send_failed)  # fmt: skip

    def _digest(self) -> None:
        try:
            composed = self.app.execute(ComposeDigests(), actor="worker")
        except Exception:
            log.exception("digest failed")
            return
        log.info("composed %d digest(s)", composed)

    def _collection_day(self) -> None:
        try:
            report = run_collection_day(self.app)
        except Exception:
            log.exception("collection job failed")
            return
        log.info("collection job: %d case(s) started, %d notice(s), %d promise(s) broken",
                 len(report.started), len(report.notices), len(report.broken))  # fmt: skip

    def _grade_summary(self) -> None:
        """The monthly risk-grade summary for management (distribution and migration)."""
        try:
            today = self.app.clock.now().astimezone(self.app.services.timezone).date()
            summary = self.app.execute(MonthlyGradeSummary(today), actor="worker")
        except Exception:
            log.exception("grade summary failed")
            return
        log.info("grade summary %s → %s written", summary.first, summary.last)

    def stop(self) -> None:
        """Finish the pass in progress, then give back leases still held."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        released = self.app.execute(ReleaseLeases(self.owner), actor="worker")
        log.info("timer worker %s stopped; released %d lease(s)", self.owner, released)


def run_worker(
    app: CaseClock, once: bool, interval: float, emit: Callable[[Any, str], None]
) -> None:
    """``caseclock worker``: one pass, or poll until SIGINT/SIGTERM, then stop cleanly."""
    worker = Worker(app)
    if once:
        result = worker.run_once()
        emit(result.__dict__, f"fired {result.fired} timer(s), {result.failed} failed; "
             f"sent {result.sent} notice(s), {result.send_failed} failed")  # fmt: skip
        return
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    worker.start(interval)
    emit({"owner": worker.owner}, f"worker {worker.owner} running; Ctrl-C to stop")
    stopping.wait()
    worker.stop()
