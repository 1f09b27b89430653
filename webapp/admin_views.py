"""Reads for the admin pages: the org chart, accounts, absences, calendars, standards,
incidents, notice channels and templates. Each is a plain function of a session."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import absence, accounts, incidents, notice_templates, standards
from engine.calendars import DEFAULT_NAME, calendar_names, load_calendar, override_notes
from engine.store import Department, Group, GroupMember, Person


def org(session: Session) -> dict[str, Any]:
    departments = list(session.scalars(select(Department).order_by(Department.key)))
    people = list(session.scalars(select(Person).order_by(Person.key)))
    groups = list(session.scalars(select(Group).order_by(Group.key)))
    by_id = {p.id: p for p in people}
    dept_by_id = {d.id: d for d in departments}
    group_by_id = {g.id: g for g in groups}
    members: dict[int, list[str]] = {}
    group_members: dict[int, list[str]] = {}
    for m in session.scalars(select(GroupMember)):
        members.setdefault(m.person_id, []).append(group_by_id[m.group_id].key)
        group_members.setdefault(m.group_id, []).append(by_id[m.person_id].key)
    children: dict[int | None, list[Department]] = {}
    for d in departments:
        parent = d.parent_id if d.parent_id in dept_by_id else None
        children.setdefault(parent, []).append(d)

    def node(d: Department, depth: int, seen: set[int]) -> list[dict[str, Any]]:
        head = by_id.get(d.head_id) if d.head_id else None
        parent = dept_by_id.get(d.parent_id) if d.parent_id else None
        rows = [{"key": d.key, "name": d.name, "depth": depth,
                 "parent": parent.key if parent else None,
                 "head": head.key if head else None, "head_name": head.name if head else None,
                 "people": sum(1 for p in people if p.department_id == d.id)}]  # fmt: skip
        for child in children.get(d.id, []):
            if child.id not in seen:  # a cycle in imported data is shown once, not forever
                rows += node(child, depth + 1, seen | {child.id})
        return rows

    tree: list[dict[str, Any]] = []
    for root in children.get(None, []):
        tree += node(root, 0, {root.id})
    shown = {row["key"] for row in tree}
    tree += [{"key": d.key, "name": d.name, "depth": 0, "parent": None, "head": None,
              "head_name": None, "people": 0}
             for d in departments if d.key not in shown]  # fmt: skip
    return {
        "departments": tree,
        "people": [
            {"key": p.key, "name": p.name, "active": p.active, "email": p.email,
             "phone": p.phone, "locale": p.locale,
             "department": dept_by_id[p.department_id].name
             if p.department_id in dept_by_id else None,
             "department_key": dept_by_id[p.department_id].key
             if p.department_id in dept_by_id else None,
             "superior": by_id[p.superior_id].key if p.superior_id in by_id else None,
             "superior_name": by_id[p.superior_id].name if p.superior_id in by_id else None,
             "groups": sorted(members.get(p.id, []))}
            for p in people
        ],
        "groups": [
            {"key": g.key, "name": g.name,
             "department": dept_by_id[g.department_id].name
             if g.department_id in dept_by_id else None,
             "department_key": dept_by_id[g.department_id].key
             if g.department_id in dept_by_id else None,
             "members": sorted(group_members.get(g.id, []))}
            for g in groups
        ],
        "names": {p.key: p.name for p in people},
        "accounts": accounts.accounts(session),
        "absences": [
            {"id": a.id, "person": a.person_key, "deputy": a.deputy_key, "from": a.starts_on,
             "to": a.ends_on, "reason": a.reason}
            for a in absence.absences(session)
        ],
    }  # fmt: skip


def calendars(session: Session, name: str, year: int | None, now: datetime) -> dict[str, Any]:
    names = calendar_names(session)
    if name not in names:
        name = DEFAULT_NAME
    calendar = load_calendar(session, name)
    notes = override_notes(session, name)
    if year is None:
        year = calendar.to_local(now).year
    days = [
        {"day": n.day, "weekday": n.day.isoweekday(), "kind": n.kind, "source": n.source,
         "name": notes.get(n.day, "") if n.source == "override" else n.name}
        for n in calendar.day_notes(year)
    ]  # fmt: skip
    return {
        "names": names, "name": name, "year": year, "timezone": calendar.timezone,
        "periods": " ".join(str(p) for p in calendar.periods),
        "official": calendar.use_official_holidays, "days": days,
        "working_days": calendar.count_working_days(date(year, 1, 1), date(year, 12, 31)),
        "warnings": calendar.warnings_for(datetime(year, 7, 1, tzinfo=calendar.zone)),
        "overrides": sorted(d for d in notes if d.year == year),
    }  # fmt: skip


def sla(session: Session) -> list[dict[str, Any]]:
    return standards.standards(session)


def failed_timers(session: Session) -> list[dict[str, Any]]:
    return incidents.incidents(session)


def undeliverable(session: Session, zone: tzinfo) -> list[dict[str, Any]]:
    """Undeliverable notices, their next automatic try in the organisation's zone."""
    return [
        {
            **row,
            "retry_at": row["retry_at"].astimezone(zone).isoformat() if row["retry_at"] else None,
        }
        for row in incidents.undeliverable(session)
    ]


def webhooks(session: Session) -> list[dict[str, Any]]:
    """Departments and their group-chat robots; a URL may embed a token, so only its
    host is shown."""
    return [
        {"key": d.key, "name": d.name, "format": d.webhook_format or "plain",
         "host": urlsplit(d.webhook_url).hostname if d.webhook_url else None}
        for d in session.scalars(select(Department).order_by(Department.key))
    ]  # fmt: skip


def notices(session: Session, zone: tzinfo) -> dict[str, Any]:
    rows = notice_templates.templates(session)
    for row in rows:
        if row["updated_at"] is not None:
            row["updated_at"] = row["updated_at"].astimezone(zone).isoformat()
    return {"templates": rows, "webhooks": webhooks(session)}
