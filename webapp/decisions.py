"""A supervisor's actions, as engine commands, for the board and the API.

On a chase task (催办): urge the late task's holder, mark it handled, reassign the late
task to someone below me, comment on it. On a request from a direct report: approve or
refuse an extension (延期) or exemption (免责). The page checks come first — the chase
task must be mine, the new holder below me — so what is not yours cannot be probed;
the engine then applies its own rules in the command's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from engine import queries
from engine.accounts import Principal
from engine.app import CaseClock
from engine.chase import HandleChase, UrgeChase
from engine.clock_control import DecideExtension
from engine.errors import Forbidden, NotFound, ValidationError
from engine.ledger import DecideExemption
from engine.runtime import ReassignTask
from engine.store import Task
from engine.store.models import DecidedRequest, Exemption, SlaExtension

from . import actions
from .actions import text_of

CHASE_ACTIONS = ("urge", "handle", "reassign", "comment")
DECISIONS = ("approve", "refuse")
KINDS = ("extension", "exemption")
REQUESTS: dict[str, type[DecidedRequest]] = {"extension": SlaExtension, "exemption": Exemption}


def chase(
    app: CaseClock, user: Principal, chase_id: int, action: str, values: Mapping[str, Any]
) -> Any:
    if action not in CHASE_ACTIONS:
        raise NotFound(f"no chase action {action!r}; actions are {', '.join(CHASE_ACTIONS)}")

    def check(session: Any) -> tuple[int, int, list[str]]:
        task = session.get(Task, chase_id)
        if task is None or task.kind != "chase":
            raise NotFound(f"no chase task {chase_id}")
        if task.assignee != user.key:
            raise Forbidden(f"chase task {chase_id} is not yours")
        team = queries.below(session, user.key) if action == "reassign" else []
        return task.chase_of_id, task.instance_id, team

    late_id, instance_id, team = app.read(check)
    me = user.key
    if action == "urge":
        return app.execute(UrgeChase(chase_id, me, text_of(values, "message")), actor=me)
    if action == "handle":
        return app.execute(HandleChase(chase_id, me, text_of(values, "note")), actor=me)
    if action == "comment":
        return actions.comment(app, user, instance_id, values, late_id)
    to = text_of(values, "to")
    if to not in team:
        message = "choose someone below you in the org chart"
        raise ValidationError(message, details={"fields": {"to": message}})
    return app.execute(ReassignTask(late_id, to), actor=me)


def decide(
    app: CaseClock,
    user: Principal,
    kind: str,
    request_id: int,
    decision: str,
    values: Mapping[str, Any],
) -> Any:
    """Approve or refuse; a refusal needs a note (the requester is told why)."""
    if kind not in KINDS or decision not in DECISIONS:
        raise NotFound(f"no decision {kind}/{decision}")
    note = text_of(values, "note")
    if decision == "refuse" and not note:
        message = "say why it is refused"
        raise ValidationError(message, details={"fields": {"note": message}})
    model = DecideExtension if kind == "extension" else DecideExemption
    return app.execute(model(request_id, user.key, decision == "approve", note), actor=user.key)


def decided_request(session: Session, kind: str, request_id: int) -> DecidedRequest | None:
    """The extension or exemption request ``request_id``, if there is one."""
    row: DecidedRequest | None = session.get(REQUESTS[kind], request_id)
    return row
