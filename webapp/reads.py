"""What the staff pages and their API show, as plain dicts, read from projections only.

Built on :mod:`engine.queries` (task and case views with SLA clocks), adding what a
page needs beyond them: filters and search, who may act, the form to fill, and the
story of a deadline (limit, standard, calendar, pauses, extensions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, func, or_, select, union_all
from sqlalchemy.orm import Session

from engine import attachments, queries, sla
from engine.accounts import Principal
from engine.calendar import WorkingCalendar
from engine.calendars import load_calendar
from engine.errors import at_field
from engine.org import OrgSnapshot
from engine.store import (
    AuditEvent,
    Definition,
    Department,
    Group,
    OutboxMessage,
    Person,
    ProcessInstance,
    Task,
)
from engine.store.account_tables import Account, AccountRole, NoticeRead
from engine.store.models import POOL_KINDS, Attachment, SlaExtension

from . import assist_view, notice_log
from .access import groups_of, stood_in_for
from .labels import PEOPLE_KEYS, named_keys
from .names import department_names, group_names, person_names
from .security import engine

FILTERS = ("all", "mine", "group")
INBOX_LIMIT = 50  # rows a page; more follow by keyset paging
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_COMMANDS = ("pause_clock", "resume_clock", "request_extension", "decide_extension")


class Calendars:
    """Calendars loaded once per request, however many tasks share them."""

    def __init__(self, session: Session) -> None:
        self.session, self.loaded = session, dict[str, WorkingCalendar]()

    def get(self, name: str | None) -> WorkingCalendar:
        key = name or "default"
        if key not in self.loaded:
            self.loaded[key] = load_calendar(self.session, key)
        return self.loaded[key]


@dataclass(frozen=True)
class Position:
    """A task's place in the inbox's order: by deadline, then id; undated tasks after every
    dated one, by id. A page is told where to start by the last (or first) row of the page
    next to it — keyset paging, an ordered index walk, never an OFFSET."""

    due_at: datetime | None
    id: int

    def key(self) -> tuple[bool, datetime, int]:
        return (self.due_at is None, self.due_at or EPOCH, self.id)

    def token(self) -> str:
        """``<microseconds since 1970>_<id>``, or ``u<id>`` for an undated task: exact, and
        plain in a URL."""
        if self.due_at is None:
            return f"u{self.id}"
        return f"{(self.due_at - EPOCH) // timedelta(microseconds=1)}_{self.id}"

    @classmethod
    def parse(cls, token: str, field: str) -> Position:
        """The position a page token names; a bad one is an error at ``field`` (the query
        parameter that carried it)."""
        # At most 17 digits of microseconds: any instant before the year 5000.
        match = re.fullmatch(r"u(\d{1,18})|(\d{1,17})_(\d{1,18})", token)
        if match is None:
            raise at_field(field, f"not a position in the inbox: {token[:40]!r}")
        undated, micros, task_id = match.groups()
        if undated is not None:
            return cls(None, int(undated))
        return cls(EPOCH + timedelta(microseconds=int(micros)), int(task_id))


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox, with where the pages before and after it start."""

    rows: list[dict[str, Any]]
    before: str | None  # the ``before`` position of the previous page, if there is one
    after: str | None  # the ``after`` position of the next page, if there is one


def inbox_page(
    session: Session,
    user: Principal,
    org: OrgSnapshot,
    tz: tzinfo,
    now: datetime,
    which: str = "all",
    search: str = "",
    after: str | None = None,
    before: str | None = None,
    limit: int | None = None,
) -> InboxPage:
    """Open user and 协办 tasks: ``mine`` (held by me, or by whom I stand in for today),
    ``group`` (unclaimed, offered to one of my groups) or ``all`` of both; soonest
    deadline first, ``limit`` (``INBOX_LIMIT``) a page, after (or before) a
    :class:`Position` token; ``search`` matches the business key or the step name."""
    if user.key not in org.people:
        return InboxPage([], None, None)  # a person who left the org chart has no work
    held, offered = queries.pool_scope(org, user.key, now.astimezone(tz).date())
    scopes = {"mine": [held], "group": [offered]}.get(which, [held, offered])
    text = search.strip().lower() or None
    window = _soonest(
        session, scopes, text, limit or INBOX_LIMIT,
        Position.parse(after, "after") if after else None,
        Position.parse(before, "before") if before else None,
    )  # fmt: skip
    found = _tasks(session, [p.id for p in window.positions])
    calendars = Calendars(session)
    me = Acting(user, groups_of(org, user), stood_in_for(org, user, now.astimezone(tz).date()))
    rows = [_task_row(session, task, key, me, tz, now, calendars) for task, key in found]
    named(session, [*rows, *(r["assisted"] for r in rows if r["assisted"])])
    for row in rows:
        # A deputy's row stands in for its assignee (Acting.deputy_for).
        row["on_behalf_of_name"] = row["assignee_name"] if row["on_behalf_of"] else None
    return InboxPage(
        rows,
        window.before.token() if window.before else None,
        window.after.token() if window.after else None,
    )


@dataclass(frozen=True)
class Window:
    """A page's positions, and where the pages before and after it start (None: none)."""

    positions: list[Position]
    before: Position | None
    after: Position | None


def _soonest(
    session: Session,
    scopes: list[Any],
    text: str | None,
    limit: int,
    after: Position | None = None,
    before: Position | None = None,
) -> Window:
    """A page of ``limit`` open pool tasks in any of ``scopes`` (disjoint: held tasks have
    an assignee, offered ones none) after ``after`` (or before ``before``), soonest
    deadline first, undated last, then by id.

    One statement per scope and per dated/undated, each ordered and limited on its own,
    then merged: each is an ordered walk of the (state, due_at, id) index, or of the
    assignee index for what one person holds, that starts at the page's position and
    stops when the page is full instead of sorting every visible task; an OR of the
    scopes would keep PostgreSQL from turning the group check into a semi-join
    (docs/benchmarks.md, "Staff inbox"). One row more than the page tells whether
    another page follows."""
    base = select(Task.due_at, Task.id).where(Task.state == "open", Task.kind.in_(POOL_KINDS))
    if text is not None:
        base = base.join(ProcessInstance, ProcessInstance.id == Task.instance_id).where(
            or_(
                # autoescape: % and _ are characters to look for, not LIKE wildcards
                func.lower(ProcessInstance.business_key).contains(text, autoescape=True),
                func.lower(Task.name).contains(text, autoescape=True),
            )
        )

    def walk(dated: bool, bound: Position | None, backward: bool, n: int) -> list[Position]:
        return _walk(session, base, scopes, dated, bound, backward, n)

    if before is not None:
        # Backwards: the undated tasks before an undated position, then the dated ones.
        found = walk(False, before, True, limit + 1) if before.due_at is None else []
        if len(found) <= limit:
            found += walk(True, before if before.due_at else None, True, limit + 1 - len(found))
        if len(found) > limit:
            page = found[:limit][::-1]
            return Window(page, page[0], page[-1])
        after = None  # back at the start: the first page, full
    found = (
        [] if after is not None and after.due_at is None else walk(True, after, False, limit + 1)
    )
    if len(found) <= limit:
        undated_after = after if after is not None and after.due_at is None else None
        found += walk(False, undated_after, False, limit + 1 - len(found))
    page = found[:limit]
    # An empty page (its tasks were done meanwhile) leads back to the page that ended at its
    # position: ids are whole numbers, so "before (due, id + 1)" includes (due, id).
    earlier = (page[0] if page else Position(after.due_at, after.id + 1)) if after else None
    return Window(page, earlier, page[-1] if len(found) > limit else None)


def _walk(
    session: Session,
    base: Select[tuple[datetime, int]],
    scopes: list[Any],
    dated: bool,
    bound: Position | None,
    backward: bool,
    limit: int,
) -> list[Position]:
    """Up to ``limit`` dated (or undated) positions in ``scopes`` past ``bound``, in the
    walk's direction: one statement, a UNION ALL of each scope's own ordered, limited walk
    (one round trip to the database, however many scopes)."""
    order = [Task.due_at, Task.id] if dated else [Task.id]
    walks = []
    for scope in scopes:
        query = base.where(scope, Task.due_at.is_not(None) if dated else Task.due_at.is_(None))
        if bound is not None and bound.due_at is not None:  # (a dated walk's bound)
            # The range on due_at is what the index walk starts from; the OR settles ties.
            due = bound.due_at
            past = (
                (Task.due_at <= due) & ((Task.due_at < due) | (Task.id < bound.id))
                if backward
                else (Task.due_at >= due) & ((Task.due_at > due) | (Task.id > bound.id))
            )
            query = query.where(past)
        elif bound is not None:
            query = query.where(Task.id < bound.id if backward else Task.id > bound.id)
        query = query.order_by(*(c.desc() for c in order) if backward else order).limit(limit)
        # A subquery each: SQLite takes no ORDER BY or LIMIT on a UNION's members.
        walk = query.subquery()
        walks.append(select(walk.c.due_at, walk.c.id))
    found = session.execute(walks[0] if len(walks) == 1 else union_all(*walks))
    positions = (Position(due_at, task_id) for due_at, task_id in found)
    return sorted(positions, key=Position.key, reverse=backward)[:limit]


def _tasks(session: Session, ids: list[int]) -> list[tuple[Task, str | None]]:
    """The page's full rows with their cases' business keys, by primary key, in the
    page's order."""
    if not ids:
        return []
    found = session.execute(
        select(Task, ProcessInstance.business_key)
        .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
        .where(Task.id.in_(ids))
    )
    rows = {task.id: (task, key) for task, key in found}
    return [rows[task_id] for task_id in ids]


def business_keys(session: Session, instance_ids: set[int]) -> dict[int, str | None]:
    if not instance_ids:
        return {}
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.business_key).where(
            ProcessInstance.id.in_(instance_ids)
        )
    )
    return dict(rows.all())


@dataclass(frozen=True)
class Acting:
    """Who is asking, with their groups and whom they stand in for today."""

    user: Principal
    groups: frozenset[str]
    deputy_for: Sequence[str] = ()

    def holds(self, task: Task) -> bool:
        return task.assignee == self.user.key or (
            task.assignee is not None and task.assignee in self.deputy_for
        )


def _task_row(
    session: Session,
    task: Task,
    business_key: str | None,
    me: Acting,
    tz: tzinfo,
    now: datetime,
    calendars: Calendars,
) -> dict[str, Any]:
    view = queries.task_view(task, tz)
    view["business_key"] = business_key
    view["sla"] = explain_clock(session, task, tz, now, calendars, history=False)
    view["may"] = allowed_actions(task, me)
    # Shown as "代 <name>": work of someone I stand in for today.
    view["on_behalf_of"] = task.assignee if task.assignee in me.deputy_for else None
    view["assisted"] = assisted(session, task)
    return view


def assisted(session: Session, task: Task) -> dict[str, Any] | None:
    """For a 协办 request: the asking task and its holder."""
    if task.assists_id is None:
        return None
    asking = session.get(Task, task.assists_id)
    if asking is None:
        return None
    return {"id": asking.id, "name": asking.name, "assignee": asking.assignee}


def allowed_actions(task: Task, me: Acting) -> list[str]:
    """What the page offers (the engine re-checks each one when it runs)."""
    if task.state != "open" or task.kind not in POOL_KINDS:
        return []
    candidate = not task.candidate_groups or bool(set(task.candidate_groups) & me.groups)
    if task.assignee is None:
        if task.kind == "assist":
            return ["claim"] if candidate else []
        return ["claim", "complete"] if candidate else []
    if not me.holds(task):
        return []
    if task.kind == "assist":
        return ["unclaim", "answer"] if task.assignee == me.user.key else ["answer"]
    if task.assignee != me.user.key:
        return ["complete", "assist"]  # a deputy completes and asks; the rest is the holder's
    if task.delegation_state == "pending":
        return ["resolve"]  # the delegate hands it back to its owner, who completes it
    actions = ["unclaim", "delegate", "complete", "assist"]
    if task.due_at is not None:
        actions += ["resume"] if task.paused_at is not None else ["pause"]
        actions.append("extend")
    return actions


def explain_clock(
    session: Session,
    task: Task,
    tz: tzinfo,
    now: datetime,
    calendars: Calendars | None = None,
    history: bool = True,
) -> dict[str, Any] | None:
    """The SLA clock with everything that explains its deadline."""
    if task.due_at is None:
        return None
    calendar = (calendars or Calendars(session)).get(task.calendar_name)
    view = sla.view(task, now, calendar) or {}
    view.update(
        day_seconds=int(calendar.day_length.total_seconds()),
        started_at=queries.local(task.created_at, tz),
        paused_at=queries.local(task.paused_at, tz),
        extended_seconds=task.extended_seconds,
        calendar=task.calendar_name or "default",
    )
    if history:
        # Reasons are personal data kept apart from the event (erasable): joined back here.
        events = session.execute(
            queries.events_with_private(
                AuditEvent.task_id == task.id, AuditEvent.command.in_(CLOCK_COMMANDS)
            ).order_by(AuditEvent.at, AuditEvent.id)
        )
        view["events"] = [
            {"at": queries.local(e.at, tz), "actor": e.actor, "command": e.command,
             "payload": {**e.payload, **(private or {})}}
            for e, private in events
        ]  # fmt: skip
        extensions = session.scalars(
            select(SlaExtension).where(SlaExtension.task_id == task.id).order_by(SlaExtension.id)
        )
        view["extensions"] = [
            {"id": x.id, "amount": x.amount, "reason": x.reason, "status": x.status,
             "requested_by": x.requested_by, "decided_by": x.decided_by,
             "requested_at": queries.local(x.requested_at, tz)}
            for x in extensions
        ]  # fmt: skip
        names = person_names(
            session,
            [e["actor"] for e in view["events"]] + [x["decided_by"] for x in view["extensions"]],
        )
        for event in view["events"]:
            event["actor_name"] = names.get(event["actor"])
        for extension in view["extensions"]:
            extension["decided_by_name"] = names.get(extension["decided_by"] or "")
    return view


def form_fields(session: Session, task: Task) -> list[dict[str, Any]]:
    meta = session.scalar(
        select(Definition.meta)
        .join(ProcessInstance, ProcessInstance.definition_id == Definition.id)
        .where(ProcessInstance.id == task.instance_id)
    )
    return list((meta or {}).get("user_tasks", {}).get(task.element_id, {}).get("form", []))


def task_detail(
    session: Session, task: Task, user: Principal, org: OrgSnapshot, tz: tzinfo, now: datetime
) -> dict[str, Any]:
    instance = task.instance
    me = Acting(user, groups_of(org, user), stood_in_for(org, user, now.astimezone(tz).date()))
    view = queries.task_view(task, tz)
    view.update(
        business_key=instance.business_key,
        case_state=instance.state,
        case_data=instance.data,
        process=instance.definition.name,
        sla=explain_clock(session, task, tz, now),
        form=form_fields(session, task),
        may=allowed_actions(task, me),
        on_behalf_of=task.assignee if task.assignee in me.deputy_for else None,
        assisted=assisted(session, task),
        comments=[c for c in case_comments(session, instance.id, tz) if c["task_id"] == task.id],
        attachments=case_attachments(session, instance.id, tz),
        completed_by=task.completed_by,
        ended_at=queries.local(task.ended_at, tz),
        data_labels=data_labels(instance.definition.meta),
        draft=delegated_draft(session, task),
    )
    view.update(assist_view.for_task(session, task, tz))  # its 协办: question, requests
    named(session, [view, *([view["assisted"]] if view["assisted"] else [])])
    return view


def named(session: Session, tasks: list[dict[str, Any]]) -> None:
    """Give task views the names of their assignee and candidate groups (pages show
    names; a key without a name, such as a person who left, stays as it is)."""
    people = person_names(session, {t["assignee"] for t in tasks})
    groups = group_names(session, {g for t in tasks for g in t.get("candidate_groups", ())})
    for task in tasks:
        task["assignee_name"] = people.get(task["assignee"]) if task["assignee"] else None
        if "candidate_groups" in task:  # a 协办 request's asking step has none listed
            task["group_names"] = [groups.get(g, g) for g in task["candidate_groups"]]


def case_detail(
    session: Session, instance: ProcessInstance, tz: tzinfo, now: datetime
) -> dict[str, Any]:
    view = queries.instance(session, instance.id, tz)
    view["process"] = instance.definition.name
    view["comments"] = case_comments(session, instance.id, tz)
    view["attachments"] = case_attachments(session, instance.id, tz)
    view["notices"] = notice_log.notices(session, tz, instance_id=instance.id)
    named(session, view["open_tasks"])
    calendars = Calendars(session)
    for task in view["open_tasks"]:
        row = session.get(Task, task["id"])
        task["sla"] = (
            explain_clock(session, row, tz, now, calendars, history=False) if row else None
        )
    view["data_labels"] = data_labels(instance.definition.meta)
    view["names"] = case_names(session, instance, view)
    return view


def delegated_draft(session: Session, task: Task) -> dict[str, Any]:
    """What delegates filled in and handed back on this open task (the form data of its
    ``resolve`` events, kept in the erasable audit part): the owner's form starts from it.
    It is in the step's own data until the step completes, not yet in the case's."""
    if task.state != "open":
        return {}
    rows = session.execute(
        queries.events_with_private(
            AuditEvent.instance_id == task.instance_id,
            AuditEvent.task_id == task.id,
            AuditEvent.command == "resolve",
        ).order_by(AuditEvent.id)
    )
    draft: dict[str, Any] = {}
    for _, private in rows:
        draft.update((private or {}).get("data") or {})
    return draft


def data_labels(meta: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """What the process's forms call each case variable: ``{variable: {label, type,
    options: {value: name}}}`` (the first form that declares a variable names it)."""
    labels: dict[str, dict[str, Any]] = {}
    for step in ((meta or {}).get("user_tasks") or {}).values():
        for field in step.get("form") or ():
            key = field.get("id")
            if not key or key in labels:
                continue
            options = {o["id"]: o["name"] for o in field.get("options") or ()
                       if o.get("id") and o.get("name")}  # fmt: skip
            labels[key] = {"label": field.get("label") or key,
                           "type": field.get("type") or "string", "options": options}  # fmt: skip
    return labels


def case_names(
    session: Session, instance: ProcessInstance, view: dict[str, Any]
) -> dict[str, dict[Any, str]]:
    """The names of what the case's history, notices and waits store as keys: people,
    the diagram's elements, the case's tasks, departments and groups."""
    payloads = [{**e["payload"], **(e.get("private") or {})} for e in view["history"]]
    people = {e["actor"] for e in view["history"]} | set(_values_at(payloads, PEOPLE_KEYS))
    tasks = session.execute(select(Task.id, Task.name).where(Task.instance_id == instance.id))
    departments = {v for v in _values_at(payloads, {"department_id"}) if isinstance(v, int)}
    found = session.execute(
        select(Department.id, Department.name).where(Department.id.in_(departments))
    )
    return {
        "people": person_names(session, (p for p in people if isinstance(p, str))),
        "steps": element_names(session, instance),
        "tasks": {task_id: name for task_id, name in tasks if name},
        "departments": {d: name for d, name in found if name},
        "groups": group_names(session, (g for g in _values_at(payloads, {"group"}))),
    }


def page_names(session: Session, instance: ProcessInstance, view: dict[str, Any]) -> dict[str, Any]:
    """The case or task page's names: ``view``'s (``case_names``, which the API also
    answers), the people, groups and departments the case's variables, a 催办's outcome or
    a 协办 clock's standard name by key (:func:`webapp.labels.named_keys`), and the name of
    the event that waits for each message."""
    names = dict(view.get("names") or {})
    people, groups, departments = named_keys(view)
    names["people"] = {**person_names(session, people), **(names.get("people") or {})}
    names["groups"] = {**group_names(session, groups), **(names.get("groups") or {})}
    # by key, beside the history's departments by id
    names["departments"] = {**department_names(session, departments),
                            **(names.get("departments") or {})}  # fmt: skip
    names["steps"] = names.get("steps") or element_names(session, instance)
    names["messages"] = message_events(instance.definition.meta, names["steps"])
    return names


def message_events(meta: dict[str, Any] | None, steps: dict[str, str]) -> dict[str, str]:
    """Message name -> the name of the event that waits for it (an intermediate catch
    event, or an event subprocess's start), for the messages such an event names."""
    meta = meta or {}
    waits = dict(meta.get("message_catches") or {})
    for sub in (meta.get("event_subprocesses") or {}).values():
        waits[sub.get("start")] = sub.get("message")
    found: dict[str, str] = {}
    for element, message in waits.items():
        if message and element in steps:
            found.setdefault(message, steps[element])
    return found


def _values_at(payloads: Iterable[Any], keys: Iterable[str] | frozenset[str]) -> Iterable[Any]:
    """Every value stored under one of ``keys``, however deep in lists and dicts."""
    wanted = set(keys)
    for payload in payloads:
        if isinstance(payload, list):
            yield from _values_at(payload, wanted)
        elif isinstance(payload, dict):
            for key, value in payload.items():
                if key in wanted and not isinstance(value, list | dict):
                    yield value
                elif isinstance(value, list | dict):
                    yield from _values_at([value], wanted)


def element_names(session: Session, instance: ProcessInstance) -> dict[str, str]:
    """The diagram's element id -> its name, for the elements that have one (steps, timers,
    message events): read from the version's parsed spec, which keeps every BPMN name."""
    loaded = engine().services.definitions.get(session, instance.definition_id)
    names: dict[str, str] = {}
    for spec in (loaded.spec, *loaded.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            name = getattr(task_spec, "bpmn_name", None)
            if bpmn_id and name:
                names.setdefault(bpmn_id, name)
    return names


def case_comments(session: Session, instance_id: int, tz: tzinfo) -> list[dict[str, Any]]:
    """The case's comments with their authors' names (queries.comments has keys only)."""
    rows = queries.comments(session, instance_id)
    names = person_names(session, {c["author"] for c in rows})
    return [{**c, "at": queries.local(c["at"], tz), "author_name": names.get(c["author"])}
            for c in rows]  # fmt: skip


def case_attachments(session: Session, instance_id: int, tz: tzinfo) -> list[dict[str, Any]]:
    """The case's attachments in place, with their uploaders' names."""
    rows = attachments.listing(session, instance_id)
    names = person_names(session, {a.uploaded_by for a in rows})
    return [attachment_view(a, tz, names.get(a.uploaded_by)) for a in rows]


def attachment_view(
    row: Attachment, tz: tzinfo, uploader_name: str | None = None
) -> dict[str, Any]:
    return {"id": row.id, "instance_id": row.instance_id, "task_id": row.task_id,
            "filename": row.filename, "media_type": row.media_type, "size": row.size,
            "sha256": row.sha256, "uploaded_by": row.uploaded_by, "uploader_name": uploader_name,
            "created_at": queries.local(row.created_at, tz),
            "deleted_at": queries.local(row.deleted_at, tz)}  # fmt: skip


def delegates(session: Session, me: str) -> list[dict[str, str]]:
    """Whom a task can be delegated to from its page: others who work tasks (an active
    staff account), not auditors, designers or people without a login."""
    rows = session.execute(
        select(Person.key, Person.name)
        .join(Account, Account.person_key == Person.key)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(Person.active.is_(True), Account.active.is_(True), AccountRole.role == "staff",
               Person.key != me)
        .order_by(Person.key)
    )  # fmt: skip
    return [{"key": k, "name": n} for k, n in rows]


def groups(session: Session, besides: Sequence[str] = ()) -> list[dict[str, str]]:
    """Groups a step can ask for 协办: not the step's own (``besides``), which has it."""
    rows = session.execute(
        select(Group.key, Group.name).where(Group.key.not_in(besides)).order_by(Group.key)
    )
    return [{"key": k, "name": n} for k, n in rows]


def _inapp(user: Principal) -> Any:
    return (OutboxMessage.channel == "inapp") & (OutboxMessage.recipient == user.key)


def unread_count(session: Session, user: Principal) -> int:
    unread = OutboxMessage.id.not_in(select(NoticeRead.outbox_id))
    return session.scalar(select(func.count()).where(_inapp(user), unread)) or 0


def notices(
    session: Session, user: Principal, tz: tzinfo, limit: int = 200
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(OutboxMessage, NoticeRead.read_at)
        .outerjoin(NoticeRead, NoticeRead.outbox_id == OutboxMessage.id)
        .where(_inapp(user))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return [
        {"id": m.id, "at": queries.local(m.created_at, tz), "subject": m.subject, "body": m.body,
         "instance_id": m.instance_id, "read": read_at is not None}
        for m, read_at in rows
    ]  # fmt: skip
