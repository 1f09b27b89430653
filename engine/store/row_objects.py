"""ORM objects for rows the hot path reads or inserts with prepared statements.

The commands keep working on mapped objects (the unit of work writes what they change),
but building those objects the ORM's way costs more than the statements: the
constructor's attribute events take about 170 µs for a task's thirty columns, and an ORM
query's row processing about as much. These build them as the ORM's loader does, from
the values, with no history: the object is persistent and clean, so only later changes
are written.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached

T = TypeVar("T")


def persistent(session: Session, cls: type[T], values: dict[str, Any]) -> T:
    """The object for a row just inserted with ``values`` (every column)."""
    return _build(session, cls, values, unloaded=())


def loaded(
    session: Session, cls: type[T], values: dict[str, Any], unloaded: Collection[str] = ()
) -> T:
    """The object for a row just read, as a query would give it: the session's own if it
    holds that row already, else one built from ``values`` (every column but the
    ``unloaded`` ones, which load on first use as deferred columns do)."""
    held = session.identity_map.get(session.identity_key(cls, values["id"]))
    return held if held is not None else _build(session, cls, values, unloaded)  # type: ignore[return-value]


def _build(session: Session, cls: type[T], values: dict[str, Any], unloaded: Collection[str]) -> T:
    # A column left out would be read back by a query on first use: only on purpose.
    missing = column_keys(cls) - values.keys() - set(unloaded)
    if missing:
        raise TypeError(f"{cls.__name__}: no value for {sorted(missing)}")
    obj = inspect(cls).class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


@cache
def column_keys(cls: type) -> frozenset[str]:
    """The mapped column attributes of ``cls``."""
    return frozenset(attr.key for attr in inspect(cls).column_attrs)
