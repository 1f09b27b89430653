"""Daily digests: warnings held for people who prefer one e-mail a day.

:class:`ComposeDigests` turns each person's held e-mails into one digest e-mail (sent
through the outbox like any other) and marks the held ones ``digested``. The worker
runs it every morning; held messages are taken under a row lock, so two workers never
digest the same ones.
"""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import select

from . import outbox
from .executor import CommandContext
from .store import OutboxMessage

SUBJECT = {"zh-CN": "【每日汇总】{count} 条办件预警（{day}）"}


class ComposeDigests:
    name = "compose_digests"

    def __call__(self, ctx: CommandContext) -> int:
        held = ctx.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "held")
            .order_by(OutboxMessage.recipient, OutboxMessage.id)
            .with_for_update(skip_locked=True)
        ).all()
        day = ctx.now.astimezone(ctx.services.timezone).date().isoformat()
        composed = 0
        for recipient, group in groupby(held, key=lambda m: m.recipient):
            messages = list(group)
            lines = [f"{n}. {m.subject}\n   {m.body}" for n, m in enumerate(messages, start=1)]
            outbox.enqueue(
                ctx,
                channel="email",
                recipient=recipient,
                subject=SUBJECT["zh-CN"].format(count=len(messages), day=day),
                body="\n\n".join(lines),
                idempotency_key=f"digest:{recipient}:{day}:{messages[0].id}",
                payload={"kind": "digest", "messages": [m.id for m in messages]},
            )
            for message in messages:
                message.status = "digested"
            composed += 1
        return composed
