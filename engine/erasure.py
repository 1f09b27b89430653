"""Erasing personal data (PIPL) without breaking the tamper evidence.

The audit chains and the ledger hold person keys and salted digests only; what may
identify someone lives in erasable places: the ``audit_private`` rows, the instance's
case data and workflow state, the notices' bodies, comments, attachments (their names
and files), free-text reasons on extension and exemption requests, and the person row's name
and contact data. Erasing them leaves every chain verifiable (``caseclock audit verify``),
and the erasure itself is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from . import audit
from .attachments import AttachmentStore
from .errors import Conflict, NotFound
from .executor import CommandContext
from .runtime import lock_instance
from .store import OutboxMessage, Person, Task
from .store.models import Attachment, AuditPrivate, Comment, Exemption, SlaExtension

ERASED = "(erased)"


@dataclass(frozen=True)
class Erased:
    private_rows: int
    notices: int
    requests: int
    attachments: int


class EraseCase:
    """Erase a concluded case's data: it can no longer be worked on, only accounted for.

    Attachment files (in ``store``, by default :meth:`AttachmentStore.from_env`) are
    removed before the transaction commits: should the commit then fail, the content is
    gone all the same (erring on the data subject's side) and erasing again completes it.
    A file whose content another case's live attachment shares stays for that case.
    """

    name = "erase_case"

    def __init__(self, instance_id: int, store: AttachmentStore | None = None) -> None:
        self.instance_id = instance_id
        self.store = store or AttachmentStore.from_env()

    def __call__(self, ctx: CommandContext) -> Erased:
        instance = lock_instance(ctx, self.instance_id)
        if instance.state == "running":
            raise Conflict(f"case {instance.id} is still running: erase it once it concludes")
        private_rows = ctx.session.execute(
            delete(AuditPrivate).where(AuditPrivate.instance_id == instance.id)
        ).rowcount
        # A notice not yet delivered can no longer be: its content is gone.
        ctx.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.instance_id == instance.id, OutboxMessage.status == "pending")
            .values(status="dead")
        )
        notices = ctx.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.instance_id == instance.id)
            .values(recipient=ERASED, subject=ERASED, body="", payload={})
        ).rowcount
        task_ids = select(Task.id).where(Task.instance_id == instance.id)
        requests = sum(
            ctx.session.execute(
                update(model).where(model.task_id.in_(task_ids)).values(reason=ERASED, note=None)
            ).rowcount
            for model in (SlaExtension, Exemption)
        )
        ctx.session.execute(
            update(Comment).where(Comment.instance_id == instance.id).values(text=ERASED)
        )
        attachments = self._erase_attachments(ctx, instance.id)
        instance.data, instance.workflow_state = {}, ""
        ctx.services.workflows.evict(instance.id)
        result = Erased(private_rows, notices, requests, attachments)
        audit.append(ctx, self.name, instance=instance, payload=result.__dict__)
        return result

    def _erase_attachments(self, ctx: CommandContext, instance_id: int) -> int:
        mine = Attachment.instance_id == instance_id
        digests = set(ctx.session.scalars(select(Attachment.sha256).where(mine)))
        ctx.session.execute(
            update(Attachment)
            .where(mine, Attachment.deleted_at.is_(None))
            .values(deleted_at=ctx.now)
        )
        erased = ctx.session.execute(
            update(Attachment).where(mine).values(filename=ERASED)
        ).rowcount
        ctx.after_commit(lambda read: self.store.sweep(digests, read))
        return erased


class ErasePerson:
    """Erase a person's name and contact data; their key stays, so every ledger entry and
    chain that names them still verifies. They must hold no open work."""

    name = "erase_person"

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, ctx: CommandContext) -> Person:
        person = ctx.session.scalars(select(Person).where(Person.key == self.key)).first()
        if person is None:
            raise NotFound(f"no person {self.key!r}")
        held = _count(ctx, Task.assignee == self.key, Task.state == "open")
        if held:
            raise Conflict(f"{self.key} still holds {held} open task(s): reassign them first "
                           f"(caseclock reassign-all {self.key} --to …)")  # fmt: skip
        person.name, person.email, person.phone, person.active = ERASED, None, None, False
        ctx.forget_caches()
        audit.append(ctx, self.name, payload={"person": self.key})
        return person


def _count(ctx: CommandContext, *where: object) -> int:
    return ctx.session.scalar(select(func.count()).where(*where)) or 0  # type: ignore[arg-type]
