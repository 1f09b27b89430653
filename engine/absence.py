"""Leave with a deputy (休假委托) and handing over someone's work (bulk reassignment).

While a person is away their deputy sees and completes their tasks, receives their
notices and the chase tasks meant for them; the ledger names the deputy as responsible
and records whom they stood in for (:func:`engine.org.acting`). Absences live on the
``org`` audit chain, so the cached org snapshot picks them up at once.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import Conflict, NotFound, ValidationError, at_field
from .executor import CommandContext
from .runtime import hand_over, lock_instance
from .store import Task
from .store.models import Absence


class DeclareAbsence:
    name = "declare_absence"

    def __init__(self, person: str, deputy: str, starts_on: date, ends_on: date,
                 reason: str = "") -> None:  # fmt: skip
        if ends_on < starts_on:
            raise ValidationError(f"the absence ends ({ends_on}) before it starts ({starts_on})")
        if person == deputy:
            raise ValidationError(f"{person} cannot be their own deputy")
        self.person, self.deputy = person, deputy
        self.starts_on, self.ends_on, self.reason = starts_on, ends_on, reason

    def __call__(self, ctx: CommandContext) -> Absence:
        snapshot = ctx.org()
        snapshot.person_id(self.person)
        snapshot.person_id(self.deputy)
        overlapping = ctx.session.scalars(select(Absence).where(
            Absence.person_key == self.person, Absence.cancelled_at.is_(None),
            Absence.starts_on <= self.ends_on, Absence.ends_on >= self.starts_on,
        )).first()  # fmt: skip
        if overlapping is not None:
            raise Conflict(f"{self.person} is already away {overlapping.starts_on} – "
                           f"{overlapping.ends_on} (absence {overlapping.id})")  # fmt: skip
        cycle = _deputy_cycle(ctx.session, self.person, self.deputy,
                              self.starts_on, self.ends_on)  # fmt: skip
        if cycle:
            chain = " → ".join([self.person, *cycle])
            raise at_field("deputy", f"{self.deputy} cannot stand in for {self.person}: "
                           f"their deputies would go round in a circle ({chain})")  # fmt: skip
        absence = Absence(person_key=self.person, deputy_key=self.deputy,
                          starts_on=self.starts_on, ends_on=self.ends_on, reason=self.reason,
                          declared_by=ctx.actor, declared_at=ctx.now)  # fmt: skip
        ctx.session.add(absence)
        ctx.session.flush()
        ctx.forget_caches()
        audit.append(ctx, self.name, payload={
            "absence_id": absence.id, "person": self.person, "deputy": self.deputy,
            "from": self.starts_on.isoformat(), "to": self.ends_on.isoformat(),
        }, private={"reason": self.reason})  # fmt: skip
        return absence


def _deputy_cycle(session: Session, person: str, deputy: str, first: date, last: date,
                  seen: frozenset[str] = frozenset()) -> list[str]:  # fmt: skip
    """The chain of deputies from ``deputy`` back to ``person`` on some day of
    ``first..last``, or []: with a circle, work meant for either would have nobody
    present to go to. Each step keeps only the days every absence so far shares."""
    if deputy == person:
        return [deputy]
    if deputy in seen:  # a circle not through ``person`` (older data): not this one
        return []
    away = session.scalars(select(Absence).where(
        Absence.person_key == deputy, Absence.cancelled_at.is_(None),
        Absence.starts_on <= last, Absence.ends_on >= first,
    )).all()  # fmt: skip
    for absence in away:
        rest = _deputy_cycle(session, person, absence.deputy_key,
                             max(first, absence.starts_on), min(last, absence.ends_on),
                             seen | {deputy})  # fmt: skip
        if rest:
            return [deputy, *rest]
    return []


class CancelAbsence:
    name = "cancel_absence"

    def __init__(self, absence_id: int) -> None:
        self.absence_id = absence_id

    def __call__(self, ctx: CommandContext) -> Absence:
        absence = ctx.session.get(Absence, self.absence_id)
        if absence is None:
            raise NotFound(f"no absence {self.absence_id}")
        if absence.cancelled_at is not None:
            raise Conflict(f"absence {absence.id} is already cancelled")
        absence.cancelled_at = ctx.now
        ctx.forget_caches()
        audit.append(ctx, self.name, payload={"absence_id": absence.id})
        return absence


def absences(session: Session, person: str | None = None) -> list[Absence]:
    query = select(Absence).where(Absence.cancelled_at.is_(None)).order_by(Absence.starts_on)
    if person:
        query = query.where(Absence.person_key == person)
    return list(session.scalars(query))


class ReassignAll:
    """Hand every open task and chase task someone holds to another person, or (``to`` =
    None) put the user tasks back in their group pools — e.g. when someone leaves. Each
    task gets its own ``reassign`` event, so every holder timeline stays exact."""

    name = "reassign_all"

    def __init__(self, holder: str, to: str | None) -> None:
        if holder == to:
            raise ValidationError("reassigning to the same person changes nothing")
        self.holder, self.to = holder, to

    def __call__(self, ctx: CommandContext) -> list[int]:
        if self.to:
            ctx.org().person_id(self.to)
        held = ctx.session.scalars(
            select(Task).where(Task.assignee == self.holder, Task.state == "open")
            .order_by(Task.instance_id, Task.id)
        ).all()  # fmt: skip
        if not held and self.holder not in ctx.org().people:
            # Someone who left the org chart may still hold tasks, so an unknown key is
            # refused only when it holds nothing: most likely a typo.
            raise at_field("holder", f"unknown user {self.holder!r}, and no open task is held "
                           "under that key")  # fmt: skip
        if any(t.kind == "chase" for t in held) and self.to is None:
            raise ValidationError("chase tasks need a person to go to: give --to")
        for task in held:
            hand_over(ctx, lock_instance(ctx, task.instance_id), task, self.to, bulk=True)
        return [t.id for t in held]
