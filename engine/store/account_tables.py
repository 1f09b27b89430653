"""Login accounts, roles and API tokens for the web application, which in-app notices a
person has read, and the failed logins that throttle password guessing.

An account belongs to exactly one person (by key, so that the org import can replace
people's other columns without touching logins). Passwords and tokens are stored only
as hashes: argon2 for passwords (slow on purpose), SHA-256 for tokens (they are long
random strings, so a fast hash is enough and lets a request find its token by index).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, key_str, pk, short_str


class Account(Base):
    __tablename__ = "account"

    id: Mapped[pk]
    person_key: Mapped[key_str] = mapped_column(ForeignKey("person.key"), unique=True)
    # None: the account exists (roles granted) but nobody can log in with a password yet.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime | None]

    roles: Mapped[list[AccountRole]] = relationship(
        cascade="all, delete-orphan", order_by="AccountRole.role", lazy="selectin"
    )


class AccountRole(Base):
    """One row per role held: staff, supervisor, auditor, designer, admin."""

    __tablename__ = "account_role"

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class ApiToken(Base):
    """A bearer token for a machine client, acting as the account it belongs to."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[pk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id"))
    name: Mapped[short_str]
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()


class NoticeRead(Base):
    """An in-app notice (an ``outbox`` row on channel ``inapp``) its recipient has read.

    The outbox row is append-only, so "read" lives here rather than on the row.
    """

    __tablename__ = "notice_read"

    outbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox.id"), primary_key=True)
    read_at: Mapped[datetime]


class LoginFailure(Base):
    """A failed password login, kept while it counts towards a cool-down (engine.accounts
    ``Throttle``): per user name as typed (it may name no account) and per client address.
    In the database, not in process memory, so every gunicorn worker counts the same. A
    successful login deletes its user name's rows."""

    __tablename__ = "login_failure"
    __table_args__ = (Index(None, "person_key", "at"), Index(None, "address", "at"))

    id: Mapped[pk]
    person_key: Mapped[key_str]
    address: Mapped[str] = mapped_column(String(45))  # the longest IPv6 text
    at: Mapped[datetime]
