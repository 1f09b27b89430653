"""Typed ORM models: the whole persistent state of CaseClock.

Runtime rows (``ProcessInstance``, ``Task``, ``Timer``, ``MessageSubscription``) are
projections kept in step with the SpiffWorkflow state by the command that changes it.
``AuditEvent`` and ``OutboxMessage`` are append-only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, key_str, pk, short_str

# --- organisation -------------------------------------------------------------------


class Department(Base):
    __tablename__ = "department"

    id: Mapped[pk]
    key: Mapped[key_str] = mapped_column(unique=True)
    name: Mapped[short_str]
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("department.id"))
    head_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("person.id", use_alter=True, name="fk_department_head_id_person")
    )
    # The department's group chat robot (WeCom/DingTalk): breaches are posted there too.
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_format: Mapped[str | None] = mapped_column(String(20))  # plain|wecom|dingtalk


class Person(Base):
    __tablename__ = "person"

    id: Mapped[pk]
    key: Mapped[key_str] = mapped_column(unique=True)
    name: Mapped[short_str]
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    department_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("department.id"))
    superior_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("person.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Warnings by e-mail gathered into one daily digest instead of one mail each.
    digest: Mapped[bool] = mapped_column(default=False)
    # The language of their notices (engine.notices.LOCALES).
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN", server_default="zh-CN")

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])


class Group(Base):
    """A role or team; candidate groups and lanes resolve to these by key or name."""

    __tablename__ = "org_group"

    id: Mapped[pk]
    key: Mapped[key_str] = mapped_column(unique=True)
    name: Mapped[short_str]
    # The department that answers for the group's unclaimed work.
    department_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("department.id"))


class GroupMember(Base):
    __tablename__ = "group_member"
    __table_args__ = (UniqueConstraint("group_id", "person_id"),)

    id: Mapped[pk]
    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_group.id"))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))


# --- definitions -------------------------------------------------------------------


class Deployment(Base):
    """One deploy call: the exact files as uploaded, kept for audit and re-parsing."""

    __tablename__ = "deployment"

    id: Mapped[pk]
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[key_str]
    resources: Mapped[list[DeploymentResource]] = relationship(
        back_populates="deployment", order_by="DeploymentResource.id"
    )


class DeploymentResource(Base):
    __tablename__ = "deployment_resource"

    id: Mapped[pk]
    deployment_id: Mapped[int] = mapped_column(BigId, ForeignKey("deployment.id"))
    name: Mapped[short_str]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    deployment: Mapped[Deployment] = relationship(back_populates="resources")


class Definition(Base):
    """One version of one executable process."""

    __tablename__ = "definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[pk]
    key: Mapped[key_str]
    version: Mapped[int]
    name: Mapped[short_str]
    content_hash: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(BigId, ForeignKey("deployment.id"))
    # SpiffWorkflow's serialized spec (process + called/embedded subprocess specs),
    # stored once per version so instance rows carry only their own state.
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    # What CaseClock reads from the XML beyond SpiffWorkflow: per user task its
    # candidate groups, assignee expression and form fields; per timer its text.
    meta: Mapped[dict[str, Any]]
    deployed_at: Mapped[datetime]


# --- runtime -----------------------------------------------------------------------


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (Index(None, "business_key"), Index(None, "state"))

    id: Mapped[pk]
    definition_id: Mapped[int] = mapped_column(BigId, ForeignKey("definition.id"))
    business_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # running | completed | error
    # Optimistic counter: bumped by every command; a cached workflow is reused only
    # while its version matches.
    version: Mapped[int] = mapped_column(default=0)
    # Deferred: most commands find the workflow in the in-process cache.
    workflow_state: Mapped[str] = mapped_column(Text, deferred=True)
    data: Mapped[dict[str, Any]]
    started_at: Mapped[datetime]
    started_by: Mapped[key_str]
    ended_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The case-level limit (整体时限), when the diagram sets one.
    due_at: Mapped[datetime | None]
    # Head of this instance's audit chain, kept on the row every command already locks.
    audit_seq: Mapped[int] = mapped_column(default=0)
    audit_hash: Mapped[str] = mapped_column(String(64), default="0" * 64)

    definition: Mapped[Definition] = relationship()


# Tasks a group's members claim from the pool: BPMN user tasks and 协办 requests.
POOL_KINDS = ("user", "assist")


class Task(Base):
    """Projection of a user task: the inbox reads this, never the workflow."""

    __tablename__ = "task"
    __table_args__ = (
        Index(None, "instance_id", "state"),
        # The inbox walks open tasks in deadline order until its page is full: what one
        # person holds, and (the group pool) all open tasks.
        Index(None, "assignee", "state", "due_at", "id"),
        Index(None, "state", "due_at", "id"),
        UniqueConstraint("spiff_task_id"),
    )

    id: Mapped[pk]
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[key_str]
    name: Mapped[short_str]
    lane: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # open | completed | cancelled
    assignee: Mapped[str | None] = mapped_column(String(100))
    # Camunda delegation: the owner keeps the task while the delegate works on it.
    owner: Mapped[str | None] = mapped_column(String(100))
    delegation_state: Mapped[str | None] = mapped_column(String(20))  # pending | resolved
    candidate_groups: Mapped[list[Any]]
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    # SLA clock (engine.sla): the limit and policy in force when the task opened, the
    # calendar it is measured in, the current deadline and first pending warning.
    sla_limit: Mapped[str | None] = mapped_column(String(100))
    sla_policy: Mapped[str | None] = mapped_column(String(200))
    calendar_name: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    sla_warnings: Mapped[list[Any] | None]
    sla_on_deadline: Mapped[str | None] = mapped_column(String(20))  # notify | chase
    # e.g. "no official calendar for 2027 yet": the deadline used weekends + overrides only.
    sla_note: Mapped[str | None] = mapped_column(Text)
    # "user": a BPMN user task; "chase": a 催办 task for a superior (engine.chase), which
    # belongs to the late task ``chase_of_id`` and has no SpiffWorkflow counterpart.
    kind: Mapped[str] = mapped_column(String(20), default="user")
    chase_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("task.id"))
    chase_level: Mapped[int | None]
    # "assist": a 协办 request to another department's group about task ``assists_id``
    # (engine.assistance), with its own clock, chased in that department's chain.
    assists_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("task.id"))
    outcome: Mapped[str | None] = mapped_column(String(200))
    # Working time the clock was stopped (补正) or extended (延期) by: with the start,
    # limit, warnings and calendar, they determine every instant of the clock.
    paused_seconds: Mapped[int] = mapped_column(default=0)
    extended_seconds: Mapped[int] = mapped_column(default=0)

    instance: Mapped[ProcessInstance] = relationship()
    candidate_group_rows: Mapped[list[TaskCandidateGroup]] = relationship(
        cascade="all, delete-orphan"
    )


class TaskCandidateGroup(Base):
    """One row per (open task, group) so that group inbox queries use an index."""

    __tablename__ = "task_candidate_group"
    __table_args__ = (Index(None, "group_key"),)

    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("task.id"), primary_key=True)
    group_key: Mapped[key_str] = mapped_column(primary_key=True)


class Timer(Base):
    """Projection of a waiting timer; the schedule the worker scans."""

    __tablename__ = "timer"
    __table_args__ = (
        Index(
            "ix_timer_due_waiting",
            "due_at",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        Index(None, "instance_id"),
        # Closing a task's clock and recomputing it look timers up by task.
        Index(None, "task_id"),
        # A stopping worker hands back its leases: only leased rows are in this index.
        Index(
            "ix_timer_leased",
            "lease_owner",
            postgresql_where=text("lease_owner IS NOT NULL"),
            sqlite_where=text("lease_owner IS NOT NULL"),
        ),
    )

    id: Mapped[pk]
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[key_str]
    name: Mapped[short_str]
    kind: Mapped[str] = mapped_column(String(20))  # date | duration | cycle | sla
    # SLA timers (kind "sla") belong to a task (or, without one, to the case) and are
    # a "warning" or the "deadline"; they fire CaseClock actions, not BPMN events.
    purpose: Mapped[str | None] = mapped_column(String(20))
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("task.id"))
    interrupting: Mapped[bool] = mapped_column(default=True)
    attached_to: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime]
    # waiting | fired | cancelled | paused | coalesced
    status: Mapped[str] = mapped_column(String(20))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    # Failed firings: counted, the error kept, retried after a backoff.
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    instance: Mapped[ProcessInstance] = relationship()
    task: Mapped[Task | None] = relationship()


class MessageSubscription(Base):
    """A waiting message catch, so that correlation never opens a workflow blindly."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index(None, "message_name", "business_key"),)

    id: Mapped[pk]
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"))
    # "<spiff task id>:<message>" for a waiting catch, "start:<id>" for an event subprocess.
    key: Mapped[str] = mapped_column(String(250))
    element_id: Mapped[key_str]
    message_name: Mapped[short_str]
    business_key: Mapped[str | None] = mapped_column(String(200))

    instance: Mapped[ProcessInstance] = relationship()


# --- append-only logs ------------------------------------------------------------------


class AuditEvent(Base):
    """Every command appends one; never updated or deleted.

    ``chain_key``/``chain_seq``/``prev_hash``/``hash`` form per-chain hash chains (one
    chain per instance, one for organisation-level commands) so that tampering can be
    detected without a global lock serialising every command.
    """

    __tablename__ = "audit_event"
    # (command, at): the ledger and its reports select entries by kind and period.
    __table_args__ = (
        UniqueConstraint("chain_key", "chain_seq"),
        Index(None, "instance_id"),
        Index(None, "command", "at"),
    )

    id: Mapped[pk]
    at: Mapped[datetime]
    actor: Mapped[key_str]
    command: Mapped[key_str]
    instance_id: Mapped[int | None] = mapped_column(BigId)
    task_id: Mapped[int | None] = mapped_column(BigId)
    payload: Mapped[dict[str, Any]]
    chain_key: Mapped[key_str]
    chain_seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Absence(Base):
    """休假委托: from ``starts_on`` to ``ends_on`` (inclusive, organisation dates) the
    person's tasks, chases and notices go to the deputy; the ledger records both."""

    __tablename__ = "absence"
    __table_args__ = (Index(None, "person_key"),)

    id: Mapped[pk]
    person_key: Mapped[key_str]
    deputy_key: Mapped[key_str]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_by: Mapped[key_str]
    declared_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class Comment(Base):
    """A remark on a case or one of its tasks; the text is erasable (PIPL), its audit event
    keeps only a digest."""

    __tablename__ = "comment"
    __table_args__ = (Index(None, "instance_id"),)

    id: Mapped[pk]
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"))
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("task.id"))
    author: Mapped[key_str]
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)


class Attachment(Base):
    """A file added to a case (or one of its tasks). The content lives outside the
    database, content-addressed by ``sha256`` (engine.attachments); the row is its
    metadata. Deleting keeps the row (the audit trail names it); erasure (PIPL) blanks
    the file name and removes the content."""

    __tablename__ = "attachment"
    __table_args__ = (Index(None, "instance_id"), Index(None, "sha256"))

    id: Mapped[pk]
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"))
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("task.id"))
    uploaded_by: Mapped[key_str]
    filename: Mapped[short_str]
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigId)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class AuditPrivate(Base):
    """The part of an audit event that may hold personal data (PIPL): case data, free-text
    reasons and comments. The event itself keeps only a salted digest of it, so erasing
    this row (:mod:`engine.erasure`) leaves the hash chain verifiable and the digest
    reveals nothing about what was erased.
    """

    __tablename__ = "audit_private"
    __table_args__ = (Index(None, "instance_id"),)

    chain_key: Mapped[key_str] = mapped_column(primary_key=True)
    chain_seq: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(BigId)
    salt: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]


class OutboxMessage(Base):
    """A message to leave the system, written in the command's transaction.

    The worker sends it only after commit; ``idempotency_key`` makes a retried
    command or a re-sent message harmless.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[pk]
    created_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(20))  # email | sms | webhook | inapp
    recipient: Mapped[short_str]
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    idempotency_key: Mapped[short_str]
    instance_id: Mapped[int | None] = mapped_column(BigId)
    # pending | held (for a digest) | sent | dead | dropped (given up on by an admin)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # A sender leases a message before it tries; an expired lease is taken over.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class DecidedRequest:
    """Columns of a request about a task that a superior approves or refuses
    (engine.approvals)."""

    id: Mapped[pk]
    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("task.id"))
    requested_by: Mapped[key_str]
    requested_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # pending | approved | refused
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class SlaExtension(DecidedRequest, Base):
    """A request to move a task's deadline (延期) and its decision by a superior."""

    __tablename__ = "sla_extension"

    amount: Mapped[str] = mapped_column(String(100))  # a calendar duration, "2 working days"


class SlaStandard(Base):
    """A time limit set outside the diagram: the basic standard (基本标准) of a step, or
    a temporary standard (临时标准) for a date window and/or cases matching a condition.

    ``step`` is a user task id, or ``"*"`` for the whole case (整体时限).
    """

    __tablename__ = "sla_standard"
    __table_args__ = (Index(None, "process_key", "step", "active"),)

    id: Mapped[pk]
    process_key: Mapped[key_str]
    step: Mapped[key_str]
    kind: Mapped[str] = mapped_column(String(20))  # basic | temporary
    label: Mapped[short_str]
    limit: Mapped[str] = mapped_column(String(100))
    warnings: Mapped[list[Any]]
    on_deadline: Mapped[str] = mapped_column(String(20), default="notify")
    calendar: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[datetime | None]
    valid_to: Mapped[datetime | None]
    condition: Mapped[str | None] = mapped_column(Text)  # restricted Python over case data
    priority: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[key_str]


class AuditAnchor(Base):
    """A periodic digest of every audit chain's head: deleting the newest entries of a
    chain, which a hash chain alone cannot reveal, shows against the last anchor. Keep a
    copy outside the database too (``caseclock audit anchor --file``)."""

    __tablename__ = "audit_anchor"

    id: Mapped[pk]
    at: Mapped[datetime]
    heads: Mapped[dict[str, Any]]  # chain key -> [seq, hash]
    digest: Mapped[str] = mapped_column(String(64))


class NoticeTemplate(Base):
    """An admin's wording of one kind of notice in one locale, used instead of the shipped
    default in :mod:`engine.notices` until it is reset (engine.notice_templates)."""

    __tablename__ = "notice_template"
    __table_args__ = (UniqueConstraint("kind", "locale"),)

    id: Mapped[pk]
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[key_str]
    updated_at: Mapped[datetime]


class Exemption(DecidedRequest, Base):
    """A request to excuse a breach (免责) and its decision by the next level up."""

    __tablename__ = "exemption"
