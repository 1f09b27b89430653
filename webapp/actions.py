"""The task actions the inbox and the API offer, as engine commands.

Input comes as a flat mapping (an HTML form or a JSON object). Missing or bad input is a
:class:`ValidationError` naming the field, so a page can show the message next to it.
The task must be visible to the user first (:mod:`webapp.access`); the engine then
applies its own rules (only the assignee completes, …) in the command's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.accounts import Principal
from engine.app import CaseClock
from engine.assistance import DEFAULT_LIMIT, AnswerAssist, RequestAssist
from engine.clock_control import PauseClock, RequestExtension, ResumeClock
from engine.comments import AddComment
from engine.errors import NotFound, ValidationError, at_field
from engine.runtime import ClaimTask, CompleteTask, DelegateTask, ResolveTask, UnclaimTask

from . import access, reads

ACTIONS = (
    "claim", "unclaim", "delegate", "resolve", "complete", "pause", "resume", "extend",
    "assist", "answer", "comment",
)  # fmt: skip


def text_of(values: Mapping[str, Any], name: str) -> str:
    """A form or JSON field as trimmed text ("" when missing or not text)."""
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def _required(values: Mapping[str, Any], name: str, message: str) -> str:
    text = text_of(values, name)
    if not text:
        raise at_field(name, message)
    return text


def comment(
    app: CaseClock,
    user: Principal,
    instance_id: int,
    values: Mapping[str, Any],
    task_id: int | None = None,
) -> Any:
    """A comment on a case (or one of its tasks) the caller has already been shown."""
    text = _required(values, "text", "write the comment")
    try:
        command = AddComment(instance_id, user.key, text, task_id)
    except ValidationError as exc:
        raise at_field("text", exc.message) from None
    return app.execute(command, actor=user.key)


def form_data(
    fields: list[dict[str, Any]], values: Mapping[str, Any], html: bool
) -> dict[str, Any]:
    """The declared fields' values. From an HTML form a ticked checkbox sends "on" and an
    unticked one nothing (the engine reads a missing boolean as false); JSON is taken as
    given, so the engine reports unknown fields there."""
    if not html:
        return dict(values)
    data: dict[str, Any] = {}
    for field in fields:
        if field["type"] == "boolean":
            if values.get(field["id"]):
                data[field["id"]] = True
        elif field["id"] in values:
            data[field["id"]] = values[field["id"]]
    return data


def run(
    app: CaseClock,
    user: Principal,
    task_id: int,
    action: str,
    values: Mapping[str, Any],
    html: bool = False,
) -> Any:
    if action not in ACTIONS:
        raise NotFound(f"no action {action!r}; actions are {', '.join(ACTIONS)}")

    def check(session: Any) -> tuple[int, list[dict[str, Any]]]:
        org = app.services.org.snapshot(session)
        task = access.visible_task(session, task_id, user, org, access.today(app))
        with_form = action in ("complete", "resolve")
        return task.instance_id, reads.form_fields(session, task) if with_form else []

    instance_id, fields = app.read(check)
    me = user.key
    if action == "claim":
        command: Any = ClaimTask(task_id, me)
    elif action == "unclaim":
        command = UnclaimTask(task_id, me)
    elif action == "delegate":
        command = DelegateTask(task_id, me, _required(values, "to", "choose who works on it"))
    elif action == "resolve":
        # The delegate hands back what they filled in; a blank field is left for the owner.
        data = values.get("data", {}) if not html else values
        if not isinstance(data, Mapping):
            raise ValidationError("data must be an object of form fields")
        filled = {k: v for k, v in form_data(fields, data, html).items() if v != ""}
        command = ResolveTask(task_id, me, filled)
    elif action == "complete":
        data = values.get("data", {}) if not html else values
        if not isinstance(data, Mapping):
            raise ValidationError("data must be an object of form fields")
        command = CompleteTask(task_id, me, form_data(fields, data, html), claim=True)
    elif action == "pause":
        reason = _required(values, "reason", "give a reason (e.g. waiting for documents)")
        command = PauseClock(task_id, me, reason)
    elif action == "resume":
        command = ResumeClock(task_id, me)
    elif action == "assist":
        command = RequestAssist(
            task_id, me, _required(values, "group", "choose the department's group to ask"),
            _required(values, "question", "say what input you need"),
            text_of(values, "limit") or DEFAULT_LIMIT,
        )  # fmt: skip
    elif action == "answer":
        command = AnswerAssist(task_id, me, _required(values, "answer", "write the answer"))
    elif action == "comment":
        return comment(app, user, instance_id, values, task_id)
    else:  # the engine names each bad field, both at once
        amount, reason = text_of(values, "amount"), text_of(values, "reason")
        command = RequestExtension(task_id, me, amount, reason)
    try:
        return app.execute(command, actor=me)
    except NotFound as exc:
        if action not in ("delegate", "assist"):
            raise
        # The task was found above, so the unknown one is the person or group named.
        field = "to" if action == "delegate" else "group"
        raise at_field(field, exc.message) from None
