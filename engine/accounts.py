"""Web login accounts: creating them, passwords, roles, API tokens, and logging in.

Every change is a command run through ``app.execute`` and appended to the ``org`` audit
chain (who created which account, granted which role, issued which token), never with
the secret itself. Reading (``authenticate``, ``account_for_token``) is a plain
function over a session.

Password guessing is throttled (:class:`Throttle`): too many failed logins for a user
name, or from an address, within a window start a cool-down during which that name (or
address) is refused whatever the password; each cool-down is audited (``login_locked``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from . import audit
from .errors import Conflict, NotFound, ValidationError
from .executor import CommandContext
from .store import OutboxMessage, Person
from .store.account_tables import Account, AccountRole, ApiToken, LoginFailure, NoticeRead

ROLES = ("staff", "supervisor", "auditor", "designer", "admin")
MIN_PASSWORD = 4  # the demo password is "demo"; sites set their own policy upstream

_hasher = PasswordHasher()
# Verified against when the user is unknown, so that a wrong user name costs as much
# time as a wrong password and the response time does not reveal who has an account.
_DUMMY_HASH = _hasher.hash("not a password")


@dataclass(frozen=True)
class Principal:
    """Who is logged in (or presents a token): enough for every authorization check."""

    key: str
    name: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


def _check_roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    unknown = [r for r in chosen if r not in ROLES]
    if unknown:
        raise ValidationError(
            f"unknown role {', '.join(unknown)}; roles are {', '.join(ROLES)}",
            details={"fields": {"roles": f"choose from {', '.join(ROLES)}"}},
        )
    return chosen


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"a password needs at least {MIN_PASSWORD} characters",
            details={"fields": {"password": f"at least {MIN_PASSWORD} characters"}},
        )


def _person(ctx: CommandContext, key: str) -> Person:
    person = ctx.session.scalar(select(Person).where(Person.key == key))
    if person is None:
        raise NotFound(f"unknown person {key!r}")
    return person


def _account(session: Session, key: str) -> Account:
    account = session.scalar(select(Account).where(Account.person_key == key))
    if account is None:
        raise NotFound(f"{key!r} has no account")
    return account


class CreateAccount:
    """``password_hash`` instead of ``password``: an argon2 hash carried over from another
    system (a migration), verified with the parameters it was made with."""

    name = "create_account"

    def __init__(
        self,
        person_key: str,
        roles: Iterable[str],
        password: str | None,
        *,
        password_hash: str | None = None,
    ) -> None:
        self.roles = _check_roles(roles)
        if password is not None:
            _check_password(password)
        if password_hash is not None and not password_hash.startswith("$argon2"):
            raise ValidationError("password_hash must be an argon2 hash ($argon2id$…)")
        self.person_key, self.password = person_key, password
        self.hash = _hasher.hash(password) if password else password_hash

    def __call__(self, ctx: CommandContext) -> Account:
        _person(ctx, self.person_key)
        existing = ctx.session.scalar(select(Account).where(Account.person_key == self.person_key))
        if existing is not None:
            raise Conflict(f"{self.person_key!r} already has an account")
        account = Account(
            person_key=self.person_key,
            password_hash=self.hash,
            created_at=ctx.now,
            password_changed_at=ctx.now if self.hash else None,
            roles=[AccountRole(role=r) for r in self.roles],
        )
        ctx.session.add(account)
        ctx.session.flush()
        audit.append(ctx, "create_account", payload={
            "person": self.person_key, "roles": self.roles, "password_set": self.hash is not None,
        }, chain=audit.ACCESS)  # fmt: skip
        return account


class SetPassword:
    name = "set_password"

    def __init__(self, person_key: str, password: str) -> None:
        _check_password(password)
        self.person_key, self.password = person_key, password

    def __call__(self, ctx: CommandContext) -> None:
        account = _account(ctx.session, self.person_key)
        account.password_hash = _hasher.hash(self.password)
        account.password_changed_at = ctx.now
        audit.append(ctx, "set_password", payload={"person": self.person_key}, chain=audit.ACCESS)


class SetRoles:
    """Replace the roles an account holds (granting and revoking in one audited step)."""

    name = "set_roles"

    def __init__(self, person_key: str, roles: Iterable[str]) -> None:
        self.person_key, self.roles = person_key, _check_roles(roles)

    def __call__(self, ctx: CommandContext) -> None:
        account = _account(ctx.session, self.person_key)
        before = sorted(r.role for r in account.roles)
        if "admin" in before and "admin" not in self.roles:
            _keep_an_admin(ctx, account, "roles")
        account.roles = [AccountRole(role=r) for r in self.roles]
        audit.append(ctx, "set_roles", payload={
            "person": self.person_key, "before": before, "after": self.roles,
        }, chain=audit.ACCESS)  # fmt: skip


def _keep_an_admin(ctx: CommandContext, account: Account, field: str) -> None:
    """Refuse (409) to take the admin role from the last active admin: nobody could then
    manage accounts from the web. The other admins' rows are locked (PostgreSQL) so two
    admins demoting each other at once cannot both pass."""
    others = ctx.session.scalars(
        select(Account.id)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .join(Person, Person.key == Account.person_key)
        .where(
            AccountRole.role == "admin",
            Account.active.is_(True),
            Person.active.is_(True),
            Account.id != account.id,
        )
        .with_for_update(of=Account)
    ).all()
    if not others:
        raise Conflict(
            f"{account.person_key!r} is the last active admin: grant another account the "
            "admin role first",
            details={"fields": {field: "the last active admin cannot lose the admin role"}},
        )


class SetAccountActive:
    name = "set_account_active"

    def __init__(self, person_key: str, active: bool) -> None:
        self.person_key, self.active = person_key, active

    def __call__(self, ctx: CommandContext) -> None:
        account = _account(ctx.session, self.person_key)
        if not self.active and account.active and any(r.role == "admin" for r in account.roles):
            _keep_an_admin(ctx, account, "active")
        account.active = self.active
        if not self.active:
            # A disabled account's machine clients stop working at once too.
            for token in ctx.session.scalars(
                select(ApiToken).where(
                    ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None)
                )
            ):
                token.revoked_at = ctx.now
        payload = {"person": self.person_key, "active": self.active}
        audit.append(ctx, "set_account_active", payload=payload, chain=audit.ACCESS)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IssueToken:
    """Create an API token; the plain token is returned once and never stored."""

    name = "issue_token"

    def __init__(self, person_key: str, label: str) -> None:
        if not label.strip():
            raise ValidationError("a token needs a name (which client uses it)")
        self.person_key, self.label = person_key, label.strip()

    def __call__(self, ctx: CommandContext) -> str:
        account = _account(ctx.session, self.person_key)
        token = "cc_" + secrets.token_urlsafe(32)
        row = ApiToken(
            account_id=account.id, name=self.label, token_hash=token_hash(token),
            created_at=ctx.now,
        )  # fmt: skip
        ctx.session.add(row)
        ctx.session.flush()
        audit.append(ctx, "issue_token", payload={
            "person": self.person_key, "token_id": row.id, "name": self.label,
        }, chain=audit.ACCESS)  # fmt: skip
        return token


class MarkNoticesRead:
    """Mark in-app notices read; only the recipient's own notices are touched.

    Not audited: reading a notice changes nothing anyone is accountable for.
    """

    name = "mark_notices_read"

    def __init__(self, person_key: str, outbox_ids: Iterable[int] | None = None) -> None:
        self.person_key = person_key
        self.outbox_ids = None if outbox_ids is None else sorted(set(outbox_ids))

    def __call__(self, ctx: CommandContext) -> int:
        query = select(OutboxMessage.id).where(
            OutboxMessage.channel == "inapp",
            OutboxMessage.recipient == self.person_key,
            OutboxMessage.id.not_in(select(NoticeRead.outbox_id)),
        )
        if self.outbox_ids is not None:
            query = query.where(OutboxMessage.id.in_(self.outbox_ids))
        ids = list(ctx.session.scalars(query))
        ctx.session.add_all(NoticeRead(outbox_id=i, read_at=ctx.now) for i in ids)
        return len(ids)


# --- throttling failed logins ---------------------------------------------------------


@dataclass(frozen=True)
class Throttle:
    """``failures`` failed logins for one user name (or ``address_failures`` from one
    address) within ``window`` start a ``cooldown``. The address limit is higher: people
    behind one NAT share it, and a name's own limit already stops guessing one password."""

    failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    cooldown: timedelta = timedelta(minutes=15)

    def scopes(self, person_key: str, address: str) -> list[tuple[str, ColumnElement[bool], int]]:
        return [
            ("account", LoginFailure.person_key == person_key[:100], self.failures),
            ("address", LoginFailure.address == address[:45], self.address_failures),
        ]


def locked_until(
    session: Session, throttle: Throttle, person_key: str, address: str, now: datetime
) -> datetime | None:
    """The end of the cool-down that the user name or the address is in, if any.

    A cool-down runs from the latest failure when at least the limit of failures fall
    within the window that ends there; attempts refused during it are not failures (the
    password is not even checked), so it ends on time however often someone retries."""
    ends = []
    for _, match, limit in throttle.scopes(person_key, address):
        last = session.scalar(select(func.max(LoginFailure.at)).where(match))
        if last is None or last + throttle.cooldown <= now:
            continue
        counted = session.scalar(
            select(func.count()).where(match, LoginFailure.at > last - throttle.window)
        )
        if (counted or 0) >= limit:
            ends.append(last + throttle.cooldown)
    return max(ends, default=None)


class RecordLoginFailure:
    """A wrong user name or password: counted, and audited when it starts a cool-down
    (the address kept apart from the event, as personal data is)."""

    name = "record_login_failure"

    def __init__(self, person_key: str, address: str, throttle: Throttle) -> None:
        self.person_key, self.address, self.throttle = person_key[:100], address[:45], throttle

    def __call__(self, ctx: CommandContext) -> datetime | None:
        """Returns the end of the cool-down this failure starts, if it starts one."""
        throttle = self.throttle
        # Rows too old to count in any cool-down go as new ones come for the same name
        # or address, so the table stays the size of the recent failures.
        stale = ctx.now - throttle.window - throttle.cooldown
        ctx.session.execute(
            delete(LoginFailure).where(
                or_(LoginFailure.person_key == self.person_key,
                    LoginFailure.address == self.address),
                LoginFailure.at < stale,
            )
        )  # fmt: skip
        ctx.session.add(LoginFailure(person_key=self.person_key, address=self.address,
                                     at=ctx.now))  # fmt: skip
        ctx.session.flush()
        started = None
        for scope, match, limit in throttle.scopes(self.person_key, self.address):
            counted = ctx.session.scalar(
                select(func.count()).where(match, LoginFailure.at > ctx.now - throttle.window)
            )
            if (counted or 0) >= limit:
                started = ctx.now + throttle.cooldown
                audit.append(ctx, "login_locked", payload={
                    "scope": scope, "person": self.person_key if scope == "account" else None,
                    "failures": counted, "until": started.isoformat(),
                }, private={"address": self.address}, chain=audit.ACCESS)  # fmt: skip
        return started


class ClearLoginFailures:
    """A successful login starts its user name's count afresh (not its address's: a
    guesser with an account of their own could otherwise reset it between guesses).
    Not audited: nothing anyone is accountable for changes."""

    name = "clear_login_failures"

    def __init__(self, person_key: str) -> None:
        self.person_key = person_key[:100]

    def __call__(self, ctx: CommandContext) -> None:
        ctx.session.execute(delete(LoginFailure).where(LoginFailure.person_key == self.person_key))


# --- reading ----------------------------------------------------------------------------


def _principal(session: Session, account: Account) -> Principal | None:
    person = session.scalar(
        select(Person).where(Person.key == account.person_key, Person.active.is_(True))
    )
    if person is None or not account.active:
        return None
    return Principal(person.key, person.name, frozenset(r.role for r in account.roles))


def authenticate(session: Session, person_key: str, password: str) -> Principal | None:
    """The principal for a correct password of an active account, else None."""
    account = session.scalar(select(Account).where(Account.person_key == person_key))
    stored = account.password_hash if account is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if account is None or stored is None:
        return None
    return _principal(session, account)


def principal(session: Session, person_key: str) -> Principal | None:
    """Re-read a logged-in user on each request: a disabled account or a revoked role
    takes effect at once, not when the session cookie expires."""
    account = session.scalar(select(Account).where(Account.person_key == person_key))
    return _principal(session, account) if account is not None else None


def account_for_token(session: Session, token: str) -> Principal | None:
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    return _principal(session, row.account) if row is not None else None


def accounts(session: Session) -> list[dict[str, object]]:
    rows = session.execute(
        select(Account, Person.name).join(Person, Person.key == Account.person_key)
        .order_by(Account.person_key)
    ).all()  # fmt: skip
    return [
        {
            "person": a.person_key,
            "name": name,
            "roles": [r.role for r in a.roles],
            "active": a.active,
            "password_set": a.password_hash is not None,
        }
        for a, name in rows
    ]
