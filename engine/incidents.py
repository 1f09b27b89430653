"""Incidents: timers whose firing failed (a script error, an unreachable service) and
notices that could not be delivered (an SMTP server or a webhook that is down).

:class:`~engine.due_timers.RecordTimerFailure` counts each failed firing on the timer
(``attempts``, ``last_error``) and holds it back with a backoff lease. An admin sees
those timers here and either retries one now (:class:`RetryTimer`: due now, lease
cleared, so the next worker pass fires it) or skips it (:class:`SkipTimer`: cancelled,
never fired). Both are commands with an audit event on the case's chain.

:class:`~engine.delivery.MarkFailed` does the same for an outbox message, until it gives
up (``dead``). A dead message, or a pending one that has already failed
:data:`FAILING_AFTER` times, is listed by :func:`undeliverable`; the admin either sends
it again now (:class:`RetryDelivery`) or gives up on it (:class:`DropDelivery`: status
``dropped``, never sent). Their audit event goes on the case's chain when the message
belongs to a case, else on the ``org`` chain.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from . import audit
from .erasure import ERASED
from .errors import Conflict, NotFound
from .executor import CommandContext
from .runtime import lock_instance
from .store import OutboxMessage, ProcessInstance, Timer

_FAILED = (Timer.status == "waiting", Timer.attempts > 0, Timer.last_error.is_not(None))


def incidents(session: Session) -> list[dict[str, Any]]:
    """Waiting timers with failed firings, oldest due first, with their case."""
    rows = session.execute(
        select(Timer, ProcessInstance.business_key)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(*_FAILED)
        .order_by(Timer.due_at, Timer.id)
    ).all()
    return [
        {
            "id": t.id, "instance_id": t.instance_id, "business_key": key,
            "element_id": t.element_id, "name": t.name, "kind": t.kind,
            "purpose": t.purpose, "task_id": t.task_id, "due_at": t.due_at,
            "attempts": t.attempts, "last_error": t.last_error,
            "retry_at": t.lease_until if t.lease_owner == "backoff" else None,
        }
        for t, key in rows
    ]  # fmt: skip


def _failed_timer(ctx: CommandContext, timer_id: int) -> tuple[Timer, ProcessInstance]:
    timer = ctx.session.get(Timer, timer_id)
    if timer is None:
        raise NotFound(f"no timer {timer_id}")
    # Lock the case first (as firing does), then read the timer again: what is read is current.
    instance = lock_instance(ctx, timer.instance_id)
    ctx.session.refresh(timer)
    if timer.status != "waiting" or not timer.attempts or timer.last_error is None:
        raise Conflict(f"timer {timer_id} is not a failed waiting timer (status {timer.status})")
    return timer, instance


class RetryTimer:
    """Make a failed timer due now and clear its (backoff) lease: the next worker pass
    fires it. Its due time moves only forward to now, never later, so an SLA deadline
    keeps the instant it was due."""

    name = "timer_retry"

    def __init__(self, timer_id: int) -> None:
        self.timer_id = timer_id

    def __call__(self, ctx: CommandContext) -> Timer:
        timer, instance = _failed_timer(ctx, self.timer_id)
        timer.due_at = min(timer.due_at, ctx.now)
        timer.lease_owner, timer.lease_until = None, None
        audit.append(ctx, self.name, instance=instance, task_id=timer.task_id, payload={
            "timer": timer.element_id, "timer_id": timer.id, "attempts": timer.attempts,
            "error": timer.last_error,
        })  # fmt: skip
        return timer


class SkipTimer:
    """Give up on a failed timer: it is cancelled and never fires (the case does not
    take that timer's path; its error stays on the row and in the audit event)."""

    name = "timer_skip"

    def __init__(self, timer_id: int, note: str = "") -> None:
        self.timer_id, self.note = timer_id, (note or "").strip()[:500]

    def __call__(self, ctx: CommandContext) -> Timer:
        timer, instance = _failed_timer(ctx, self.timer_id)
        timer.status = "cancelled"
        timer.lease_owner, timer.lease_until = None, None
        audit.append(ctx, self.name, instance=instance, task_id=timer.task_id, payload={
            "timer": timer.element_id, "timer_id": timer.id, "attempts": timer.attempts,
            "error": timer.last_error, "note": self.note,
        })  # fmt: skip
        return timer


# --- undeliverable notices ------------------------------------------------------------------

# A pending message is shown once it has failed this often: an admin learns of a down
# server within minutes, not only when the automatic tries give up (about an hour later).
FAILING_AFTER = 3

_UNDELIVERABLE = (
    OutboxMessage.attempts > 0,
    OutboxMessage.last_error.is_not(None),
    # An erased case's notices have no content left to send (engine.erasure).
    OutboxMessage.recipient != ERASED,
    or_(
        OutboxMessage.status == "dead",
        and_(OutboxMessage.status == "pending", OutboxMessage.attempts >= FAILING_AFTER),
    ),
)


def masked_recipient(channel: str, recipient: str) -> str:
    """The recipient as a list shows it (PIPL): enough to recognise, not to copy. A
    webhook URL shows only its host, since robots carry their secret in the URL."""
    if channel == "email":
        local, _, domain = parseaddr(recipient)[1].partition("@")
        return f"{local[:2]}***@{domain}" if domain else "***"
    if channel == "sms":
        return f"{recipient[:3]}****{recipient[-4:]}" if len(recipient) >= 11 else "****"
    if channel == "webhook" and "://" in recipient:
        return urlsplit(recipient).hostname or "***"
    return recipient


def undeliverable(session: Session) -> list[dict[str, Any]]:
    """Dead messages and pending ones failing repeatedly, oldest first, with their case."""
    rows = session.execute(
        select(OutboxMessage, ProcessInstance.business_key)
        .outerjoin(ProcessInstance, ProcessInstance.id == OutboxMessage.instance_id)
        .where(*_UNDELIVERABLE)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).all()
    return [
        {
            "id": m.id, "channel": m.channel,
            "recipient": masked_recipient(m.channel, m.recipient), "subject": m.subject,
            "status": m.status, "attempts": m.attempts, "last_error": m.last_error,
            "created_at": m.created_at, "instance_id": m.instance_id, "business_key": key,
            "retry_at": m.next_attempt_at if m.status == "pending" else None,
        }
        for m, key in rows
    ]  # fmt: skip


def _failed_message(
    ctx: CommandContext, message_id: int
) -> tuple[OutboxMessage, ProcessInstance | None]:
    message = ctx.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    # Lock the case first (as every command on it does), then the message row, which a
    # sender's MarkFailed locks too: what is read after that is current.
    instance = lock_instance(ctx, message.instance_id) if message.instance_id else None
    ctx.session.refresh(message, with_for_update=True)
    failed = ctx.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.id == message_id, *_UNDELIVERABLE)
    )
    if failed is None:
        raise Conflict(
            f"outbox message {message_id} is not an undeliverable one (status "
            f"{message.status}, {message.attempts} failed attempt(s))"
        )
    if message.lease_until is not None and message.lease_until > ctx.now:
        # A sender is trying it right now: its outcome must not be overwritten.
        raise Conflict(f"outbox message {message_id} is being sent right now: try again shortly")
    return message, instance


def _event(message: OutboxMessage, was: str) -> dict[str, Any]:
    return {"message_id": message.id, "channel": message.channel,
            "attempts": message.attempts, "status": was}  # fmt: skip


class RetryDelivery:
    """Send an undeliverable message again at the next worker pass: pending, due now.

    Its failed attempts are kept, so the count stays the true number of tries: a dead
    message gets one more try (failing again, it is dead again, with the new error), a
    pending one goes on with the tries it has left.
    """

    name = "delivery_retry"

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id

    def __call__(self, ctx: CommandContext) -> OutboxMessage:
        message, instance = _failed_message(ctx, self.message_id)
        was = message.status
        message.status, message.next_attempt_at = "pending", ctx.now
        message.lease_owner, message.lease_until = None, None
        # The error can name the recipient's address (an SMTP refusal): erasable part.
        audit.append(ctx, self.name, instance=instance, payload=_event(message, was),
                     private={"error": message.last_error})  # fmt: skip
        return message


class DropDelivery:
    """Give up on an undeliverable message: status ``dropped``, never sent (its error
    stays on the row; the note says why, in the audit event's erasable part)."""

    name = "delivery_drop"

    def __init__(self, message_id: int, note: str = "") -> None:
        self.message_id, self.note = message_id, (note or "").strip()[:500]

    def __call__(self, ctx: CommandContext) -> OutboxMessage:
        message, instance = _failed_message(ctx, self.message_id)
        was = message.status
        message.status = "dropped"
        message.lease_owner, message.lease_until = None, None
        audit.append(ctx, self.name, instance=instance, payload=_event(message, was),
                     private={"error": message.last_error, "note": self.note})  # fmt: skip
        return message
