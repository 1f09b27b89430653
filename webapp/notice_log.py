"""What CaseClock has sent, or is still to send: the outbox as people read it.

The case page lists its own case's notices, the admin's send log every notice, both from
:func:`notices`. A row says who it went to (masked, as every list shows a contact), what
it said, and how its delivery stands; the payload adds what the notice was about (its
kind, and for an applicant notice the language it went in, and the language asked for
when CaseClock does not write it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import queries
from engine.errors import ValidationError
from engine.incidents import masked_recipient
from engine.outbox import CHANNELS
from engine.store import OutboxMessage, Person, ProcessInstance

# pending | held (for a digest) | sent | dead | dropped, as engine.store.models has them
STATUSES = ("pending", "held", "sent", "dead", "dropped")
LIMIT = 200
_LONGEST_TEXT = 100


@dataclass(frozen=True)
class NoticeFilter:
    status: str | None = None
    channel: str | None = None
    text: str | None = None

    def args(self) -> dict[str, str]:
        """The filter as query arguments (the form shows what was applied)."""
        chosen = {"status": self.status, "channel": self.channel, "q": self.text}
        return {k: v for k, v in chosen.items() if v}


def parse(args: Mapping[str, str]) -> NoticeFilter:
    """From query arguments; a value that is not a choice is a ValidationError naming it."""
    fields = {}
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in STATUSES:
        fields["status"] = f"status must be one of {', '.join(STATUSES)}"
    channel = (args.get("channel") or "").strip() or None
    if channel is not None and channel not in CHANNELS:
        fields["channel"] = f"channel must be one of {', '.join(CHANNELS)}"
    text = (args.get("q") or "").strip() or None
    if text is not None and len(text) > _LONGEST_TEXT:
        fields["q"] = f"must be at most {_LONGEST_TEXT} characters"
    if fields:
        raise ValidationError(next(iter(fields.values())), details={"fields": fields})
    return NoticeFilter(status, channel, text)


def notices(
    session: Session,
    tz: tzinfo,
    chosen: NoticeFilter = NoticeFilter(),
    instance_id: int | None = None,
) -> list[dict[str, Any]]:
    """The newest :data:`LIMIT` notices that match, of one case or of all."""
    query = (
        select(OutboxMessage, ProcessInstance.business_key)
        .outerjoin(ProcessInstance, ProcessInstance.id == OutboxMessage.instance_id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(LIMIT)
    )
    if instance_id is not None:
        query = query.where(OutboxMessage.instance_id == instance_id)
    if chosen.status:
        query = query.where(OutboxMessage.status == chosen.status)
    if chosen.channel:
        query = query.where(OutboxMessage.channel == chosen.channel)
    if chosen.text:
        query = query.where(or_(*(
            column.contains(chosen.text, autoescape=True)
            for column in (OutboxMessage.recipient, OutboxMessage.subject,
                           ProcessInstance.business_key)
        )))  # fmt: skip
    rows = [_row(message, business_key, tz) for message, business_key in session.execute(query)]
    names = _inapp_names(session, rows)
    for row in rows:
        row["recipient_name"] = names.get(row["recipient"]) if row["channel"] == "inapp" else None
    return rows


def _inapp_names(session: Session, rows: list[dict[str, Any]]) -> dict[str, str]:
    """An in-app notice goes to a person's key: their name, for the list to show."""
    keys = {row["recipient"] for row in rows if row["channel"] == "inapp"}
    if not keys:
        return {}
    found = session.execute(select(Person.key, Person.name).where(Person.key.in_(keys)))
    return {key: name for key, name in found if name}


def _row(message: OutboxMessage, business_key: str | None, tz: tzinfo) -> dict[str, Any]:
    payload = message.payload or {}
    return {
        "id": message.id, "at": queries.local(message.created_at, tz),
        "channel": message.channel,
        "recipient": masked_recipient(message.channel, message.recipient),
        "subject": message.subject, "body": message.body,
        "status": message.status, "attempts": message.attempts,
        "sent_at": queries.local(message.sent_at, tz), "last_error": message.last_error,
        "instance_id": message.instance_id, "business_key": business_key,
        "kind": payload.get("kind"), "locale": payload.get("locale"),
        "unsupported_locale": payload.get("unsupported_locale"),
    }  # fmt: skip
