"""Comments on a case or one of its tasks: a supervisor's remark on a chase, a reviewer's
note for the next step. The text is erasable (PIPL); the audit event keeps a digest."""

from __future__ import annotations

from . import audit
from .errors import NotFound, ValidationError
from .executor import CommandContext
from .runtime import lock_instance
from .store import Task
from .store.models import Comment

MAX_LENGTH = 2000


class AddComment:
    name = "comment"

    def __init__(self, instance_id: int, user: str, text: str, task_id: int | None = None) -> None:
        text = text.strip()
        if not text:
            raise ValidationError(
                "a comment cannot be empty", details={"fields": {"text": "empty"}}
            )
        if len(text) > MAX_LENGTH:
            raise ValidationError(f"a comment is at most {MAX_LENGTH} characters",
                                  details={"fields": {"text": "too long"}})  # fmt: skip
        self.instance_id, self.user, self.text, self.task_id = instance_id, user, text, task_id

    def __call__(self, ctx: CommandContext) -> Comment:
        ctx.org().person_id(self.user)
        instance = lock_instance(ctx, self.instance_id)
        if self.task_id is not None:
            task = ctx.session.get(Task, self.task_id)
            if task is None or task.instance_id != instance.id:
                raise NotFound(f"case {instance.id} has no task {self.task_id}")
        comment = Comment(instance_id=instance.id, task_id=self.task_id, author=self.user,
                          at=ctx.now, text=self.text)  # fmt: skip
        ctx.session.add(comment)
        ctx.session.flush()
        audit.append(ctx, self.name, instance=instance, task_id=self.task_id,
                     payload={"comment_id": comment.id}, private={"text": self.text})  # fmt: skip
        return comment
