"""Contact rules on debtor notices: contact hours, a daily cap per debtor, and only the
debtor's own verified contact. A notice outside the rules is held, not lost, and the
record says why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from engine.collection import contact
from engine.collection.notices import render
from engine.collection.receivables import load_account
from engine.store import OutboxMessage
from timers.worker import Worker

from ..conftest import SHANGHAI
from .helpers import import_rows, row

VALUES = {
    "debtor_name": "李四", "receivable": "N-1", "amount": "100.00", "currency": "CNY",
    "due_date": "2026-03-01", "days_overdue": 5, "penalty": "0.00", "as_of": "2026-03-06",
}  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def send(app, key: str, level: str, channel: str = "sms"):
    def command(ctx):
        account = load_account(ctx.session, key)
        notice = render("reminder", {**VALUES, "receivable": key})
        row = contact.send_debtor_notice(
            ctx, account.receivable, account.customer, level, channel, notice, VALUES, 5
        )
        return row.id, row.recipient, row.outbox_id, row.send_at, row.held_reason

    return app.execute(command)


def outbox(app, outbox_id):
    return app.read(lambda s: s.get(OutboxMessage, outbox_id))


def verified(key: str, **extra: str) -> dict[str, str]:
    return row(key, "100.00", "2026-03-01", customer_key="C-LI", customer_name="李四",
               phone="13900000002", contact_verified_on="2026-02-01", **extra)  # fmt: skip


def test_a_notice_at_night_is_held_until_the_contact_hours_open(app, clock):
    import_rows(app, verified("N-1"))
    clock.set(at("2026-03-06T22:30"))
    _, recipient, outbox_id, send_at, held = send(app, "N-1", "sms")
    assert recipient == "13900000002"
    assert send_at == at("2026-03-07T08:00") and "outside contact hours 08:00–21:00" in held
    assert outbox(app, outbox_id).next_attempt_at == at("2026-03-07T08:00")
    clock.set(at("2026-03-07T07:59"))
    Worker(app).run_once()
    assert outbox(app, outbox_id).attempts == 0  # not even tried at night
    clock.set(at("2026-03-07T08:00"))
    Worker(app).run_once()
    assert outbox(app, outbox_id).attempts == 1  # tried (no SMS gateway in tests)


def test_early_morning_waits_for_eight_the_same_day(app, clock):
    import_rows(app, verified("N-1"))
    clock.set(at("2026-03-06T06:10"))
    assert send(app, "N-1", "sms")[3] == at("2026-03-06T08:00")


def test_a_notice_inside_the_hours_leaves_at_once(app, clock):
    import_rows(app, verified("N-1"))
    clock.set(at("2026-03-06T20:59"))
    _, _, _, send_at, held = send(app, "N-1", "sms")
    assert send_at == at("2026-03-06T20:59") and held is None


def test_the_daily_cap_counts_every_receivable_of_the_debtor(app, clock):
    import_rows(app, verified("N-1"), verified("N-2"))
    clock.set(at("2026-03-06T10:00"))
    assert send(app, "N-1", "sms")[4] is None
    assert send(app, "N-2", "sms")[4] is None
    _, _, outbox_id, send_at, held = send(app, "N-1", "notice", "letter")
    assert send_at == at("2026-03-07T08:00")
    assert held == "daily cap of 2 contacts reached on 2026-03-06"
    assert outbox(app, outbox_id).next_attempt_at == send_at


def test_without_a_verified_contact_of_their_own_nothing_is_sent(app, clock):
    import_rows(app, row("N-3", "100.00", "2026-03-01", phone="13900000003"))  # not verified
    _, recipient, outbox_id, send_at, held = send(app, "N-3", "sms")
    assert (recipient, outbox_id, send_at) == (None, None, None)
    assert held == "withheld: the debtor has no verified contact of their own"
    assert app.read(lambda s: s.scalar(select(func.count(OutboxMessage.id)))) == 0


def test_a_letter_goes_to_the_debtors_own_email_and_sms_falls_back_to_it(app, clock):
    import_rows(app, row("N-4", "100.00", "2026-03-01", email="wang@example.com",
                         contact_verified_on="2026-02-01"))  # fmt: skip
    assert send(app, "N-4", "notice", "letter")[1] == "wang@example.com"
    _, recipient, outbox_id, _, _ = send(app, "N-4", "sms", "sms")
    assert recipient == "wang@example.com" and outbox(app, outbox_id).channel == "email"


def test_each_level_is_recorded_and_enqueued_once(app, clock):
    import_rows(app, verified("N-1"))
    first = send(app, "N-1", "sms")
    assert send(app, "N-1", "sms") == first
    assert app.read(lambda s: s.scalar(select(func.count(OutboxMessage.id)))) == 1
    assert outbox(app, first[2]).idempotency_key == "collection:N-1:sms"


def test_the_cli_shows_what_was_held_and_why(app, clock, cli):
    import_rows(app, verified("N-1"))
    clock.set(at("2026-03-06T23:00"))
    send(app, "N-1", "sms")
    out = cli("collection", "notices", "N-1").output
    assert "2026-03-07T08:00:00+08:00" in out and "outside contact hours" in out
