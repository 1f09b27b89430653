"""Why a command met a database error, in one line a person can act on.

A database that cannot be opened, has no CaseClock tables (``caseclock init`` was never
run) or has an older schema (a newer CaseClock, not yet upgraded) fails deep inside
a query with a long driver traceback. :func:`explain` looks at the database itself
and names the cause; any other database error is a bug and keeps its traceback.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from engine.store.database import make_engine
from engine.store.schema import CORE_TABLE, alembic_config


def shown_url(url: str) -> str:
    """``url`` without its password: a one-line error may end up in a ticket."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable database URL)"


def explain(url: str) -> str | None:
    """The one-line reason commands fail on the database at ``url``, or ``None`` when it
    looks like a CaseClock database at the newest schema."""
    where = shown_url(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if CORE_TABLE not in inspect(connection).get_table_names():
                return f"the database at {where} has no CaseClock tables; run caseclock init"
            current = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        reason = _first_line(exc.orig or exc)
        # PostgreSQL: caseclock init creates the database itself.
        hint = "; run caseclock init" if "does not exist" in reason else ""
        return f"cannot open the database at {where}: {reason}{hint}"
    finally:
        engine.dispose()
    newest = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if current != newest:
        return (
            f"the database at {where} has an older CaseClock schema (revision {current}, "
            f"newest {newest}); run caseclock init to upgrade it"
        )
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
