"""What the JSON API accepts and answers, as marshmallow schemas for its OpenAPI document.

The views build their JSON from :mod:`webapp.reads` and friends and return it with
``jsonify``; flask-smorest then only *documents* these schemas (it never re-serializes
a returned response), so the document describes the answers without changing them.
``required`` marks a key that is always present, ``allow_none`` one that may be null;
objects may carry more keys than listed (clients should ignore what they don't know).
Bodies are read by the views themselves (:func:`webapp.api.body`), so a bad one is
CaseClock's 422 naming the field, as documented by :class:`Error`.
"""

from __future__ import annotations

from typing import Any, get_args

from marshmallow import INCLUDE, Schema, fields
from marshmallow.validate import Length, OneOf, Range, Regexp

from engine.accountability import COLUMNS, REPORT_TABLES
from engine.collection.aging import GroupBy
from engine.collection.grading import GRADES
from engine.collection.listing import MAX_PER_PAGE
from engine.collection.risk import UNGRADED
from engine.inputs import MAX_ID
from engine.outbox import CHANNELS
from engine.store.collection_tables import PRODUCTS

from . import notice_log
from .actions import ACTIONS
from .ledger_view import EXEMPTION
from .oversight import TREND_BY, TREND_PERIODS
from .reads import FILTERS


def _text(about: str, **options: Any) -> fields.String:
    return fields.String(metadata={"description": about}, **options)


def _said(about: str) -> fields.String:
    """Text the server requires: it trims it and refuses what is left blank."""
    return _text(about, required=True, validate=[Length(min=1), Regexp(r"\S")])


def _when(about: str, **options: Any) -> fields.DateTime:
    """An ISO 8601 instant with its UTC offset."""
    return fields.DateTime(metadata={"description": about}, **options)


def _maybe(field: type[fields.Field], about: str) -> fields.Field:
    """Always present, possibly null."""
    return field(required=True, allow_none=True, metadata={"description": about})


def _data_labels() -> fields.Dict:
    """What a case page shows for its data (webapp.reads.data_labels)."""
    about = (
        "what the process's forms call each case variable: "
        "``{variable: {label, type, options: {value: name}}}``"
    )
    return fields.Dict(required=True, metadata={"description": about})


class Open(Schema):
    """An object that may carry more keys than it lists (documented as such)."""

    class Meta:
        unknown = INCLUDE


# --- errors ------------------------------------------------------------------------------


class Error(Open):
    """Every error: a stable machine code and a message for people (never an HTML page)."""

    error = _text(
        "unauthorized, forbidden, not_found, conflict, invalid, method_not_allowed, …",
        required=True,
    )
    message = _text("what went wrong, in words", required=True)
    details = fields.Dict(
        metadata={"description": "for bad input, ``fields``: each bad field and its problem"}
    )


# --- request bodies ----------------------------------------------------------------------


class CompleteBody(Open):
    """``complete``: the task's form fields (see ``form`` of the task)."""

    data = fields.Dict(metadata={"description": "field id -> value"})


class DelegateBody(Open):
    """``delegate``: who works on it (you stay the owner)."""

    to = _said("a person's key")


class PauseBody(Open):
    """``pause`` (补正): why the SLA clock stops."""

    reason = _said("e.g. waiting for documents")


class ExtendBody(Open):
    """``extend``: a request for your superior."""

    amount = _said("how long, e.g. ``2 working days``")
    reason = _said("why")


class AssistBody(Open):
    """``assist`` (协办): a question to another department's group."""

    group = _said("the group asked")
    question = _said("what input you need")
    limit = _text("defaults to ``2 working days``")


class AnswerBody(Open):
    """``answer``: the reply to a claimed 协办 request."""

    answer = _said("the answer")


class CommentBody(Open):
    """A comment on the case (``comment`` on a task or chase: on its case, tied to it)."""

    text = _said("the comment")


class MarkReadBody(Open):
    """Which notices to mark read; without ``ids``, all of yours."""

    ids = fields.List(
        fields.Integer(validate=Range(min=1, max=MAX_ID)),
        metadata={"description": "notification ids"},
    )


class UrgeBody(Open):
    """``urge``: the 催办 notice to the late task's holder."""

    message = _text("what the holder is told")


class NoteBody(Open):
    """``handle`` a chase, or ``approve``/``refuse`` a request (a refusal needs a note)."""

    note = _text("why")


class ReassignBody(Open):
    """``reassign``: the late task goes to someone below you."""

    to = _said("a person's key")


# --- query strings -----------------------------------------------------------------------


INSTANCE_STATES = ("running", "completed", "error")


class InstancesQuery(Open):
    state = fields.String(validate=OneOf(INSTANCE_STATES))


class TasksQuery(Open):
    user = _text("a person's key (yours unless you are an admin)")
    group = _text("a group's key (one of yours unless you are an admin)")


class InboxQuery(Open):
    filter = fields.String(validate=OneOf(FILTERS), metadata={"description": "default all"})
    q = _text("part of a business key or step name")
    after = _text("the page after this position (the Link header's rel=next gives it)")
    before = _text("the page before this position (the Link header's rel=prev gives it)")


class ReportQuery(Open):
    from_ = fields.Date(data_key="from", metadata={"description": "default: 30 days ago"})
    to = fields.Date(metadata={"description": "default: today"})
    department = _text("a department's key")


class LedgerQuery(ReportQuery):
    person = _text("responsible or on behalf of")
    step = _text("element id or step name")
    exemption = fields.String(validate=OneOf([e for e in EXEMPTION if e]))


class AgingQuery(Open):
    as_of = fields.Date(metadata={"description": "default: today (years 1900–2999)"})
    by = fields.String(validate=OneOf(get_args(GroupBy)), metadata={"description": "no groups"})
    buckets = _text("bucket edges in days past due, e.g. ``30,60,90`` (the default)")


class GradesQuery(Open):
    from_ = fields.Date(data_key="from", metadata={"description": "default: 30 days before to"})
    to = fields.Date(metadata={"description": "default: today"})


class ReceivablesQuery(Open):
    product = fields.String(validate=OneOf(PRODUCTS))
    department = _text("a department's key")
    collector = _text("a person's key")
    grade = fields.String(validate=OneOf(GRADES))
    overdue = fields.String(validate=OneOf(("yes", "no")), metadata={"description": "past due"})
    page = fields.Integer(
        validate=Range(min=1, max=1_000_000), metadata={"description": "default 1"}
    )
    per_page = fields.Integer(validate=Range(min=1, max=MAX_PER_PAGE))


FEES = ("daily",)  # the receivable's ``fees``: left out, the total alone


class ReceivableQuery(Open):
    fees = fields.String(validate=OneOf(FEES), metadata={"description": "the penalty by day"})


class TrendsQuery(Open):
    from_ = fields.Date(data_key="from", metadata={"description": "default: 12 periods back"})
    to = fields.Date(metadata={"description": "default: today"})
    by = fields.String(validate=OneOf(TREND_BY), metadata={"description": "default person"})
    period = fields.String(validate=OneOf(TREND_PERIODS), metadata={"description": "default week"})


# --- who, what -----------------------------------------------------------------------------


class Health(Open):
    status = fields.String(required=True, validate=OneOf(("ok",)))
    database = _text("sqlite or postgresql", required=True)
    worker = _maybe(fields.String, "the timer worker in this process, if any")


class Me(Open):
    user = _text("your key", required=True)
    name = _text("your name", required=True)
    roles = fields.List(fields.String(), required=True)


class Definition(Open):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = _maybe(fields.String, "the process's name")
    deployed_at = _when("when deployed", required=True)
    running_instances = fields.Integer(required=True)


# --- SLA clocks ------------------------------------------------------------------------------


class Clock(Open):
    """A task's SLA clock and traffic light."""

    light = fields.String(
        required=True, validate=OneOf(("green", "yellow", "red", "paused", "met", "violated"))
    )
    limit = _maybe(fields.String, "e.g. ``3 working days``")
    policy = _maybe(fields.String, "the standard that set the limit")
    calendar = _maybe(fields.String, "the working calendar")
    due_at = _when("the deadline", required=True)
    warn_at = _when("the first warning", required=True, allow_none=True)
    working_time_left = _maybe(fields.String, "in words (negative when late)")
    working_seconds_left = _maybe(fields.Integer, "negative when late")
    paused_seconds = fields.Integer(required=True)
    note = _maybe(fields.String, "e.g. a year without official holiday data")


class ExplainedClock(Clock):
    """The clock with what explains its deadline (as the inbox shows it)."""

    day_seconds = fields.Integer(required=True, metadata={"description": "a working day"})
    started_at = _when("when the clock started", required=True)
    paused_at = _when("while paused: since when", required=True, allow_none=True)
    extended_seconds = fields.Integer(required=True)


class ClockEvent(Open):
    at = _when("when", required=True)
    actor = fields.String(required=True)
    actor_name = _maybe(fields.String, "the actor's name")
    command = _text("pause_clock, resume_clock, request_extension, decide_extension", required=True)
    payload = fields.Dict(required=True)


class Extension(Open):
    id = fields.Integer(required=True)
    amount = fields.String(required=True)
    reason = _maybe(fields.String, "null once erased")
    status = fields.String(required=True, validate=OneOf(("pending", "approved", "refused")))
    requested_by = fields.String(required=True)
    decided_by = _maybe(fields.String, "the superior who decided")
    decided_by_name = _maybe(fields.String, "their name")
    requested_at = _when("when requested", required=True)


class ClockStory(ExplainedClock):
    """The clock with its pauses and extensions (one task's page)."""

    events = fields.List(fields.Nested(ClockEvent), required=True)
    extensions = fields.List(fields.Nested(Extension), required=True)


# --- tasks and cases ---------------------------------------------------------------------------


class Task(Open):
    """An open or closed task (user task, 协办 ``assist`` request or 催办 ``chase`` task)."""

    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    element_id = fields.String(required=True)
    name = _maybe(fields.String, "the step's name")
    state = fields.String(required=True, validate=OneOf(("open", "completed", "cancelled")))
    assignee = _maybe(fields.String, "who holds it (null: in its groups' pool)")
    owner = _maybe(fields.String, "who delegated it")
    delegation_state = fields.String(
        required=True, allow_none=True, validate=OneOf(("pending", "resolved"))
    )
    candidate_groups = fields.List(fields.String(), required=True)
    group_names = fields.List(
        fields.String(),
        metadata={"description": "the candidate groups' names, in the same order"},
    )
    assignee_name = fields.String(
        allow_none=True, metadata={"description": "the assignee's name (null: none, or unknown)"}
    )
    created_at = _when("when it opened", required=True)
    due_at = _when("its deadline", required=True, allow_none=True)
    kind = _text("user, assist or chase", required=True)
    chase_of = _maybe(fields.Integer, "a chase task: the late task")
    chase_level = _maybe(fields.Integer, "a chase task: 1 for the first superior, …")
    assists = _maybe(fields.Integer, "a 协办 request: the asking task")
    outcome = _maybe(fields.String, "how it ended")
    sla = fields.Nested(Clock, required=True, allow_none=True)


class TaskRow(Task):
    """A task as the pages list it: its clock explained."""

    sla = fields.Nested(ExplainedClock, required=True, allow_none=True)


class AskingTask(Open):
    id = fields.Integer(required=True)
    name = _maybe(fields.String, "the step's name")
    assignee = _maybe(fields.String, "its holder")
    assignee_name = _maybe(fields.String, "its holder's name")


class OfferedTask(TaskRow):
    """A task as shown to you: its case, whose it is, what you may do."""

    business_key = _maybe(fields.String, "the case's business key")
    may = fields.List(
        fields.String(validate=OneOf(ACTIONS)),
        required=True,
        metadata={"description": "the actions offered to you"},
    )
    on_behalf_of = _maybe(fields.String, "held by someone you stand in for today")
    assisted = fields.Nested(AskingTask, required=True, allow_none=True)


class InboxRow(OfferedTask):
    on_behalf_of_name = _maybe(fields.String, "the name of whom you stand in for")


class FormOption(Open):
    id = fields.String(required=True)
    name = _maybe(fields.String, "shown")


class FormField(Open):
    id = fields.String(required=True)
    label = fields.String(required=True)
    type = _text("string, long, boolean, date, enum, …", required=True)
    default = _maybe(fields.String, "the default value")
    constraints = fields.Dict(required=True, metadata={"description": "e.g. required, maxlength"})
    options = fields.List(fields.Nested(FormOption), required=True)


class Comment(Open):
    id = fields.Integer(required=True)
    task_id = _maybe(fields.Integer, "the task it is tied to")
    author = fields.String(required=True)
    author_name = fields.String(allow_none=True)
    at = _when("when written", required=True)
    text = fields.String(required=True)


class Attachment(Open):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    task_id = _maybe(fields.Integer, "the task it was added at")
    filename = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    sha256 = fields.String(required=True)
    uploaded_by = fields.String(required=True)
    uploader_name = _maybe(fields.String, "their name")
    created_at = _when("when uploaded", required=True)
    deleted_at = _when("when deleted", required=True, allow_none=True)


class AssistRequest(Open):
    """A 协办 request: the question put to another group, its state and the answer."""

    id = fields.Integer(required=True, metadata={"description": "the 协办 task's id"})
    assists = fields.Integer(required=True, metadata={"description": "the asking task"})
    group = _maybe(fields.String, "the group asked")
    group_name = _maybe(fields.String, "its name")
    question = _maybe(fields.String, "what was asked (null once erased)")
    asked_by = _maybe(fields.String, "who asked")
    asked_by_name = _maybe(fields.String, "their name")
    asked_at = _when("when asked", required=True)
    limit = _maybe(fields.String, "the time allowed, e.g. ``2 working days``")
    due_at = _when("its deadline", required=True, allow_none=True)
    state = fields.String(required=True, validate=OneOf(("pending", "answered", "withdrawn")))
    assignee = _maybe(fields.String, "who claimed it")
    assignee_name = _maybe(fields.String, "their name")
    answer = _maybe(fields.String, "the answer (null: none yet, or erased)")
    answered_by = _maybe(fields.String, "who answered")
    answered_by_name = _maybe(fields.String, "their name")
    answered_at = _when("when answered", required=True, allow_none=True)
    ended_at = _when("when answered or withdrawn", required=True, allow_none=True)


class TaskDetail(OfferedTask):
    sla = fields.Nested(ClockStory, required=True, allow_none=True)
    case_state = fields.String(required=True)
    case_data = fields.Dict(required=True, metadata={"description": "the case's data"})
    process = fields.String(required=True)
    form = fields.List(fields.Nested(FormField), required=True)
    comments = fields.List(fields.Nested(Comment), required=True)
    attachments = fields.List(fields.Nested(Attachment), required=True)
    completed_by = _maybe(fields.String, "who completed it")
    ended_at = _when("when it closed", required=True, allow_none=True)
    data_labels = _data_labels()
    draft = fields.Dict(
        required=True,
        metadata={"description": "form values delegates handed back, not yet completed"},
    )
    assist_question = fields.Nested(
        AssistRequest, required=True, allow_none=True,
        metadata={"description": "a 协办 request: what it asks (null: another kind of task)"},
    )  # fmt: skip
    assist_requests = fields.List(
        fields.Nested(AssistRequest), required=True,
        metadata={"description": "the 协办 requests this task made, oldest first"},
    )  # fmt: skip


class Completed(Open):
    completed = fields.Integer(required=True, metadata={"description": "the task's id"})


class InstanceRow(Open):
    id = fields.Integer(required=True)
    definition = _text("``key:version``", required=True)
    business_key = _maybe(fields.String, "the case's business key")
    state = fields.String(required=True, validate=OneOf(("running", "completed", "error")))
    started_at = _when("when started", required=True)


class WaitingTimer(Open):
    id = fields.Integer(required=True)
    element_id = fields.String(required=True)
    name = _maybe(fields.String, "the timer's name")
    kind = _text("date, duration, cycle, or ``sla <purpose>``", required=True)
    status = fields.String(required=True)
    interrupting = fields.Boolean(required=True)
    attached_to = _maybe(fields.String, "the activity a boundary timer sits on")
    due_at = _when("when it fires", required=True)


class WaitingMessage(Open):
    element_id = fields.String(required=True)
    message = fields.String(required=True)


class HistoryEntry(Open):
    at = _when("when", required=True)
    actor = fields.String(required=True)
    command = fields.String(required=True)
    task_id = _maybe(fields.Integer, "the task concerned")
    payload = fields.Dict(required=True)
    private = fields.Dict(
        allow_none=True,
        metadata={"description": "the erasable personal part (null once erased)"},
    )


class SentNotice(Open):
    """A notice of the case in the outbox: to whom (masked as on every list), what, and how
    its delivery stands."""

    id = fields.Integer(required=True)
    at = _when("when it was written", required=True)
    channel = fields.String(required=True, validate=OneOf(CHANNELS))
    recipient = fields.String(required=True, metadata={"description": "masked"})
    subject = fields.String(required=True)
    body = fields.String(required=True)
    status = fields.String(required=True, validate=OneOf(notice_log.STATUSES))
    attempts = fields.Integer(required=True)
    sent_at = _when("when it was delivered", required=True, allow_none=True)
    last_error = _maybe(fields.String, "the last failed attempt's error")
    instance_id = _maybe(fields.Integer, "its case")
    business_key = _maybe(fields.String, "its case's number")
    kind = _maybe(fields.String, "what it is about (a notice template's kind)")
    locale = _maybe(fields.String, "the language it was written in")
    unsupported_locale = _maybe(
        fields.String, "the language the applicant asked for, when CaseClock does not write it"
    )
    recipient_name = _maybe(fields.String, "an in-app recipient's name")


class Instance(InstanceRow):
    """A case: its data, open tasks with their clocks, what it waits for, its history."""

    ended_at = _when("when it ended", required=True, allow_none=True)
    due_at = _when("the case's own deadline", required=True, allow_none=True)
    data = fields.Dict(required=True)
    process = fields.String(required=True)
    open_tasks = fields.List(fields.Nested(TaskRow), required=True)
    waiting_timers = fields.List(fields.Nested(WaitingTimer), required=True)
    waiting_messages = fields.List(fields.Nested(WaitingMessage), required=True)
    comments = fields.List(fields.Nested(Comment), required=True)
    attachments = fields.List(fields.Nested(Attachment), required=True)
    notices = fields.List(
        fields.Nested(SentNotice),
        required=True,
        metadata={"description": "what the case sent to people (newest first, at most 200)"},
    )
    history = fields.List(fields.Nested(HistoryEntry), required=True)
    data_labels = _data_labels()
    names = fields.Dict(
        required=True,
        metadata={
            "description": "the names of what the history stores as keys: "
            "``{people, steps, tasks, departments, groups}``, each key -> name"
        },
    )


class Notice(Open):
    id = fields.Integer(required=True)
    at = _when("when sent", required=True)
    subject = fields.String(required=True)
    body = fields.String(required=True)
    instance_id = _maybe(fields.Integer, "the case it is about")
    read = fields.Boolean(required=True)


class Notifications(Open):
    unread = fields.Integer(required=True)
    notifications = fields.List(fields.Nested(Notice), required=True)


class Marked(Open):
    marked = fields.Integer(required=True, metadata={"description": "how many were unread"})


class Created(Open):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)


# --- the supervisor board ---------------------------------------------------------------------


class ChaseTask(TaskRow):
    late = fields.Nested(TaskRow, required=True, allow_none=True)


class OnTime(Open):
    met = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    rate = fields.Float(required=True)


class PendingRequest(Open):
    kind = fields.String(required=True, validate=OneOf(("extension", "exemption")))
    id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    step = _maybe(fields.String, "the step's name")
    instance_id = fields.Integer(required=True)
    requested_by = fields.String(required=True)
    requested_at = _when("when requested", required=True)
    reason = _maybe(fields.String, "why")
    amount = _maybe(fields.String, "an extension's amount")


class Board(Open):
    user = fields.String(required=True)
    team = fields.List(fields.String(), required=True, metadata={"description": "below you"})
    late_or_warned = fields.List(fields.Nested(TaskRow), required=True)
    my_chase_tasks = fields.List(fields.Nested(ChaseTask), required=True)
    deputy_chases = fields.List(fields.Nested(TaskRow), required=True)
    pending = fields.List(fields.Nested(PendingRequest), required=True)
    on_time = fields.Dict(
        keys=fields.String(), values=fields.Nested(OnTime), required=True,
        metadata={"description": "by person"},
    )  # fmt: skip
    on_time_by_step = fields.Dict(keys=fields.String(), values=fields.Nested(OnTime), required=True)
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    business_keys = fields.Dict(
        keys=fields.String(), values=fields.String(allow_none=True), required=True,
        metadata={"description": "by case id"},
    )  # fmt: skip


class ChaseDone(Open):
    chase_id = fields.Integer(required=True)
    done = fields.String(required=True, metadata={"description": "the action taken"})


class Decided(Open):
    kind = fields.String(required=True, validate=OneOf(("extension", "exemption")))
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=OneOf(("approved", "refused")))


# --- the auditor's ledger ------------------------------------------------------------------------


class LedgerRow(Open):
    """One breach entry (the columns of ``caseclock report ledger``)."""

    breach_event_id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    business_key = _maybe(fields.String, "the case's business key")
    process = fields.String(required=True)
    task_id = _maybe(fields.Integer, "the late task")
    step = _maybe(fields.String, "element id")
    step_name = _maybe(fields.String, "the step's name")
    deadline = _when("the deadline missed", required=True, allow_none=True)
    breached_at = _when("when recorded", required=True, allow_none=True)
    responsible = _maybe(fields.String, "who answers for it")
    on_behalf_of = _maybe(fields.String, "whom they stood in for")
    department = _maybe(fields.String, "a department's key")
    superior = _maybe(fields.String, "the responsible person's superior")
    standard = _maybe(fields.String, "the standard that set the limit")
    calendar = _maybe(fields.String, "the working calendar")
    holders = _text("who held it and for how long, in words", required=True)
    completed_at = _when("when it was done at last", required=True, allow_none=True)
    completed_by = _maybe(fields.String, "who did it")
    late_working_hours = _maybe(fields.Float, "final lateness (null while open)")
    exemption = _maybe(fields.String, "pending, approved or refused")
    exemption_decided_by = _maybe(fields.String, "who decided the exemption")
    charged = fields.Boolean(required=True)


class Holder(Open):
    holder = _maybe(fields.String, "null: in the pool")
    from_ = _when("since", data_key="from", required=True, allow_none=True)
    to = _when("until", required=True, allow_none=True)
    working_seconds = fields.Integer(required=True)
    hours = fields.Float(required=True)


class BreachSnapshot(Open):
    """The breach entry as recorded (instants in UTC; entries of older versions may lack
    a key), with local times for its holders."""

    step = fields.String()
    step_name = fields.String(allow_none=True)
    deadline = fields.DateTime(allow_none=True)
    breached_at = fields.DateTime()
    limit = fields.String(allow_none=True)
    standard = fields.String(allow_none=True)
    calendar = fields.String(allow_none=True)
    responsible = fields.String(allow_none=True)
    on_behalf_of = fields.String(allow_none=True)
    superior = fields.String(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    paused_working_seconds = fields.Integer()
    extensions = fields.List(fields.Dict())
    holders = fields.List(fields.Nested(Holder), required=True)


class Ledger(Open):
    filter = fields.Dict(
        keys=fields.String(), values=fields.String(), required=True,
        metadata={"description": "the filter applied, as query arguments"},
    )  # fmt: skip
    rows = fields.List(fields.Nested(LedgerRow), required=True)
    snapshots = fields.Dict(
        keys=fields.String(), values=fields.Nested(BreachSnapshot), required=True,
        metadata={"description": "by ``breach_event_id``"},
    )  # fmt: skip


class ChainStatus(Open):
    ok = fields.Boolean(required=True)
    breaks = fields.Integer(required=True)
    first = _maybe(fields.String, "the first break")


class Period(Open):
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    timezone = fields.String(required=True)


def _table(name: str) -> fields.List:
    about = f"rows of {', '.join(COLUMNS[name])}"
    return fields.List(fields.Dict(), required=True, metadata={"description": about})


# The accountability report: its period and one table per REPORT_TABLES, as the CLI has them.
Report = Open.from_dict(
    {"period": fields.Nested(Period, required=True),
     "department": _maybe(fields.String, "a department's key")}
    | {name: _table(name) for name in REPORT_TABLES},
    name="Report",
)  # fmt: skip


# --- attachments -----------------------------------------------------------------------------


class AttachmentUpload(Open):
    """A file for a case (multipart)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    task_id = fields.Integer(
        validate=Range(min=1, max=MAX_ID), metadata={"description": "the task it belongs to"}
    )


# --- debt collection -------------------------------------------------------------------------

_AMOUNT = "an amount in the currency's minor units, as text (``1234.50``)"


def _amount(about: str = _AMOUNT) -> fields.String:
    return _text(about, required=True)


def _day(about: str, **options: Any) -> fields.Date:
    return fields.Date(metadata={"description": about}, **options)


class AgingCell(Open):
    count = fields.Integer(required=True)
    outstanding = _amount()
    overdue = _amount()


class AgingGroup(Open):
    group = _maybe(fields.String, "the product, department or collector (null: all of them)")
    count = fields.Integer(required=True)
    outstanding = _amount()
    overdue_rate = _text("a decimal fraction, as text", required=True)
    default_rate = _text("a decimal fraction, as text", required=True)
    buckets = fields.Dict(
        keys=fields.String(), values=fields.Nested(AgingCell), required=True,
        metadata={"description": "by bucket label"},
    )  # fmt: skip


class AgingReport(Open):
    as_of = _day("the day aged", required=True)
    currency = fields.String(required=True)
    by = fields.String(required=True, allow_none=True, validate=OneOf(get_args(GroupBy)))
    default_days = fields.Integer(required=True, metadata={"description": "past due = default"})
    buckets = fields.List(fields.String(), required=True, metadata={"description": "labels"})
    groups = fields.List(fields.Nested(AgingGroup), required=True)
    total = fields.Nested(AgingGroup, required=True, allow_none=True)


class GradeCount(Open):
    grade = fields.String(required=True, validate=OneOf(GRADES))
    from_ = fields.Integer(data_key="from", required=True)
    to = fields.Integer(required=True)


# A row of the migration matrix: the grade on ``from``, and how many moved to each grade.
GradeMigration = Open.from_dict(
    {"from": fields.String(required=True, validate=OneOf((UNGRADED, *GRADES)))}
    | {grade: fields.Integer(required=True) for grade in GRADES},
    name="GradeMigration",
)


class GradeReport(Open):
    report = fields.String(required=True, validate=OneOf(("grades",)))
    from_ = _day("the first day", data_key="from", required=True)
    to = _day("the last day", required=True)
    distribution = fields.List(fields.Nested(GradeCount), required=True)
    migration = fields.List(fields.Nested(GradeMigration), required=True)


class ReceivableRow(Open):
    key = fields.String(required=True)
    customer = _text("the customer's name", required=True)
    blacklisted = fields.Boolean(required=True)
    product = fields.String(required=True)
    department = _maybe(fields.String, "a department's key")
    collector = _maybe(fields.String, "a person's key")
    currency = fields.String(required=True)
    outstanding = _amount()
    overdue = _amount()
    days_past_due = fields.Integer(required=True)
    grade = _maybe(fields.String, "the risk grade")
    case = _maybe(fields.Integer, "the collection case's process instance")


class ReceivablePage(Open):
    as_of = _day("today", required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    filter = fields.Dict(
        keys=fields.String(), values=fields.String(), required=True,
        metadata={"description": "the filter applied, as query arguments"},
    )  # fmt: skip
    rows = fields.List(fields.Nested(ReceivableRow), required=True)


class Customer(Open):
    key = fields.String(required=True)
    name = fields.String(required=True)
    phone = _maybe(fields.String, "")
    email = _maybe(fields.String, "")
    address = _maybe(fields.String, "")
    contact_verified_on = fields.Date(required=True, allow_none=True)
    blacklisted = fields.Boolean(required=True)
    blacklist_reason = _maybe(fields.String, "")
    credit_limit = _maybe(fields.String, _AMOUNT)
    credit_currency = fields.String(required=True)
    broken_promises = fields.Integer(required=True)


class Terms(Open):
    grace_days = fields.Integer(required=True)
    penalty_rate = _text("a decimal, as text", required=True)
    day_count = fields.String(required=True)
    rounding = fields.String(required=True)
    cap = _maybe(fields.String, "the penalty's cap")
    allocation_order = fields.List(fields.String(), required=True)
    carried_fees = _amount()


class Instalment(Open):
    seq = fields.Integer(required=True)
    due_date = fields.Date(required=True)
    principal = _amount()
    interest = _amount()
    principal_paid = _amount()
    interest_paid = _amount()


class Owed(Open):
    as_of = fields.Date(required=True)
    fees = _amount()
    interest = _amount()
    principal_due = _amount()
    principal_outstanding = _amount()
    total_due = _amount()
    payoff = _amount()


class FeeDay(Open):
    day = fields.Date(required=True)
    base = _amount()
    amount = _amount()
    total = _amount()
    capped = fields.Boolean(required=True)


class Fees(Open):
    accrued = _amount()
    capped_on = fields.Date(required=True, allow_none=True)
    days = fields.List(
        fields.Nested(FeeDay), required=True, metadata={"description": "with ``?fees=daily``"}
    )


class Allocation(Open):
    component = fields.String(required=True, validate=OneOf(("fees", "interest", "principal")))
    amount = _amount()


class PaymentRow(Open):
    id = fields.Integer(required=True)
    paid_on = fields.Date(required=True)
    amount = _amount()
    reference = _maybe(fields.String, "")
    recorded_by = fields.String(required=True)
    allocation = fields.List(fields.Nested(Allocation), required=True)


class Promise(Open):
    id = fields.Integer(required=True)
    amount = _amount()
    promised_on = fields.Date(required=True)
    made_on = fields.Date(required=True)
    outcome = fields.String(required=True, validate=OneOf(("pending", "kept", "broken")))
    recorded_by = fields.String(required=True)


class CollectionNotice(Open):
    level = fields.String(required=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True)
    days_overdue = fields.Integer(required=True)
    send_at = _when("when it may leave", required=True, allow_none=True)
    held = _text("why it was held (empty: it was not)", required=True)


class RemedyRow(Open):
    id = fields.Integer(required=True)
    receivable = fields.String(required=True)
    kind = fields.String(required=True, validate=OneOf(("deferral", "instalments")))
    state = fields.String(required=True, validate=OneOf(("requested", "approved", "refused")))
    schedule = _text("the plan, in words", required=True)
    requested_by = fields.String(required=True)
    decided_by = _text("empty until decided", required=True)
    reason = fields.String(required=True)


class CollectionCase(Open):
    instance_id = fields.Integer(required=True)
    state = fields.String(required=True, validate=OneOf(("open", "settled")))
    grade = _maybe(fields.String, "the risk grade")
    graded_on = fields.Date(required=True, allow_none=True)
    due_date = fields.Date(required=True)


class ReceivableDetail(Open):
    """A receivable with its customer, terms, schedule, what is owed and what happened."""

    key = fields.String(required=True)
    as_of = _day("today", required=True)
    currency = fields.String(required=True)
    product = fields.String(required=True)
    department = _maybe(fields.String, "a department's key")
    collector = _maybe(fields.String, "a person's key")
    guarantee = fields.String(required=True)
    principal = _amount()
    due_date = fields.Date(required=True)
    opened_on = fields.Date(required=True, allow_none=True)
    days_past_due = fields.Integer(required=True)
    customer = fields.Nested(Customer, required=True)
    terms = fields.Nested(Terms, required=True)
    schedule = fields.List(fields.Nested(Instalment), required=True)
    owed = fields.Nested(Owed, required=True)
    fees = fields.Nested(Fees, required=True)
    payments = fields.List(fields.Nested(PaymentRow), required=True)
    promises = fields.List(fields.Nested(Promise), required=True)
    notices = fields.List(fields.Nested(CollectionNotice), required=True)
    remedies = fields.List(fields.Nested(RemedyRow), required=True)
    case = fields.Nested(CollectionCase, required=True, allow_none=True)


class PaymentBody(Open):
    """``payments``: money received (applied in the contract's order)."""

    amount = _said("e.g. ``1200.00``")
    on = _day("the day paid (default today)")
    reference = fields.String(validate=Length(max=100), metadata={"description": "e.g. a slip"})


class PromiseBody(Open):
    """``promises``: a promise to pay an amount by a day."""

    amount = _said("e.g. ``1200.00``")
    on = _day("the day promised", required=True)


class PaidPart(Open):
    component = fields.String(required=True, validate=OneOf(("fees", "interest", "principal")))
    instalment = _maybe(fields.Integer, "the instalment (null for fees)")
    amount = _amount()


class PaymentRecorded(Open):
    payment_id = fields.Integer(required=True)
    receivable = fields.String(required=True)
    paid_on = fields.Date(required=True)
    amount = _amount()
    currency = fields.String(required=True)
    allocation = fields.List(fields.Nested(PaidPart), required=True)
    owed_after = fields.Nested(Owed, required=True)


class PromiseRecorded(Open):
    id = fields.Integer(required=True)
    receivable = fields.String(required=True)
    on = _day("the day promised", required=True)
    outcome = fields.String(required=True, validate=OneOf(("pending", "kept", "broken")))


class ImportRow(Open):
    line = fields.Integer(required=True)
    key = _maybe(fields.String, "the row's receivable key")
    ok = fields.Boolean(required=True)
    error = _maybe(fields.String, "why it was refused")


class Imported(Open):
    written = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    rows = fields.List(fields.Nested(ImportRow), required=True)


class ImportRefused(Error, Imported):
    """Some rows refused (``invalid_rows``; the good ones are written all the same):
    ``details.rows`` lists the bad ones. A bad file is a plain error naming ``file``."""

    written = fields.Integer()
    failed = fields.Integer()
    rows = fields.List(fields.Nested(ImportRow))


class ImportUpload(Open):
    """The CSV as a multipart ``file``."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


# --- notice templates ------------------------------------------------------------------------


class NoticeTemplate(Open):
    kind = fields.String(required=True)
    locale = fields.String(required=True)
    audience = fields.String(required=True, validate=OneOf(("staff", "debtor")))
    fields_ = fields.List(
        fields.String(), data_key="fields", required=True,
        metadata={"description": "the names of its texts: subject, body, heading, text"},
    )  # fmt: skip
    placeholders = fields.List(fields.String(), required=True)
    required_ = fields.List(
        fields.String(), data_key="required", required=True,
        metadata={"description": "placeholders it must keep"},
    )  # fmt: skip
    subject = fields.String(required=True)
    body = fields.String(required=True)
    default_subject = fields.String(required=True)
    default_body = fields.String(required=True)
    edited = fields.Boolean(required=True)
    updated_by = _maybe(fields.String, "who edited it")
    updated_at = _when("when edited", required=True, allow_none=True)


class StaffWording(Open):
    """A staff notice: a subject and a body."""

    subject = _said("one line")
    body = _said("the text")


class DebtorSubject(Open):
    """A debtor notice's subject (it has no body)."""

    subject = _said("one line")


class DebtorPart(Open):
    """A part of debtor notices: a heading and a text."""

    heading = _said("one line")
    text = _said("the text")


class Filled(Open):
    """The wording with sample values, under the same names."""

    subject = fields.String()
    body = fields.String()
    heading = fields.String()
    text = fields.String()


class TemplateSaved(Open):
    """The wording as stored, by the names the kind uses, and a preview."""

    kind = fields.String(required=True)
    locale = fields.String(required=True)
    subject = fields.String()
    body = fields.String()
    heading = fields.String()
    text = fields.String()
    preview = fields.Nested(Filled, required=True)


class TemplateReset(Open):
    kind = fields.String(required=True)
    locale = fields.String(required=True)
    reset = fields.Boolean(required=True, metadata={"description": "false: it was not edited"})


# --- on-time trends --------------------------------------------------------------------------


class TrendPeriod(Open):
    start = fields.Date(required=True)
    end = fields.Date(required=True, metadata={"description": "the last day in it"})


class TrendLine(Open):
    key = _text("a person's key or a step's name", required=True)
    label = fields.String(required=True)
    points = fields.List(
        fields.Nested(OnTime, allow_none=True), required=True,
        metadata={"description": "one per period; null: nothing closed then"},
    )  # fmt: skip
    total = fields.Nested(OnTime, required=True)


class Trends(Open):
    from_ = _day("the first day", data_key="from", required=True)
    to = _day("the last day", required=True)
    by = fields.String(required=True, validate=OneOf(TREND_BY))
    period = fields.String(required=True, validate=OneOf(TREND_PERIODS))
    periods = fields.List(fields.Nested(TrendPeriod), required=True)
    series = fields.List(fields.Nested(TrendLine), required=True)
