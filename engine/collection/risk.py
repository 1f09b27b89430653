"""Risk warning (风险预警): regrading, grade history, warning reports, the grade summary.

* :func:`regrade` grades a receivable with the deployed ``risk_grade`` table and, when
  the grade changed, records it: ``collection_case.grade``, a ``risk_grade_change`` row
  dated with the business day, and a ``collection.grade_changed`` audit event. The
  daily job regrades every open case; every payment regrades its receivable (so a
  settled receivable goes back to 正常 on the day it is paid).
* A **downgrade** (a worse grade than the one recorded before; a receivable's first
  grade, given when its case starts, is the ladder's entry and not a downgrade,
  so ``caseclock demo`` and a day's new cases open no reports) starts the process
  ``risk_warning`` (``bpmn/risk_warning.bpmn``): one user task, 风险预警报告, for the
  group ``collection_supervisors`` (who act for risk management), with the actions
  recommended for the new grade (:data:`ACTIONS`). Without that diagram deployed the
  change is still recorded and the log says why no report was opened.
* :func:`grade_summary` gives the grade distribution on two days and the migration
  matrix between them, from the grade history alone (``caseclock report grades``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .. import audit, outbox
from ..errors import NotFound, ValidationError
from ..executor import CommandContext
from ..inputs import check_day
from ..runtime import StartInstance
from ..store import Definition, Group, GroupMember, Person
from ..store.collection_tables import Receivable
from ..store.ladder_tables import CollectionCase, GradeChange
from .grading import GRADES, grade_receivable
from .money import format_amount
from .receivables import load_account

log = logging.getLogger(__name__)

WARNING_PROCESS = "risk_warning"
WARNING_GROUP = "collection_supervisors"
UNGRADED = "未评级"
# What risk management is advised to do at each grade (the warning report shows it).
ACTIONS = {
    "正常": "无需处置，正常管理",
    "关注": "加强提醒（短信、电话），核实还款能力与联系方式；可协商展期或分期还款",
    "次级": "主管介入，协商重组（展期/分期），要求追加担保或抵押，限制授信",
    "可疑": "准备诉讼材料，移交法务审查，调查财产线索，考虑保全措施",
    "损失": "提起诉讼或申请强制执行，评估核销，考虑委外催收",
}


def rank(grade: str | None) -> int:
    return GRADES.index(grade) if grade in GRADES else 0


def regrade(
    ctx: CommandContext, case: CollectionCase, key: str, as_of: date, event: str
) -> str | None:
    """Grade ``key`` as of a day; record a change (and open a report on a downgrade).
    Returns ``"old→new"`` when the grade changed, else None."""
    try:
        grade = grade_receivable(ctx.session, ctx.services, key, as_of)
    except (NotFound, ValidationError) as exc:
        # No table deployed, or one that cannot grade this receivable: the work of the
        # day must not wait for the grading rules to be fixed.
        log.warning("cannot grade %s: %s", key, exc.message)
        return None
    if grade.grade == case.grade:
        return None
    old, case.grade, case.graded_on = case.grade, grade.grade, as_of
    change = GradeChange(
        receivable_id=case.receivable_id, graded_on=as_of, old_grade=old,
        new_grade=grade.grade, days_past_due=grade.days_past_due, recorded_at=ctx.now,
    )  # fmt: skip
    ctx.session.add(change)
    ctx.session.flush()
    if old is not None and rank(grade.grade) > rank(old):
        change.warning_instance_id = _open_warning(ctx, key, old, grade.grade,
                                                   grade.days_past_due, as_of)  # fmt: skip
    audit.append(ctx, "collection.grade_changed", payload={
        "receivable": key, "from": old, "to": grade.grade, "on": event,
        "days_past_due": grade.days_past_due, "as_of": as_of.isoformat(),
        "dmn": grade.dmn_file, "warning_instance": change.warning_instance_id,
    }, chain=audit.COLLECTION)  # fmt: skip
    return f"{old or '-'}→{grade.grade}"


def _open_warning(
    ctx: CommandContext, key: str, old: str | None, new: str, days: int, as_of: date
) -> int | None:
    if ctx.session.scalar(select(Definition.id).where(Definition.key == WARNING_PROCESS)) is None:
        log.warning("no %s process deployed: no warning report for %s", WARNING_PROCESS, key)
        return None
    account = load_account(ctx.session, key)
    owed = account.owed(as_of)
    receivable = account.receivable
    data = {
        "receivable_id": key, "debtor_name": account.customer.name,
        "customer": account.customer.key, "product": receivable.product,
        "department": receivable.department_key, "collector": receivable.collector_key,
        "old_grade": old or "正常", "new_grade": new, "days_past_due": days,
        "as_of": as_of.isoformat(), "currency": receivable.currency,
        "amount": format_amount(owed.payoff, receivable.currency),
        "recommended_actions": ACTIONS[new], "warning_group": WARNING_GROUP,
    }  # fmt: skip
    return StartInstance(WARNING_PROCESS, key, data)(ctx).id


def regrade_after_payment(ctx: CommandContext, receivable: Receivable, on: date) -> None:
    """A payment regrades its receivable if it has a ladder case (open or settled)."""
    case = ctx.session.scalars(
        select(CollectionCase).where(CollectionCase.receivable_id == receivable.id)
    ).first()
    if case is not None:
        regrade(ctx, case, receivable.key, on, "payment")


# --- the summary ------------------------------------------------------------------------------


def grades_on(
    session: Session, day: date, within: ColumnElement[bool] | None = None
) -> dict[int, str]:
    """Every graded receivable's grade at the end of ``day`` (its latest change by then),
    of the receivables ``within`` selects (all without it)."""
    latest = (
        select(GradeChange.receivable_id, func.max(GradeChange.id).label("last"))
        .where(GradeChange.graded_on <= day)
        .group_by(GradeChange.receivable_id)
    )
    if within is not None:
        latest = latest.join(Receivable, Receivable.id == GradeChange.receivable_id).where(within)
    latest = latest.subquery()
    rows = session.execute(
        select(GradeChange.receivable_id, GradeChange.new_grade).join(
            latest, latest.c.last == GradeChange.id
        )
    )
    return {receivable_id: grade for receivable_id, grade in rows}


@dataclass(frozen=True)
class GradeSummary:
    first: date
    last: date
    distribution: dict[str, dict[str, int]]  # "from"/"to" -> grade -> count
    matrix: dict[str, dict[str, int]]  # grade on first day -> grade on last day -> count

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        dist = [
            {"grade": g, "from": self.distribution["from"][g], "to": self.distribution["to"][g]}
            for g in GRADES
        ]
        matrix = [{"from": f, **self.matrix[f]} for f in (UNGRADED, *GRADES)]
        return {"distribution": dist, "migration": matrix}

    def to_dict(self) -> dict[str, Any]:
        return {"report": "grades", "from": self.first.isoformat(), "to": self.last.isoformat(),
                **self.rows()}  # fmt: skip


def grade_summary(
    session: Session, first: date, last: date, within: ColumnElement[bool] | None = None
) -> GradeSummary:
    """Distribution on ``first`` and on ``last`` and the migration matrix between them.

    Rows of the matrix are the grade at the end of ``first`` (``未评级`` for receivables
    not graded yet then), columns the grade at the end of ``last``; only receivables
    graded by ``last`` are counted."""
    check_day(first, "from")
    check_day(last, "to")
    if last < first:
        raise ValidationError(f"--to {last} is before --from {first}")
    start, end = grades_on(session, first, within), grades_on(session, last, within)
    distribution = {
        "from": {g: sum(1 for v in start.values() if v == g) for g in GRADES},
        "to": {g: sum(1 for v in end.values() if v == g) for g in GRADES},
    }
    matrix = {f: dict.fromkeys(GRADES, 0) for f in (UNGRADED, *GRADES)}
    for receivable_id, grade in end.items():
        matrix[start.get(receivable_id, UNGRADED)][grade] += 1
    return GradeSummary(first, last, distribution, matrix)


def previous_month(today: date) -> tuple[date, date]:
    """(last day of the month before last, last day of last month): the days whose
    grades a monthly summary compares."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1) - timedelta(days=1), last


def summary_text(summary: GradeSummary) -> str:
    dist = "\n".join(
        f"  {g}: {summary.distribution['from'][g]} → {summary.distribution['to'][g]}"
        for g in GRADES
    )
    header = "  " + " ".join(f"{g:>4}" for g in GRADES)
    matrix = "\n".join(
        f"  {f}: " + " ".join(f"{summary.matrix[f][g]:>4}" for g in GRADES)
        for f in (UNGRADED, *GRADES)
    )
    return (
        f"五级分类月报 {summary.first} → {summary.last}\n\n分布 (distribution):\n{dist}\n\n"
        f"迁徙矩阵 (migration, rows {summary.first}, columns {summary.last}):\n{header}\n"
        f"{matrix}\n"
    )


class MonthlyGradeSummary:
    """The monthly summary for management: recorded as an audit event and e-mailed once
    to every member of ``collection_supervisors`` (the worker runs it on the 1st)."""

    name = "collection_grade_summary"

    def __init__(self, today: date) -> None:
        self.today = today

    def __call__(self, ctx: CommandContext) -> GradeSummary:
        first, last = previous_month(self.today)
        summary = grade_summary(ctx.session, first, last)
        body = summary_text(summary)
        emails = ctx.session.scalars(
            select(Person.email)
            .join(GroupMember, GroupMember.person_id == Person.id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.key == WARNING_GROUP, Person.active, Person.email.is_not(None))
            .order_by(Person.key)
        ).all()
        for email in emails:
            outbox.enqueue(
                ctx, channel="email", recipient=email, subject=f"五级分类月报 {last:%Y-%m}",
                body=body, idempotency_key=f"grade-summary:{last:%Y-%m}:{email}",
                payload={"kind": "grade_summary", "month": f"{last:%Y-%m}"},
            )  # fmt: skip
        audit.append(ctx, "collection.grade_summary", payload={
            **summary.to_dict(), "sent_to": len(emails),
        }, chain=audit.COLLECTION)  # fmt: skip
        return summary
