"""Receivables for people: who may see which, a filtered page of them, and one in full.

**Who sees which receivable** (:func:`scope_of`): auditors and admins see all (read-only
for auditors); a collector (staff) sees the receivables where they are the collector; a
supervisor those of the departments they or anyone below them head (and the
departments under those), and those whose collector is below them. Anyone else sees
none. The web pages and the JSON API apply this one rule.

The list is computed by the database with the aging report's per-receivable query
(:func:`.aging.balances`), so days past due mean the same in both and no
receivable is loaded into Python to be filtered or sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session

from .. import queries
from ..accounts import Principal
from ..errors import Forbidden, NotFound, at_field
from ..inputs import whole_number
from ..store import Department, Person
from ..store.collection_tables import PRODUCTS, Customer, Payment, PaymentAllocation, Receivable
from ..store.ladder_tables import CollectionCase, PromiseToPay
from .aging import balances
from .contact import notice_rows
from .grading import GRADES
from .money import format_amount
from .promises import broken_promises
from .receivables import load_account, owed_dict
from .remedies import remedy_rows

# Roles that read every receivable.
READ_ALL = ("auditor", "admin")
PER_PAGE = 25
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Scope:
    """The receivables a person may see: all, or those of these collectors or departments."""

    everything: bool = False
    collectors: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()

    def condition(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        if not (self.collectors or self.departments):
            return false()
        return or_(
            Receivable.collector_key.in_(sorted(self.collectors)),
            Receivable.department_key.in_(sorted(self.departments)),
        )


def scope_of(session: Session, user: Principal) -> Scope:
    if user.has(*READ_ALL):
        return Scope(everything=True)
    collectors: set[str] = set()
    departments: set[str] = set()
    if user.has("staff"):
        collectors.add(user.key)
    if user.has("supervisor") and session.scalar(select(Person.id).where(Person.key == user.key)):
        team = queries.below(session, user.key)
        collectors.update(team)
        departments.update(_departments_headed(session, [user.key, *team]))
    return Scope(collectors=frozenset(collectors), departments=frozenset(departments))


def _departments_headed(session: Session, people: Sequence[str]) -> set[str]:
    """The departments these people head, and every department under those."""
    rows = session.execute(
        select(Department.id, Department.key, Department.parent_id, Person.key).outerjoin(
            Person, Person.id == Department.head_id
        )
    ).all()
    children: dict[int | None, list[int]] = {}
    for dept_id, _, parent, _ in rows:
        children.setdefault(parent, []).append(dept_id)
    keys = {dept_id: key for dept_id, key, _, _ in rows}
    todo = [dept_id for dept_id, _, _, head in rows if head in people]
    found: set[int] = set()
    while todo:
        dept_id = todo.pop()
        if dept_id not in found:
            found.add(dept_id)
            todo.extend(children.get(dept_id, []))
    return {keys[d] for d in found}


def visible_receivable(session: Session, key: str, user: Principal) -> Receivable:
    """The receivable if ``user`` may see it: 404 when there is none, else 403 when not
    theirs (a collector cannot open another collector's receivable)."""
    receivable = session.scalars(select(Receivable).where(Receivable.key == key)).first()
    if receivable is None:
        raise NotFound(f"no receivable {key!r}")
    scope = scope_of(session, user).condition()
    allowed = session.scalar(select(Receivable.id).where(Receivable.id == receivable.id, scope))
    if allowed is None:
        raise Forbidden(f"receivable {key!r} is not one you may see")
    return receivable


def visible_keys(session: Session, scope: Scope) -> list[str]:
    return list(session.scalars(select(Receivable.key).where(scope.condition())))


# --- the list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivableFilter:
    product: str | None = None
    department: str | None = None
    collector: str | None = None
    grade: str | None = None
    overdue: bool | None = None  # True: past due on the day; False: not past due
    page: int = 1
    per_page: int = PER_PAGE

    def args(self) -> dict[str, str]:
        """The filter as query-string values (for links to other pages of the list)."""
        values = {
            "product": self.product, "department": self.department,
            "collector": self.collector, "grade": self.grade,
            "overdue": None if self.overdue is None else ("yes" if self.overdue else "no"),
        }  # fmt: skip
        return {k: v for k, v in values.items() if v}


def parse_filter(args: Any) -> ReceivableFilter:
    """A filter from query-string values; bad values are errors naming the field."""

    def text(name: str) -> str | None:
        value = args.get(name)
        return value.strip()[:100] or None if isinstance(value, str) else None

    def number(name: str, default: int, top: int) -> int:
        raw = text(name)
        if raw is None:
            return default
        value = whole_number(raw)
        if value is None or not 1 <= value <= top:
            raise at_field(name, f"{name} must be a whole number from 1 to {top}")
        return value

    product, grade, overdue = text("product"), text("grade"), text("overdue")
    if product is not None and product not in PRODUCTS:
        raise at_field("product", f"product: one of {', '.join(PRODUCTS)}")
    if grade is not None and grade not in GRADES:
        raise at_field("grade", f"grade: one of {', '.join(GRADES)}")
    if overdue not in (None, "yes", "no"):
        raise at_field("overdue", "overdue: yes or no")
    return ReceivableFilter(
        product=product, department=text("department"), collector=text("collector"),
        grade=grade, overdue=None if overdue is None else overdue == "yes",
        page=number("page", 1, 1_000_000), per_page=number("per_page", PER_PAGE, MAX_PER_PAGE),
    )  # fmt: skip


def receivable_page(
    session: Session, as_of: date, chosen: ReceivableFilter, scope: Scope
) -> dict[str, Any]:
    """One page of the receivables in ``scope``, most days past due first."""
    per = balances(as_of).subquery("per")
    query = (
        select(
            Receivable.key, Receivable.product, Receivable.department_key,
            Receivable.collector_key, Receivable.currency, Customer.name,
            Customer.blacklisted, func.coalesce(per.c.outstanding, 0),
            func.coalesce(per.c.overdue, 0), per.c.oldest_due, CollectionCase.grade,
            CollectionCase.instance_id,
        )
        .join(Customer, Customer.id == Receivable.customer_id)
        .outerjoin(per, per.c.receivable_id == Receivable.id)
        .outerjoin(CollectionCase, CollectionCase.receivable_id == Receivable.id)
        .where(scope.condition(), *_conditions(chosen, per))
    )  # fmt: skip
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(per.c.oldest_due.is_(None), per.c.oldest_due, Receivable.key)
        .limit(chosen.per_page)
        .offset((chosen.page - 1) * chosen.per_page)
    )
    return {
        "as_of": as_of.isoformat(), "page": chosen.page, "per_page": chosen.per_page,
        "total": total, "pages": max(1, -(-total // chosen.per_page)),
        "rows": [
            {"key": key, "customer": name, "blacklisted": bool(black), "product": product,
             "department": dept, "collector": collector, "currency": money,
             "outstanding": format_amount(int(outstanding), money),
             "overdue": format_amount(int(overdue), money),
             "days_past_due": (as_of - oldest).days if oldest else 0,
             "grade": grade, "case": case}
            for key, product, dept, collector, money, name, black, outstanding, overdue,
            oldest, grade, case in rows
        ],
    }  # fmt: skip


def _conditions(chosen: ReceivableFilter, per: Any) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if chosen.product:
        found.append(Receivable.product == chosen.product)
    if chosen.department:
        found.append(Receivable.department_key == chosen.department)
    if chosen.collector:
        found.append(Receivable.collector_key == chosen.collector)
    if chosen.grade:
        found.append(CollectionCase.grade == chosen.grade)
    if chosen.overdue is True:
        found.append(per.c.oldest_due.is_not(None))
    elif chosen.overdue is False:
        found.append(per.c.oldest_due.is_(None))
    return found


# --- one receivable -----------------------------------------------------------------------


def receivable_detail(
    session: Session, key: str, as_of: date, tz: tzinfo, daily: bool = False
) -> dict[str, Any]:
    """Everything the receivable page shows, as of a day; ``daily`` adds the penalty day
    by day."""
    account = load_account(session, key)
    receivable, customer, terms = account.receivable, account.customer, account.terms
    money = receivable.currency
    accrual = account.accrual(as_of, daily=daily)
    case = session.scalars(
        select(CollectionCase).where(CollectionCase.receivable_id == receivable.id)
    ).first()
    return {
        "key": receivable.key, "as_of": as_of.isoformat(), "currency": money,
        "product": receivable.product, "department": receivable.department_key,
        "collector": receivable.collector_key, "guarantee": receivable.guarantee,
        "principal": format_amount(receivable.principal_minor, money),
        "due_date": receivable.due_date.isoformat(),
        "opened_on": receivable.opened_on.isoformat() if receivable.opened_on else None,
        "days_past_due": account.days_past_due(as_of),
        "customer": {
            "key": customer.key, "name": customer.name, "phone": customer.phone,
            "email": customer.email, "address": customer.address,
            "contact_verified_on": _iso(customer.contact_verified_on),
            "blacklisted": customer.blacklisted, "blacklist_reason": customer.blacklist_reason,
            "credit_limit": (format_amount(customer.credit_limit_minor, customer.credit_currency)
                             if customer.credit_limit_minor is not None else None),
            "credit_currency": customer.credit_currency,
            "broken_promises": broken_promises(session, customer.id),
        },
        "terms": {
            "grace_days": terms.grace_days, "penalty_rate": str(terms.penalty_rate),
            "day_count": terms.day_count, "rounding": terms.rounding,
            "cap": format_amount(terms.cap_minor, money) if terms.cap_minor is not None else None,
            "allocation_order": list(terms.allocation_order),
            "carried_fees": format_amount(terms.carried_minor, money),
        },
        "schedule": [
            {"seq": i.seq, "due_date": i.due_date.isoformat(),
             "principal": format_amount(i.principal_minor, money),
             "interest": format_amount(i.interest_minor, money),
             "principal_paid": format_amount(_paid(account.paid, i.seq, "principal", as_of),
                                             money),
             "interest_paid": format_amount(_paid(account.paid, i.seq, "interest", as_of),
                                            money)}
            for i in account.instalments
        ],
        "owed": owed_dict(account.owed(as_of), money),
        "fees": {
            "accrued": format_amount(accrual.total_minor, money),
            "capped_on": _iso(accrual.capped_on),
            "days": [
                {"day": d.day.isoformat(), "base": format_amount(d.base_minor, money),
                 "amount": format_amount(d.amount_minor, money),
                 "total": format_amount(d.total_minor, money), "capped": d.capped}
                for d in accrual.days
            ],
        },
        "payments": _payments(session, receivable.id, money),
        "promises": _promises(session, receivable.id, money),
        "notices": notice_rows(session, key, tz),
        "remedies": remedy_rows(session, key),
        "case": None if case is None else {
            "instance_id": case.instance_id, "state": case.state, "grade": case.grade,
            "graded_on": _iso(case.graded_on), "due_date": case.due_date.isoformat(),
        },
    }  # fmt: skip


def _paid(paid: Sequence[Any], seq: int, component: str, as_of: date) -> int:
    return sum(
        p.amount_minor
        for p in paid
        if p.seq == seq and p.component == component and p.paid_on <= as_of
    )


def _payments(session: Session, receivable_id: int, money: str) -> list[dict[str, Any]]:
    payments = session.scalars(
        select(Payment).where(Payment.receivable_id == receivable_id).order_by(Payment.id)
    ).all()
    parts: dict[int, list[dict[str, Any]]] = {}
    for part in session.scalars(
        select(PaymentAllocation)
        .where(PaymentAllocation.receivable_id == receivable_id)
        .order_by(PaymentAllocation.id)
    ):
        parts.setdefault(part.payment_id, []).append(
            {"component": part.component, "amount": format_amount(part.amount_minor, money)}
        )
    return [
        {"id": p.id, "paid_on": p.paid_on.isoformat(), "amount": format_amount(p.amount_minor,
         money), "reference": p.reference, "recorded_by": p.recorded_by,
         "allocation": parts.get(p.id, [])}
        for p in payments
    ]  # fmt: skip


def _promises(session: Session, receivable_id: int, money: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PromiseToPay)
        .where(PromiseToPay.receivable_id == receivable_id)
        .order_by(PromiseToPay.id)
    )
    return [
        {"id": p.id, "amount": format_amount(p.amount_minor, money),
         "promised_on": p.promised_on.isoformat(), "made_on": p.made_on.isoformat(),
         "outcome": p.outcome, "recorded_by": p.recorded_by}
        for p in rows
    ]  # fmt: skip


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
