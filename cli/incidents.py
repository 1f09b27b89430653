"""``caseclock incidents …``: failed timers and undeliverable notices, retried or given up
on, as an admin does on ``/admin/incidents``."""

from __future__ import annotations

import click

from engine.incidents import (
    DropDelivery,
    RetryDelivery,
    RetryTimer,
    SkipTimer,
    incidents,
    undeliverable,
)

from . import app_of, emit, main
from .output import table
from .params import ID, user_option


@main.group("incidents")
def incidents_group() -> None:
    """Timers whose firing failed and notices that could not be delivered."""


@incidents_group.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Failed timers, then undeliverable notices (recipients masked), oldest first."""
    app = app_of(ctx)
    timers, messages = app.read(incidents), app.read(undeliverable)
    human = "\n".join([
        "failed timers:",
        table(timers, ["id", "business_key", "element_id", "attempts", "last_error"]),
        "", "undeliverable notices:",
        table(messages, ["id", "business_key", "channel", "recipient", "status", "attempts",
                         "last_error"]),
    ])  # fmt: skip
    emit(ctx, {"timers": timers, "deliveries": messages}, human)


@incidents_group.command("retry-timer")
@click.argument("timer_id", type=ID)
@user_option("Who retries it (audit).")
@click.pass_context
def retry_timer(ctx: click.Context, timer_id: int, user: str) -> None:
    """Make failed timer TIMER_ID due now: the next worker pass fires it."""
    timer = app_of(ctx).execute(RetryTimer(timer_id), actor=user)
    emit(ctx, {"id": timer.id, "status": timer.status, "due_at": timer.due_at},
         f"timer {timer.id} is due now")  # fmt: skip


@incidents_group.command("skip-timer")
@click.argument("timer_id", type=ID)
@click.option("--note", default="", help="Why it is skipped (audit).")
@user_option("Who skips it (audit).")
@click.pass_context
def skip_timer(ctx: click.Context, timer_id: int, note: str, user: str) -> None:
    """Cancel failed timer TIMER_ID: it never fires."""
    timer = app_of(ctx).execute(SkipTimer(timer_id, note), actor=user)
    emit(ctx, {"id": timer.id, "status": timer.status}, f"timer {timer.id} skipped")


@incidents_group.command("retry-delivery")
@click.argument("message_id", type=ID)
@user_option("Who retries it (audit).")
@click.pass_context
def retry_delivery(ctx: click.Context, message_id: int, user: str) -> None:
    """Send undeliverable notice MESSAGE_ID again at the next worker pass."""
    message = app_of(ctx).execute(RetryDelivery(message_id), actor=user)
    emit(ctx, {"id": message.id, "status": message.status, "attempts": message.attempts},
         f"notice {message.id} is due to be sent again now")  # fmt: skip


@incidents_group.command("drop-delivery")
@click.argument("message_id", type=ID)
@click.option("--note", default="", help="Why it is given up on (audit).")
@user_option("Who drops it (audit).")
@click.pass_context
def drop_delivery(ctx: click.Context, message_id: int, note: str, user: str) -> None:
    """Give up on undeliverable notice MESSAGE_ID: it is never sent."""
    message = app_of(ctx).execute(DropDelivery(message_id, note), actor=user)
    emit(ctx, {"id": message.id, "status": message.status}, f"notice {message.id} dropped")
