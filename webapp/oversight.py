"""What the supervisor board shows, as plain dicts: :func:`engine.queries.board` (late and
yellow work below me, my chase tasks, on-time rates) plus what a page needs beyond it —
the late task behind each chase, names, and the requests waiting for my decision; and the
team's on-time rate per week or month (:func:`trends`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine import accountability, queries
from engine.errors import at_field
from engine.store import Person, Task
from engine.store.models import POOL_KINDS, Exemption, SlaExtension

from .names import person_names
from .reads import Calendars, business_keys, explain_clock

# Decisions a supervisor takes, by the kind of request.
REQUESTS: dict[str, type[SlaExtension] | type[Exemption]] = {
    "extension": SlaExtension,
    "exemption": Exemption,
}


def board(session: Session, user: str, tz: tzinfo, now: datetime) -> dict[str, Any]:
    view = queries.board(session, tz, user, now)
    calendars = Calendars(session)

    def explained(row: dict[str, Any], task: Task | None = None) -> dict[str, Any]:
        # The board's clocks are the inbox's: with what explains each deadline.
        task = task or session.get(Task, row["id"])
        row["sla"] = explain_clock(session, task, tz, now, calendars, history=False)
        return row

    keys = {*view["team"], *view["on_time"]}
    for row in view["late_or_warned"]:
        explained(row)
    for chase in view["my_chase_tasks"]:
        explained(chase)
        late = session.get(Task, chase["chase_of"])
        chase["late"] = explained(queries.task_view(late, tz), late) if late else None
        if late is not None:
            keys.add(late.assignee)
    # Chase tasks opened for me while I was away went to my deputy (owner: me); shown
    # without actions — the engine lets only the assignee act on a chase.
    view["deputy_chases"] = [
        explained(queries.task_view(t, tz), t)
        for t in session.scalars(
            select(Task)
            .where(Task.kind == "chase", Task.state == "open", Task.owner == user)
            .order_by(Task.id)
        )
    ]
    keys |= {t["assignee"] for t in [*view["late_or_warned"], *view["deputy_chases"]]}
    view["pending"] = pending(session, user, tz)
    keys |= {r["requested_by"] for r in view["pending"]}
    view["names"] = person_names(session, keys)
    shown = [*view["late_or_warned"], *view["my_chase_tasks"], *view["pending"],
             *view["deputy_chases"]]  # fmt: skip
    cases = {t["instance_id"] for t in shown}
    view["business_keys"] = business_keys(session, cases)
    return view


def pending(session: Session, user: str, tz: tzinfo) -> list[dict[str, Any]]:
    """Extension and exemption requests of my direct reports: only their superior decides
    (engine.approvals), so these are the ones waiting for me."""
    me = select(Person.id).where(Person.key == user).scalar_subquery()
    reports = select(Person.key).where(Person.superior_id == me)
    found = []
    for kind, model in REQUESTS.items():
        rows = session.execute(
            select(model, Task.name, Task.instance_id)
            .join(Task, Task.id == model.task_id)
            .where(model.status == "pending", model.requested_by.in_(reports))
            .order_by(model.requested_at, model.id)
        )
        for request, step, instance_id in rows:
            found.append({
                "kind": kind, "id": request.id, "task_id": request.task_id, "step": step,
                "instance_id": instance_id, "requested_by": request.requested_by,
                "requested_at": queries.local(request.requested_at, tz),
                "reason": request.reason, "amount": getattr(request, "amount", None),
            })  # fmt: skip
    return found


# --- on-time trends ----------------------------------------------------------------------

TREND_BY = ("person", "step")
TREND_PERIODS = ("week", "month")
DEFAULT_PERIODS = 12  # shown when no ``from`` is given
MAX_PERIODS = 106  # two years of weeks: a chart still readable, a CASE still small


@dataclass(frozen=True)
class TrendQuery:
    """Whole periods (weeks from Monday, calendar months) covering ``from``–``to``."""

    starts: list[date]  # each period's first day, then the day after the last one
    by: str
    period: str

    def args(self) -> dict[str, str]:
        last = self.starts[-1] - timedelta(days=1)
        return {"from": self.starts[0].isoformat(), "to": last.isoformat(), "by": self.by,
                "period": self.period}  # fmt: skip


def trend_query(args: Mapping[str, str], tz: tzinfo, now: datetime) -> TrendQuery:
    """From query arguments; bad input is a ValidationError naming the field."""
    by, period = args.get("by") or "person", args.get("period") or "week"
    for field, value, allowed in (("by", by, TREND_BY), ("period", period, TREND_PERIODS)):
        if value not in allowed:
            message = f"{field} must be one of {', '.join(allowed)}"
            raise at_field(field, message)
    today = now.astimezone(tz).date()
    last = args.get("to") or today.isoformat()
    earliest = _shift(_period_start(today, period), period, 1 - DEFAULT_PERIODS)
    first = args.get("from") or earliest.isoformat()
    chosen = accountability.parse_period(first, last, tz)  # years 1900-2999
    starts = [_period_start(chosen.first, period)]
    while starts[-1] <= chosen.last:
        if len(starts) > MAX_PERIODS:
            message = f"at most {MAX_PERIODS} {period}s: choose a shorter range or months"
            raise at_field("from", message)
        starts.append(_shift(starts[-1], period, 1))
    return TrendQuery(starts, by, period)


def _period_start(day: date, period: str) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def _shift(start: date, period: str, n: int) -> date:
    if period == "week":
        return start + timedelta(weeks=n)
    months = start.year * 12 + start.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


def trends(session: Session, user: str, chosen: TrendQuery, tz: tzinfo) -> dict[str, Any]:
    """The on-time rate of the people below ``user`` per period, by person or by step:
    the board's figure (a completed task with a deadline is on time when it ended by the
    deadline in force then, extensions included) counted per period in SQL."""
    team = queries.below(session, user)
    bounds = [datetime.combine(day, time(0), tz) for day in chosen.starts]
    # The period's index, from the bounds computed here in the organisation's time zone:
    # the same SQL on SQLite and PostgreSQL, no date functions of either.
    index = case(*((Task.ended_at < bound, i) for i, bound in enumerate(bounds[1:])))
    key = Task.assignee if chosen.by == "person" else Task.name
    done = (
        select(index.label("period"), key.label("key"),
               case((Task.ended_at <= Task.due_at, 1), else_=0).label("met"))
        .where(Task.state == "completed", Task.kind.in_(POOL_KINDS), Task.due_at.is_not(None),
               Task.assignee.in_(team), Task.ended_at >= bounds[0], Task.ended_at < bounds[-1])
        .subquery()
    )  # fmt: skip
    counted = session.execute(
        select(done.c.key, done.c.period, func.count(), func.sum(done.c.met))
        .group_by(done.c.key, done.c.period)
        .order_by(done.c.key, done.c.period)
    ).all()
    labels = person_names(session, set(team)) if chosen.by == "person" else {}
    series: dict[str, dict[str, Any]] = {}
    for name, period, closed, met in counted:
        line = series.setdefault(name, {"key": name, "label": labels.get(name, name),
                                         "points": [None] * (len(bounds) - 1)})  # fmt: skip
        line["points"][period] = {"closed": closed, "met": int(met), "rate": round(met / closed, 3)}
    for line in series.values():
        closed = sum(p["closed"] for p in line["points"] if p)
        met = sum(p["met"] for p in line["points"] if p)
        line["total"] = {"closed": closed, "met": met, "rate": round(met / closed, 3)}
    periods = [
        {"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()}
        for start, end in zip(chosen.starts, chosen.starts[1:], strict=False)
    ]
    return {**chosen.args(), "periods": periods, "series": list(series.values())}
