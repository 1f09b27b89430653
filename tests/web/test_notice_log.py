"""What CaseClock sent, as people read it: a case's notices on its page, and every notice
on the admin's send log (``/admin/outbox``), with the filters, the masking every list of
contacts has, and the note when an applicant asked for a language CaseClock does not
write. Notices are real ones: the 补正 notice of the shipped 办件 diagram, delivered by
the sender into a drop directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.runtime import StartInstance
from timers.sender import OutboxSender, SenderConfig

from ..helpers import work
from ..test_case_handling_locale import EMAIL, MOBILE, RECEIVE
from ..test_delivery import enqueue
from .conftest import Site

SUBJECT = "【补正通知】您申请的“Food business licence”（BJ-FR）需要补充材料"
ROBOT = "https://robot.example.com/send?access_token=SECRET-TOKEN"


def text(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def notified(site: Site) -> int:
    """BJ-FR: its applicant asked (through the start data) for French, which CaseClock does
    not write; the 补正 notice goes out by e-mail and SMS, in Chinese."""
    case = site.engine.execute(
        StartInstance("case_handling", "BJ-FR", data={"applicant_locale": "fr-FR"}), actor="li"
    ).id
    work(site.engine, case, "Task_receive", "li", RECEIVE)
    return case


def test_a_case_page_lists_its_notices_and_how_their_delivery_stands(site, notified, tmp_path):
    li = site.client("li")
    page = text(li.get(f"/cases/{notified}"))
    section = page[page.index('data-testid="case-notices"') :]
    assert section.count(SUBJECT) == 2  # e-mail and SMS
    assert "ap***@example.com" in section and "139****0000" in section
    assert section.count('data-status="pending"') == 2 and "待发送" in section
    assert "申请人要求的语言 fr-FR 不受支持，已按 zh-CN 发送。" in section
    assert "documents_needed" in section
    # Another case's notices are not this case's.
    assert "BJ-FR" not in text(li.get(f"/cases/{site.case}")).split('data-testid="case-notices"')[1]

    sender = OutboxSender(site.engine, SenderConfig(drop_dir=tmp_path / "drop"))
    assert sender.run_once().sent == 2
    assert len(list(Path(tmp_path / "drop").iterdir())) == 2
    section = text(li.get(f"/cases/{notified}")).split('data-testid="case-notices"')[1]
    assert section.count('data-status="sent"') == 2 and "已发送" in section

    li.get("/lang/en")
    section = text(li.get(f"/cases/{notified}")).split('data-testid="case-notices"')[1]
    assert "<h2>Notices</h2>" in section and section.count(">sent<br>") == 2
    assert "The applicant asked for fr-FR, which CaseClock does not write; sent in zh-CN." in (
        section
    )


def test_the_send_log_lists_every_notice_and_filters_them(site, notified):
    robot = enqueue(site.engine, "webhook", ROBOT, "robot:1", subject="超时提醒", body="BJ-0001")
    admin = site.client("zhao")
    page = text(admin.get("/admin/outbox"))
    assert 'data-admin="outbox"' in page and "发送记录" in page
    assert page.count(SUBJECT) == 2
    assert f'data-notice="{robot}"' in page and "robot.example.com" in page
    assert "SECRET-TOKEN" not in page and EMAIL not in page and MOBILE not in page

    only_sms = text(admin.get("/admin/outbox?channel=sms"))
    assert only_sms.count(SUBJECT) == 1 and "139****0000" in only_sms
    assert f'data-notice="{robot}"' not in only_sms
    # A whole address finds its notices though the list shows it masked.
    by_address = text(admin.get("/admin/outbox", query_string={"q": EMAIL}))
    assert by_address.count(SUBJECT) == 1 and "ap***@example.com" in by_address
    by_case = text(admin.get("/admin/outbox?q=BJ-FR"))
    assert by_case.count(SUBJECT) == 2 and f'data-notice="{robot}"' not in by_case
    # A LIKE wildcard is a character to look for, not a pattern.
    assert text(admin.get("/admin/outbox?q=%25")).count("data-notice=") == 0
    assert text(admin.get("/admin/outbox?status=sent")).count("data-notice=") == 0
    assert text(admin.get("/admin/outbox?status=pending")).count("data-notice=") == 3


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=bogus", "status", "状态筛选应为以下之一：pending, held, sent, dead, dropped。"),
        ("channel=fax", "channel", "渠道筛选应为以下之一：email, sms, webhook, inapp。"),
        ("q=" + "x" * 101, "q", "最多 100 个字符。"),
    ],
)
def test_a_bad_filter_is_refused_at_its_field(site, query, field, message):
    response = site.client("zhao").get(f"/admin/outbox?{query}")
    assert response.status_code == 422
    page = text(response)
    assert f'data-error="{field}"' in page and message in page
    assert 'data-testid="outbox"' not in page


def test_only_admins_read_the_send_log(site, notified):
    assert site.client("li").get("/admin/outbox").status_code == 403
    assert site.client().get("/admin/outbox").status_code == 302  # to the login page
