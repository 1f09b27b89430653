"""Debtor notice wording edited by an admin: the next notice the daily job writes, in the
debtor's language, and its PDF letter carry it; a letter already sent keeps the wording it
was sent in; bad edits are refused at the field with nothing stored; every change is
audited; the daily job reads the wording from memory, not once per notice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, select

from engine.app import CaseClock
from engine.collection import notices
from engine.collection.daily import run_collection_day
from engine.collection.remedies import DecideRemedy, RequestRemedy
from engine.errors import ValidationError
from engine.notice_templates import ResetNoticeTemplate, SetNoticeTemplate, preview, templates
from engine.services import Settings
from engine.store import AuditEvent, OutboxMessage
from engine.store.collection_tables import Receivable
from engine.store.ladder_tables import CollectionNotice
from engine.store.models import NoticeTemplate

from .helpers import import_rows, row
from .test_notice_locale import debt_app, morning, pdf_text, portfolio  # noqa: F401 (fixture)

REMINDER = "debtor.part.reminder"
EDITED_ZH = ("{debtor_name}：账款 {receivable} 欠 {amount} {currency}，已逾期 {days_overdue} 天"
             "（到期日 {due_date}，截至 {as_of}）。")  # fmt: skip
EN_HEADING = "1. What you owe"
EN_TEXT = ("{debtor_name}, you owe {amount} {currency} on account {receivable}: it fell due "
           "on {due_date} and is {days_overdue} days late today ({as_of}).")  # fmt: skip


def sent(app, receivable: str, level: str = "notice") -> OutboxMessage:
    return app.read(lambda s: s.scalars(
        select(OutboxMessage)
        .join(CollectionNotice, CollectionNotice.outbox_id == OutboxMessage.id)
        .where(CollectionNotice.level == level,
               CollectionNotice.receivable_id.in_(
                   select(Receivable.id).where(Receivable.key == receivable)))
    ).one())  # fmt: skip


def letter(cli, tmp_path: Path, receivable: str, name: str) -> str:
    out = tmp_path / f"{name}.pdf"
    cli("collection", "letter", receivable, "notice", "--out", str(out))
    return " ".join(pdf_text(out).split())


def stored(app) -> list[tuple[str, str, str, str]]:
    rows = app.read(lambda s: s.scalars(select(NoticeTemplate).order_by(NoticeTemplate.id)).all())
    return [(r.kind, r.locale, r.subject, r.body) for r in rows]


def test_a_part_edited_from_the_shell_goes_out_in_that_locale_and_in_the_letter(
    debt_app,  # noqa: F811
    clock,
    cli,
    tmp_path,
):
    portfolio(debt_app)  # EN-1 (English) and ZH-1 (Chinese), both D+10 on 2 Mar
    text = tmp_path / "text.txt"
    text.write_text(EN_TEXT + "\n", encoding="utf-8")
    saved = cli("notices", "set", REMINDER, "en", "--heading", EN_HEADING, "--text-file",
                str(text), "--user", "zhao").output  # fmt: skip
    assert "Zhang San, you owe 10070.00 CNY on account L-2026-0001" in saved  # sample values
    cli("notices", "set", "debtor.formal.subject", "en", "--subject",
        "Account {receivable}: payment overdue", "--user", "zhao")  # fmt: skip
    listed = cli("notices", "templates", "--audience", "debtor").output
    assert "debtor.part.reminder" in listed and "zhao" in listed and "sla_breach" not in listed

    morning(clock, date(2026, 3, 2))
    run_collection_day(debt_app, date(2026, 3, 2))
    english = sent(debt_app, "EN-1")
    assert english.subject == "Account EN-1: payment overdue"
    assert english.body.startswith(
        "1. What you owe\nJohn Smith, you owe 2500.00 CNY on account EN-1: it fell due on "
        "2026-02-20 and is 10 days late today (2026-03-02).\n\n2. Consequences\n"
    )  # fmt: skip
    chinese = sent(debt_app, "ZH-1")  # the Chinese wording was not edited
    assert chinese.subject == "【催收函】账款 ZH-1 逾期还款通知"
    assert chinese.body.startswith("一、欠款提醒\n张三：截至 2026-03-02")

    flat = letter(cli, tmp_path, "EN-1", "en")
    assert "Account EN-1: payment overdue" in flat and "1. What you owe" in flat
    assert "John Smith, you owe 2500.00 CNY on account EN-1" in flat
    assert "1. Reminder" not in flat and "6. Credit-record impact" in flat  # all six parts

    # Reset: the next notice is in the shipped wording again; the letter already sent
    # still prints as it was sent.
    assert "uses the built-in template" in cli("notices", "reset", REMINDER, "en").output
    import_rows(debt_app, row("EN-2", "300.00", "2026-02-20", customer_key="C-EN",
                              customer_name="John Smith", email="john@example.com",
                              locale="en"))  # fmt: skip
    morning(clock, date(2026, 3, 3))
    run_collection_day(debt_app, date(2026, 3, 3))
    assert sent(debt_app, "EN-2").body.startswith("1. Reminder\nJohn Smith: as of 2026-03-03")
    assert "John Smith, you owe 2500.00 CNY on account EN-1" in letter(cli, tmp_path, "EN-1", "a")


def test_a_chinese_edit_reaches_the_chinese_debtor_and_the_letter(debt_app, clock, cli, tmp_path):  # noqa: F811
    portfolio(debt_app)
    debt_app.execute(SetNoticeTemplate(
        "debtor.part.legal", "zh-CN", "五、法律后果",
        "若仍不还款，我行将依法起诉，诉讼费用由您承担。",
    ), actor="zhao")  # fmt: skip
    morning(clock, date(2026, 3, 2))
    run_collection_day(debt_app, date(2026, 3, 2))
    assert "五、法律后果\n若仍不还款，我行将依法起诉" in sent(debt_app, "ZH-1").body
    assert "5. Legal risk" in sent(debt_app, "EN-1").body
    flat = "".join(letter(cli, tmp_path, "ZH-1", "zh").split())
    assert "五、法律后果" in flat and "若仍不还款，我行将依法起诉" in flat


@pytest.mark.parametrize(
    ("kind", "subject", "body", "field", "message"),
    [
        (REMINDER, "一、欠款提醒", "{debtor_name}：截至 {as_of}，账款 {receivable} 已逾期 "
         "{days_overdue} 天（到期日 {due_date}）。", "text",
         "must keep {amount}, {currency}: a debtor notice has to state them"),
        (REMINDER, "一、欠款提醒", "{debtor_name} {as_of} {receivable} {amount} {currency} "
         "{days_overdue} {due_date} {phone}", "text",
         "unknown placeholder {phone}; this notice provides: debtor_name, receivable, amount"),
        (REMINDER, "  ", "{debtor_name} {as_of} {receivable} {amount} {currency} "
         "{days_overdue} {due_date}", "heading", "is required"),
        (REMINDER, "一、\n欠款提醒", "{debtor_name} {as_of} {receivable} {amount} {currency} "
         "{days_overdue} {due_date}", "heading", "must be a single line"),
        # The ways to repay also close the remedy confirmation, which has no amount owed.
        ("debtor.part.repay", "还款方式", "请还 {amount}，注明 {receivable}。", "text",
         "unknown placeholder {amount}; this notice provides: debtor_name, receivable, currency"),
        ("debtor.reminder.subject", "【逾期】{receivable}", "", "subject",
         "must keep {days_overdue}: a debtor notice has to state it"),
        ("debtor.formal.subject", "【催收函】{receivable}", "正文", "body",
         "a debtor notice's subject has no body"),
        ("debtor.part.new_schedule", "新还款计划", "请按时还款。", "text", "must keep {schedule}"),
    ],
)  # fmt: skip
def test_a_bad_edit_is_refused_at_its_field_and_changes_nothing(
    debt_app,  # noqa: F811
    kind,
    subject,
    body,
    field,
    message,
):
    with pytest.raises(ValidationError) as refused:
        debt_app.execute(SetNoticeTemplate(kind, "zh-CN", subject, body), actor="zhao")
    assert list(refused.value.details["fields"]) == [field]
    assert refused.value.details["fields"][field].startswith(message)
    assert stored(debt_app) == []
    audited = select(AuditEvent.id).where(AuditEvent.command.like("notice_template%"))
    assert debt_app.read(lambda s: s.scalars(audited).all()) == []


def test_the_shell_names_the_bad_field(debt_app, cli, tmp_path):  # noqa: F811
    text = tmp_path / "text.txt"
    text.write_text("{debtor_name}：您已逾期 {days_overdue} 天。", encoding="utf-8")
    refused = cli("notices", "set", REMINDER, "zh-CN", "--heading", "", "--text-file",
                  str(text), ok=False).output  # fmt: skip
    assert "heading: is required" in refused
    assert "text: must keep {as_of}, {receivable}, {amount}, {currency}, {due_date}" in refused
    assert stored(debt_app) == []


def test_edits_and_resets_are_audited_and_reset_restores(debt_app):  # noqa: F811
    debt_app.execute(SetNoticeTemplate("debtor.part.remedies", "en", " 4. Help ",
                                       "Call us to agree a plan.\r\n"), actor="zhao")  # fmt: skip
    assert stored(debt_app) == [
        ("debtor.part.remedies", "en", "4. Help", "Call us to agree a plan.")]  # fmt: skip
    assert debt_app.execute(ResetNoticeTemplate("debtor.part.remedies", "en"), actor="zhao")
    assert stored(debt_app) == []
    rows = debt_app.read(lambda s: s.execute(
        select(AuditEvent.chain_key, AuditEvent.actor, AuditEvent.command, AuditEvent.payload)
        .where(AuditEvent.command.like("notice_template%")).order_by(AuditEvent.id)
    ).all())  # fmt: skip
    assert [(r.chain_key, r.actor, r.command) for r in rows] == [
        ("org", "zhao", "notice_template_set"),
        ("org", "zhao", "notice_template_reset"),
    ]
    assert rows[0].payload == {
        "kind": "debtor.part.remedies", "locale": "en", "subject": "4. Help",
        "body": "Call us to agree a plan.",
    }  # fmt: skip
    [listed] = [t for t in debt_app.read(templates)
                if (t["kind"], t["locale"]) == ("debtor.part.remedies", "en")]  # fmt: skip
    assert (listed["subject"], listed["edited"], listed["fields"]) == (
        "4. Remedies", False, ["heading", "text"])  # fmt: skip


def test_every_part_of_every_kind_is_editable_and_previews_without_a_gap():
    kinds = {notices.subject_item(kind) for kind in notices.PARTS}
    parts = {notices.part_item(part) for parts in notices.PARTS.values() for part in parts}
    assert set(notices.ITEMS) == kinds | parts
    assert {notices.part_item(p) for p in notices.SIX} <= parts
    for item, spec in notices.ITEMS.items():
        for locale, (subject, body) in spec.shipped.items():
            shown = preview(item, locale, subject, body)  # the shipped wording passes
            assert "{" not in shown.subject + shown.body, (item, locale)


def test_notices_read_the_wording_from_memory_not_once_each(debt_app, database_url, clock, sandbox):  # noqa: F811
    """As staff notices do: while the org chain stands still, rendering costs no query;
    an edit made by another process is seen by the next command."""
    values = {"debtor_name": "张三", "receivable": "L-1", "amount": "10.00", "currency": "CNY",
              "due_date": "2026-03-01", "days_overdue": 1, "as_of": "2026-03-02",
              "penalty": "0.00"}  # fmt: skip

    def render_three(ctx):
        shown = [notices.render("reminder", values, "zh-CN", notices.edited(ctx))
                 for _ in range(3)]  # fmt: skip
        return shown[-1]

    assert debt_app.execute(render_three).sections[0][0] == "一、欠款提醒"
    other = CaseClock(Settings(database_url=database_url), clock=clock, sandbox=sandbox)
    try:
        other.execute(SetNoticeTemplate(REMINDER, "zh-CN", "一、您的欠款", EDITED_ZH), actor="zhao")
    finally:
        other.close()
    reads: list[str] = []
    event.listen(debt_app.db, "before_cursor_execute",
                 lambda conn, cursor, sql, *args: reads.append(sql))  # fmt: skip
    notice = debt_app.execute(render_three)
    assert notice.sections[0] == ("一、您的欠款", "张三：账款 L-1 欠 10.00 CNY，已逾期 1 天"
                                  "（到期日 2026-03-01，截至 2026-03-02）。")  # fmt: skip
    assert notice.wording == {REMINDER: ["一、您的欠款", EDITED_ZH]}  # what a record keeps
    assert len([sql for sql in reads if "FROM notice_template" in sql]) == 1  # not three
    reads.clear()
    debt_app.execute(render_three)
    assert [sql for sql in reads if "FROM notice_template" in sql] == []  # chain unmoved


def test_the_remedy_confirmation_and_its_letter_take_the_edited_wording(
    debt_app,  # noqa: F811
    clock,
    cli,
    tmp_path,
):
    debt_app.execute(SetNoticeTemplate(
        "debtor.part.new_schedule", "zh-CN", "新的还款安排", "请按下列日期还款：{schedule}。",
    ), actor="zhao")  # fmt: skip
    import_rows(debt_app, row("RM-1", "1000.00", "2026-03-01", customer_name="张三",
                              email="zhang@example.com", contact_verified_on="2026-01-01",
                              collector="wu"))  # fmt: skip
    morning(clock, date(2026, 3, 2))
    remedy = debt_app.execute(RequestRemedy(
        "RM-1", "instalments", "住院", schedule="2026-04-01=400.00;2026-05-01=600.00"),
        actor="wu")  # fmt: skip
    debt_app.execute(DecideRemedy(remedy.id, approve=True), actor="sun")
    body = sent(debt_app, "RM-1", f"remedy-{remedy.id}").body
    assert ("新的还款安排\n请按下列日期还款：1. 2026-04-01 应还 400.00 CNY；"
            "2. 2026-05-01 应还 600.00 CNY。") in body  # fmt: skip
    out = tmp_path / "plan.pdf"
    cli("collection", "letter", "RM-1", f"remedy-{remedy.id}", "--out", str(out))
    assert "请按下列日期还款：1.2026-04-01应还400.00CNY" in "".join(pdf_text(out).split())
