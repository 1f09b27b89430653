"""Receivables in the database: loading one as fee arithmetic sees it, and the commands.

Every change is an engine command (one transaction, one ``org``-chain audit event):
:class:`ImportReceivables` writes parsed rows, each in its own savepoint so that a row
the database refuses leaves nothing behind while the good rows are written, and
:class:`RecordPayment` applies a payment in the contract's allocation order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..errors import NotFound, ValidationError, at_field
from ..executor import CommandContext
from ..inputs import check_day
from ..store import Department, Person
from ..store.collection_tables import (
    Customer,
    Instalment,
    Payment,
    PaymentAllocation,
    Receivable,
)
from . import case_events, fees
from .money import format_amount, parse_amount


@dataclass(frozen=True)
class CustomerData:
    key: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    contact_verified_on: date | None = None
    credit_limit_minor: int | None = None
    blacklisted: bool | None = None
    blacklist_reason: str | None = None
    locale: str | None = None
    update_customer: bool = False  # the row may change what is stored (not the blacklist)


@dataclass(frozen=True)
class ReceivableData:
    """One validated import row: a receivable, its schedule and its customer."""

    key: str
    customer: CustomerData
    product: str
    principal_minor: int
    currency: str
    due_date: date
    instalments: tuple[fees.Instalment, ...]
    terms: fees.Terms
    opened_on: date | None = None
    department_key: str | None = None
    collector_key: str | None = None
    guarantee: str = "none"


@dataclass(frozen=True)
class RowResult:
    line: int
    key: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(1 for r in self.rows if r.ok)

    @property
    def failed(self) -> list[RowResult]:
        return [r for r in self.rows if not r.ok]


@dataclass(frozen=True)
class ParsedRow:
    """A CSV line as :mod:`.importing` understood it: the data, or why it is refused."""

    line: int
    key: str | None
    data: ReceivableData | None
    error: str | None = None


# --- loading ------------------------------------------------------------------------------


def terms_of(row: Receivable) -> fees.Terms:
    return fees.Terms(
        grace_days=row.grace_days,
        penalty_rate=Decimal(row.penalty_rate),
        day_count=row.day_count,
        cap_minor=row.penalty_cap_minor,
        rounding=row.rounding,
        allocation_order=fees.parse_order(row.allocation_order),
        carried_minor=row.carried_fees_minor or 0,
        carried_through=row.carried_through,
    )


@dataclass(frozen=True)
class Account:
    """A receivable with its schedule and what has been paid, ready for :mod:`.fees`."""

    receivable: Receivable
    customer: Customer
    terms: fees.Terms
    instalments: list[fees.Instalment]
    paid: list[fees.Paid]
    instalment_ids: dict[int, int]  # seq -> instalment.id

    @property
    def currency(self) -> str:
        return self.receivable.currency

    def owed(self, as_of: date) -> fees.Owed:
        return fees.owed(self.terms, self.instalments, self.paid, as_of)

    def accrual(self, as_of: date, daily: bool = False) -> fees.Accrual:
        paid = [p for p in self.paid if p.paid_on <= as_of]
        return fees.accrue(self.terms, self.instalments, paid, as_of, daily=daily)

    def earliest_unpaid_due(self, as_of: date) -> date | None:
        """The earliest due date (past or future) whose principal is unpaid at the end of
        ``as_of``; ``None`` once every instalment's principal is paid."""
        paid = [p for p in self.paid if p.paid_on <= as_of and p.component == "principal"]
        unpaid = [
            i.due_date
            for i in self.instalments
            if i.principal_minor > sum(p.amount_minor for p in paid if p.seq == i.seq)
        ]
        return min(unpaid) if unpaid else None

    def days_past_due(self, as_of: date) -> int:
        """Days since the earliest due date whose principal is unpaid at the end of ``as_of``."""
        due = self.earliest_unpaid_due(as_of)
        return (as_of - due).days if due is not None and due < as_of else 0


def load_account(session: Session, key: str, *, lock: bool = False) -> Account:
    query = select(Receivable).where(Receivable.key == key)
    if lock:
        query = query.with_for_update()  # PostgreSQL: serialise payments on one receivable
    receivable = session.scalars(query).first()
    if receivable is None:
        raise NotFound(f"no receivable {key!r}")
    customer = session.get_one(Customer, receivable.customer_id)
    rows = session.scalars(
        select(Instalment).where(Instalment.receivable_id == receivable.id).order_by(Instalment.seq)
    ).all()
    seq_of = {row.id: row.seq for row in rows}
    allocations = session.scalars(
        select(PaymentAllocation)
        .where(PaymentAllocation.receivable_id == receivable.id)
        .order_by(PaymentAllocation.paid_on, PaymentAllocation.id)
    ).all()
    return Account(
        receivable=receivable,
        customer=customer,
        terms=terms_of(receivable),
        instalments=[
            fees.Instalment(r.seq, r.due_date, r.principal_minor, r.interest_minor) for r in rows
        ],
        paid=[
            fees.Paid(
                a.component,
                a.amount_minor,
                a.paid_on,
                seq_of.get(a.instalment_id) if a.instalment_id else None,
            )
            for a in allocations
        ],
        instalment_ids={r.seq: r.id for r in rows},
    )


def local_today(ctx: CommandContext) -> date:
    return ctx.now.astimezone(ctx.services.timezone).date()


# --- import -------------------------------------------------------------------------------


class ImportReceivables:
    """Write the good rows of an import; report every row by its line number.

    A row refused by validation (done by the caller), by what the database holds (a
    key that exists already, a department or collector not in the organisation, a
    conflict with the customer) or by the database itself (a constraint) writes nothing
    of itself: each row is written in a savepoint.

    Existing customers are reused. A row may repeat what is stored or fill an empty
    field; it changes a stored value (name, contact data, when verified, locale, credit
    limit) only when its ``update_customer`` column says yes, so that a file from another
    system cannot silently overwrite what collectors rely on. The blacklist flag and
    reason of an existing customer are never changed by an import: blacklisting and
    lifting are decisions (:mod:`.blacklist`), with their own audit trail.
    """

    name = "collection_import"

    def __init__(self, rows: list[ParsedRow], source: str = "") -> None:
        self.rows = rows
        self.source = source

    def __call__(self, ctx: CommandContext) -> ImportReport:
        report = ImportReport()
        seen: set[str] = set()
        for row in self.rows:
            if row.data is None:
                report.rows.append(RowResult(row.line, row.key, row.error or "invalid row"))
                continue
            error = self._write(ctx, row.data, seen)
            report.rows.append(RowResult(row.line, row.data.key, error))
        audit.append(
            ctx,
            "collection.import",
            payload={
                "source": self.source,
                "written": [r.key for r in report.rows if r.ok],
                "failed": [{"line": r.line, "key": r.key, "error": r.error} for r in report.failed],
            },
            chain=audit.COLLECTION,
        )
        return report

    def _write(self, ctx: CommandContext, data: ReceivableData, seen: set[str]) -> str | None:
        if data.key in seen:
            return f"receivable {data.key!r} appears twice in this file"
        seen.add(data.key)
        session = ctx.session
        if session.scalar(select(Receivable.id).where(Receivable.key == data.key)) is not None:
            return f"receivable {data.key!r} exists already"
        unknown = _unknown_org_key(session, data)
        if unknown is not None:
            return unknown
        try:
            with session.begin_nested():
                customer = _upsert_customer(ctx, data.customer, data.currency)
                receivable = _receivable_row(ctx, data, customer)
                session.add(receivable)
                session.flush()
                for inst in data.instalments:
                    session.add(
                        Instalment(
                            receivable_id=receivable.id,
                            seq=inst.seq,
                            due_date=inst.due_date,
                            principal_minor=inst.principal_minor,
                            interest_minor=inst.interest_minor,
                        )
                    )
                session.flush()
        except ValidationError as exc:
            return exc.message
        except (IntegrityError, DataError) as exc:
            return f"refused by the database: {str(exc.orig).strip().splitlines()[0]}"
        return None


def _upsert_customer(ctx: CommandContext, data: CustomerData, currency: str) -> Customer:
    customer = ctx.session.scalars(select(Customer).where(Customer.key == data.key)).first()
    if customer is None:
        if not data.name:
            raise ValidationError(f"customer {data.key!r} is new: customer_name is required")
        customer = Customer(
            key=data.key,
            name=data.name,
            created_at=ctx.now,
            credit_currency=currency,
            blacklisted=bool(data.blacklisted),
        )
        ctx.session.add(customer)
    else:
        if data.credit_limit_minor is not None and currency != customer.credit_currency:
            raise ValidationError(
                f"customer {data.key!r} has its credit limit in {customer.credit_currency}, "
                f"this row is in {currency}: leave credit_limit empty"
            )
        _check_changes(customer, data)
    for name in CUSTOMER_COLUMNS:
        value = getattr(data, name)
        if value is not None:
            setattr(customer, name, value)
    ctx.session.flush()
    return customer


# Customer fields an import row gives, with their CSV column.
CUSTOMER_COLUMNS = {
    "name": "customer_name", "phone": "phone", "email": "email", "address": "address",
    "contact_verified_on": "contact_verified_on", "locale": "locale",
    "credit_limit_minor": "credit_limit", "blacklisted": "blacklisted",
    "blacklist_reason": "blacklist_reason",
}  # fmt: skip
DECIDED = ("blacklisted", "blacklist_reason")  # by blacklist decisions only


def _check_changes(customer: Customer, data: CustomerData) -> None:
    """Refuse a row that would change what is stored about an existing customer, unless
    the row says ``update_customer`` and it is not the blacklist entry."""
    for name, column in CUSTOMER_COLUMNS.items():
        value, stored = getattr(data, name), getattr(customer, name)
        if value is None or stored is None or value == stored:
            continue  # not given, filling an empty field, or the same
        if name not in DECIDED and data.update_customer:
            continue
        was, now = _shown(stored, customer), _shown(value, customer)
        if name in DECIDED:
            # Said to the CLI, the pages and the API alike: no adapter's command in it.
            hint = "blacklisting and lifting are a collection supervisor's decisions, not imports"
        else:
            hint = f"leave {column} empty, or set update_customer to yes to change it"
        raise ValidationError(f"customer {customer.key!r} has {column} {was}, this row "
                              f"{now}: {hint}")  # fmt: skip


def _shown(value: Any, customer: Customer) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return format_amount(value, customer.credit_currency)
    return repr(value.isoformat() if isinstance(value, date) else value)


def _unknown_org_key(session: Session, data: ReceivableData) -> str | None:
    """Receivables are seen by their collector and department (``listing.scope_of``): a
    key the organisation does not know, or a collector who has left (and cannot log in),
    would hide the receivable from everyone but auditors and admins. Named by key only:
    the message goes into the import's audit event, which is not erasable."""
    department, collector = data.department_key, data.collector_key
    if (
        department is not None
        and session.scalar(select(Department.id).where(Department.key == department)) is None
    ):
        return f"department {department!r} is not a department in the organisation"
    if collector is None:
        return None
    active = session.scalar(select(Person.active).where(Person.key == collector))
    if active is None:
        return f"collector {collector!r} is not a person in the organisation"
    if not active:
        return (
            f"collector {collector!r} is no longer active in the organisation: "
            "name an active person"
        )
    return None


def _receivable_row(ctx: CommandContext, data: ReceivableData, customer: Customer) -> Receivable:
    terms = data.terms
    return Receivable(
        key=data.key,
        customer_id=customer.id,
        product=data.product,
        principal_minor=data.principal_minor,
        currency=data.currency,
        due_date=data.due_date,
        opened_on=data.opened_on,
        department_key=data.department_key,
        collector_key=data.collector_key,
        guarantee=data.guarantee,
        grace_days=terms.grace_days,
        penalty_rate=str(terms.penalty_rate),
        day_count=terms.day_count,
        penalty_cap_minor=terms.cap_minor,
        rounding=terms.rounding,
        allocation_order=",".join(terms.allocation_order),
        created_at=ctx.now,
        created_by=ctx.actor,
    )


# --- payments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentResult:
    payment_id: int
    receivable: str
    currency: str
    paid_on: date
    amount_minor: int
    parts: list[fees.Paid]
    owed_after: fees.Owed

    def to_dict(self) -> dict[str, Any]:
        money = self.currency
        return {
            "payment_id": self.payment_id,
            "receivable": self.receivable,
            "paid_on": self.paid_on.isoformat(),
            "amount": format_amount(self.amount_minor, money),
            "currency": money,
            "allocation": [
                {
                    "component": p.component,
                    "instalment": p.seq,
                    "amount": format_amount(p.amount_minor, money),
                }
                for p in self.parts
            ],
            "owed_after": owed_dict(self.owed_after, money),
        }


def owed_dict(owed: fees.Owed, currency: str) -> dict[str, Any]:
    return {
        "as_of": owed.as_of.isoformat(),
        "fees": format_amount(owed.fees, currency),
        "interest": format_amount(owed.interest, currency),
        "principal_due": format_amount(owed.principal_due, currency),
        "principal_outstanding": format_amount(owed.principal_outstanding, currency),
        "total_due": format_amount(owed.total_due, currency),
        "payoff": format_amount(owed.payoff, currency),
    }


class RecordPayment:
    """Record money received on a receivable and apply it in the contract's order.

    Payments must come in date order per receivable: a back-dated payment would change
    how later ones were applied, which the audit trail has already recorded.
    """

    name = "collection_payment"

    def __init__(
        self,
        receivable: str,
        amount: str | Decimal,
        on: date | None = None,
        reference: str | None = None,
    ) -> None:
        self.receivable = receivable
        self.amount = amount
        self.on = on
        self.reference = reference

    def __call__(self, ctx: CommandContext) -> PaymentResult:
        account = load_account(ctx.session, self.receivable, lock=True)
        receivable = account.receivable
        amount = parse_amount(self.amount, receivable.currency)
        reference = (self.reference or "").strip() or None
        if reference is not None and ctx.session.scalar(
            select(Payment.id).where(
                Payment.receivable_id == receivable.id, Payment.reference == reference
            )
        ):
            # The same bank transaction entered twice would be applied twice, for good:
            # payments are never reversed. Checked under the receivable's lock.
            raise at_field("reference", f"a payment with reference {reference!r} is already "
                           f"recorded on {receivable.key}")  # fmt: skip
        today = local_today(ctx)
        on = check_day(self.on, "on") if self.on else today
        if on > today:
            # It would be applied, and the receivable graded, as of a day not yet come;
            # later payments, in date order, could then never be recorded.
            raise at_field("on", f"the payment day {on} is in the future: record it once paid")
        parts = fees.allocate(
            account.terms, account.instalments, account.paid, amount, on, receivable.currency
        )
        payment = Payment(
            receivable_id=receivable.id,
            paid_on=on,
            amount_minor=amount,
            currency=receivable.currency,
            reference=reference,
            recorded_at=ctx.now,
            recorded_by=ctx.actor,
        )
        ctx.session.add(payment)
        ctx.session.flush()
        ctx.session.add_all(
            PaymentAllocation(
                payment_id=payment.id,
                receivable_id=receivable.id,
                instalment_id=account.instalment_ids.get(p.seq) if p.seq else None,
                component=p.component,
                amount_minor=p.amount_minor,
                paid_on=on,
            )
            for p in parts
        )
        after = fees.owed(account.terms, account.instalments, [*account.paid, *parts], on)
        result = PaymentResult(
            payment.id, receivable.key, receivable.currency, on, amount, parts, after
        )
        audit.append(ctx, "collection.payment", payload=result.to_dict(), chain=audit.COLLECTION)
        case_events.payment_received(ctx, receivable, after)
        from .risk import regrade_after_payment  # risk grades from the books: import late

        regrade_after_payment(ctx, receivable, on)
        return result
