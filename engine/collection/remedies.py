"""Remedies (补救措施): a deferral (展期) or an instalment plan (分期) replacing the schedule.

A collector requests one (:class:`RequestRemedy`); a collection supervisor who is the
requester's superior in the org decides it (:class:`DecideRemedy`). Approval, in one
command:

* **The schedule is replaced** for what is unpaid. Instalments keep what was paid on
  them (a partly paid one shrinks to its paid amounts, an unpaid one is removed) and
  the new instalments follow. The new principal must add up to the principal still
  outstanding; interest still unpaid on the old schedule moves to the first new
  instalment, on top of any interest the plan itself states.
* **Fees follow the new schedule.** Penalty accrued under the old schedule up to the
  day of approval is kept as ``receivable.carried_fees_minor`` (owed like any penalty
  and counted towards the cap); from then on penalty accrues on the new due dates only.
* **The ladder follows the new schedule.** The open case's ladder instants are
  recomputed from the new earliest due date with the levels the case started with:
  its data (``ladder_<level>_at``, ``ladder_due_date``) and the timer it waits on move,
  and ``collection_case.due_date`` changes, so the daily job's notices count from the
  new date too. Notice levels already sent are not sent again (one per level).
* **The debtor is told** (:mod:`.remedy_notices`): notices the contact rules still hold,
  which speak of the old schedule, are withdrawn, and a notice confirming the new due
  dates and amounts is sent once, under the contact rules.

A deferral is a plan with one instalment: everything outstanding on the new date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from .. import audit
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..executor import CommandContext
from ..inputs import check_day
from ..runtime import definition_of, finish, load_workflow, lock_instance
from ..store import Group, GroupMember, Person, Timer
from ..store.collection_tables import Instalment, Receivable
from ..store.ladder_tables import CollectionCase, Remedy
from . import fees, ladder
from .case_events import open_case
from .importing import _instalments
from .money import format_amount
from .receivables import Account, load_account, local_today
from .remedy_notices import confirm_schedule, withdraw_held

KINDS = ("deferral", "instalments")
COLLECTORS = "collectors"
SUPERVISORS = "collection_supervisors"


def in_group(session: Any, person_key: str, group: str) -> bool:
    return (
        session.scalar(
            select(GroupMember.id)
            .join(Person, Person.id == GroupMember.person_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Person.key == person_key, Group.key == group)
        )
        is not None
    )


def person(session: Any, key: str) -> Person:
    row = session.scalars(select(Person).where(Person.key == key)).first()
    if row is None:
        raise Forbidden(f"{key!r} is not a person in the organisation")
    return row


def plan_rows(
    account: Account, kind: str, until: date | None, schedule: str | None
) -> list[dict[str, Any]]:
    """The new instalments for what is outstanding (checked against the books now)."""
    currency = account.currency
    outstanding = _outstanding(account)
    if outstanding <= 0:
        raise ValidationError(f"{account.receivable.key} has no principal outstanding")
    if kind == "deferral":
        if until is None or schedule:
            raise ValidationError("a deferral needs --until DATE (and no --schedule)")
        rows = [fees.Instalment(1, check_day(until, "until"), outstanding)]
    elif kind == "instalments":
        if not schedule or until is not None:
            raise ValidationError("an instalment plan needs --schedule (and no --until)")
        rows = _instalments({"schedule": schedule}, outstanding, currency)
    else:
        raise ValidationError(f"remedy kind {kind!r}: use one of {', '.join(KINDS)}")
    return [
        {"due_date": r.due_date.isoformat(), "principal_minor": r.principal_minor,
         "interest_minor": r.interest_minor}
        for r in rows
    ]  # fmt: skip


def _outstanding(account: Account) -> int:
    paid = [p for p in account.paid if p.component == "principal"]
    return sum(i.principal_minor for i in account.instalments) - sum(p.amount_minor for p in paid)


def _describe(schedule: list[dict], currency: str) -> str:
    return "; ".join(
        f"{r['due_date']}={format_amount(r['principal_minor'], currency)}"
        + (f"+{format_amount(r['interest_minor'], currency)}" if r["interest_minor"] else "")
        for r in schedule
    )


class RequestRemedy:
    """A collector asks for a deferral or instalment plan on a receivable."""

    name = "collection_remedy_request"

    def __init__(
        self,
        receivable: str,
        kind: str,
        reason: str,
        *,
        until: date | None = None,
        schedule: str | None = None,
    ) -> None:
        self.receivable, self.kind, self.reason = receivable, kind, reason.strip()
        self.until, self.schedule = until, schedule

    def __call__(self, ctx: CommandContext) -> Remedy:
        if not self.reason:
            raise ValidationError("a remedy request needs a reason")
        account = load_account(ctx.session, self.receivable, lock=True)
        receivable = account.receivable
        requester = person(ctx.session, ctx.actor)
        if not in_group(ctx.session, requester.key, COLLECTORS):
            raise Forbidden(f"{ctx.actor!r} is not a collector: only collectors request remedies")
        pending = ctx.session.scalar(
            select(Remedy.id).where(
                Remedy.receivable_id == receivable.id, Remedy.state == "requested"
            )
        )
        if pending:
            raise Conflict(f"remedy #{pending} on {receivable.key} is still waiting for a decision")
        today = local_today(ctx)
        if self.until is not None and self.until <= today:
            raise ValidationError(f"a deferral must be to a later day than today ({today})")
        schedule = plan_rows(account, self.kind, self.until, self.schedule)
        if date.fromisoformat(schedule[0]["due_date"]) <= today:
            raise ValidationError("the new schedule must start after today")
        row = Remedy(
            receivable_id=receivable.id, kind=self.kind, schedule=schedule,
            reason=self.reason[:200], state="requested", requested_by=ctx.actor,
            requested_at=ctx.now,
        )  # fmt: skip
        ctx.session.add(row)
        ctx.session.flush()
        audit.append(ctx, "collection.remedy_requested", payload={
            "id": row.id, "receivable": receivable.key, "kind": self.kind,
            "schedule": _describe(schedule, receivable.currency), "reason": row.reason,
        }, chain=audit.COLLECTION)  # fmt: skip
        return row


class DecideRemedy:
    """The requester's superior, a collection supervisor, approves or refuses."""

    name = "collection_remedy_decide"

    def __init__(self, remedy_id: int, approve: bool, note: str | None = None) -> None:
        self.remedy_id, self.approve, self.note = remedy_id, approve, note

    def __call__(self, ctx: CommandContext) -> Remedy:
        remedy = ctx.session.scalars(
            select(Remedy).where(Remedy.id == self.remedy_id).with_for_update()
        ).first()
        if remedy is None:
            raise NotFound(f"no remedy #{self.remedy_id}")
        if remedy.state != "requested":
            raise Conflict(f"remedy #{remedy.id} was {remedy.state} already")
        decider = person(ctx.session, ctx.actor)
        requester = person(ctx.session, remedy.requested_by)
        if not in_group(ctx.session, decider.key, SUPERVISORS):
            raise Forbidden(f"{ctx.actor!r} is not a collection supervisor")
        if requester.superior_id != decider.id:
            raise Forbidden(
                f"{ctx.actor!r} is not the superior of {remedy.requested_by!r}, who asked"
            )
        receivable = ctx.session.get_one(Receivable, remedy.receivable_id)
        remedy.decided_by, remedy.decided_at = ctx.actor, ctx.now
        remedy.note = (self.note or "").strip()[:300] or None
        if not self.approve:
            remedy.state = "refused"
        else:
            remedy.state, remedy.decided_on = "approved", local_today(ctx)
            apply_schedule(ctx, receivable.key, remedy.schedule, remedy.decided_on)
            withdraw_held(ctx, receivable.id, remedy)
            confirm_schedule(ctx, receivable.key, remedy, remedy.decided_on)
        audit.append(ctx, "collection.remedy_decided", payload={
            "id": remedy.id, "receivable": receivable.key, "state": remedy.state,
            "requested_by": remedy.requested_by, "note": remedy.note,
        }, chain=audit.COLLECTION)  # fmt: skip
        return remedy


def apply_schedule(ctx: CommandContext, key: str, schedule: list[dict], on: date) -> None:
    """Replace the unpaid part of ``key``'s schedule by ``schedule`` as of day ``on``."""
    account = load_account(ctx.session, key, lock=True)
    receivable = account.receivable
    outstanding = _outstanding(account)
    if sum(r["principal_minor"] for r in schedule) != outstanding:
        raise Conflict(
            f"the principal outstanding on {key} is now "
            f"{format_amount(outstanding, receivable.currency)}, not what the plan covers: "
            "refuse it and request a new one"
        )
    if date.fromisoformat(schedule[0]["due_date"]) <= on:
        raise ValidationError("the new schedule must start after the day it is approved")
    # Penalty so far (as known at the end of the day before) is kept as carried.
    carried = fees.owed(account.terms, account.instalments, account.paid, on,
                        through_previous_day=True).fees_accrued  # fmt: skip
    paid_principal: dict[int, int] = {}
    paid_interest: dict[int, int] = {}
    for p in account.paid:
        if p.seq is None:
            continue
        target = paid_principal if p.component == "principal" else paid_interest
        target[p.seq] = target.get(p.seq, 0) + p.amount_minor
    unpaid_interest = 0
    rows = ctx.session.scalars(
        select(Instalment).where(Instalment.receivable_id == receivable.id)
    ).all()
    for row in rows:
        kept_p, kept_i = paid_principal.get(row.seq, 0), paid_interest.get(row.seq, 0)
        unpaid_interest += row.interest_minor - kept_i
        if kept_p == 0 and kept_i == 0:
            ctx.session.delete(row)
        else:
            row.principal_minor, row.interest_minor = kept_p, kept_i
    ctx.session.flush()
    last = max((r.seq for r in rows), default=0)
    for n, item in enumerate(schedule, start=1):
        ctx.session.add(
            Instalment(
                receivable_id=receivable.id, seq=last + n,
                due_date=date.fromisoformat(item["due_date"]),
                principal_minor=item["principal_minor"],
                interest_minor=item["interest_minor"] + (unpaid_interest if n == 1 else 0),
            )
        )  # fmt: skip
    receivable.due_date = date.fromisoformat(schedule[-1]["due_date"])
    receivable.carried_fees_minor = carried
    receivable.carried_through = on - timedelta(days=1)
    ctx.session.flush()
    case = open_case(ctx, receivable.id)
    if case is not None:
        replan_case(ctx, case, date.fromisoformat(schedule[0]["due_date"]))


def replan_case(ctx: CommandContext, case: CollectionCase, due: date) -> None:
    """Recompute the case's ladder instants from a new due date (the case's own levels)."""
    instance = lock_instance(ctx, case.instance_id)
    definition = definition_of(ctx, instance)
    workflow = load_workflow(ctx, instance, definition)
    plan = [
        ladder.Level(**{k: v for k, v in lv.items() if k != "at"})
        for lv in (instance.data or {}).get("ladder") or []
    ] or ladder.levels(ctx.session)
    data = ladder.case_data(plan, due, ctx.services.timezone)
    at_of = {f"Timer_{lv.level}": data[f"ladder_{lv.level}_at"] for lv in plan}
    for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        task.data.update(data)
        element = task.task_spec.bpmn_id if hasattr(task.task_spec, "bpmn_id") else None
        if element in at_of and isinstance(task._get_internal_data("event_value"), str):
            task._set_internal_data(event_value=_utc(at_of[element]))
    workflow.data.update(data)
    if workflow.last_task is not None:  # what the case's data shows (the projection)
        workflow.last_task.data.update(data)
    timers = ctx.session.scalars(
        select(Timer).where(
            Timer.instance_id == instance.id, Timer.status == "waiting", Timer.kind == "date"
        )
    ).all()
    for timer in timers:
        if timer.element_id in at_of:
            timer.due_at = datetime.fromisoformat(at_of[timer.element_id])
            timer.lease_owner, timer.lease_until = None, None
    finish(ctx, instance, definition, workflow)
    case.due_date = due
    ctx.session.flush()


def _utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(timezone.utc).isoformat()


def remedy_rows(session: Any, receivable: str | None = None) -> list[dict[str, Any]]:
    query = select(Remedy, Receivable).join(Receivable, Receivable.id == Remedy.receivable_id)
    if receivable:
        query = query.where(Receivable.key == receivable)
    return [
        {"id": r.id, "receivable": rec.key, "kind": r.kind, "state": r.state,
         "schedule": _describe(r.schedule, rec.currency), "requested_by": r.requested_by,
         "decided_by": r.decided_by or "", "reason": r.reason}
        for r, rec in session.execute(query.order_by(Remedy.id))
    ]  # fmt: skip
