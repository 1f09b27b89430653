"""Undeliverable notices on ``/admin/incidents``: a real SMTP server (aiosmtpd) that is
down while the sender tries, the admin's retry delivering it once the server is back (in
the test client and in Chromium), a drop that is never sent, and bad requests answered
at the field. Time is the frozen clock, moved past each backoff instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.incidents import FAILING_AFTER
from engine.store import AuditEvent, OutboxMessage
from engine.store.models import AuditPrivate
from timers.sender import OutboxSender, SenderConfig

from ..test_delivery import SmtpServer, enqueue
from .conftest import Site, post
from .test_browser import browser, live, log_in, page  # noqa: F401 (fixtures)

ADDRESS = "张三 <zhangsan@example.gov.cn>"


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    """Not started: nothing listens on its port until a test starts it."""
    smtp = SmtpServer()
    yield smtp
    smtp.stop()


@pytest.fixture
def sender(site: Site, server: SmtpServer) -> OutboxSender:
    config = SenderConfig(smtp_host="127.0.0.1", smtp_port=server.port, timeout=5)
    return OutboxSender(site.engine, config)


@pytest.fixture
def admin(site: Site) -> Any:
    return site.client("zhao")


def undeliverable(site: Site, sender: OutboxSender, key: str) -> int:
    """A notice about BJ-0001 that the sender failed to deliver FAILING_AFTER times."""
    message = enqueue(site.engine, "email", ADDRESS, key, subject="办结通知",
                      body="您的申请已办结。", instance_id=site.case)  # fmt: skip
    for _ in range(FAILING_AFTER):
        assert sender.run_once().failed == 1
        site.engine.clock.advance(timedelta(minutes=5))  # past the backoff (30 s … 2 min)
    return message


def status(site: Site, message: int) -> str:
    return site.engine.read(lambda s: s.get(OutboxMessage, message).status)


def private(site: Site, command: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    def read(session: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        found = session.scalars(select(AuditEvent).where(AuditEvent.command == command))
        return [
            (e.payload | {"chain": e.chain_key, "actor": e.actor},
             session.get(AuditPrivate, (e.chain_key, e.chain_seq)).data)
            for e in found
        ]  # fmt: skip

    return site.engine.read(read)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_the_admin_sees_the_failure_and_a_retry_delivers_it(site, server, sender, admin):
    assert "没有无法送达的通知" in text(admin.get("/admin/incidents"))
    message = undeliverable(site, sender, "concluded:1")
    html = text(admin.get("/admin/incidents"))
    row = html[html.index(f'data-delivery="{message}"') :].split("</tr>")[0]
    assert "BJ-0001" in row and "zh***@example.gov.cn" in row and "办结通知" in row
    assert "电子邮件" in row
    assert f"smtp 127.0.0.1:{server.port}: ConnectionRefusedError" in row
    assert "zhangsan@" not in html  # the full address is not on the page (PIPL)

    response = post(admin, f"/admin/incidents/deliveries/{message}/retry")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/incidents"
    assert "已安排立即重新发送" in text(admin.get("/admin/incidents"))
    server.start()
    assert sender.run_once().sent == 1
    [mail] = server.mailbox.messages
    assert mail["Subject"] == "办结通知" and mail["To"].addresses[0].display_name == "张三"
    assert status(site, message) == "sent"
    assert f'data-delivery="{message}"' not in text(admin.get("/admin/incidents"))
    [(event, erasable)] = private(site, "delivery_retry")
    assert (event["chain"], event["actor"]) == (f"instance:{site.case}", "zhao")
    assert event["message_id"] == message and "ConnectionRefused" in erasable["error"]


def test_a_dropped_notice_is_never_sent(site, server, sender, admin):
    message = undeliverable(site, sender, "concluded:2")
    response = post(admin, f"/admin/incidents/deliveries/{message}/drop", {"note": "申请人已撤回"})
    assert response.status_code == 303
    assert status(site, message) == "dropped"
    server.start()
    assert sender.run_once().sent == 0 and server.mailbox.messages == []
    [(event, erasable)] = private(site, "delivery_drop")
    assert event["message_id"] == message and erasable["note"] == "申请人已撤回"
    # The case's history names the action in the page's language.
    assert "通知放弃" in text(admin.get(f"/cases/{site.case}"))


def test_bad_requests_are_answered_at_the_field(site, server, sender, admin):
    message = undeliverable(site, sender, "concluded:3")
    long_note = post(admin, f"/admin/incidents/deliveries/{message}/drop", {"note": "x" * 501})
    assert long_note.status_code == 422
    assert f'data-error="delivery-{message}.note"' in text(long_note)
    assert status(site, message) == "pending"

    assert post(admin, f"/admin/incidents/deliveries/{message}/drop").status_code == 303
    again = post(admin, f"/admin/incidents/deliveries/{message}/retry")  # its row is gone
    assert again.status_code == 303
    assert "不是发送失败的通知" in text(admin.get(again.headers["Location"]))
    unknown = post(admin, "/admin/incidents/deliveries/999999/drop")
    assert unknown.status_code == 404 and "没有待发通知 999999" in text(unknown)
    assert len(private(site, "delivery_drop")) == 1 and private(site, "delivery_retry") == []


def test_the_english_page(site, sender, admin):
    undeliverable(site, sender, "concluded:4")
    admin.get("/lang/en")
    html = text(admin.get("/admin/incidents"))
    assert "Notices that could not be delivered" in html and "Send again now" in html
    assert f"failed {FAILING_AFTER} times or more" in html


def test_the_admin_retries_in_the_browser(site, server, sender, live, page):  # noqa: F811
    message = undeliverable(site, sender, "concluded:5")
    log_in(page, live, "zhao")
    page.goto(f"{live}/admin/incidents")
    row = page.locator(f'tr[data-delivery="{message}"]')
    expect(row).to_contain_text("ConnectionRefusedError")
    expect(row).to_contain_text("zh***@example.gov.cn")
    page.click(f'[data-testid="resend-{message}"]')
    expect(page.locator(".flash.info")).to_contain_text("已安排立即重新发送")
    server.start()
    assert sender.run_once().sent == 1 and len(server.mailbox.messages) == 1
    page.reload()
    expect(page.locator(f'tr[data-delivery="{message}"]')).to_have_count(0)
