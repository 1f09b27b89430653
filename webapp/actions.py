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
from engine.clock_control import PauseClock, RequestExtension, ResumeClock
from engine.errors import NotFound, ValidationError
from engine.runtime import ClaimTask, CompleteTask, DelegateTask, ResolveTask, UnclaimTask

from . import access, reads

ACTIONS = ("claim", "unclaim", "delegate", "resolve", "complete", "pause", "resume", "extend")


def _required(values: Mapping[str, Any], name: str, message: str) -> str:
    value = values.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(message, details={"fields": {name: message}})
    return text


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

    def check(session: Any) -> list[dict[str, Any]]:
        task = access.visible_task(session, task_id, user, app.services.org.snapshot(session))
        return reads.form_fields(session, task) if action == "complete" else []

    fields = app.read(check)
    me = user.key
    if action == "claim":
        command: Any = ClaimTask(task_id, me)
    elif action == "unclaim":
        command = UnclaimTask(task_id, me)
    elif action == "delegate":
        command = DelegateTask(task_id, me, _required(values, "to", "choose who works on it"))
    elif action == "resolve":
        command = ResolveTask(task_id, me)
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
    else:
        amount = _required(values, "amount", "how long, e.g. 2 working days")
        reason = _required(values, "reason", "give a reason for the extension")
        try:
            command = RequestExtension(task_id, me, amount, reason)
        except ValidationError as exc:
            raise ValidationError(
                exc.message, details={"fields": {"amount": exc.message}}
            ) from None
    try:
        return app.execute(command, actor=me)
    except NotFound as exc:
        if action != "delegate":
            raise
        # The task was found above, so the unknown one is the person delegated to.
        raise ValidationError(exc.message, details={"fields": {"to": exc.message}}) from None
