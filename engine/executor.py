"""One command = one transaction.

Every state change is a *command*: a callable taking a :class:`CommandContext`. The
:class:`CommandExecutor` opens the transaction, runs the command, and commits; on any
error it rolls back and evicts every workflow the command touched from the in-memory
cache (a failed command may have mutated them). Commands never commit themselves, and
nothing leaves the system before commit: notifications go to the outbox table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .errors import Busy, CaseClockError, Conflict
from .store.row_writes import write_changed_rows

if TYPE_CHECKING:
    from .calendar import WorkingCalendar
    from .org import OrgSnapshot
    from .services import Services
    from .store import Person, Task

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Command(Protocol[T_co]):
    def __call__(self, ctx: CommandContext) -> T_co: ...


# What runs once a command has committed: given the executor's ``read``, it may look at
# the committed state in a transaction of its own.
Reader = Callable[[Callable[[Session], Any]], Any]
AfterCommit = Callable[[Reader], None]


@dataclass
class CommandContext:
    """What a command may use: its session, the time it runs at, who runs it."""

    session: Session
    services: Services
    actor: str
    now: datetime
    command_name: str
    # Instance ids whose cached workflow this command loaded (evicted on failure).
    touched: set[int] = field(default_factory=set)
    _org: OrgSnapshot | None = None
    _calendars: dict[str, WorkingCalendar] = field(default_factory=dict)
    _after_commit: list[AfterCommit] = field(default_factory=list)

    def after_commit(self, action: AfterCommit) -> None:
        """Run ``action`` only once this command has committed (never if it rolls back):
        for effects outside the database, such as removing a stored file."""
        self._after_commit.append(action)

    def org(self) -> OrgSnapshot:
        """The organisation as of this transaction (one cheap query, then cached)."""
        if self._org is None:
            self._org = self.services.org.snapshot(self.session)
        return self._org

    def today(self) -> date:
        """The organisation's date now (absences and calendars are in local dates)."""
        return self.now.astimezone(self.services.timezone).date()

    def acting(self, person: Person) -> tuple[Person, Person | None]:
        """Who acts for ``person`` today, and whom they stand in for (engine.absence)."""
        from .org import acting

        return acting(self.session, person, self.org(), self.today())

    @property
    def holds_database_lock(self) -> bool:
        """SQLite: the transaction began with ``BEGIN IMMEDIATE`` and holds the only write
        lock, so nothing can change under it; PostgreSQL locks rows as it goes."""
        return self.session.get_bind().dialect.name == "sqlite"

    def accountable(self, task: Task) -> tuple[Person | None, Person | None]:
        """Who answers for ``task`` today (its responsible person, or their deputy while
        they are away) and, when that is a deputy, whom they stand in for."""
        from .org import responsible_person

        person = responsible_person(self.session, task, self.org())
        return self.acting(person) if person is not None else (None, None)

    def forget_caches(self) -> None:
        """After changing the organisation or a calendar within this command."""
        self._org = None
        self._calendars.clear()

    def calendar(self, name: str | None = None) -> WorkingCalendar:
        """A working-time calendar as of this transaction.

        Calendars change only through commands on the ``org`` audit chain, so a built
        calendar is reused across commands until that chain moves.
        """
        from .calendars import DEFAULT_NAME

        key = name or DEFAULT_NAME
        if key not in self._calendars:
            self._calendars[key] = self.services.calendars.get(self, key)
        return self._calendars[key]


def _busy(exc: OperationalError) -> bool:
    """SQLite's lock outlasting the busy timeout, PostgreSQL's serialisation failure or
    lock timeout: a transient refusal, not a broken database."""
    text = str(exc)
    return any(s in text for s in ("database is locked", "could not serialize", "lock timeout"))


class RollBack(Exception):
    """Raised by a command to discard its changes and still return ``result`` (dry runs)."""

    def __init__(self, result: object) -> None:
        super().__init__("rolled back on purpose")
        self.result = result


class CommandExecutor:
    def __init__(self, sessions: sessionmaker[Session], services: Services) -> None:
        self._sessions = sessions
        self._services = services

    def execute(self, command: Callable[[CommandContext], T], actor: str = "system") -> T:
        name = getattr(command, "name", type(command).__name__)
        session = self._sessions()
        ctx = CommandContext(session, self._services, actor, self._services.clock.now(), name)
        try:
            with session.begin():
                result = command(ctx)
                write_changed_rows(session)
        except RollBack as done:
            self._evict(ctx)
            return done.result  # type: ignore[return-value]
        except CaseClockError:
            self._evict(ctx)
            raise
        except IntegrityError as exc:
            self._evict(ctx)
            log.debug("command %s lost a race: %s", name, exc)
            raise Conflict(f"{name}: a concurrent change won; try again") from exc
        except OperationalError as exc:
            self._evict(ctx)
            if _busy(exc):
                raise Conflict(f"{name}: the database is busy; try again") from exc
            raise
        except BaseException:
            self._evict(ctx)
            raise
        finally:
            session.close()
        log.debug("command %s by %s done", name, actor)
        self._run_after_commit(ctx)
        return result

    def read(self, query: Callable[[Session], T]) -> T:
        """Run a read-only function in its own short transaction; a database too busy to
        answer (another writer holds the lock past the busy timeout) is :class:`Busy`."""
        try:
            with self._sessions() as session, session.begin():
                return query(session)
        except OperationalError as exc:
            if _busy(exc):
                raise Busy("the database is busy; try again in a moment") from exc
            raise

    def _run_after_commit(self, ctx: CommandContext) -> None:
        """The command has committed, so its caller gets its result whatever happens here:
        a failing action is logged, and the state it left is one its module tolerates."""
        for action in ctx._after_commit:
            try:
                action(self.read)
            except Exception:
                log.exception("after %s committed: %r failed", ctx.command_name, action)

    def _evict(self, ctx: CommandContext) -> None:
        for instance_id in ctx.touched:
            self._services.workflows.evict(instance_id)
