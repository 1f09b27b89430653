"""Writing a command's changed instance and task rows without the unit of work.

Almost every command ends with the same two changes: its instance (new workflow state,
version, data, audit chain head) and the task it acted on (state, assignee, times). The
ORM flush that would write them costs several times the two ``UPDATE`` statements it
emits (``docs/benchmarks.md``), so :func:`write_changed_rows` writes them with one
prepared ``UPDATE`` each (:mod:`.prepared`) when nothing else is pending, and takes the
objects out of the session so the commit has nothing left to flush. Any other change (a
new or deleted object, another class, a changed relationship) leaves the whole flush to
the ORM.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, inspect, update
from sqlalchemy.orm import Session

from .models import ProcessInstance, Task
from .prepared import Prepared

_FAST = (ProcessInstance, Task)
_COLUMNS: dict[type, dict[str, str]] = {
    cls: {attr.key: attr.columns[0].name for attr in inspect(cls).column_attrs} for cls in _FAST
}
_STATEMENTS: dict[tuple[type, frozenset[str]], Prepared] = {}
_ID = "_row_id"


def write_changed_rows(session: Session) -> None:
    """Write the changed instance and task rows with Core, or leave everything to flush."""
    if session.new or session.deleted:
        return
    changes = []
    for obj in session.dirty:
        changed = _changed_columns(obj)
        if changed is None:
            return
        if changed:
            changes.append((obj, changed))
    connection = session.connection()
    for obj, changed in changes:
        statement = _statement(type(obj), frozenset(changed))
        values = {f"new_{key}": value for key, value in changed.items()}
        statement.run(connection, {**values, _ID: obj.id})
    for obj, _ in changes:
        session.expunge(obj)


def _changed_columns(obj: Any) -> dict[str, Any] | None:
    """The changed column values of ``obj``; ``None`` if the ORM must write it."""
    columns = _COLUMNS.get(type(obj))
    if columns is None:
        return None
    state = inspect(obj)
    if state.key is None or any(key not in columns for key in state.committed_state):
        return None
    return {key: state.dict[key] for key in state.committed_state}


def _statement(cls: type, keys: frozenset[str]) -> Prepared:
    """One prepared statement per set of changed columns."""
    statement = _STATEMENTS.get((cls, keys))
    if statement is None:
        table: Table = inspect(cls).local_table  # type: ignore[assignment]
        columns = _COLUMNS[cls]
        statement = Prepared(
            update(table)
            .where(table.c.id == bindparam(_ID))
            .values({columns[key]: bindparam(f"new_{key}") for key in keys})
        )
        _STATEMENTS[(cls, keys)] = statement
    return statement
