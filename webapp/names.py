"""The names of people, groups and departments by their keys, as pages show them (the
engine, the API and the exports keep the keys)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store import Department, Group, Person

from .security import engine


def person_names(session: Session, keys: Iterable[str | None]) -> dict[str, str]:
    """Person key -> name, for the keys that name someone."""
    return _names(session, Person, keys)


def page_person_names(keys: Iterable[str]) -> dict[str, str]:
    """:func:`person_names` for the page being drawn, each key read once per request:
    an inbox lists many 协办 clocks, and a page's messages, naming the same few people."""
    known: dict[str, str | None] = g.setdefault("person_names", {})
    missing = {k for k in keys if k not in known}
    if missing:
        found = engine().read(lambda session: person_names(session, missing))
        known.update({k: found.get(k) for k in missing})
    return {k: name for k in keys if (name := known.get(k))}


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
