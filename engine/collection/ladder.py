"""The collection ladder (催收阶梯) as configuration: levels by days from the due date.

Each level says on which day relative to the due date it comes (``-3`` = three days
before), what happens, the channel of the debtor notice that goes with it, the group
responsible for its task and that task's time limit. The shipped diagram
``bpmn/debt_collection.bpmn`` has one step per level and waits on each with a
``timeDate`` of ``${ladder_<level>_at}``; :func:`case_data` computes those instants
from the due date and the levels *when the case starts*, so a changed level applies
to the next case without touching code or diagram, and a running case keeps the plan
it started with (its data shows it).

A task's time limit is applied as the step's basic SLA standard (:mod:`engine.standards`),
with ``onDeadline=chase``: the same mechanism administrators use for any step, so the
chase of a late collector is the engine's ordinary chase.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import NotFound, ValidationError
from ..executor import CommandContext
from ..standards import SetStandard
from ..store.ladder_tables import LadderLevel

PROCESS_KEY = "debt_collection"
CHANNELS = ("sms", "email", "letter", "phone", "none")
NOTICE_CHANNELS = ("sms", "email", "letter")
# Ladder steps come due at this local time on their day: inside contact hours, and
# after the daily collection job has started the day's new cases.
STEP_TIME = time(9, 0)


@dataclass(frozen=True)
class Level:
    level: str
    day: int
    action: str
    step: str
    channel: str
    role: str
    sla_limit: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# The shipped ladder; `caseclock collection ladder reset` writes it.
DEFAULT_LEVELS = (
    Level("courtesy", -3, "到期前提醒", "Timer_courtesy", "sms", "collectors", None),
    Level("sms", 1, "短信提醒", "Timer_sms", "sms", "collectors", None),
    Level("call", 3, "电话催收", "Task_call", "phone", "collectors", "1 working day"),
    Level("notice", 7, "正式催收函", "Task_formal_notice", "letter", "collectors",
          "2 working days"),
    Level("review", 15, "主管复核", "Task_supervisor_review", "email", "collection_supervisors",
          "3 working days"),
    Level("restriction", 30, "限制授信及黑名单提议", "Task_credit_restriction", "letter",
          "collection_supervisors", "3 working days"),
    Level("legal", 60, "法务审查", "Task_legal_referral", "letter", "legal", "5 working days"),
)  # fmt: skip
_STEPS = {level.level: level.step for level in DEFAULT_LEVELS}


def levels(session: Session) -> list[Level]:
    """The configured levels by day (the shipped ones if none were ever written)."""
    rows = session.scalars(select(LadderLevel).order_by(LadderLevel.day, LadderLevel.id)).all()
    if not rows:
        return sorted(DEFAULT_LEVELS, key=lambda lv: lv.day)
    return [Level(r.level, r.day, r.action, r.step, r.channel, r.role, r.sla_limit) for r in rows]


def step_instant(due: date, day: int, tz: tzinfo) -> datetime:
    return datetime.combine(due + timedelta(days=day), STEP_TIME, tzinfo=tz)


def case_data(plan: list[Level], due: date, tz: tzinfo) -> dict[str, Any]:
    """The ladder instants and roles a case starts with (the diagram reads these).

    The diagram climbs the levels in its own order; a level moved past the next one
    still waits for its own day, and an instant already past fires at once.
    """
    data: dict[str, Any] = {"ladder_due_date": due.isoformat(), "ladder": []}
    for level in plan:
        at = step_instant(due, level.day, tz).isoformat()
        data[f"ladder_{level.level}_at"] = at
        data[f"ladder_{level.level}_role"] = level.role
        data["ladder"].append({**level.to_dict(), "at": at})
    return data


def _check(level: Level) -> None:
    if level.channel not in CHANNELS:
        raise ValidationError(f"channel {level.channel!r}: use one of {', '.join(CHANNELS)}")
    if not -365 <= level.day <= 3650:
        raise ValidationError(f"day {level.day}: must be between -365 and 3650")
    if not level.role:
        raise ValidationError("a level needs a responsible role (group key)")


def _write(ctx: CommandContext, level: Level) -> None:
    _check(level)
    row = ctx.session.scalars(select(LadderLevel).where(LadderLevel.level == level.level)).first()
    if row is None:
        row = LadderLevel(level=level.level, step=level.step)
        ctx.session.add(row)
    row.day, row.action, row.channel = level.day, level.action, level.channel
    row.role, row.sla_limit = level.role, level.sla_limit
    row.updated_at, row.updated_by = ctx.now, ctx.actor
    if level.sla_limit and level.step.startswith("Task_"):
        SetStandard(
            PROCESS_KEY, level.step, level.sla_limit, on_deadline="chase",
            label=f"催收阶梯 {level.level}",
        )(ctx)  # fmt: skip
    ctx.session.flush()


class ResetLadder:
    """Write the shipped levels (and their tasks' time limits), replacing any edits."""

    name = "collection_ladder_reset"

    def __call__(self, ctx: CommandContext) -> list[Level]:
        for row in ctx.session.scalars(select(LadderLevel)):
            ctx.session.delete(row)
        ctx.session.flush()
        for level in DEFAULT_LEVELS:
            _write(ctx, level)
        audit.append(ctx, "collection.ladder_reset",
                     payload={"levels": [lv.to_dict() for lv in DEFAULT_LEVELS]})  # fmt: skip
        return list(DEFAULT_LEVELS)


class SetLevel:
    """Change one level; fields left ``None`` keep their value."""

    name = "collection_ladder_set"

    def __init__(
        self,
        level: str,
        *,
        day: int | None = None,
        action: str | None = None,
        channel: str | None = None,
        role: str | None = None,
        sla_limit: str | None = None,
    ) -> None:
        self.level = level
        self.changes = {"day": day, "action": action, "channel": channel, "role": role,
                        "sla_limit": sla_limit}  # fmt: skip

    def __call__(self, ctx: CommandContext) -> Level:
        current = {lv.level: lv for lv in levels(ctx.session)}
        if self.level not in current:
            raise NotFound(f"no ladder level {self.level!r}; levels: {', '.join(_STEPS)}")
        if not ctx.session.scalar(select(LadderLevel.id).limit(1)):
            for level in current.values():  # first edit: store the shipped levels first
                _write(ctx, level)
        values = current[self.level].to_dict()
        values.update({k: v for k, v in self.changes.items() if v is not None})
        level = Level(**values)
        _write(ctx, level)
        audit.append(ctx, "collection.ladder_set", payload=level.to_dict())
        return level
