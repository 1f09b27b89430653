"""Requests a superior approves or refuses: extensions (延期) and exemptions (免责).

Both are decided the same way: the request is read after its case is locked, it must
only the requester's superior decides, it must still be pending, and the decision is stamped
on the request. What an approval *does* is the caller's business.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select

from .errors import Conflict, Forbidden, NotFound
from .executor import CommandContext
from .store import Person, ProcessInstance, Task
from .store.models import Exemption, SlaExtension

R = TypeVar("R", SlaExtension, Exemption)


def decide(
    ctx: CommandContext,
    model: type[R],
    what: str,
    request_id: int,
    user: str,
    approve: bool,
    note: str,
) -> tuple[R, Task, ProcessInstance]:
    """Lock, check and record the decision; return the request, its task and case."""
    from .runtime import lock_instance  # runtime builds on modules that import this one

    request = ctx.session.get(model, request_id)
    if request is None:
        raise NotFound(f"no {what} request {request_id}")
    task = ctx.session.get(Task, request.task_id)
    assert task is not None
    instance = lock_instance(ctx, task.instance_id)
    ctx.session.refresh(request)
    # Who may decide first: someone else learns nothing of the request, not even that it
    # was already decided.
    requester = ctx.session.scalars(
        select(Person).where(Person.key == request.requested_by)
    ).first()
    if requester is None or requester.superior_id != ctx.org().person_id(user):
        raise Forbidden(f"only the superior of {request.requested_by} can decide "
                        f"{what} {request.id}")  # fmt: skip
    if request.status != "pending":
        raise Conflict(f"{what} {request.id} was already {request.status}")
    request.status = "approved" if approve else "refused"
    request.decided_by, request.decided_at, request.note = user, ctx.now, note
    return request, task, instance
