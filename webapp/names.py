"""The names of people, groups and departments by their keys, as pages show them (the
engine, the API and the exports keep the keys)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store import Department, Group, Person


def person_names(session: Session, keys: Iterable[str | None]) -> dict[str, str]:
    """Person key -> name, for the keys that name someone."""
    return _names(session, Person, keys)


def group_names(session: Session, keys: Iterable[str | None]) -> dict[str, str]:
    """Group key -> name (a candidate group may also be written by its name)."""
    return _names(session, Group, keys)


def department_names(session: Session, keys: Iterable[str | None]) -> dict[str, str]:
    return _names(session, Department, keys)


def _names(session: Session, model: Any, keys: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({k for k in keys if k})
    if not wanted:
        return {}
    return dict(session.execute(select(model.key, model.name).where(model.key.in_(wanted))).all())
