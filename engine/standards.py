"""SLA standards: which time limit is in force when a clock starts.

Precedence, as administrative practice has it: a *temporary standard* (临时标准) that
applies — inside its date window and, if it has one, its condition over the case data
(``priority == 'urgent'``, ``matter_type == '食品'``) is true — wins, the highest
priority first; otherwise the *basic standard* (基本标准) set by an administrator;
otherwise the limit written in the diagram. The label of the standard in force is
recorded on the task, so an auditor sees later which rule a deadline came from.

Standards change only through commands that append to the ``org`` audit chain, so the
active ones are cached per process and reloaded when that chain moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, calendars, definitions, sla
from .calendar import FIRST_YEAR, LAST_YEAR, CalendarError
from .calendar import parse_duration as parse_calendar_duration
from .errors import NotFound, ScriptError, ValidationError, at_field
from .executor import CommandContext
from .inputs import in_range
from .scripting import validate_expression
from .store.models import SlaStandard

CASE = "*"
PRIORITY_LIMIT = 1_000_000  # far more levels than anyone ranks; fits any INTEGER column


@dataclass(frozen=True)
class InForce:
    sla: dict[str, Any]
    label: str


def in_force(
    ctx: CommandContext,
    process_key: str,
    step: str,
    data: dict[str, Any],
    diagram: dict[str, Any] | None,
    at: datetime | None = None,
) -> InForce | None:
    """The standard that applies to a clock of ``step`` of this case starting ``at``
    (default: now; a recompute asks about the task's start)."""
    standards = ctx.services.standards.get(ctx, process_key)
    applicable = [s for s in standards if s.step == step]
    for standard in sorted(applicable, key=lambda s: (-s.priority, -s.id)):
        if standard.kind == "temporary" and _applies(ctx, standard, data, at or ctx.now):
            return InForce(_as_sla(standard), _label(standard))
    for standard in applicable:
        if standard.kind == "basic":
            return InForce(_as_sla(standard), _label(standard))
    return InForce(diagram, "basic standard (diagram)") if diagram else None


def _label(standard: SlaStandard) -> str:
    return f"{standard.kind} standard #{standard.id}: {standard.label}"


def _applies(
    ctx: CommandContext, standard: SlaStandard, data: dict[str, Any], at: datetime
) -> bool:
    if standard.valid_from is not None and at < standard.valid_from:
        return False
    if standard.valid_to is not None and at >= standard.valid_to:
        return False
    if not standard.condition:
        return True
    try:
        return bool(ctx.services.sandbox.evaluate(standard.condition, data))
    except ScriptError:
        # A condition over data this case does not have (NameError): not this case.
        return False


def _as_sla(standard: SlaStandard) -> dict[str, Any]:
    return {
        "limit": standard.limit,
        "warnings": list(standard.warnings),
        "on_deadline": standard.on_deadline,
        "calendar": standard.calendar,
    }


def load_active(session: Session, process_key: str) -> list[SlaStandard]:
    """The active standards of ``process_key`` (cached per process: ``Services.standards``)."""
    rows = list(
        session.scalars(
            select(SlaStandard).where(
                SlaStandard.process_key == process_key, SlaStandard.active.is_(True)
            )
        )
    )
    for row in rows:
        session.expunge(row)  # kept across sessions, read only
    return rows


# --- commands --------------------------------------------------------------------------------


class SetStandard:
    """Add a basic standard (replacing the step's previous one) or a temporary one."""

    name = "sla_standard_set"

    def __init__(
        self,
        process_key: str,
        step: str,
        limit: str,
        *,
        kind: str = "basic",
        label: str = "",
        warnings: list[str] | None = None,
        on_deadline: str = "notify",
        calendar: str | None = None,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        condition: str | None = None,
        priority: int = 0,
    ) -> None:
        if kind not in ("basic", "temporary"):
            raise ValidationError(f"kind {kind!r}: use basic or temporary")
        if kind == "basic" and (valid_from or valid_to or condition):
            raise ValidationError("a basic standard has no window or condition; use temporary")
        if kind == "temporary" and not (valid_from or valid_to or condition):
            raise ValidationError("a temporary standard needs a date window or a condition")
        if valid_from and valid_to and valid_to <= valid_from:
            raise ValidationError("the window ends before it starts")
        for field, instant in (("valid_from", valid_from), ("valid_to", valid_to)):
            if instant is not None and not in_range(instant):
                raise at_field(field, f"{field} {instant.date()}: the year must be "
                               f"{FIRST_YEAR}-{LAST_YEAR}")  # fmt: skip
        if not -PRIORITY_LIMIT <= priority <= PRIORITY_LIMIT:
            raise at_field("priority", f"priority {priority}: use a whole number from "
                           f"-{PRIORITY_LIMIT} to {PRIORITY_LIMIT}")  # fmt: skip
        self.values = {
            "process_key": process_key, "step": step, "kind": kind,
            "label": label or limit, "limit": limit,
            "warnings": list(warnings or []), "on_deadline": on_deadline, "calendar": calendar,
            "valid_from": valid_from, "valid_to": valid_to, "condition": condition or None,
            "priority": priority,
        }  # fmt: skip
        _check(self.values)

    def __call__(self, ctx: CommandContext) -> SlaStandard:
        _check_names(ctx.session, self.values)
        _check_warnings_fit(ctx, self.values)
        if self.values["kind"] == "basic":
            for old in ctx.session.scalars(
                select(SlaStandard).where(
                    SlaStandard.process_key == self.values["process_key"],
                    SlaStandard.step == self.values["step"],
                    SlaStandard.kind == "basic",
                    SlaStandard.active.is_(True),
                )
            ):
                old.active = False
        standard = SlaStandard(**self.values, created_at=ctx.now, created_by=ctx.actor)
        ctx.session.add(standard)
        ctx.session.flush()
        audit.append(ctx, "sla_standard_set", payload={
            "id": standard.id, **{k: (v.isoformat() if isinstance(v, datetime) else v)
                                  for k, v in self.values.items()},
        })  # fmt: skip
        return standard


class RetireStandard:
    name = "sla_standard_retire"

    def __init__(self, standard_id: int) -> None:
        self.standard_id = standard_id

    def __call__(self, ctx: CommandContext) -> SlaStandard:
        standard = ctx.session.get(SlaStandard, self.standard_id)
        if standard is None or not standard.active:
            raise NotFound(f"no active SLA standard {self.standard_id}")
        standard.active = False
        audit.append(ctx, "sla_standard_retire", payload={"id": standard.id})
        return standard


def _check(values: dict[str, Any]) -> None:
    try:
        parse_calendar_duration(values["limit"])
        for warning in values["warnings"]:
            sla.check_warning(warning)
    except (CalendarError, ValueError) as exc:
        raise ValidationError(f"SLA standard: {exc}") from None
    if values["on_deadline"] not in sla.DEADLINE_ACTIONS:
        raise ValidationError(f"onDeadline {values['on_deadline']!r} is not one of "
                              f"{', '.join(sla.DEADLINE_ACTIONS)}")  # fmt: skip
    if values["condition"]:
        validate_expression(values["condition"])


def _check_warnings_fit(ctx: CommandContext, values: dict[str, Any]) -> None:
    """A warning must come before the deadline, or it would silently never be given. It
    is placed on a clock starting now in the standard's calendar."""
    misplaced = sla.misplaced_warnings(ctx.calendar(values["calendar"]), ctx.now, values)
    if misplaced:
        raise at_field("warnings", sla.never_given(misplaced[0], values["limit"]))


def _check_names(session: Session, values: dict[str, Any]) -> None:
    """The calendar must exist: a clock cannot start in an unknown one. A deployed process
    must have the step (a typo would never apply); a process not deployed yet is accepted,
    so that standards can be prepared before a deploy (the collection ladder does so)."""
    calendar = values["calendar"]
    if calendar is not None and calendar not in calendars.calendar_names(session):
        known = ", ".join(calendars.calendar_names(session))
        raise at_field("calendar", f"no calendar {calendar!r}; known calendars: {known}")
    latest = definitions.latest_or_none(session, values["process_key"])
    if latest is None or values["step"] == CASE:
        return
    steps = latest.meta.get("user_tasks", {})
    if values["step"] not in steps:
        raise at_field("step", f"process {values['process_key']!r} has no user task "
                       f"{values['step']!r}; its user tasks: {', '.join(steps) or 'none'}, "
                       f"or {CASE} for the whole case")  # fmt: skip


def standards(session: Session, process_key: str | None = None) -> list[dict[str, Any]]:
    query = select(SlaStandard).where(SlaStandard.active.is_(True)).order_by(SlaStandard.id)
    if process_key:
        query = query.where(SlaStandard.process_key == process_key)
    return [
        {
            "id": s.id,
            "process": s.process_key,
            "step": s.step,
            "kind": s.kind,
            "label": s.label,
            "limit": s.limit,
            "warnings": "; ".join(s.warnings),
            "valid_from": s.valid_from.isoformat() if s.valid_from else None,
            "valid_to": s.valid_to.isoformat() if s.valid_to else None,
            "condition": s.condition,
            "priority": s.priority,
        }
        for s in session.scalars(query)
    ]
