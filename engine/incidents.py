"""Incidents: timers whose firing failed (a script error, an unreachable service).

:class:`~engine.due_timers.RecordTimerFailure` counts each failed firing on the timer
(``attempts``, ``last_error``) and holds it back with a backoff lease. An admin sees
those timers here and either retries one now (:class:`RetryTimer`: due now, lease
cleared, so the next worker pass fires it) or skips it (:class:`SkipTimer`: cancelled,
never fired). Both are commands with an audit event on the case's chain.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import Conflict, NotFound
from .executor import CommandContext
from .runtime import lock_instance
from .store import ProcessInstance, Timer

_FAILED = (Timer.status == "waiting", Timer.attempts > 0, Timer.last_error.is_not(None))


def incidents(session: Session) -> list[dict[str, Any]]:
    """Waiting timers with failed firings, oldest due first, with their case."""
    rows = session.execute(
        select(Timer, ProcessInstance.business_key)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(*_FAILED)
        .order_by(Timer.due_at, Timer.id)
    ).all()
    return [
        {
            "id": t.id, "instance_id": t.instance_id, "business_key": key,
            "element_id": t.element_id, "name": t.name, "kind": t.kind,
            "purpose": t.purpose, "task_id": t.task_id, "due_at": t.due_at,
            "attempts": t.attempts, "last_error": t.last_error,
            "retry_at": t.lease_until if t.lease_owner == "backoff" else None,
        }
        for t, key in rows
    ]  # fmt: skip


def _failed_timer(ctx: CommandContext, timer_id: int) -> tuple[Timer, ProcessInstance]:
    timer = ctx.session.get(Timer, timer_id)
    if timer is None:
        raise NotFound(f"no timer {timer_id}")
    # Lock the case first (as firing does), then read the timer again: what is read is current.
    instance = lock_instance(ctx, timer.instance_id)
    ctx.session.refresh(timer)
    if timer.status != "waiting" or not timer.attempts or timer.last_error is None:
        raise Conflict(f"timer {timer_id} is not a failed waiting timer (status {timer.status})")
    return timer, instance


class RetryTimer:
    """Make a failed timer due now and clear its (backoff) lease: the next worker pass
    fires it. Its due time moves only forward to now, never later, so an SLA deadline
    keeps the instant it was due."""

    name = "timer_retry"

    def __init__(self, timer_id: int) -> None:
        self.timer_id = timer_id

    def __call__(self, ctx: CommandContext) -> Timer:
        timer, instance = _failed_timer(ctx, self.timer_id)
        timer.due_at = min(timer.due_at, ctx.now)
        timer.lease_owner, timer.lease_until = None, None
        audit.append(ctx, self.name, instance=instance, task_id=timer.task_id, payload={
            "timer": timer.element_id, "timer_id": timer.id, "attempts": timer.attempts,
            "error": timer.last_error,
        })  # fmt: skip
        return timer


class SkipTimer:
    """Give up on a failed timer: it is cancelled and never fires (the case does not
    take that timer's path; its error stays on the row and in the audit event)."""

    name = "timer_skip"

    def __init__(self, timer_id: int, note: str = "") -> None:
        self.timer_id, self.note = timer_id, (note or "").strip()[:500]

    def __call__(self, ctx: CommandContext) -> Timer:
        timer, instance = _failed_timer(ctx, self.timer_id)
        timer.status = "cancelled"
        timer.lease_owner, timer.lease_until = None, None
        audit.append(ctx, self.name, instance=instance, task_id=timer.task_id, payload={
            "timer": timer.element_id, "timer_id": timer.id, "attempts": timer.attempts,
            "error": timer.last_error, "note": self.note,
        })  # fmt: skip
        return timer
