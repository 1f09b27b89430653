"""Aging analysis (账龄分析) as of a day, computed by the database in one query.

A receivable's *days past due* (DPD) on day D counts from the earliest due date whose
principal is still unpaid at the end of D (payments after D are ignored, so a report
for a past day is the same whenever it is run). Its whole outstanding principal goes
into the bucket of its DPD; ``overdue`` is the part actually past its due date.

Rates are by balance: ``overdue_rate`` = outstanding of receivables with DPD ≥ 1 over
all outstanding; ``default_rate`` = outstanding with DPD > ``default_days`` (90 by
default, the usual non-performing line) over all outstanding.

Portability: no date arithmetic in SQL (SQLite and PostgreSQL differ). Bucket edges
are turned into due-date thresholds in Python (DPD ≥ 31 ⇔ oldest due ≤ D − 31), so
the query only compares dates and adds integers, identically on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..inputs import check_day, whole_number
from ..store.collection_tables import Instalment, PaymentAllocation, Receivable
from .money import format_amount

GroupBy = Literal["product", "department", "collector"]
GROUP_COLUMNS = {
    "product": Receivable.product,
    "department": Receivable.department_key,
    "collector": Receivable.collector_key,
}
DEFAULT_EDGES = (30, 60, 90)
# A report of more buckets is unreadable, and a 5,000-edge one took a second to build.
MAX_EDGES = 12
MAX_EDGE_DAYS = 3650
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Bucket:
    label: str
    low: int  # days past due, inclusive
    high: int | None  # inclusive; None = no upper end


# Number formats of the aging's XLSX export (engine.exports.to_xlsx).
XLSX_FORMATS = {"outstanding": "0.00", "overdue": "0.00", "overdue_rate": "0.00%",
                "default_rate": "0.00%"}  # fmt: skip


def buckets(edges: Sequence[int] = DEFAULT_EDGES) -> list[Bucket]:
    """``(30, 60, 90)`` → current, 1-30, 31-60, 61-90, 90+."""
    if not edges or list(edges) != sorted(set(edges)) or edges[0] < 1:
        raise ValidationError("bucket edges must be increasing whole days ≥ 1, e.g. 30,60,90")
    if len(edges) > MAX_EDGES or edges[-1] > MAX_EDGE_DAYS:
        raise ValidationError(
            f"at most {MAX_EDGES} bucket edges, each at most {MAX_EDGE_DAYS} days (ten years)"
        )
    result = [Bucket("current", 0, 0)]
    low = 1
    for edge in edges:
        result.append(Bucket(f"{low}-{edge}", low, edge))
        low = edge + 1
    result.append(Bucket(f"{edges[-1]}+", low, None))
    return result


def parse_edges(text: str) -> tuple[int, ...]:
    """``"30,60,90"`` → ``(30, 60, 90)``; :func:`buckets` checks what they may be."""
    parts = [whole_number(part, 0) for part in text.split(",") if part.strip()]
    edges = tuple(edge for edge in parts if edge is not None)
    if len(edges) != len(parts):
        raise ValidationError(f"bucket edges {text[:50]!r}: whole days separated by commas")
    return edges


@dataclass
class AgingCell:
    count: int = 0
    outstanding_minor: int = 0
    overdue_minor: int = 0


@dataclass
class AgingGroup:
    group: str | None
    cells: dict[str, AgingCell]
    count: int = 0
    outstanding_minor: int = 0
    overdue_balance_minor: int = 0  # outstanding of receivables with DPD >= 1
    default_balance_minor: int = 0  # outstanding of receivables with DPD > default_days

    @property
    def overdue_rate(self) -> Decimal:
        return _rate(self.overdue_balance_minor, self.outstanding_minor)

    @property
    def default_rate(self) -> Decimal:
        return _rate(self.default_balance_minor, self.outstanding_minor)


@dataclass
class AgingReport:
    as_of: date
    currency: str
    by: GroupBy | None
    buckets: list[Bucket]
    default_days: int
    groups: list[AgingGroup] = field(default_factory=list)
    total: AgingGroup | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "by": self.by,
            "default_days": self.default_days,
            "buckets": [b.label for b in self.buckets],
            "groups": [self._group(g) for g in self.groups],
            "total": self._group(self.total) if self.total else None,
        }

    def _group(self, group: AgingGroup) -> dict[str, Any]:
        money = self.currency
        return {
            "group": group.group,
            "count": group.count,
            "outstanding": format_amount(group.outstanding_minor, money),
            "overdue_rate": str(group.overdue_rate),
            "default_rate": str(group.default_rate),
            "buckets": {
                label: {
                    "count": c.count,
                    "outstanding": format_amount(c.outstanding_minor, money),
                    "overdue": format_amount(c.overdue_minor, money),
                }
                for label, c in group.cells.items()
            },
        }

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows (one per group and bucket, then the group's total) for CSV/XLSX."""
        money = self.currency
        out = []
        for group in [*self.groups, *([self.total] if self.total else [])]:
            name = "(all)" if group is self.total else (group.group or "(none)")
            for label, cell in group.cells.items():
                out.append(
                    {
                        "group": name,
                        "bucket": label,
                        "count": cell.count,
                        "outstanding": format_amount(cell.outstanding_minor, money),
                        "overdue": format_amount(cell.overdue_minor, money),
                        "overdue_rate": "",
                        "default_rate": "",
                    }
                )
            out.append(
                {
                    "group": name,
                    "bucket": "total",
                    "count": group.count,
                    "outstanding": format_amount(group.outstanding_minor, money),
                    "overdue": "",
                    "overdue_rate": str(group.overdue_rate),
                    "default_rate": str(group.default_rate),
                }
            )
        return out


def _rate(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0.0000")
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def aging(
    session: Session,
    as_of: date,
    *,
    by: GroupBy | None = None,
    edges: Sequence[int] = DEFAULT_EDGES,
    default_days: int = DEFAULT_DAYS,
    currency: str = "CNY",
    within: ColumnElement[bool] | None = None,
) -> AgingReport:
    """The aging report as of ``as_of``; ``within`` limits it to some receivables (a
    supervisor's team: :func:`engine.collection.listing.scope_of`)."""
    if by is not None and by not in GROUP_COLUMNS:
        raise ValidationError(f"--by {by!r}: one of {', '.join(GROUP_COLUMNS)}")
    if not 0 <= default_days <= MAX_EDGE_DAYS:
        raise ValidationError(f"default days: from 0 to {MAX_EDGE_DAYS}")
    report = AgingReport(as_of, currency.upper(), by, buckets(edges), default_days)
    # The group column and the filters go into the per-receivable aggregate: one pass,
    # which PostgreSQL runs serially. Joined to the receivables afterwards, the aggregate
    # was the inner side of a parallel hash join and every worker computed all of it.
    group_column: ColumnElement[Any] = GROUP_COLUMNS[by] if by else literal("")
    per_receivable = balances(
        as_of,
        group_column.label("grp"),
        where=(
            Receivable.currency == report.currency,
            or_(Receivable.opened_on.is_(None), Receivable.opened_on <= as_of),
            *(() if within is None else (within,)),
        ),
    ).subquery("per_receivable")
    oldest = per_receivable.c.oldest_due
    bucket = _bucket_index(oldest, as_of, report.buckets)
    balance = per_receivable.c.outstanding
    default_line = as_of - timedelta(days=default_days + 1)
    # Classify each receivable in a subquery and group by its columns: PostgreSQL cannot
    # match a CASE with bound parameters in SELECT to the same CASE in GROUP BY.
    classified = (
        select(
            per_receivable.c.grp,
            bucket.label("bucket"),
            balance.label("balance"),
            per_receivable.c.overdue.label("overdue"),
            case((oldest <= default_line, balance), else_=0).label("defaulted"),
        )
        .where(balance > 0)
        .subquery("classified")
    )
    query = select(
        classified.c.grp,
        classified.c.bucket,
        func.count().label("n"),
        func.sum(classified.c.balance),
        func.sum(classified.c.overdue),
        func.sum(classified.c.defaulted),
    ).group_by(classified.c.grp, classified.c.bucket)
    groups: dict[str | None, AgingGroup] = {}
    total = _empty_group(None, report.buckets)
    for grp, index, n, outstanding, overdue, defaulted in session.execute(query):
        name = (grp or None) if by else None
        group = groups.setdefault(name, _empty_group(name, report.buckets))
        label = report.buckets[int(index)].label
        for target in (group, total):
            cell = target.cells[label]
            cell.count += int(n)
            cell.outstanding_minor += int(outstanding)
            cell.overdue_minor += int(overdue)
            target.count += int(n)
            target.outstanding_minor += int(outstanding)
            if int(index) > 0:
                target.overdue_balance_minor += int(outstanding)
            target.default_balance_minor += int(defaulted)
    report.groups = [groups[k] for k in sorted(groups, key=lambda k: (k is None, k or ""))]
    report.total = total
    return report


def _empty_group(name: str | None, bucket_list: list[Bucket]) -> AgingGroup:
    return AgingGroup(name, {b.label: AgingCell() for b in bucket_list})


def balances(
    as_of: date, *columns: ColumnElement[Any], where: Sequence[ColumnElement[bool]] = ()
) -> Select[Any]:
    """Per receivable (those matching ``where``): outstanding principal, overdue
    principal, oldest unpaid due date, and ``columns`` of the receivable.

    Grouped by the receivable's primary key, so its other columns may be selected
    (functionally dependent) without widening the grouping. The sums are cast back to
    BIGINT: PostgreSQL's ``sum(bigint)`` is ``numeric``, and numeric arithmetic over a
    million receivables was most of the report's time there (docs/benchmarks.md).
    ``as_of`` is a collection day (1900–2999): reports count days back from it.
    """
    check_day(as_of, "as_of")
    paid = (
        select(
            PaymentAllocation.instalment_id.label("instalment_id"),
            cast(func.sum(PaymentAllocation.amount_minor), BigInteger).label("paid"),
        )
        .where(PaymentAllocation.component == "principal", PaymentAllocation.paid_on <= as_of)
        .group_by(PaymentAllocation.instalment_id)
        .subquery("paid")
    )
    unpaid = Instalment.principal_minor - func.coalesce(paid.c.paid, 0)
    late = and_(Instalment.due_date < as_of, unpaid > 0)
    return (
        select(
            Receivable.id.label("receivable_id"),
            *columns,
            cast(func.sum(unpaid), BigInteger).label("outstanding"),
            cast(func.sum(case((late, unpaid), else_=0)), BigInteger).label("overdue"),
            func.min(case((late, Instalment.due_date), else_=None)).label("oldest_due"),
        )
        .select_from(Receivable)
        .join(Instalment, Instalment.receivable_id == Receivable.id)
        .outerjoin(paid, paid.c.instalment_id == Instalment.id)
        .where(*where)
        .group_by(Receivable.id)
    )


def _bucket_index(oldest: Any, as_of: date, bucket_list: list[Bucket]) -> Any:
    """The bucket number from the oldest unpaid due date: DPD ≥ low ⇔ due ≤ as_of − low."""
    whens = [(oldest.is_(None), 0)]
    for index in range(len(bucket_list) - 1, 0, -1):
        whens.append((oldest <= as_of - timedelta(days=bucket_list[index].low), index))
    return case(*whens, else_=0)
