"""协办: a step asks another department for input.

The request is a task of kind ``assist`` in the other group's pool, linked to the
asking task, with its own deadline in working time. It is chased like any late step —
in *that* department's chain (its head while unclaimed, then the head's superior) —
and its breach goes to the ledger. The answer is sent to whoever holds the asking task;
if the asking step ends first, the request is withdrawn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from . import audit, chase, ledger, notices, org, sla
from .calendar import CalendarError, parse_duration
from .errors import Forbidden, NotFound, ValidationError, at_field
from .executor import CommandContext
from .runtime import acts_for, lock_task
from .store import Group, Person, ProcessInstance, Task, TaskCandidateGroup

DEFAULT_LIMIT = "2 working days"


class RequestAssist:
    name = "assist_request"

    def __init__(self, task_id: int, user: str, group: str, question: str,
                 limit: str = DEFAULT_LIMIT) -> None:  # fmt: skip
        if not question.strip():
            raise ValidationError("say what input you need from the other department")
        try:
            parse_duration(limit, positive=True)
        except CalendarError as exc:
            raise at_field("limit", f"协办 limit: {exc}") from None
        self.task_id, self.user, self.group = task_id, user, group
        self.question, self.limit = question.strip(), limit

    def __call__(self, ctx: CommandContext) -> Task:
        task, instance = lock_task(ctx, self.task_id)
        if not acts_for(ctx, task, self.user):
            raise Forbidden(f"only the holder of task {task.id} can ask for 协办 on it")
        group = ctx.org().group_key(self.group)
        if ctx.session.scalar(select(Group.id).where(Group.key == group)) is None:
            raise NotFound(f"unknown group {self.group!r}")
        if group in (task.candidate_groups or ()):
            # 协办 brings in another department; the step's own group has the step already.
            raise at_field("group", f"task {task.id} is already offered to {group!r}: "
                           "ask another group for 协办")  # fmt: skip
        asked = ctx.session.scalar(select(func.count()).where(Task.assists_id == task.id)) or 0
        request = Task(
            instance=instance, spiff_task_id=f"assist:{task.id}:{asked + 1}",
            element_id=task.element_id, name=f"协办：{task.name}", state="open",
            candidate_groups=[group], created_at=ctx.now, kind="assist", assists_id=task.id,
            candidate_group_rows=[TaskCandidateGroup(group_key=group)],
        )  # fmt: skip
        ctx.session.add(request)
        ctx.session.flush()
        clock = {"limit": self.limit, "warnings": [], "on_deadline": "chase"}
        sla.start_task_clock(ctx, instance, request, clock, task.calendar_name,
                             f"协办 for {self.user}")  # fmt: skip
        _tell_the_group(ctx, instance, request, task, self.user, self.question)
        audit.append(ctx, self.name, instance=instance, task_id=request.id,
                     payload={"assists": task.id, "group": group, "limit": self.limit},
                     private={"question": self.question})  # fmt: skip
        return request


class AnswerAssist:
    name = "assist_answer"

    def __init__(self, request_id: int, user: str, answer: str) -> None:
        if not answer.strip():
            raise ValidationError("an answer cannot be empty")
        self.request_id, self.user, self.answer = request_id, user, answer.strip()

    def __call__(self, ctx: CommandContext) -> Task:
        request, instance = lock_task(ctx, self.request_id, ("assist",))
        if request.assignee is None:
            raise Forbidden(f"claim 协办 request {request.id} before answering it")
        if not acts_for(ctx, request, self.user):
            raise Forbidden(f"协办 request {request.id} is {request.assignee}'s, not {self.user}'s")
        _end(ctx, instance, request, "answered", self.user)
        asking = ctx.session.get(Task, request.assists_id)
        assert asking is not None
        holder = ctx.accountable(asking)[0]
        if holder is not None:
            _notify(ctx, holder, "assist_answered", request, instance,
                    {"by": org.name_of(ctx.session, self.user), "task": asking.name,
                     "answer": self.answer})  # fmt: skip
        audit.append(ctx, self.name, instance=instance, task_id=request.id,
                     payload={"assists": asking.id}, private={"answer": self.answer})  # fmt: skip
        return request


def withdraw(
    ctx: CommandContext, instance: ProcessInstance, request: Task, asking: Task | None
) -> None:
    """The asking step ended (engine.projection finds such requests): the request is moot."""
    state = asking.state if asking is not None else "gone"
    _end(ctx, instance, request, f"withdrawn: the asking step was {state}", None)
    audit.append(ctx, "assist_withdrawn", instance=instance, task_id=request.id,
                 payload={"assists": request.assists_id})  # fmt: skip


def _end(ctx: CommandContext, instance: ProcessInstance, request: Task, outcome: str,
         by: str | None) -> None:  # fmt: skip
    request.state, request.ended_at, request.outcome = "completed", ctx.now, outcome
    request.completed_by = by
    request.candidate_group_rows = []
    sla.stop_task_clock(ctx, request)
    chase.close_for(ctx, instance, request, outcome)
    ledger.record_final(ctx, instance, request)


def _tell_the_group(ctx: CommandContext, instance: ProcessInstance, request: Task,
                    asking: Task, by: str, question: str) -> None:  # fmt: skip
    """The pool's department head (or their deputy) hears of it; members see it in their
    group inbox."""
    head = ctx.accountable(request)[0]
    if head is None:
        return
    due = request.due_at.astimezone(ctx.services.timezone) if request.due_at else None
    _notify(ctx, head, "assist_request", request, instance, {
        "by": org.name_of(ctx.session, by), "task": asking.name, "question": question,
        "due": due.strftime("%Y-%m-%d %H:%M") if due else "-",
    })  # fmt: skip


def _notify(ctx: CommandContext, person: Person, kind: str, request: Task,
            instance: ProcessInstance, values: dict[str, Any]) -> None:  # fmt: skip
    notice = notices.render(ctx, kind, {
        **values, "person": person.name, "case": instance.business_key or instance.id,
    }, person.locale)  # fmt: skip
    notices.send(ctx, person, notice, f"{kind}:{request.id}:{{channel}}",
                 {"kind": kind, "task_id": request.id}, instance.id)  # fmt: skip
