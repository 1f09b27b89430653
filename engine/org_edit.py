"""Editing one department, person or group at a time (the admin page and the CLI).

:class:`~engine.org.ImportOrg` merges a whole file and only ever adds group members; an
edit here states the entry as it should be: a person's groups are replaced, a superior
or parent that would close a loop is refused, and every reference must exist. Each edit
is an event on the ``org`` audit chain, so cached org snapshots reload; names, e-mail
addresses and phone numbers go to its erasable part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import audit
from .errors import ValidationError, at_field
from .executor import CommandContext
from .inputs import check_email, check_phone
from .notices import DEFAULT_LOCALE, parse_locale
from .store import Department, Group, GroupMember, Person

KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


def _key(value: str, field: str = "key") -> str:
    value = value.strip()
    if not KEY.match(value):
        raise at_field(field, f"{value!r} is not a key: letters, digits, _ . - (at most 100)")
    return value


def _name(value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise at_field("name", "a name is required")
    if len(value) > 100:
        raise at_field("name", "at most 100 characters")
    return value


def _by_key(session: Session, model: Any, key: str | None, field: str) -> Any:
    if not key:
        return None
    row = session.scalar(select(model).where(model.key == key))
    if row is None:
        raise at_field(field, f"unknown {model.__tablename__.replace('org_', '')} {key!r}")
    return row


class SavePerson:
    """Create or update a person; ``groups`` is the complete list of their groups."""

    name = "org_save_person"

    def __init__(
        self,
        key: str,
        full_name: str,
        department: str | None = None,
        superior: str | None = None,
        groups: Sequence[str] = (),
        email: str | None = None,
        phone: str | None = None,
        locale: str | None = None,
    ) -> None:
        self.key, self.full_name = key, full_name
        self.department, self.superior, self.groups = department, superior, list(groups)
        self.email, self.phone, self.locale = email, phone, locale

    def __call__(self, ctx: CommandContext) -> Person:
        s = ctx.session
        key, name = _key(self.key), _name(self.full_name)
        email, phone = check_email(self.email), check_phone(self.phone)
        try:
            locale = parse_locale(self.locale) if self.locale else DEFAULT_LOCALE
        except ValidationError as exc:
            raise at_field("locale", exc.message) from None
        department = _by_key(s, Department, self.department, "department")
        superior = _by_key(s, Person, self.superior, "superior")
        groups = [_by_key(s, Group, g.strip(), "groups") for g in self.groups if g.strip()]
        person = s.scalar(select(Person).where(Person.key == key))
        created = person is None
        if person is None:
            person = Person(key=key, name=name)
            s.add(person)
            s.flush()
        if superior is not None:
            _refuse_loop(s, person, superior, "superior_id", "superior",
                         f"{superior.key} reports (directly or not) to {person.key}")  # fmt: skip
        person.name, person.email, person.phone, person.locale = name, email, phone, locale
        person.department_id = department.id if department else None
        person.superior_id = superior.id if superior else None
        s.execute(delete(GroupMember).where(GroupMember.person_id == person.id))
        for group in {g.id: g for g in groups}.values():
            s.add(GroupMember(group_id=group.id, person_id=person.id))
        audit.append(ctx, "org_save_person", payload={
            "person": key, "created": created, "department": self.department or None,
            "superior": self.superior or None, "groups": sorted(g.key for g in groups),
            "locale": locale,
        }, private={"name": name, "email": email, "phone": phone})  # fmt: skip
        ctx.forget_caches()
        return person


def _refuse_loop(session: Session, row: Any, above: Any, link: str, field: str,
                 message: str) -> None:  # fmt: skip
    """Refuse ``above`` as the next one up from ``row`` (a superior, a parent department)
    when ``row`` is already above it: walking up from ``above`` by ``link`` reaches it."""
    seen: set[int] = set()
    current = above
    while current is not None and current.id not in seen:
        if current.id == row.id:
            raise at_field(field, message)
        seen.add(current.id)
        up = getattr(current, link)
        current = session.get(type(row), up) if up else None


class SaveDepartment:
    """Create or update a department: its name, parent department and head."""

    name = "org_save_department"

    def __init__(
        self, key: str, title: str, parent: str | None = None, head: str | None = None
    ) -> None:
        self.key, self.title, self.parent, self.head = key, title, parent, head

    def __call__(self, ctx: CommandContext) -> Department:
        s = ctx.session
        key, name = _key(self.key), _name(self.title)
        parent = _by_key(s, Department, self.parent, "parent")
        head = _by_key(s, Person, self.head, "head")
        department = s.scalar(select(Department).where(Department.key == key))
        created = department is None
        if department is None:
            department = Department(key=key, name=name)
            s.add(department)
            s.flush()
        if parent is not None:
            _refuse_loop(s, department, parent, "parent_id", "parent",
                         f"{parent.key} is inside {department.key}")  # fmt: skip
        department.name = name
        department.parent_id = parent.id if parent else None
        department.head_id = head.id if head else None
        audit.append(ctx, "org_save_department", payload={
            "department": key, "name": name, "created": created,
            "parent": self.parent or None, "head": self.head or None,
        })  # fmt: skip
        ctx.forget_caches()
        return department


class SaveGroup:
    """Create or update a group: its name and the department answering for its pool."""

    name = "org_save_group"

    def __init__(self, key: str, title: str, department: str | None = None) -> None:
        self.key, self.title, self.department = key, title, department

    def __call__(self, ctx: CommandContext) -> Group:
        s = ctx.session
        key, name = _key(self.key), _name(self.title)
        department = _by_key(s, Department, self.department, "department")
        group = s.scalar(select(Group).where(Group.key == key))
        created = group is None
        if group is None:
            group = Group(key=key, name=name)
            s.add(group)
        group.name = name
        group.department_id = department.id if department else None
        audit.append(ctx, "org_save_group", payload={
            "group": key, "name": name, "created": created, "department": self.department or None,
        })  # fmt: skip
        ctx.forget_caches()
        return group
