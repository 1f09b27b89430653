"""The daily collection job: the worker runs it each morning, ``caseclock collection scan``
runs it by hand. Every step is idempotent, so running it twice on a day changes nothing.

1. Start a ladder case for each receivable entering the courtesy window or overdue
   (:mod:`.cases`), one command per receivable: one bad receivable stops nobody else.
2. Check promises to pay whose day has ended (:mod:`.promises`).
3. For each open case (:class:`CaseDay`): send the debtor the notice of the latest level
   the case has reached by its plan — once per level, under the contact rules — unless
   a promise stands; regrade the receivable by the deployed ``risk_grade`` table
   (:mod:`.risk`: a change is recorded with its day, a downgrade opens a warning
   report); and from the ``restriction`` level on (D+30), propose the customer for the
   blacklist once (:mod:`.blacklist`).
4. Apply the credit-limit rule for repeated lateness (:mod:`.credit`).

Each step for one receivable (and each of the other steps) runs on its own: a failure of
any kind is logged, listed in the day's report and recorded as a ``collection.day_failed``
audit event, and the job goes on with the others.

The notice of a level is sent on the level's day even when the collector's task of an
earlier level is still open: what the debtor is told follows the calendar, what staff
do follows the diagram. Levels passed over (a case started late) are not sent: only
the latest one is, in the wording for the days overdue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from .. import audit
from ..app import CaseClock
from ..errors import CaseClockError
from ..executor import CommandContext
from ..inputs import check_day
from ..store import ProcessInstance
from ..store.ladder_tables import CollectionCase, CollectionNotice
from . import contact, ladder, notices
from .blacklist import propose_from_ladder
from .case_events import open_case
from .cases import StartCollectionCase, candidates
from .credit import ApplyCreditRule
from .money import format_amount
from .promises import CheckPromises, standing_promise
from .receivables import Account, load_account
from .risk import regrade

RESTRICTION = "restriction"  # the ladder level that proposes a blacklisting
MAX_ERROR = 500  # characters of an error kept in the audit event

log = logging.getLogger(__name__)


@dataclass
class DayReport:
    as_of: date
    started: list[str] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    broken: list[int] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # "receivable:level"
    regraded: list[str] = field(default_factory=list)  # "receivable:old→new"
    proposals: list[str] = field(default_factory=list)  # customers proposed for the blacklist
    credit_reduced: list[str] = field(default_factory=list)  # "customer:old→new"
    failed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "as_of": self.as_of.isoformat()}


def run_collection_day(app: CaseClock, as_of: date | None = None) -> DayReport:
    day = check_day(as_of or app.clock.now().astimezone(app.services.timezone).date(), "as_of")
    report = DayReport(day)
    for key in app.read(lambda s: candidates(s, day)):
        start = StartCollectionCase(key, day)
        if _attempt(app, report, key, lambda c=start: app.execute(c, actor="collection")):
            report.started.append(key)
    checked = _attempt(app, report, "promises",
                       lambda: app.execute(CheckPromises(day), actor="collection"))  # fmt: skip
    if checked is not None:
        report.kept, report.broken = checked.kept, checked.broken
    keys = app.read(lambda s: list(s.scalars(_OPEN_CASES)))
    for key in keys:
        _attempt(app, report, key, lambda k=key: _case_day(app, report, k, day))
    reduced = _attempt(app, report, "credit rule",
                       lambda: app.execute(ApplyCreditRule(day), actor="collection"))  # fmt: skip
    for item in reduced or []:
        report.credit_reduced.append(
            f"{item.customer}:{item.to_dict()['old']}→{item.to_dict()['new']}"
        )
    return report


_OPEN_CASES = (
    select(ProcessInstance.business_key)
    .join(CollectionCase, CollectionCase.instance_id == ProcessInstance.id)
    .where(CollectionCase.state == "open", ProcessInstance.state == "running")
    .order_by(CollectionCase.id)
)


def _attempt(app: CaseClock, report: DayReport, key: str, step: Any) -> Any:
    """``step()``, or None when it fails: whatever the failure (a refused command, a bad
    row the arithmetic overflows on, a database error), it is recorded and the job goes
    on with the other receivables."""
    try:
        return step()
    except CaseClockError as exc:
        log.warning("collection job: %s: %s", key, exc.message)
        message = exc.message
    except Exception as exc:  # one bad receivable must not stop the daily run
        log.exception("collection job: %s failed", key)
        message = f"{type(exc).__name__}: {exc}"
    report.failed.append(f"{key}: {message}")
    try:
        app.execute(RecordDayFailure(report.as_of, key, message), actor="collection")
    except Exception:  # the failure is logged above; the run goes on all the same
        log.exception("collection job: could not record the failure of %s", key)
    return None


class RecordDayFailure:
    """A step of the daily job that failed for one receivable (or a whole step, such as
    the credit rule), as an audit event on the collection chain."""

    name = "collection_day_failed"

    def __init__(self, as_of: date, key: str, error: str) -> None:
        self.as_of, self.key, self.error = as_of, key, error[:MAX_ERROR]

    def __call__(self, ctx: CommandContext) -> None:
        audit.append(ctx, "collection.day_failed", payload={
            "as_of": self.as_of.isoformat(), "key": self.key, "error": self.error,
        }, chain=audit.COLLECTION)  # fmt: skip


def _case_day(app: CaseClock, report: DayReport, key: str, day: date) -> None:
    notice, regraded, proposed = app.execute(CaseDay(key, day), actor="collection")
    if notice:
        report.notices.append(f"{key}:{notice}")
    if regraded:
        report.regraded.append(f"{key}:{regraded}")
    if proposed:
        report.proposals.append(proposed)


class CaseDay:
    """One open case on one day: the notice of the level reached, the grade, and the
    blacklist proposal of the restriction level."""

    name = "collection_case_day"

    def __init__(self, receivable: str, as_of: date) -> None:
        self.receivable, self.as_of = receivable, as_of

    def __call__(self, ctx: CommandContext) -> tuple[str | None, str | None, str | None]:
        account = load_account(ctx.session, self.receivable, lock=True)
        case = open_case(ctx, account.receivable.id)
        if case is None:
            return None, None, None
        sent = self._notice(ctx, account, case)
        regraded = regrade(ctx, case, self.receivable, self.as_of, "daily")
        return sent, regraded, self._propose(ctx, account, case)

    def _propose(self, ctx: CommandContext, account: Account, case: CollectionCase) -> str | None:
        """At the restriction level (D+30 by default) the ladder proposes a blacklisting."""
        instance = ctx.session.get_one(ProcessInstance, case.instance_id)
        plan = instance.data.get("ladder") or [lv.to_dict() for lv in ladder.levels(ctx.session)]
        day = next((int(lv["day"]) for lv in plan if lv["level"] == RESTRICTION), None)
        days = account.days_past_due(self.as_of)
        if day is None or days < day or (self.as_of - case.due_date).days < day:
            return None
        row = propose_from_ladder(ctx, account.receivable, account.customer, days, self.as_of)
        return account.customer.key if row is not None else None

    def _notice(self, ctx: CommandContext, account: Account, case: CollectionCase) -> str | None:
        receivable = account.receivable
        owed = account.owed(self.as_of)
        if owed.payoff == 0 or standing_promise(ctx.session, receivable.id, self.as_of):
            return None
        level = _level_reached(ctx, case, self.as_of)
        if level is None:
            return None
        already = ctx.session.scalar(
            select(CollectionNotice.id).where(
                CollectionNotice.receivable_id == receivable.id,
                CollectionNotice.level == level["level"],
            )
        )
        if already:
            return None
        from_due = (self.as_of - case.due_date).days
        days_overdue = account.days_past_due(self.as_of)
        values = {
            "debtor_name": account.customer.name, "receivable": receivable.key,
            "amount": format_amount(owed.payoff, receivable.currency),
            "currency": receivable.currency, "due_date": case.due_date.isoformat(),
            "days_overdue": days_overdue, "as_of": self.as_of.isoformat(),
            "penalty": format_amount(account.accrual(self.as_of).total_minor, receivable.currency),
        }  # fmt: skip
        kind, locale = notices.kind_for(from_due), account.customer.locale
        notice = notices.render(kind, values, locale, notices.edited(ctx))
        contact.send_debtor_notice(
            ctx, receivable, account.customer, level["level"], level["channel"], notice, values,
            days_overdue,
        )  # fmt: skip
        return str(level["level"])


def _level_reached(ctx: CommandContext, case: CollectionCase, as_of: date) -> dict[str, Any] | None:
    """The latest notice level of the case's plan (as it started) whose day has come."""
    instance = ctx.session.get_one(ProcessInstance, case.instance_id)
    plan = instance.data.get("ladder") or [lv.to_dict() for lv in ladder.levels(ctx.session)]
    reached = [
        lv
        for lv in plan
        if lv["channel"] in ladder.NOTICE_CHANNELS
        and case.due_date + timedelta(days=int(lv["day"])) <= as_of
    ]
    return max(reached, key=lambda lv: int(lv["day"])) if reached else None
