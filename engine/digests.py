"""Daily digests: warnings held for people who prefer one e-mail a day.

:class:`ComposeDigests` turns each person's held e-mails into one digest e-mail (sent
through the outbox like any other) and marks the held ones ``digested``. The worker
runs it every morning; held messages are taken under a row lock, so two workers never
digest the same ones.

A digest is written in its recipient's language (``person.locale``, found by the
``person`` the held notices name, else by the e-mail address; zh-CN by default), as the
notices it gathers were.
"""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outbox
from .executor import CommandContext
from .notices import DEFAULT_LOCALE, LOCALES
from .store import OutboxMessage, Person

SUBJECT = {
    "zh-CN": "【每日汇总】{count} 条办件预警（{day}）",
    "en": "[Daily digest] {count} case warnings ({day})",
}
# The framing around the gathered notices: an opening line and a closing one.
OPENING = {
    "zh-CN": "以下是 {day} 为您汇总的 {count} 条办件预警：",
    "en": "Here are the {count} case warnings gathered for you on {day}:",
}
CLOSING = {
    "zh-CN": "请登录 CaseClock 查看并及时办理。您选择了每日汇总，预警邮件每天汇总发送一次。",
    "en": "Please sign in to CaseClock to act on them. You chose a daily digest, so warning "
    "e-mails are gathered and sent once a day.",
}


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
            locale = _locale(ctx.session, recipient, messages)
            words = {"count": len(messages), "day": day}
            lines = [f"{n}. {m.subject}\n   {m.body}" for n, m in enumerate(messages, start=1)]
            framed = [OPENING[locale].format(**words), *lines, CLOSING[locale]]
            outbox.enqueue(
                ctx,
                channel="email",
                recipient=recipient,
                subject=SUBJECT[locale].format(**words),
                body="\n\n".join(framed),
                idempotency_key=f"digest:{recipient}:{day}:{messages[0].id}",
                payload={"kind": "digest", "messages": [m.id for m in messages]},
            )
            for message in messages:
                message.status = "digested"
            composed += 1
        return composed


def _locale(session: Session, address: str, messages: list[OutboxMessage]) -> str:
    """The language of the person the held notices were for (one query per digest)."""
    keys = {m.payload.get("person") for m in messages if isinstance(m.payload, dict)} - {None}
    who = Person.key.in_(keys) if keys else Person.email == address
    locale = session.scalars(select(Person.locale).where(who).order_by(Person.id)).first()
    return locale if locale in LOCALES else DEFAULT_LOCALE
