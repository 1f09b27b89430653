"""Acquiring and firing due timers, as commands (Camunda's job acquisition, simplified).

:class:`AcquireDueTimers` leases a batch of due timers to one worker: due, waiting, and
not leased or lease expired, oldest first. On PostgreSQL the rows are locked ``FOR
UPDATE SKIP LOCKED`` so competing workers take disjoint batches; on SQLite the
transaction already holds the single write lock (``BEGIN IMMEDIATE``). A worker that
dies loses its lease when it expires and another takes the timer over.

:class:`FireTimer` fires one leased timer; it is idempotent — a timer that is no longer
waiting, or leased to someone else, is left alone.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import bindparam, literal, select, update

from . import audit, sla
from .executor import CommandContext
from .runtime import definition_of, finish, load_workflow, lock_instance, run_engine
from .store import ProcessInstance, Timer
from .store.leases import backoff, lease_batch

DEFAULT_LEASE = timedelta(minutes=5)


class AcquireDueTimers:
    name = "acquire_timers"

    def __init__(self, owner: str, limit: int = 50, lease: timedelta = DEFAULT_LEASE) -> None:
        self.owner, self.limit, self.lease = owner, limit, lease

    def __call__(self, ctx: CommandContext) -> list[int]:
        rows = lease_batch(
            # The constant is written into the SQL so that the partial index on waiting
            # timers is usable even by a generic (parameter-blind) PostgreSQL plan.
            ctx.session, Timer, Timer.status == literal("waiting", literal_execute=True),
            Timer.due_at <= ctx.now,
            order_by=(Timer.due_at, Timer.id), limit=self.limit, owner=self.owner,
            until=ctx.now + self.lease, now=ctx.now,
        )  # fmt: skip
        return [row.id for row in rows]


_LOCK_TIMER_INSTANCE = (
    select(ProcessInstance)
    .join(Timer, Timer.instance_id == ProcessInstance.id)
    .where(Timer.id == bindparam("timer_id"))
    .with_for_update(of=ProcessInstance)
)


class FireTimer:
    name = "fire_timer"

    def __init__(self, timer_id: int, owner: str) -> None:
        self.timer_id, self.owner = timer_id, owner

    def __call__(self, ctx: CommandContext) -> bool:
        # Lock the timer's instance first, then read the timer: what is read is current.
        instance = ctx.session.scalars(_LOCK_TIMER_INSTANCE, {"timer_id": self.timer_id}).first()
        if instance is None:
            return False
        ctx.touched.add(instance.id)
        timer = ctx.session.get(Timer, self.timer_id)
        assert timer is not None
        if timer.status != "waiting" or timer.lease_owner != self.owner:
            return False
        if timer.kind == "sla":
            return sla.fire(ctx, instance, timer)
        definition = definition_of(ctx, instance)
        workflow = load_workflow(ctx, instance, definition)
        spiff_task = workflow.event_manager.tasks.get(UUID(timer.spiff_task_id))
        if spiff_task is None:  # its task went away without the projection noticing
            timer.status = "cancelled"
            return False
        timer.status, timer.fired_at = "fired", ctx.now
        # Release only this timer: see engine.timer_events._released.
        workflow.released_timers = frozenset({spiff_task.id})
        try:
            run_engine(workflow, definition.meta, lambda: spiff_task.task_spec._update(spiff_task))
        finally:
            workflow.released_timers = frozenset()
        finish(ctx, instance, definition, workflow)
        lateness = (ctx.now - timer.due_at).total_seconds()
        audit.append(ctx, "timer_fired", instance=instance, payload={
            "timer": timer.element_id, "due_at": timer.due_at.isoformat(),
            "late_seconds": round(lateness, 3),
        })  # fmt: skip
        return True


class RecordTimerFailure:
    """Run in a new transaction after a failed firing, so the record survives the rollback."""

    name = "timer_failed"

    def __init__(self, timer_id: int, error: str) -> None:
        self.timer_id, self.error = timer_id, error

    def __call__(self, ctx: CommandContext) -> None:
        timer = ctx.session.get(Timer, self.timer_id)
        if timer is None:
            return
        instance = lock_instance(ctx, timer.instance_id)
        timer.attempts += 1
        timer.last_error = self.error
        timer.lease_owner, timer.lease_until = "backoff", ctx.now + backoff(timer.attempts)
        audit.append(ctx, "timer_failed", instance=instance, payload={
            "timer": timer.element_id, "attempts": timer.attempts, "error": self.error,
        })  # fmt: skip


class ReleaseLeases:
    """A worker shutting down hands its leased, unfired timers back at once."""

    name = "release_timer_leases"

    def __init__(self, owner: str) -> None:
        self.owner = owner

    def __call__(self, ctx: CommandContext) -> int:
        result = ctx.session.execute(
            update(Timer)
            .where(Timer.lease_owner == self.owner, Timer.status == "waiting")
            .values(lease_owner=None, lease_until=None)
        )
        return result.rowcount or 0
