"""Chase tasks (催办) up the org chart.

When a task with ``caseclock:onDeadline="chase"`` passes its deadline, its responsible
person's superior gets a real task — "催办：<task>" — linked to the late task, with a
grace period of its own. If that is not handled in time, the chase climbs one level
(the superior's superior), up to a cap; each level is a task, never just an e-mail.
Activity on the late task (completed, extended, reassigned) closes its open chase
tasks with that outcome. A supervisor handles a chase task by urging the subordinate
(a 催办 notice, at most once an hour), reassigning the late task, deciding an
extension, or marking it handled with a note.
"""

from __future__ import annotations

from sqlalchemy import select

from . import audit, notices, org, sla
from .errors import Conflict, Forbidden, NotFound
from .executor import CommandContext
from .store import OutboxMessage, Person, ProcessInstance, Task

GRACE = "1 working day"
MAX_LEVELS = 3


def start(ctx: CommandContext, instance: ProcessInstance, late: Task) -> Task | None:
    """The late task breached: open the first chase task for its holder's superior."""
    person = ctx.accountable(late)[0]
    superior = org.superior_of(ctx.session, person) if person else None
    if superior is None:
        audit.append(ctx, "chase_unroutable", instance=instance, task_id=late.id,
                     payload={"responsible": person.key if person else None})  # fmt: skip
        return None
    return _open(ctx, instance, late, 1, superior)


def climb(ctx: CommandContext, instance: ProcessInstance, chase: Task) -> Task | None:
    """A chase task's grace period passed unhandled: the next level up gets one."""
    # The chase climbs from the superior it was for, even if a deputy worked it.
    holder = _person(ctx, chase.owner or chase.assignee)
    above = org.superior_of(ctx.session, holder) if holder else None
    level = chase.chase_level or 1
    if above is None or level >= MAX_LEVELS:
        audit.append(ctx, "chase_cap_reached", instance=instance, task_id=chase.id,
                     payload={"level": level, "holder": chase.assignee})  # fmt: skip
        return None
    _close(ctx, instance, chase, f"escalated to {above.key}")
    late = ctx.session.get(Task, chase.chase_of_id)
    assert late is not None
    return _open(ctx, instance, late, level + 1, above)


def _open(
    ctx: CommandContext, instance: ProcessInstance, late: Task, level: int, superior: Person
) -> Task:
    """A chase task for ``superior``, worked by their deputy while they are away (the
    task's ``owner`` then keeps whom it is for)."""
    to, absent = ctx.acting(superior)
    chase = Task(
        instance=instance, spiff_task_id=f"chase:{late.id}:{level}", element_id=late.element_id,
        name=f"催办：{late.name}", state="open", assignee=to.key, candidate_groups=[],
        owner=absent.key if absent else None,
        created_at=ctx.now, claimed_at=ctx.now, kind="chase", chase_of_id=late.id,
        chase_level=level,
    )  # fmt: skip
    ctx.session.add(chase)
    ctx.session.flush()
    grace = {"limit": GRACE, "warnings": [], "on_deadline": "chase"}
    sla.start_task_clock(ctx, instance, chase, grace, late.calendar_name, "chase grace period")
    notice = notices.render(ctx, "chase_task", {
        "person": to.name, "task": late.name, "case": instance.business_key or instance.id,
        "holder": _holder(ctx, late, to.locale), "level": level,
    }, to.locale)  # fmt: skip
    key = f"chase:{chase.id}:{{channel}}"
    notices.send(ctx, to, notice, key, {"kind": "chase_task"}, instance.id)
    audit.append(ctx, "chase_opened", instance=instance, task_id=chase.id, payload={
        "late_task_id": late.id, "level": level, "to": to.key, "holder": late.assignee,
        "on_behalf_of": absent.key if absent else None,
    })  # fmt: skip
    return chase


# How a chase notice names the holder of a late task nobody claimed (it waits in its
# group's pool).
UNCLAIMED = {"zh-CN": "尚未认领", "en": "nobody yet (unclaimed)"}


def _holder(ctx: CommandContext, late: Task, locale: str) -> str:
    if late.assignee is None:
        return UNCLAIMED.get(locale, UNCLAIMED[notices.DEFAULT_LOCALE])
    return org.name_of(ctx.session, late.assignee)


def close_for(ctx: CommandContext, instance: ProcessInstance, late: Task, outcome: str) -> None:
    """Activity on the late task settles the chase (only a task with a due time is chased)."""
    if late.due_at is None:
        return
    for chase in ctx.session.scalars(
        select(Task).where(Task.chase_of_id == late.id, Task.state == "open")
    ):
        _close(ctx, instance, chase, outcome)


def _close(ctx: CommandContext, instance: ProcessInstance, chase: Task, outcome: str) -> None:
    chase.state, chase.ended_at, chase.outcome = "completed", ctx.now, outcome
    sla.stop_task_clock(ctx, chase)
    audit.append(ctx, "chase_closed", instance=instance, task_id=chase.id,
                 payload={"outcome": outcome})  # fmt: skip


def _person(ctx: CommandContext, key: str | None) -> Person | None:
    if key is None:
        return None
    return ctx.session.scalars(select(Person).where(Person.key == key)).first()


def _lock_chase(ctx: CommandContext, chase_id: int, user: str) -> tuple[Task, ProcessInstance]:
    chase = ctx.session.get(Task, chase_id)
    if chase is None or chase.kind != "chase":
        raise NotFound(f"no chase task {chase_id}")
    from .runtime import acts_for, lock_instance  # runtime imports this module

    instance = lock_instance(ctx, chase.instance_id)
    ctx.session.refresh(chase)
    if chase.state != "open":
        raise Conflict(f"chase task {chase_id} is already closed ({chase.outcome})")
    # Its holder, their deputy while they are away, or the superior it was opened for
    # (``owner``) back from leave.
    if user != chase.owner and not acts_for(ctx, chase, user):
        raise Forbidden(f"chase task {chase_id} is {chase.assignee}'s, not {user}'s")
    return chase, instance


class HandleChase:
    """The supervisor marks the chase handled, with a note (e.g. what was agreed)."""

    name = "chase_handle"

    def __init__(self, chase_id: int, user: str, note: str) -> None:
        self.chase_id, self.user, self.note = chase_id, user, note.strip()

    def __call__(self, ctx: CommandContext) -> Task:
        chase, instance = _lock_chase(ctx, self.chase_id, self.user)
        _close(ctx, instance, chase, f"handled: {self.note}" if self.note else "handled")
        return chase


class UrgeChase:
    """Send the late task's holder a 催办 notice; at most once an hour per chase task."""

    name = "chase_urge"

    def __init__(self, chase_id: int, user: str, message: str = "") -> None:
        self.chase_id, self.user, self.message = chase_id, user, message.strip()

    def __call__(self, ctx: CommandContext) -> Task:
        chase, instance = _lock_chase(ctx, self.chase_id, self.user)
        late = ctx.session.get(Task, chase.chase_of_id)
        assert late is not None
        target = _person(ctx, late.assignee) or org.responsible_person(ctx.session, late, ctx.org())
        if target is None:
            raise Conflict(f"task {late.id} has nobody to urge yet; reassign it first")
        hour = ctx.now.astimezone(ctx.services.timezone).strftime("%Y%m%d%H")
        key = f"urge:{chase.id}:{hour}"
        if ctx.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.idempotency_key.like(f"{key}:%"))
        ):
            raise Conflict(f"task {late.id} was already urged this hour; try again later")
        notice = notices.render(ctx, "urge", {
            "person": target.name, "task": late.name, "case": instance.business_key or instance.id,
            "by": org.name_of(ctx.session, self.user), "message": self.message,
        }, target.locale)  # fmt: skip
        notices.send(
            ctx,
            target,
            notice,
            key + ":{channel}",
            {"kind": "urge", "task_id": late.id},
            instance.id,
        )
        audit.append(ctx, "chase_urge", instance=instance, task_id=chase.id,
                     payload={"to": target.key}, private={"message": self.message})  # fmt: skip
        return chase
