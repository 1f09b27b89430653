"""Persistence: typed models, the engine/session factory, and named locking queries."""

from . import account_tables, collection_tables, ladder_tables  # noqa: F401  (registers the tables)
from .base import Base
from .calendar_tables import Calendar, CalendarOverride  # noqa: F401  (registers the tables)
from .database import default_url, make_engine, make_sessionmaker
from .models import (
    AuditEvent,
    Definition,
    Department,
    Deployment,
    DeploymentResource,
    Group,
    GroupMember,
    MessageSubscription,
    OutboxMessage,
    Person,
    ProcessInstance,
    Task,
    TaskCandidateGroup,
    Timer,
)
from .schema import create_schema

__all__ = [
    "AuditEvent",
    "Base",
    "Definition",
    "Department",
    "Deployment",
    "DeploymentResource",
    "Group",
    "GroupMember",
    "MessageSubscription",
    "OutboxMessage",
    "Person",
    "ProcessInstance",
    "Task",
    "TaskCandidateGroup",
    "Timer",
    "create_schema",
    "default_url",
    "make_engine",
    "make_sessionmaker",
]
