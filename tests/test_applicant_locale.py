"""Applicant notices in the applicant's language (``applicant_locale`` in the case data):
English for "en" and its regional spellings, Chinese by default, and for a language
CaseClock does not write the default, with the refused value kept in the outbox payload.
Notices go through the worker to a real SMTP server and SMS webhook."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.app import CaseClock
from engine.notice_templates import SetNoticeTemplate
from engine.runtime import StartInstance
from engine.store import OutboxMessage
from timers.sender import OutboxSender, SenderConfig
from timers.worker import Worker

from .helpers import view, work
from .test_delivery import config, receiver, smtp, text  # noqa: F401 (fixtures)
from .test_deploy import HEAD, deploy_bytes
from .test_sla import NS

# A review step, then the end event that tells the applicant the case is concluded.
DIAGRAM = (
    HEAD.replace("<bpmn:definitions ", f"<bpmn:definitions {NS} ")
    + '<bpmn:process id="licence" isExecutable="true">'
    '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<bpmn:userTask id="t" name="审核" camunda:candidateGroups="reviewers"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
    '<bpmn:endEvent id="e" caseclock:notifyApplicant="case_concluded"/>'
    "</bpmn:process></bpmn:definitions>"
).encode()

EMAIL, MOBILE = "applicant@example.com", "13900000000"
ENGLISH = {"applicant_name": "Zhang San", "matter": "Business licence change"}
CHINESE = {"applicant_name": "张三", "matter": "营业执照变更登记"}


def conclude(app: CaseClock, key: str, data: dict[str, Any]) -> list[OutboxMessage]:
    """Start a case for an applicant with ``data``, review it, and return the applicant's
    outbox rows; none is written before the case reaches the notifying end event."""
    deploy_bytes(app, DIAGRAM)
    contact = {"applicant_email": EMAIL, "applicant_mobile": MOBILE}
    instance = app.execute(StartInstance("licence", key, {**contact, **data})).id
    assert applicant_rows(app, instance) == []
    work(app, instance, "t", "yang", {})
    assert view(app, instance)["state"] == "completed"
    return applicant_rows(app, instance)


def applicant_rows(app: CaseClock, instance: int) -> list[OutboxMessage]:
    return list(app.read(lambda s: s.scalars(
        select(OutboxMessage).where(OutboxMessage.instance_id == instance,
                                    OutboxMessage.recipient.in_([EMAIL, MOBILE]))
        .order_by(OutboxMessage.id)
    ).all()))  # fmt: skip


def deliver(app: CaseClock, settings: SenderConfig) -> None:
    assert Worker(app, sender=OutboxSender(app, settings)).run_once().sent == 2


def test_an_en_applicant_is_told_in_english(org_app, smtp, receiver, config):  # noqa: F811
    rows = conclude(org_app, "BJ-EN", {**ENGLISH, "applicant_locale": "en"})
    assert [(r.channel, r.payload["locale"]) for r in rows] == [("email", "en"), ("sms", "en")]
    assert all("unsupported_locale" not in r.payload for r in rows)
    deliver(org_app, config)
    [mail] = smtp.mailbox.messages
    assert (mail["To"], mail["Subject"]) == (EMAIL, "[Concluded] Business licence change (BJ-EN)")
    assert text(mail).strip() == (
        'Zhang San: your application "Business licence change" (case BJ-EN) has been concluded.'
    )
    [sms] = receiver.requests
    assert sms.body == {"to": MOBILE, "text": text(mail).strip()}


def test_without_a_locale_the_applicant_gets_chinese(org_app, smtp, receiver, config):  # noqa: F811
    rows = conclude(org_app, "BJ-ZH", CHINESE)
    assert [r.payload["locale"] for r in rows] == ["zh-CN", "zh-CN"]
    assert all("unsupported_locale" not in r.payload for r in rows)
    deliver(org_app, config)
    [mail] = smtp.mailbox.messages
    assert mail["Subject"] == "【办结通知】您申请的“营业执照变更登记”（BJ-ZH）已办结"
    assert text(mail).strip() == (
        "张三：您申请的“营业执照变更登记”（办件编号 BJ-ZH）已办结，感谢您的耐心等待。"
    )


def test_fr_fr_falls_back_to_chinese_noted(org_app, smtp, receiver, config):  # noqa: F811
    rows = conclude(org_app, "BJ-FR", {**CHINESE, "applicant_locale": "fr-FR"})
    assert [r.payload for r in rows] == [{
        "kind": "case_concluded", "element_id": "e",
        "locale": "zh-CN", "unsupported_locale": "fr-FR",
    }] * 2  # fmt: skip
    deliver(org_app, config)
    [mail] = smtp.mailbox.messages
    assert mail["Subject"] == "【办结通知】您申请的“营业执照变更登记”（BJ-FR）已办结"
    assert receiver.requests[0].body["text"].startswith("张三：")


def test_an_overlong_unsupported_value_is_recorded_cut(org_app):
    rows = conclude(org_app, "BJ-XX", {**CHINESE, "applicant_locale": "x" * 1000})
    assert [r.payload["unsupported_locale"] for r in rows] == ["x" * 35] * 2
    assert rows[0].subject.startswith("【办结通知】")


@pytest.mark.parametrize(
    ("given", "used"),
    [("en-US", "en"), ("en_GB", "en"), (" EN ", "en"), ("zh", "zh-CN"), ("zh_CN", "zh-CN"),
     ("zh-Hans-CN", "zh-CN"), ("", "zh-CN"), (None, "zh-CN")],
)  # fmt: skip
def test_common_spellings_name_a_supported_language(org_app, given, used):
    rows = conclude(org_app, "BJ-SP", {**CHINESE, "applicant_locale": given})
    [email, _] = rows
    assert (email.payload["locale"], "unsupported_locale" in email.payload) == (used, False)
    assert email.subject.startswith("[Concluded]" if used == "en" else "【办结通知】")


def test_an_admin_s_wording_applies_in_its_own_locale_only(org_app):
    org_app.execute(SetNoticeTemplate(
        "case_concluded", "en", "Decision ready: {matter} ({case})",
        "Dear {applicant_name}, case {case} is decided. Collect your licence at the window.",
    ))  # fmt: skip
    [english, _] = conclude(org_app, "BJ-E1", {**ENGLISH, "applicant_locale": "en-GB"})
    assert english.subject == "Decision ready: Business licence change (BJ-E1)"
    assert english.body.startswith("Dear Zhang San, case BJ-E1 is decided.")
    [chinese, _] = conclude(org_app, "BJ-Z1", {**CHINESE, "applicant_locale": "zh-CN"})
    assert chinese.subject == "【办结通知】您申请的“营业执照变更登记”（BJ-Z1）已办结"
