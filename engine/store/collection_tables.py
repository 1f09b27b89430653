"""Customers, receivables, contract terms, instalments and payments (催收 data), and two
records of supervisors' decisions on a customer: lifting a blacklist entry
(:class:`BlacklistLift`) and restoring a credit limit the rule reduced
(:class:`CreditLimitRestore`).

Money is always an integer count of the currency's minor unit (分 for CNY) in a
BIGINT column, suffixed ``_minor``: SQLite's ``Numeric`` is a float underneath and
loses cents at 10^16, and a SQL ``SUM`` of integers is exact on every database.
Python code turns them into :class:`~decimal.Decimal` via :mod:`engine.collection.money`.

The penalty rate is an exact decimal *string* (``"0.0005"`` = 万分之五 a day, or an
annual rate for ``act/360``/``act/365``): contracts state rates with any number of
decimals (18%/365 has no finite decimal, 万分之五 is 5 basis points *per day*), so a
fixed integer unit (bp, ppm) would either lose digits or invite unit mix-ups. It is
read with :class:`~decimal.Decimal` only and validated on import.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, key_str, pk, short_str

PRODUCTS = ("loan", "credit_card", "trade_receivable")


class Customer(Base):
    """A debtor; shared by every department (the blacklist is one list for all)."""

    __tablename__ = "customer"

    id: Mapped[pk]
    key: Mapped[key_str] = mapped_column(unique=True)
    name: Mapped[short_str]
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    # When someone last confirmed the contact data is still right (keep it current).
    contact_verified_on: Mapped[date | None] = mapped_column(Date)
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    credit_currency: Mapped[str] = mapped_column(String(3), default="CNY")
    blacklisted: Mapped[bool] = mapped_column(default=False)
    blacklist_reason: Mapped[str | None] = mapped_column(String(300))
    # The language of the debtor's notices and letters (zh-CN or en).
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN", server_default="zh-CN")
    created_at: Mapped[datetime]


class Receivable(Base):
    """A loan, card balance or trade receivable, with the fee clauses of its contract."""

    __tablename__ = "receivable"
    __table_args__ = (
        CheckConstraint("principal_minor > 0", name="principal_positive"),
        CheckConstraint("grace_days >= 0", name="grace_days_nonnegative"),
        Index(None, "product"),
        Index(None, "department_key"),
        Index(None, "collector_key"),
    )

    id: Mapped[pk]
    key: Mapped[key_str] = mapped_column(unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    product: Mapped[str] = mapped_column(String(20))  # one of PRODUCTS
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The single due date, or the last instalment's when there is a schedule.
    due_date: Mapped[date] = mapped_column(Date)
    opened_on: Mapped[date | None] = mapped_column(Date)
    # Keys of org rows (department.key, person.key), kept as text: receivables are
    # imported from other systems before every collector has an account here.
    department_key: Mapped[str | None] = mapped_column(String(100))
    collector_key: Mapped[str | None] = mapped_column(String(100))
    guarantee: Mapped[str] = mapped_column(String(20), default="none")
    # --- contract terms (engine.collection.fees.Terms) ---
    grace_days: Mapped[int] = mapped_column(default=0)
    penalty_rate: Mapped[str] = mapped_column(String(40), default="0")
    day_count: Mapped[str] = mapped_column(String(10), default="daily")
    penalty_cap_minor: Mapped[int | None] = mapped_column(BigInteger)
    rounding: Mapped[str] = mapped_column(String(12), default="half_up")
    allocation_order: Mapped[str] = mapped_column(String(60), default="fees,interest,principal")
    # Penalty accrued under schedules replaced by a remedy; it counts towards the cap.
    carried_fees_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The last day that carried penalty covers: penalty accrues again from the day after.
    carried_through: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by: Mapped[key_str]


class Instalment(Base):
    """One row of the repayment schedule; a receivable without a schedule has one."""

    __tablename__ = "instalment"
    __table_args__ = (UniqueConstraint("receivable_id", "seq"), Index(None, "due_date"))

    id: Mapped[pk]
    receivable_id: Mapped[int] = mapped_column(BigId, ForeignKey("receivable.id"))
    seq: Mapped[int]
    due_date: Mapped[date] = mapped_column(Date)
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    interest_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class Payment(Base):
    """Money received; how it was applied is in :class:`PaymentAllocation`."""

    __tablename__ = "payment"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[pk]
    receivable_id: Mapped[int] = mapped_column(BigId, ForeignKey("receivable.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[key_str]


class PaymentAllocation(Base):
    """The part of a payment applied to fees, or to an instalment's interest or principal.

    Written once, when the payment is recorded, in the contract's order; ``paid_on``
    is copied from the payment so that "as of" queries (aging) need no join.
    """

    __tablename__ = "payment_allocation"
    __table_args__ = (
        Index(None, "receivable_id", "component", "paid_on"),
        Index(None, "instalment_id", "component", "paid_on"),
    )

    id: Mapped[pk]
    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("payment.id"))
    receivable_id: Mapped[int] = mapped_column(BigId, ForeignKey("receivable.id"))
    instalment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("instalment.id"))
    component: Mapped[str] = mapped_column(String(12))  # fees | interest | principal
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)


class BlacklistLift(Base):
    """A request to take a customer off the blacklist, and the supervisor's decision."""

    __tablename__ = "blacklist_lift"
    __table_args__ = (Index(None, "customer_id", "state"),)

    id: Mapped[pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"))
    reason: Mapped[short_str]
    # The blacklist entry lifted (customer.blacklist_reason when it was requested).
    entry: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20), default="requested")  # |approved|refused
    requested_by: Mapped[key_str]
    requested_at: Mapped[datetime]
    requested_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(300))


class CreditLimitRestore(Base):
    """A credit limit reduced by the rule (``credit_limit_change``) put back, by whom and why."""

    __tablename__ = "credit_limit_restore"

    id: Mapped[pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    # A reduction is restored at most once.
    change_id: Mapped[int] = mapped_column(BigId, ForeignKey("credit_limit_change.id"), unique=True)
    restored_on: Mapped[date] = mapped_column(Date)
    old_minor: Mapped[int] = mapped_column(BigInteger)  # the reduced limit
    new_minor: Mapped[int] = mapped_column(BigInteger)  # the limit before the reduction
    reason: Mapped[short_str]
    restored_by: Mapped[key_str]
    restored_at: Mapped[datetime]
