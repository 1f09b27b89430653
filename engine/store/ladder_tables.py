"""The collection ladder (催收阶梯) and what running it leaves behind.

* :class:`LadderLevel`: the configurable rungs — offset in days from the due date,
  channel, responsible group and task time limit. Administrators edit these rows
  (``caseclock collection ladder set``); the diagram reads the instants computed from
  them when a case starts, so a change needs no code and no new diagram.
* :class:`CollectionCase`: at most one ladder case per receivable (the daily scan
  starts it once), with the last risk grade seen by the daily regrading.
* :class:`PromiseToPay`: a debtor's promise (承诺还款) and how it ended.
* :class:`CollectionNotice`: every notice to a debtor, once per receivable and level,
  with when the contact rules let it leave and why it was held.
* :class:`Remedy`: a deferral or instalment plan, requested and decided.
* :class:`BlacklistProposal`, :class:`CreditRule`, :class:`CreditLimitChange`: the
  blacklist's audit trail and the credit-limit rule with what it did.
* :class:`GradeChange`: the risk grade history (distribution and migration reports).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, key_str, pk, short_str


class LadderLevel(Base):
    __tablename__ = "collection_ladder_level"

    id: Mapped[pk]
    level: Mapped[key_str] = mapped_column(unique=True)  # courtesy, sms, call, …
    day: Mapped[int]  # days relative to the due date: -3 is three days before it
    action: Mapped[short_str]  # what happens, for people (短信提醒, 电话催收, …)
    # The diagram element the level drives; fixed by the shipped diagram.
    step: Mapped[key_str]
    channel: Mapped[str] = mapped_column(String(20))  # sms | email | letter | phone | none
    role: Mapped[key_str]  # the group responsible (candidate group of the step's task)
    sla_limit: Mapped[str | None] = mapped_column(String(100))  # the task's time limit
    updated_at: Mapped[datetime]
    updated_by: Mapped[key_str]


class CollectionCase(Base):
    __tablename__ = "collection_case"

    id: Mapped[pk]
    receivable_id: Mapped[int] = mapped_column(BigId, ForeignKey("receivable.id"), unique=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"))
    # The due date the ladder counts from (the earliest unpaid instalment's).
    due_date: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | settled
    closed_at: Mapped[datetime | None]
    grade: Mapped[str | None] = mapped_column(String(10))
    graded_on: Mapped[date | None] = mapped_column(Date)


class PromiseToPay(Base):
    __tablename__ = "collection_promise"
    __table_args__ = (Index(None, "outcome", "promised_on"),)

    id: Mapped[pk]
    receivable_id: Mapped[int] = mapped_column(BigId, ForeignKey("receivable.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    promised_on: Mapped[date] = mapped_column(Date)
    made_on: Mapped[date] = mapped_column(Date)  # payments from this day on count
    outcome: Mapped[str] = mapped_column(String(10), default="pending")  # pending|kept|broken
    checked_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[key_str]


class CollectionNotice(Base):
    __tablename__ = "collection_notice"
    __table_args__ = (
        UniqueConstraint("receivable_id", "level"),
        Index(None, "customer_id", "send_at"),
    )

    id: Mapped[pk]
    receivable_id: Mapped[int] = mapped_column(BigId, ForeignKey("receivable.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"))
    level: Mapped[key_str]
    kind: Mapped[key_str]  # the template
    channel: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10))
    days_overdue: Mapped[int]
    # None when no verified contact of the debtor's own was known: nothing was sent.
    recipient: Mapped[str | None] = mapped_column(String(200))
    outbox_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("outbox.id"))
    created_at: Mapped[datetime]
    send_at: Mapped[datetime | None]  # when the contact rules let it leave
    held_reason: Mapped[str | None] = mapped_column(String(300))
    # What the template was filled with: a letter prints again exactly as it was sent.
    filled_with: Mapped[dict[str, Any]]


class Remedy(Base):
    """A deferral or instalment plan (展期 / 分期) requested by a collector and decided by
    a collection supervisor (the requester's superior); approval replaces the schedule."""

    __tablename__ = "collection_remedy"
    __table_args__ = (Index(None, "receivable_id", "state"),)

    id: Mapped[pk]
    receivable_id: Mapped[int] = mapped_column(BigId, ForeignKey("receivable.id"))
    kind: Mapped[str] = mapped_column(String(20))  # deferral | instalments
    # The new schedule for what is unpaid: [{"due_date", "principal_minor", "interest_minor"}].
    schedule: Mapped[list[Any]]
    reason: Mapped[short_str]
    state: Mapped[str] = mapped_column(String(20), default="requested")  # |approved|refused
    requested_by: Mapped[key_str]
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decided_on: Mapped[date | None] = mapped_column(Date)  # the business day it applied
    note: Mapped[str | None] = mapped_column(String(300))


class BlacklistProposal(Base):
    """A proposal to blacklist a customer (one list for every department), and its decision."""

    __tablename__ = "blacklist_proposal"
    __table_args__ = (Index(None, "customer_id", "state"),)

    id: Mapped[pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"))
    receivable_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("receivable.id"))
    source: Mapped[str] = mapped_column(String(20))  # ladder (automatic) | collector
    reason: Mapped[short_str]
    state: Mapped[str] = mapped_column(String(20), default="proposed")  # |approved|refused
    proposed_by: Mapped[key_str]
    proposed_at: Mapped[datetime]
    proposed_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(300))


class CreditRule(Base):
    """The credit-limit reduction rule: at least ``breaches`` lateness events within
    ``months`` months reduce the limit by ``percent`` (an exact decimal string)."""

    __tablename__ = "collection_credit_rule"

    id: Mapped[pk]
    breaches: Mapped[int]
    months: Mapped[int]
    percent: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime]
    updated_by: Mapped[key_str]


class CreditLimitChange(Base):
    """A credit limit reduced by the rule (recorded with the figures it was based on)."""

    __tablename__ = "credit_limit_change"
    __table_args__ = (Index(None, "customer_id", "applied_on"),)

    id: Mapped[pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"))
    applied_on: Mapped[date] = mapped_column(Date)
    old_minor: Mapped[int] = mapped_column(BigInteger)
    new_minor: Mapped[int] = mapped_column(BigInteger)
    breaches: Mapped[int]
    rule: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class GradeChange(Base):
    """Every change of a receivable's risk grade, with its day: the migration matrix and
    the distribution on any day are computed from these rows."""

    __tablename__ = "risk_grade_change"
    __table_args__ = (Index(None, "receivable_id", "graded_on"), Index(None, "graded_on"))

    id: Mapped[pk]
    receivable_id: Mapped[int] = mapped_column(BigId, ForeignKey("receivable.id"))
    graded_on: Mapped[date] = mapped_column(Date)
    old_grade: Mapped[str | None] = mapped_column(String(10))
    new_grade: Mapped[str] = mapped_column(String(10))
    days_past_due: Mapped[int]
    # The risk_warning process started for a downgrade.
    warning_instance_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("process_instance.id")
    )
    recorded_at: Mapped[datetime]
