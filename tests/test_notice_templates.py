"""Notice templates an admin rewords: the next real notice carries them, bad templates are
refused at the field with nothing stored, and every process sees an edit made by another."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from engine import notices
from engine.app import CaseClock
from engine.errors import ValidationError
from engine.notice_templates import (
    KINDS,
    SAMPLES,
    ResetNoticeTemplate,
    SetNoticeTemplate,
    placeholders,
    preview,
)
from engine.runtime import ClaimTask, StartInstance
from engine.services import Settings
from engine.store import AuditEvent, OutboxMessage
from engine.store.models import NoticeTemplate
from timers.sender import OutboxSender, SenderConfig
from timers.worker import Worker

from .conftest import ROOT
from .helpers import open_tasks
from .test_delivery import SmtpServer, text
from .test_deploy import deploy_bytes
from .test_sla import at, sla_process

BREACH_SUBJECT = "超期提醒：{task}（{case}）"
BREACH_BODY = "{person}：{task} 的时限 {due} 已过。\n请今天说明情况。"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def late_task(app: CaseClock, clock: Any, sender: OutboxSender | None = None) -> int:
    """A task held by yang whose three working days ran out; the breach has fired (and
    been sent, given a ``sender``)."""
    clock.set(at("2026-09-30T10:00"))
    deploy_bytes(app, sla_process(warnings=""))
    instance = app.execute(StartInstance("sla")).id
    app.execute(ClaimTask(open_tasks(app, instance)["t"]["id"], "yang"))
    clock.set(at("2026-10-12T09:01"))
    Worker(app, sender=sender).run_once()
    return instance


def breach_mails(app: CaseClock, instance: int) -> list[OutboxMessage]:
    return list(app.read(lambda s: s.scalars(
        select(OutboxMessage).where(OutboxMessage.instance_id == instance,
                                    OutboxMessage.channel == "email")
    ).all()))  # fmt: skip


def render(app: CaseClock, kind: str, locale: str = "zh-CN") -> notices.Notice:
    values = {"person": "王科长", "task": "审核", "case": "BJ-1", "by": "zhou", "message": "快"}
    return app.execute(lambda ctx: notices.render(ctx, kind, values, locale))


def stored(app: CaseClock) -> list[tuple[str, str]]:
    rows = app.read(lambda s: s.scalars(select(NoticeTemplate)).all())
    return sorted((row.kind, row.locale) for row in rows)


def test_the_next_breach_carries_the_edited_template_to_the_mail_server(org_app, clock, smtp):
    org_app.execute(SetNoticeTemplate("sla_breach", "zh-CN", BREACH_SUBJECT, BREACH_BODY),
                    actor="zhao")  # fmt: skip
    config = SenderConfig(smtp_host="127.0.0.1", smtp_port=smtp.port, timeout=5)
    instance = late_task(org_app, clock, OutboxSender(org_app, config))
    [mail] = breach_mails(org_app, instance)
    assert mail.subject == "超期提醒：审核（1）"
    assert mail.body == "杨审核：审核 的时限 2026-10-10 17:30 已过。\n请今天说明情况。"
    [received] = [m for m in smtp.mailbox.messages if m["To"] == "yang@example.gov.cn"]
    assert received["Subject"] == "超期提醒：审核（1）"
    assert text(received) == mail.body + "\n"

    assert org_app.execute(ResetNoticeTemplate("sla_breach", "zh-CN"), actor="zhao") is True
    again = late_task(org_app, clock)
    [mail] = breach_mails(org_app, again)
    assert mail.subject == "【超期】审核（2）已于 2026-10-10 17:30 超期"  # the shipped wording


def test_each_locale_is_edited_on_its_own(app):
    app.execute(SetNoticeTemplate("urge", "en", "Please act on {task}", "{by}: {message}"))
    assert render(app, "urge", "en") == notices.Notice("Please act on 审核", "zhou: 快")
    assert render(app, "urge").subject == "【催办通知】请尽快办理“审核”（BJ-1）"
    assert stored(app) == [("urge", "en")]


def test_edits_are_audited_on_the_org_chain(app):
    app.execute(SetNoticeTemplate("urge", "zh-CN", " 催办：{task} ", "{by} 催办\r\n{message}"),
                actor="zhao")  # fmt: skip
    app.execute(ResetNoticeTemplate("urge", "zh-CN"), actor="zhao")
    assert app.execute(ResetNoticeTemplate("urge", "zh-CN"), actor="zhao") is False  # no-op
    rows = app.read(lambda s: s.execute(
        select(AuditEvent.chain_key, AuditEvent.actor, AuditEvent.command, AuditEvent.payload)
        .where(AuditEvent.command.like("notice_template%")).order_by(AuditEvent.id)
    ).all())  # fmt: skip
    assert [(r.chain_key, r.actor, r.command) for r in rows] == [
        ("org", "zhao", "notice_template_set"), ("org", "zhao", "notice_template_reset"),
    ]  # fmt: skip
    # Stored as it is sent: trimmed, with Unix line ends.
    assert rows[0].payload == {"kind": "urge", "locale": "zh-CN", "subject": "催办：{task}",
                               "body": "{by} 催办\n{message}"}  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "body", "field", "message"),
    [
        ("{task}", "{unknown} 请办理", "body",
         "unknown placeholder {unknown}; this notice provides: task, case, person, by, message"),
        ("{task.__class__}", "x", "subject", "placeholder {task.__class__} is not allowed"),
        ("x", "{task.__init__.__globals__}", "body", "placeholder {task.__init__.__globals__}"),
        ("{task[0]}", "x", "subject", "placeholder {task[0]} is not allowed"),
        ("x", "{0}", "body", "placeholder {0} is not allowed"),
        ("x", "{}", "body", "placeholder {} is not allowed"),
        ("x", "{task!r}", "body", "placeholder {task} may not carry a format or conversion"),
        ("{task:>999999999}", "x", "subject", "placeholder {task} may not carry a format"),
        ("x", "{task", "body", "unbalanced braces"),
        ("x", "}", "body", "unbalanced braces"),
        ("第一行\n第二行", "x", "subject", "must be a single line"),
        ("  ", "x", "subject", "is required"),
        ("x", "\n", "body", "is required"),
        ("长" * 201, "x", "subject", "must be at most 200 characters"),
        ("x", "长" * 4001, "body", "must be at most 4000 characters"),
    ],
)  # fmt: skip
def test_a_bad_template_is_refused_at_its_field(app, subject, body, field, message):
    with pytest.raises(ValidationError) as refused:
        app.execute(SetNoticeTemplate("urge", "zh-CN", subject, body))
    assert list(refused.value.details["fields"]) == [field]
    assert refused.value.details["fields"][field].startswith(message)
    assert stored(app) == []
    assert app.read(lambda s: s.scalars(select(AuditEvent.id)).all()) == []


def test_unknown_kind_or_locale_is_named(app):
    with pytest.raises(ValidationError) as refused:
        SetNoticeTemplate("nonsense", "zh-CN", "x", "y")
    assert refused.value.details["fields"] == {
        "kind": f"no notice kind 'nonsense'; known: {', '.join(KINDS)}"
    }
    with pytest.raises(ValidationError) as refused:
        ResetNoticeTemplate("urge", "fr")
    assert refused.value.details["fields"] == {"locale": "locale 'fr': one of zh-CN, en"}


def test_literal_braces_are_allowed():
    shown = preview("chase_task", "zh-CN", "{{紧急}} {task}", "{holder} 第 {level} 级")
    assert shown == notices.Notice("{紧急} 受理审查", "li 第 1 级")


def test_every_placeholder_has_a_sample_in_both_locales():
    for kind in notices.TEMPLATES:
        for locale in notices.LOCALES:
            assert set(placeholders(kind)) <= set(SAMPLES[locale]), (kind, locale)
            subject, body = notices.TEMPLATES[kind][locale]
            shown = preview(kind, locale, subject, body)
            assert "{" not in shown.subject + shown.body, (kind, locale)


def test_an_edit_by_another_instance_is_seen_without_a_query_per_notice(
    app, database_url, clock, sandbox
):
    other = CaseClock(Settings(database_url=database_url), clock=clock, sandbox=sandbox)
    try:
        assert render(app, "urge").subject == "【催办通知】请尽快办理“审核”（BJ-1）"
        other.execute(SetNoticeTemplate("urge", "zh-CN", "催办 {task}", "{message}"))
        assert render(app, "urge") == notices.Notice("催办 审核", "快")

        reads: list[str] = []
        event.listen(app.db, "before_cursor_execute",
                     lambda conn, cursor, sql, *args: reads.append(sql))  # fmt: skip
        for _ in range(3):
            render(app, "urge")
        assert not [sql for sql in reads if "notice_template" in sql]  # served from memory

        other.execute(ResetNoticeTemplate("urge", "zh-CN"))
        assert render(app, "urge").subject == "【催办通知】请尽快办理“审核”（BJ-1）"
    finally:
        other.close()


def test_a_row_written_past_the_commands_is_not_sent(app):
    """A template stored by hand is checked when loaded; the shipped wording goes out."""
    app.execute(lambda ctx: ctx.session.execute(insert(NoticeTemplate).values(
        kind="urge", locale="zh-CN", subject="{task.__class__}", body="x",
        updated_by="dba", updated_at=ctx.now,
    )))  # fmt: skip
    assert render(app, "urge").subject == "【催办通知】请尽快办理“审核”（BJ-1）"


# --- the command line ----------------------------------------------------------------------


def test_cli_lists_sets_and_resets(cli, tmp_path: Path):
    cli("org", "import", str(ROOT / "demo" / "org.yaml"))  # --user names a person of it
    listed = cli("notices", "templates").output
    assert "sla_breach" in listed and "【超期】{task}（{case}）已于 {due} 超期" in listed
    body = tmp_path / "body.txt"
    body.write_text("{applicant_name}：材料请于五日内补齐。\n", encoding="utf-8")
    saved = cli("notices", "set", "documents_needed", "en", "--subject", "Missing: {matter}",
                "--body-file", str(body), "--user", "zhao").output  # fmt: skip
    assert "Missing: Business licence change" in saved
    assert "Zhang San：材料请于五日内补齐。" in saved  # the sample values of English
    listed = cli("notices", "templates").output
    assert "Missing: {matter}" in listed
    assert re.search(r"documents_needed +en +zhao \d{4}-\d\d-\d\d \d\d:\d\d +Missing", listed)
    assert "uses the built-in template" in cli("notices", "reset", "documents_needed", "en").output
    assert "Missing: {matter}" not in cli("notices", "templates").output

    refused = cli("notices", "set", "urge", "zh-CN", "--subject", "{x}", "--body-file",
                  str(body), ok=False).output  # fmt: skip
    assert "subject: unknown placeholder {x}" in refused
    assert "body: unknown placeholder {applicant_name}" in refused
