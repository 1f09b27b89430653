"""The accountability report (追责) and the ledger export: read queries over the ledger.

Both are plain functions of a read session returning dicts and rows, so the CLI
(``caseclock report accountability`` / ``report ledger``) and the auditors' web pages
share them; :func:`to_csv`, :func:`to_xlsx` and :func:`to_json` render either.

Sources, all read as they are stored today:

* ``audit_event`` rows with command ``ledger_breach`` (payload: ``step``, ``step_name``,
  ``deadline``, ``responsible``, ``department_id``, ``superior``, ``holders`` — each
  ``{"holder", "from", "to", "working_seconds"}``, holder ``None`` = the group pool —,
  ``standard``, ``calendar``) and ``ledger_final`` (``late_working_seconds``,
  ``completed_at``, ``completed_by``), joined by task id;
* the ``exemption`` table (免责 requests and their decisions);
* ``task`` rows for the completions that decide the on-time rate.

Definitions (also in docs/accountability.md, with a worked example):

* The period is ``[from 00:00, to + 1 day 00:00)`` in the organisation's time zone, both
  dates inclusive. A *breach in the period* is a ``ledger_breach`` entry written in it.
  Its final lateness and its exemption are taken as known when the report runs.
* A breach is *exempted* when an exemption for its task was approved; it stays listed
  (ledger rows, ``exemptions`` table, the ``exempted`` columns) but leaves every
  *charged* figure: charged counts, lateness statistics and shared lateness.
* Figure (a), ``charged``: each breach counts once against the person responsible at
  breach time (and their department at breach time) as recorded in the entry — a deputy
  acting for someone on leave is that person; the ledger export shows ``on_behalf_of``.
* Figure (b), ``shared_late_hours``: the final lateness of a completed, charged breach,
  divided among the holders of the breach entry's timeline in proportion to the
  working time each held the task up to the breach. Time in the group pool is shared to
  the head of the department behind the task's first candidate group (looked up in the
  current org: the breach entry does not record who answered for the pool).
* Lateness: ``late_working_seconds`` of the ``ledger_final`` entry, in working hours;
  mean and p90 (nearest rank) over charged breaches that have completed. A breach whose
  task is still open has no lateness yet (``open``).
* On-time rate: among user tasks with a deadline *completed* in the period, the share
  completed by their deadline (the deadline in force at completion, extensions
  included) or whose breach was exempted. ``on_time_rate_raw`` ignores exemptions.
  Completions count for the person who completed the task and their (current)
  department.
* ``--department X`` keeps breaches whose department at breach is X or below it, and
  completions by people of X or below it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from . import exports
from .calendar import FIRST_YEAR, LAST_YEAR
from .errors import NotFound, ValidationError, at_field
from .inputs import in_range
from .store import AuditEvent, Department, Group, Person, ProcessInstance, Task
from .store.models import Definition, Exemption

HOUR = 3600.0
POOL = None  # a holder timeline's "in the group pool"

# Columns of every table, in order: CSV headers, XLSX headers and the JSON keys.
COLUMNS: dict[str, list[str]] = {
    "summary": [
        "period_from", "period_to", "department", "breaches", "exempted", "charged", "open",
        "completed", "on_time", "on_time_rate", "on_time_raw", "on_time_rate_raw",
        "late_mean_hours", "late_p90_hours",
    ],
    "by_person": [
        "person", "name", "department", "breaches", "exempted", "charged", "charged_late_hours",
        "late_mean_hours", "late_p90_hours", "completed", "on_time", "on_time_rate",
    ],
    "by_department": [
        "department", "name", "breaches", "exempted", "charged", "charged_late_hours",
        "late_mean_hours", "late_p90_hours", "completed", "on_time", "on_time_rate",
    ],
    "by_step": [
        "process", "step", "step_name", "breaches", "exempted", "charged", "charged_late_hours",
        "late_mean_hours", "late_p90_hours", "completed", "on_time", "on_time_rate",
    ],
    "shared_lateness": [
        "person", "name", "breaches", "held_hours", "pool_held_hours", "shared_late_hours",
    ],
    "exemptions": [
        "exemption_id", "case_id", "business_key", "task_id", "step", "responsible",
        "requested_by", "requested_at", "reason", "status", "decided_by", "decided_at", "note",
    ],
    "ledger": [
        "breach_event_id", "case_id", "business_key", "process", "task_id", "step",
        "step_name", "deadline", "breached_at", "responsible", "on_behalf_of", "department",
        "superior",
        "standard", "calendar", "holders", "completed_at", "completed_by",
        "late_working_hours", "exemption", "exemption_decided_by", "charged",
    ],
}  # fmt: skip
REPORT_TABLES = (
    "summary", "by_person", "by_department", "by_step", "shared_lateness", "exemptions",
)  # fmt: skip


@dataclass(frozen=True)
class Period:
    """Two inclusive dates in a time zone; ``start``/``end`` bound the half-open range."""

    first: date
    last: date
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), self.zone)


def parse_period(date_from: str, date_to: str, zone: tzinfo) -> Period:
    """``YYYY-MM-DD`` dates in 1900-2999, ``from <= to``; anything else is a one-line
    ValidationError naming its field (``from`` or ``to``, both if both are out of range)."""
    first, last = _date(date_from, "from"), _date(date_to, "to")
    # Both ends are checked, so a page marks every field that is out of range at once.
    far = {
        field: f"--{field} {day}: the year must be {FIRST_YEAR}-{LAST_YEAR}"
        for field, day in (("from", first), ("to", last))
        if not in_range(day)
    }
    if far:
        # The period's end is the next midnight: 9999-12-31 would overflow it.
        raise ValidationError("; ".join(far.values()), details={"fields": far})
    if last < first:
        raise at_field("to", f"--to {last} is before --from {first}")
    return Period(first, last, zone)


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise at_field(field, f"--{field} {text!r} is not a date (YYYY-MM-DD)") from None


# --- reading the ledger -----------------------------------------------------------------


@dataclass
class Breach:
    """One ``ledger_breach`` entry with what is known since: final lateness, exemption."""

    event_id: int
    case_id: int
    business_key: str | None
    process: str
    task_id: int
    payload: dict[str, Any]
    department: str | None
    final: dict[str, Any] | None
    candidate_groups: list[str]
    exemption: Exemption | None = None  # the latest request, whatever its status

    @property
    def exempted(self) -> bool:
        return self.exemption is not None and self.exemption.status == "approved"

    @property
    def late_seconds(self) -> int | None:
        return None if self.final is None else int(self.final["late_working_seconds"])


def breaches(session: Session, period: Period, department: str | None = None) -> list[Breach]:
    """Breach entries written in the period (optionally of a department and those below),
    each joined in SQL with its task's final entry and process, and with its exemption."""
    final = aliased(AuditEvent)
    department_id = AuditEvent.payload["department_id"].as_integer()
    stmt = (
        select(AuditEvent.id, AuditEvent.instance_id, ProcessInstance.business_key,
               Definition.key, AuditEvent.task_id, AuditEvent.payload, Department.key,
               final.payload, Task.candidate_groups)
        .join(ProcessInstance, ProcessInstance.id == AuditEvent.instance_id)
        .join(Definition, Definition.id == ProcessInstance.definition_id)
        .join(Task, Task.id == AuditEvent.task_id)
        .outerjoin(final, and_(final.task_id == AuditEvent.task_id,
                               final.command == "ledger_final"))
        .outerjoin(Department, Department.id == department_id)
        .where(AuditEvent.command == "ledger_breach", AuditEvent.at >= period.start,
               AuditEvent.at < period.end)
        .order_by(AuditEvent.at, AuditEvent.id)
    )  # fmt: skip
    if department is not None:
        stmt = stmt.where(department_id.in_(department_ids(session, department)))
    found = [Breach(*row[:7], final=row[7], candidate_groups=list(row[8] or []))
             for row in session.execute(stmt)]  # fmt: skip
    latest = _latest_exemptions(session, {b.task_id for b in found})
    for breach in found:
        breach.exemption = latest.get(breach.task_id)
    return found


def _latest_exemptions(session: Session, task_ids: set[int]) -> dict[int, Exemption]:
    """Per task, the approved exemption if any, else the newest request: one refused
    request followed by an approved one is exempted."""
    if not task_ids:
        return {}
    rows = session.scalars(
        select(Exemption).where(Exemption.task_id.in_(task_ids)).order_by(Exemption.id)
    ).all()
    latest: dict[int, Exemption] = {}
    for row in rows:
        if latest.get(row.task_id) is None or latest[row.task_id].status != "approved":
            latest[row.task_id] = row
    return latest


def department_ids(session: Session, key: str) -> list[int]:
    """The department ``key`` and every department below it."""
    rows = session.execute(select(Department.id, Department.key, Department.parent_id)).all()
    root = next((r[0] for r in rows if r[1] == key), None)
    if root is None:
        raise NotFound(f"no department {key!r}")
    found, frontier = [root], [root]
    while frontier:
        frontier = [r[0] for r in rows if r[2] in frontier and r[0] not in found]
        found += frontier
    return found


# --- the ledger export -------------------------------------------------------------------


def ledger_rows(
    session: Session, period: Period, department: str | None = None
) -> list[dict[str, Any]]:
    """One row per breach entry in the period, with final lateness and exemption outcome."""
    return [_ledger_row(b, period.zone) for b in breaches(session, period, department)]


def _ledger_row(b: Breach, zone: tzinfo) -> dict[str, Any]:
    p, final, ex = b.payload, b.final or {}, b.exemption
    return {
        "breach_event_id": b.event_id, "case_id": b.case_id, "business_key": b.business_key,
        "process": b.process, "task_id": b.task_id, "step": p.get("step"),
        "step_name": p.get("step_name"), "deadline": _local(p.get("deadline"), zone),
        "breached_at": _local(p.get("breached_at"), zone), "responsible": p.get("responsible"),
        "on_behalf_of": p.get("on_behalf_of"),
        "department": b.department, "superior": p.get("superior"),
        "standard": p.get("standard"), "calendar": p.get("calendar"),
        "holders": "; ".join(f"{h['holder'] or '(pool)'} {_hours(h['working_seconds'])}h"
                             for h in p.get("holders", [])),
        "completed_at": _local(final.get("completed_at"), zone),
        "completed_by": final.get("completed_by"),
        "late_working_hours": _hours(b.late_seconds),
        "exemption": ex.status if ex else None,
        "exemption_decided_by": ex.decided_by if ex else None,
        "charged": not b.exempted,
    }  # fmt: skip


# --- the accountability report -----------------------------------------------------------


def accountability(
    session: Session, period: Period, department: str | None = None
) -> dict[str, Any]:
    """The report as a dict: ``period``, ``department``, and one list of rows per table
    of :data:`REPORT_TABLES` (columns in :data:`COLUMNS`)."""
    found = breaches(session, period, department)
    done = _completions(session, period, department)
    names = _names(session)
    heads = _group_heads(session)
    report = {
        "report": "accountability",
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat(),
                   "timezone": str(period.zone)},
        "department": department,
        "summary": [_summary(period, department, found, done)],
        "by_person": _with_department(
            _grouped(found, done, lambda b: b.payload.get("responsible"),
                     lambda c: c.person, ("person",), names["person"]),
            names["person_department"]),
        "by_department": _grouped(found, done, lambda b: b.department,
                                  lambda c: c.department, ("department",), names["department"]),
        "by_step": _by_step(found, done),
        "shared_lateness": _shared(found, heads, names["person"]),
        "exemptions": _exemptions(found, period.zone),
    }  # fmt: skip
    return report


@dataclass(frozen=True)
class Completion:
    """Completed tasks with a deadline, counted per (process, step, person, department)."""

    process: str
    step: str
    step_name: str
    person: str | None
    department: str | None
    completed: int
    on_time_raw: int
    exempted_late: int

    @property
    def on_time(self) -> int:
        return self.on_time_raw + self.exempted_late


def _completions(session: Session, period: Period, department: str | None) -> list[Completion]:
    """Grouped and counted in SQL: completions in the period, met, and late-but-exempted."""
    exempt = select(Exemption.task_id).where(Exemption.status == "approved")
    met = Task.ended_at <= Task.due_at
    stmt = (
        select(Definition.key, Task.element_id, func.min(Task.name), Task.completed_by,
               Department.key, func.count(),
               func.sum(case((met, 1), else_=0)),
               func.sum(case((and_(~met, Task.id.in_(exempt)), 1), else_=0)))
        .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
        .join(Definition, Definition.id == ProcessInstance.definition_id)
        .outerjoin(Person, Person.key == Task.completed_by)
        .outerjoin(Department, Department.id == Person.department_id)
        .where(Task.kind == "user", Task.state == "completed", Task.due_at.is_not(None),
               Task.ended_at >= period.start, Task.ended_at < period.end)
        .group_by(Definition.key, Task.element_id, Task.completed_by, Department.key)
    )  # fmt: skip
    if department is not None:
        stmt = stmt.where(Person.department_id.in_(department_ids(session, department)))
    return [Completion(*row[:5], int(row[5]), int(row[6] or 0), int(row[7] or 0))
            for row in session.execute(stmt)]  # fmt: skip


def _summary(
    period: Period, department: str | None, found: list[Breach], done: list[Completion]
) -> dict[str, Any]:
    completed = sum(c.completed for c in done)
    on_time = sum(c.on_time for c in done)
    raw = sum(c.on_time_raw for c in done)
    late = _charged_late(found)
    return {
        "period_from": period.first.isoformat(), "period_to": period.last.isoformat(),
        "department": department, "breaches": len(found),
        "exempted": sum(b.exempted for b in found),
        "charged": sum(not b.exempted for b in found),
        "open": sum(b.final is None for b in found), "completed": completed,
        "on_time": on_time, "on_time_rate": _rate(on_time, completed),
        "on_time_raw": raw, "on_time_rate_raw": _rate(raw, completed),
        "late_mean_hours": _mean_hours(late), "late_p90_hours": _p90_hours(late),
    }  # fmt: skip


def _grouped(
    found: list[Breach],
    done: list[Completion],
    breach_key: Any,
    completion_key: Any,
    key_columns: tuple[str, ...],
    names: dict[str, str],
) -> list[dict[str, Any]]:
    """One row per key: figure (a) for its breaches, on-time for its completions."""
    by_breach = _bucket(found, breach_key)
    by_done = _bucket(done, completion_key)
    rows = []
    for key in sorted(set(by_breach) | set(by_done), key=lambda k: (k is None, str(k))):
        row = {key_columns[0]: key, "name": names.get(key) if key else None}
        rows.append({**row, **_figures(by_breach.get(key, []), by_done.get(key, []))})
    return rows


def _by_step(found: list[Breach], done: list[Completion]) -> list[dict[str, Any]]:
    by_breach = _bucket(found, lambda b: (b.process, b.payload.get("step")))
    by_done = _bucket(done, lambda c: (c.process, c.step))
    step_names = {(b.process, b.payload.get("step")): b.payload.get("step_name") for b in found}
    step_names.update({(c.process, c.step): c.step_name for c in done})
    return [
        {"process": key[0], "step": key[1], "step_name": step_names.get(key),
         **_figures(by_breach.get(key, []), by_done.get(key, []))}
        for key in sorted(set(by_breach) | set(by_done), key=str)
    ]  # fmt: skip


def _figures(found: list[Breach], done: list[Completion]) -> dict[str, Any]:
    late = _charged_late(found)
    completed = sum(c.completed for c in done)
    on_time = sum(c.on_time for c in done)
    return {
        "breaches": len(found), "exempted": sum(b.exempted for b in found),
        "charged": sum(not b.exempted for b in found),
        "charged_late_hours": _round(sum(late) / HOUR), "late_mean_hours": _mean_hours(late),
        "late_p90_hours": _p90_hours(late), "completed": completed, "on_time": on_time,
        "on_time_rate": _rate(on_time, completed),
    }  # fmt: skip


def _shared(
    found: list[Breach], heads: dict[str, str], names: dict[str, str]
) -> list[dict[str, Any]]:
    """Figure (b): each completed, charged breach's lateness split by holding time."""
    rows: dict[str, dict[str, Any]] = {}
    for b in found:
        if b.exempted or b.late_seconds is None:
            continue
        for person, held, pool in _holdings(b, heads):
            row = rows.setdefault(person, {"person": person, "name": names.get(person),
                                           "breaches": set(), "held": 0, "pool": 0,
                                           "shared": 0.0})  # fmt: skip
            row["breaches"].add(b.event_id)
            row["held"] += held
            row["pool"] += pool
        for person, share in _shares(b, heads).items():
            rows[person]["shared"] += share
    return [
        {"person": r["person"], "name": r["name"], "breaches": len(r["breaches"]),
         "held_hours": _round(r["held"] / HOUR), "pool_held_hours": _round(r["pool"] / HOUR),
         "shared_late_hours": _round(r["shared"] / HOUR)}
        for r in sorted(rows.values(), key=lambda r: r["person"])
    ]  # fmt: skip


def _holdings(b: Breach, heads: dict[str, str]) -> list[tuple[str, int, int]]:
    """(person, working seconds held, of which in the pool as its head) per span; a
    breach with no working time held at all is the responsible person's alone."""
    spans = []
    for h in b.payload.get("holders", []):
        person = h["holder"] if h["holder"] is not POOL else _pool_head(b, heads)
        pool = h["working_seconds"] if h["holder"] is POOL else 0
        spans.append((person or "(unknown)", int(h["working_seconds"]), pool))
    if sum(s[1] for s in spans) == 0:
        return [(b.payload.get("responsible") or "(unknown)", 0, 0)]
    return spans


def _shares(b: Breach, heads: dict[str, str]) -> dict[str, float]:
    """Seconds of lateness per person, proportional to working time held; they add up to
    the breach's lateness exactly (floats, rounded only for display)."""
    spans = _holdings(b, heads)
    total = sum(s[1] for s in spans)
    late = float(b.late_seconds or 0)
    shares: dict[str, float] = {}
    for person, held, _ in spans:
        shares[person] = shares.get(person, 0.0) + (late * held / total if total else late)
    return shares


def _pool_head(b: Breach, heads: dict[str, str]) -> str | None:
    return next((heads[g] for g in b.candidate_groups if g in heads), None)


def _exemptions(found: list[Breach], zone: tzinfo) -> list[dict[str, Any]]:
    rows = []
    for b in found:
        ex = b.exemption
        if ex is None:
            continue
        rows.append({
            "exemption_id": ex.id, "case_id": b.case_id, "business_key": b.business_key,
            "task_id": b.task_id, "step": b.payload.get("step"),
            "responsible": b.payload.get("responsible"), "requested_by": ex.requested_by,
            "requested_at": _local(ex.requested_at, zone), "reason": ex.reason,
            "status": ex.status, "decided_by": ex.decided_by,
            "decided_at": _local(ex.decided_at, zone), "note": ex.note,
        })  # fmt: skip
    return rows


# --- small helpers -----------------------------------------------------------------------


def _with_department(
    rows: list[dict[str, Any]], departments: dict[str, str]
) -> list[dict[str, Any]]:
    """The person's current department, for reading; the figures are by the ledger's."""
    columns = COLUMNS["by_person"]
    return [{c: departments.get(row["person"]) if c == "department" else row.get(c)
             for c in columns} for row in rows]  # fmt: skip


def _names(session: Session) -> dict[str, dict[str, str]]:
    current = select(Person.key, Department.key).join(
        Department, Department.id == Person.department_id
    )
    return {
        "person_department": {k: v for k, v in session.execute(current)},
        "person": {k: v for k, v in session.execute(select(Person.key, Person.name))},
        "department": {k: v for k, v in session.execute(select(Department.key, Department.name))},
    }


def _group_heads(session: Session) -> dict[str, str]:
    """Group key -> the key of the head of the group's department (current org)."""
    head = aliased(Person)
    rows = session.execute(
        select(Group.key, head.key)
        .join(Department, Department.id == Group.department_id)
        .join(head, head.id == Department.head_id)
    )
    return {group: head for group, head in rows}


def _bucket(items: Iterable[Any], key: Any) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out


def _charged_late(found: list[Breach]) -> list[int]:
    return [b.late_seconds for b in found if not b.exempted and b.late_seconds is not None]


def _mean_hours(seconds: Sequence[int]) -> float | None:
    return _round(sum(seconds) / len(seconds) / HOUR) if seconds else None


def _p90_hours(seconds: Sequence[int]) -> float | None:
    """Nearest rank: the smallest value with at least 90% of the values at or below it."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    return _round(ordered[math.ceil(0.9 * len(ordered)) - 1] / HOUR)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float) -> float:
    return round(value, 4)


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else _round(seconds / HOUR)


def _local(value: str | datetime | None, zone: tzinfo) -> str | None:
    if value is None:
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant.astimezone(zone).isoformat()


# --- rendering ----------------------------------------------------------------------------


def tables_of(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report's tables in order (a ledger export is the single table ``ledger``)."""
    return {name: report[name] for name in (*REPORT_TABLES, "ledger") if name in report}


def to_csv(tables: dict[str, list[dict[str, Any]]]) -> str:
    return exports.to_csv(tables, COLUMNS)


def to_xlsx(tables: dict[str, list[dict[str, Any]]]) -> bytes:
    return exports.to_xlsx(tables, COLUMNS)
