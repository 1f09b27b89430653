"""The organisation: departments (a tree with heads), people (one superior), groups.

Imported from YAML or CSV; the engine asks it who is a candidate for a task, who is
responsible for a task, who that person's superior is, and who stands in for someone
on leave (休假委托, :mod:`engine.absence`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from threading import Lock
from typing import Any, Generic, TypeVar

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .errors import NotFound, ValidationError
from .executor import CommandContext
from .forms import yes_or_no
from .inputs import check_email, check_phone
from .notices import parse_locale
from .store import AuditEvent, Department, Group, GroupMember, Person, Task
from .store.models import Absence
from .store.prepared import Prepared

# A deputy may be away too; their deputy stands in, up to this many hops.
MAX_STAND_IN_HOPS = 5


@dataclass(frozen=True)
class OrgSnapshot:
    """Who exists and who is in which group, as of one state of the organisation.

    Commands ask it instead of querying people and groups each time; it is rebuilt
    when the ``org`` audit chain moves (every import appends to it).
    """

    stamp: int
    people: dict[str, tuple[int, frozenset[str]]]  # active person key -> (id, group keys)
    group_keys: dict[str, str]  # group key or name -> key
    group_heads: dict[str, int]  # group key -> the person id heading its department
    absences: dict[str, tuple[tuple[date, date, str], ...]]  # key -> (from, to, deputy)

    def person_id(self, key: str) -> int:
        if key not in self.people:
            raise NotFound(f"unknown user {key!r}")
        return self.people[key][0]

    def groups_of(self, key: str) -> frozenset[str]:
        self.person_id(key)
        return self.people[key][1]

    def stand_in(self, key: str, day: date) -> str | None:
        """Who acts for ``key`` on ``day``: their deputy (or the deputy's, if the deputy is
        away too); ``None`` when they are at work or no one is left to stand in."""
        seen, current = {key}, key
        for _ in range(MAX_STAND_IN_HOPS):
            deputy = next((d for start, end, d in self.absences.get(current, ())
                           if start <= day <= end), None)  # fmt: skip
            if deputy is None:
                return current if current != key else None
            if deputy in seen:
                return None
            seen.add(deputy)
            current = deputy
        return current

    def stood_in_for(self, key: str, day: date) -> list[str]:
        """Everyone ``key`` acts for on ``day``."""
        return [other for other in self.absences if self.stand_in(other, day) == key]

    def group_key(self, key_or_name: str) -> str:
        """A lane or candidate-group name as a group key (unknown names pass through)."""
        return self.group_keys.get(key_or_name, key_or_name)


K = TypeVar("K")
V = TypeVar("V")

# Read at the start of every command: prepared once (engine.store.prepared).
_ORG_STAMP = Prepared(
    select(func.coalesce(func.max(AuditEvent.chain_seq), 0).label("stamp")).where(
        AuditEvent.chain_key == audit.ORG
    )
)


class StampedCache(Generic[K, V]):
    """Values read from the database per key, kept while the ``org`` audit chain stands
    still: calendars, SLA standards and notice wordings change only through commands on
    that chain, so its head (the org snapshot's stamp, read once per command anyway)
    says when they are stale, in this process or after another one changed them."""

    def __init__(self, load: Callable[[Session, K], V]) -> None:
        self._load = load
        self._stamp: int | None = None
        self._values: dict[K, V] = {}
        self._lock = Lock()

    def get(self, ctx: CommandContext, key: K) -> V:
        stamp = ctx.org().stamp
        with self._lock:
            if stamp != self._stamp:
                self._stamp, self._values = stamp, {}
            if key in self._values:
                return self._values[key]
        value = self._load(ctx.session, key)
        with self._lock:
            if stamp == self._stamp:
                self._values[key] = value
        return value


class OrgCache:
    def __init__(self) -> None:
        self._snapshot: OrgSnapshot | None = None
        self._lock = Lock()

    def snapshot(self, session: Session) -> OrgSnapshot:
        # On the connection: the stamp reads Core-written audit rows, so no autoflush.
        [row] = _ORG_STAMP.rows(session.connection(), {})
        stamp = row.stamp
        current = self._snapshot
        if current is not None and current.stamp == stamp:
            return current
        snapshot = _load_snapshot(session, stamp)
        with self._lock:
            self._snapshot = snapshot
        return snapshot


def _load_snapshot(session: Session, stamp: int) -> OrgSnapshot:
    groups = {g.id: g for g in session.scalars(select(Group))}
    members: dict[int, set[str]] = {}
    for member in session.scalars(select(GroupMember)):
        members.setdefault(member.person_id, set()).add(groups[member.group_id].key)
    people = {
        p.key: (p.id, frozenset(members.get(p.id, ())))
        for p in session.scalars(select(Person).where(Person.active.is_(True)))
    }
    group_keys = {g.name: g.key for g in groups.values()}
    group_keys.update({g.key: g.key for g in groups.values()})
    heads = dict(session.execute(select(Department.id, Department.head_id)).all())
    group_heads = {
        g.key: heads[g.department_id] for g in groups.values() if heads.get(g.department_id)
    }
    absences: dict[str, list[tuple[date, date, str]]] = {}
    for row in session.scalars(select(Absence).where(Absence.cancelled_at.is_(None))):
        absences.setdefault(row.person_key, []).append((row.starts_on, row.ends_on,
                                                        row.deputy_key))  # fmt: skip
    frozen = {k: tuple(v) for k, v in absences.items()}
    return OrgSnapshot(stamp, people, group_keys, group_heads, frozen)


def responsible_person(
    session: Session, task: Task, snapshot: OrgSnapshot | None = None
) -> Person | None:
    """The assignee; while unclaimed, the head of the first candidate group's department.

    Commands pass their org snapshot, which answers the group-to-head part from memory.
    """
    if task.assignee:
        if snapshot is not None and task.assignee in snapshot.people:
            return session.get(Person, snapshot.people[task.assignee][0])
        return session.scalars(select(Person).where(Person.key == task.assignee)).first()
    if snapshot is not None:
        head = next((snapshot.group_heads[k] for k in task.candidate_groups
                     if k in snapshot.group_heads), None)  # fmt: skip
        return session.get(Person, head) if head is not None else None
    for key in task.candidate_groups:
        group = session.scalars(select(Group).where(Group.key == key)).first()
        if group and group.department_id:
            department = session.get(Department, group.department_id)
            if department and department.head_id:
                return session.get(Person, department.head_id)
    return None


def acting(
    session: Session, person: Person, snapshot: OrgSnapshot, day: date
) -> tuple[Person, Person | None]:
    """Who acts for ``person`` on ``day`` and, when that is a deputy, whom they stand in for."""
    deputy = snapshot.stand_in(person.key, day)
    if deputy is None or deputy not in snapshot.people:
        return person, None
    stand_in = session.get(Person, snapshot.people[deputy][0])
    return (stand_in, person) if stand_in is not None else (person, None)


def name_of(session: Session, key: str | None) -> str:
    """How a notice names a person: their name, else their key (someone who left), else -."""
    if not key:
        return "-"
    return session.scalar(select(Person.name).where(Person.key == key)) or key


def superior_of(session: Session, person: Person) -> Person | None:
    return session.get(Person, person.superior_id) if person.superior_id else None


# --- import -----------------------------------------------------------------------------


@dataclass
class ImportSummary:
    departments: int = 0
    people: int = 0
    groups: int = 0


# The keys an org file may use, at each level, as ImportOrg reads them. Any other key is
# refused: ignored, a misspelt ``superiour:`` would leave the person without a superior,
# and chases would stop climbing at them.
SECTIONS = ("departments", "people", "groups")
ENTRY_KEYS = {
    "departments": ("key", "name", "parent", "head", "webhook"),
    "people": ("key", "name", "department", "superior", "groups", "email", "phone", "locale",
               "digest"),
    "groups": ("key", "name", "department"),
}  # fmt: skip
WEBHOOK_KEYS = ("url", "format")
# A CSV file is one person a row; ``head_of`` makes them the head of that department.
CSV_COLUMNS = (*ENTRY_KEYS["people"], "head_of")
_ENTRY = {"departments": "department", "people": "person", "groups": "group"}


def parse_org_file(name: str, content: bytes) -> dict[str, list[dict[str, Any]]]:
    """The departments, people and groups of an org file (YAML, or CSV one person a row),
    refusing in one line what ImportOrg would otherwise ignore or fail on: an unknown key
    at any level, an entry that is not a mapping."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    if name.lower().endswith(".csv"):
        return _from_csv(name, text)
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationError(f"{name}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ValidationError(f"{name}: expected a mapping with departments, people, groups")
    if (key := _unknown(doc, SECTIONS)) is not None:
        raise ValidationError(
            f"{name}: unknown key {key!r}; top-level keys are {_listed(SECTIONS)}"
        )
    sections = {k: doc.get(k) or [] for k in SECTIONS}
    for section, rows in sections.items():
        if not isinstance(rows, list):
            raise ValidationError(f"{name}: {section} must be a list, one entry a line (- key: …)")
        for number, row in enumerate(rows, 1):
            _check_entry(section, number, row)
    return sections


def _check_entry(section: str, number: int, row: Any) -> None:
    """One entry of ``section``: a mapping of the section's keys (a webhook: of its own)."""
    if not isinstance(row, dict):
        # Worded as the admin page's upload check words it (and its catalogue translates).
        raise ValidationError(f"{section}: every entry must be a mapping, not {row!r}")
    kind = _ENTRY[section]
    entry = f"{kind} {str(row['key'])!r}" if row.get("key") else f"{kind} #{number}"
    allowed = ENTRY_KEYS[section]
    if (key := _unknown(row, allowed)) is not None:
        raise ValidationError(f"{entry}: unknown key {key!r}; {kind} keys are {_listed(allowed)}")
    webhook = row.get("webhook")
    if webhook is not None and not isinstance(webhook, dict):
        raise ValidationError(f"{section} {row.get('key')}: webhook must be a mapping")
    if webhook and (key := _unknown(webhook, WEBHOOK_KEYS)) is not None:
        raise ValidationError(f"{entry}: unknown webhook key {key!r}; webhook keys are "
                              f"{_listed(WEBHOOK_KEYS)}")  # fmt: skip
    groups = row.get("groups") or []
    if not isinstance(groups, list):
        raise ValidationError(f"{section} {row.get('key')}: groups must be a list")
    if section == "people" and not all(isinstance(g, str) for g in groups):
        raise ValidationError(f"{entry}: groups must be a list of group keys, not {groups!r}")


def _digest(row: dict[str, Any]) -> bool:
    try:
        return yes_or_no(row["digest"])
    except ValueError:
        raise ValidationError(
            f"person {row.get('key')!r}: digest {row['digest']!r} is not yes or no"
        ) from None


def _unknown(keys: Iterable[Any], allowed: tuple[str, ...]) -> Any | None:
    """The first of ``keys`` that is not ``allowed``, or None."""
    return next((key for key in keys if key not in allowed), None)


def _listed(allowed: tuple[str, ...]) -> str:
    return ", ".join(allowed)


def _from_csv(name: str, text: str) -> dict[str, list[dict[str, Any]]]:
    """One row per person: key,name,department,superior,groups(;),email,phone,locale,
    digest,head_of (the header names the columns used, in any order)."""
    people, departments = [], {}
    try:
        reader = csv.DictReader(io.StringIO(text))
        # Column names are trimmed as the values are: "key, name" names the name column.
        columns = [c.strip() for c in reader.fieldnames or [] if c and c.strip()]
        if (key := _unknown(columns, CSV_COLUMNS)) is not None:
            raise ValidationError(f"{name}: unknown column {key!r} in the header; columns are "
                                  f"{_listed(CSV_COLUMNS)}")  # fmt: skip
        for row in reader:
            person = {k.strip(): (v or "").strip() or None
                      for k, v in row.items() if k and k.strip()}  # fmt: skip
            if person.get("groups"):
                person["groups"] = [g.strip() for g in person["groups"].split(";") if g.strip()]
            if person.get("department"):
                departments.setdefault(person["department"], {"key": person["department"]})
            if person.get("head_of"):
                departments.setdefault(person["head_of"], {"key": person["head_of"]})
                departments[person["head_of"]]["head"] = person.get("key")
            people.append(person)
    except csv.Error as exc:  # a NUL byte, a field over the csv module's size limit
        raise ValidationError(f"{name}: {exc}") from None
    return {"departments": list(departments.values()), "people": people, "groups": []}


class ImportOrg:
    """Create or update departments, people and groups; unknown references are errors."""

    name = "org_import"

    def __init__(self, doc: dict[str, list[dict[str, Any]]]) -> None:
        self.doc = doc

    def __call__(self, ctx: CommandContext) -> ImportSummary:
        s = ctx.session
        summary = ImportSummary()
        departments = {d.key: d for d in s.scalars(select(Department))}
        for row in self.doc["departments"]:
            dept = departments.get(_required(row, "key", "department"))
            if dept is None:
                dept = departments[row["key"]] = Department(key=row["key"], name=row["key"])
                s.add(dept)
            dept.name = row.get("name") or dept.name
            if row.get("webhook"):
                dept.webhook_url = row["webhook"].get("url")
                dept.webhook_format = row["webhook"].get("format", "plain")
            summary.departments += 1
        s.flush()
        for row in self.doc["departments"]:
            if row.get("parent"):
                departments[row["key"]].parent_id = _ref(
                    departments, row["parent"], "department"
                ).id
        people = {p.key: p for p in s.scalars(select(Person))}
        for row in self.doc["people"]:
            person = people.get(_required(row, "key", "person"))
            if person is None:
                person = people[row["key"]] = Person(key=row["key"], name=row["key"])
                s.add(person)
            person.name = row.get("name") or person.name
            person.email = _contact(row, "email", check_email) or person.email
            person.phone = _contact(row, "phone", check_phone) or person.phone
            if row.get("digest") is not None:
                person.digest = _digest(row)
            if row.get("locale"):
                person.locale = parse_locale(str(row["locale"]))
            if row.get("department"):
                person.department_id = _ref(departments, row["department"], "department").id
            summary.people += 1
        s.flush()
        for row in self.doc["people"]:
            if row.get("superior"):
                people[row["key"]].superior_id = _ref(people, row["superior"], "person").id
        _refuse_loops(departments, "parent_id", "department", "parent")
        _refuse_loops(people, "superior_id", "person", "superior")
        for row in self.doc["departments"]:
            if row.get("head"):
                departments[row["key"]].head_id = _ref(people, row["head"], "person").id
        summary.groups = self._import_groups(ctx, departments, people)
        audit.append(ctx, "org_import", payload={
            "departments": summary.departments, "people": summary.people, "groups": summary.groups,
        })  # fmt: skip
        return summary

    def _import_groups(
        self, ctx: CommandContext, departments: dict[str, Department], people: dict[str, Person]
    ) -> int:
        s = ctx.session
        groups = {g.key: g for g in s.scalars(select(Group))}
        for row in self.doc["groups"]:
            group = groups.get(_required(row, "key", "group"))
            if group is None:
                group = groups[row["key"]] = Group(key=row["key"], name=row["key"])
                s.add(group)
            group.name = row.get("name") or group.name
            if row.get("department"):
                group.department_id = _ref(departments, row["department"], "department").id
        for row in self.doc["people"]:
            for key in row.get("groups") or []:
                if key not in groups:
                    groups[key] = Group(key=key, name=key)
                    s.add(groups[key])
        s.flush()
        existing = {(m.group_id, m.person_id) for m in s.scalars(select(GroupMember))}
        for row in self.doc["people"]:
            for key in row.get("groups") or []:
                pair = (groups[key].id, people[row["key"]].id)
                if pair not in existing:
                    s.add(GroupMember(group_id=pair[0], person_id=pair[1]))
                    existing.add(pair)
        return len(self.doc["groups"])


def _refuse_loops(rows: dict[str, Any], link: str, kind: str, relation: str) -> None:
    """Superiors (or parent departments) must end at the top: a chase climbing a loop
    would go round for ever. The whole file is refused, naming the loop."""
    by_id = {row.id: row for row in rows.values()}
    for start in rows.values():
        path, current = [start.key], by_id.get(getattr(start, link))
        while current is not None and len(path) <= len(rows):
            if current.key == start.key:
                loop = " → ".join([*path, start.key])
                raise ValidationError(f"{kind} {relation}s form a loop: {loop}")
            path.append(current.key)
            current = by_id.get(getattr(current, link))


def _required(row: dict[str, Any], field: str, kind: str) -> str:
    value = row.get(field)
    if not value:
        raise ValidationError(f"a {kind} entry has no {field}: {row}")
    return str(value)


def _contact(
    row: dict[str, Any], field: str, check: Callable[[str | None, str], str | None]
) -> str | None:
    """The person's ``field`` (e-mail or phone) as the person form stores it, ``None`` when
    the file leaves it empty. A refusal names the person, since a whole file is checked at
    once, and keeps ``check``'s own message after the name (the page catalogue words that
    part). It drops the field details: the upload form has no e-mail or phone field, so
    the admin page shows the message at the file instead."""
    value = row.get(field)
    try:
        # YAML reads an unquoted phone number as an int; check its digits all the same.
        return check(None if value is None else str(value), field)
    except ValidationError as exc:
        raise ValidationError(f"person {str(row['key'])!r}: {exc.message}") from None


def _ref(table: dict[str, Any], key: str, kind: str) -> Any:
    if key not in table:
        raise ValidationError(f"unknown {kind} {key!r} referenced in the org file")
    return table[key]
