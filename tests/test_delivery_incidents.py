"""Undeliverable notices as incidents, with a real SMTP server (aiosmtpd) that is down
while the worker tries: listed with the connection error, sent again by an admin once
the server is back, or dropped and never sent. Time is the frozen clock, moved past
each backoff instead of sleeping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.app import CaseClock
from engine.audit_verify import verify
from engine.delivery import AcquireOutbox
from engine.due_timers import RecordTimerFailure
from engine.erasure import EraseCase
from engine.errors import Conflict, NotFound
from engine.incidents import (
    FAILING_AFTER,
    DropDelivery,
    RetryDelivery,
    masked_recipient,
    undeliverable,
)
from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.store import AuditEvent, Timer
from engine.store.models import AuditPrivate
from timers.sender import OutboxSender, SenderConfig
from timers.worker import Worker

from .conftest import SHIPPED, deploy
from .helpers import open_tasks
from .test_delivery import SmtpServer, enqueue, row, text
from .test_deploy import deploy_bytes
from .test_sla import sla_process

MAX_ATTEMPTS = 4


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    """Not started: nothing listens on its port until a test starts it."""
    smtp = SmtpServer()
    yield smtp
    smtp.stop()


@pytest.fixture
def worker(org_app: CaseClock, server: SmtpServer) -> Worker:
    config = SenderConfig(smtp_host="127.0.0.1", smtp_port=server.port, timeout=5)
    sender = OutboxSender(org_app, config, max_attempts=MAX_ATTEMPTS)
    return Worker(org_app, sender=sender)


@pytest.fixture
def case(org_app: CaseClock) -> int:
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    return org_app.execute(StartInstance("case_handling", "BJ-77"), actor="zhao").id


def notice(app: CaseClock, key: str, instance_id: int | None = None) -> int:
    return enqueue(app, "email", "张三 <zhangsan@example.gov.cn>", key, subject="办结通知",
                   body="您的申请已办结。", instance_id=instance_id)  # fmt: skip


def fail(app: CaseClock, worker: Worker, times: int, messages: int = 1) -> None:
    """Let the worker try (and fail) ``times`` more times, each after its backoff."""
    for _ in range(times):
        assert worker.run_once().send_failed == messages
        app.clock.advance(timedelta(hours=1))  # past any backoff (capped at 1 h)


def events(app: CaseClock, command: str) -> list[tuple[AuditEvent, dict[str, Any]]]:
    """The command's events, each with its erasable part."""

    def read(session: Any) -> list[tuple[AuditEvent, dict[str, Any]]]:
        found = session.scalars(
            select(AuditEvent).where(AuditEvent.command == command).order_by(AuditEvent.id)
        ).all()
        return [(e, session.get(AuditPrivate, (e.chain_key, e.chain_seq)).data) for e in found]

    return app.read(read)


def test_a_down_smtp_server_makes_an_incident_that_a_retry_delivers(
    org_app, clock, server, worker, case
):
    message = notice(org_app, "concluded:77", case)
    fail(org_app, worker, FAILING_AFTER - 1)
    assert org_app.read(undeliverable) == []  # still being retried: not an incident yet
    fail(org_app, worker, 1)
    [listed] = org_app.read(undeliverable)
    assert (listed["id"], listed["status"], listed["attempts"]) == (message, "pending", 3)
    assert listed["recipient"] == "zh***@example.gov.cn"  # masked (PIPL)
    assert (listed["instance_id"], listed["business_key"]) == (case, "BJ-77")
    assert listed["subject"] == "办结通知" and listed["retry_at"] is not None
    assert listed["last_error"].startswith(f"smtp 127.0.0.1:{server.port}: ConnectionRefused")

    fail(org_app, worker, MAX_ATTEMPTS - FAILING_AFTER)
    [listed] = org_app.read(undeliverable)
    assert (listed["status"], listed["attempts"], listed["retry_at"]) == ("dead", 4, None)
    assert worker.run_once().send_failed == 0  # dead: the worker leaves it alone

    server.start()
    org_app.execute(RetryDelivery(message), actor="zhao")
    retried = row(org_app, message)
    assert (retried.status, retried.attempts) == ("pending", MAX_ATTEMPTS)  # the count is kept
    assert retried.next_attempt_at == clock.now()
    assert worker.run_once().sent == 1
    [mail] = server.mailbox.messages
    assert mail["To"].addresses[0].addr_spec == "zhangsan@example.gov.cn"
    assert (mail["Subject"], text(mail)) == ("办结通知", "您的申请已办结。\n")
    assert row(org_app, message).status == "sent"
    assert org_app.read(undeliverable) == []

    [(event, private)] = events(org_app, "delivery_retry")
    assert (event.chain_key, event.instance_id, event.actor) == (f"instance:{case}", case, "zhao")
    assert event.payload == {
        "message_id": message, "channel": "email", "attempts": MAX_ATTEMPTS, "status": "dead",
        "private_sha256": event.payload["private_sha256"],
    }  # fmt: skip
    assert private["error"].startswith("smtp 127.0.0.1")  # may name an address: erasable
    assert org_app.read(verify) == []  # the case's chain is intact


def test_a_retried_message_that_fails_again_is_dead_again_with_the_new_error(
    org_app, server, worker
):
    message = notice(org_app, "concluded:78")
    fail(org_app, worker, MAX_ATTEMPTS)
    org_app.execute(RetryDelivery(message), actor="zhao")
    fail(org_app, worker, 1)  # one more try, still down
    dead = row(org_app, message)
    assert (dead.status, dead.attempts) == ("dead", MAX_ATTEMPTS + 1)
    assert [m["id"] for m in org_app.read(undeliverable)] == [message]


def test_a_dropped_message_is_never_sent_and_the_drop_is_audited(org_app, server, worker):
    message = notice(org_app, "chase:5")  # no case: the org chain
    fail(org_app, worker, FAILING_AFTER)
    org_app.execute(DropDelivery(message, "  收件人已调离  "), actor="zhao")
    assert row(org_app, message).status == "dropped"
    assert org_app.read(undeliverable) == []

    server.start()
    assert worker.run_once().sent == 0
    assert server.mailbox.messages == []
    [(event, private)] = events(org_app, "delivery_drop")
    assert (event.chain_key, event.instance_id) == ("org", None)
    assert event.payload["status"] == "pending" and event.payload["attempts"] == FAILING_AFTER
    assert private["note"] == "收件人已调离" and "ConnectionRefused" in private["error"]
    assert org_app.read(verify) == []
    with pytest.raises(Conflict, match="not an undeliverable one"):
        org_app.execute(DropDelivery(message), actor="zhao")
    with pytest.raises(Conflict):
        org_app.execute(RetryDelivery(message), actor="zhao")
    assert len(events(org_app, "delivery_drop")) == 1


def test_only_undeliverable_messages_are_retried_or_dropped(org_app, clock, server, worker):
    once = notice(org_app, "once")
    fail(org_app, worker, 1)
    with pytest.raises(Conflict, match=r"status pending, 1 failed attempt"):
        org_app.execute(RetryDelivery(once), actor="zhao")
    with pytest.raises(NotFound, match="no outbox message 999999"):
        org_app.execute(DropDelivery(999999), actor="zhao")

    server.start()
    sent = notice(org_app, "sent")
    worker.run_once()
    assert row(org_app, sent).status == "sent"
    with pytest.raises(Conflict):
        org_app.execute(RetryDelivery(sent), actor="zhao")
    assert events(org_app, "delivery_retry") == []


def test_a_message_a_sender_is_trying_right_now_is_left_to_it(org_app, clock, server, worker):
    message = notice(org_app, "busy")
    fail(org_app, worker, FAILING_AFTER)
    [leased] = org_app.execute(AcquireOutbox("other-sender"))
    assert leased.id == message
    with pytest.raises(Conflict, match="being sent right now"):
        org_app.execute(DropDelivery(message), actor="zhao")
    clock.advance(timedelta(minutes=3))  # that sender died: its lease has expired
    org_app.execute(DropDelivery(message), actor="zhao")
    assert row(org_app, message).status == "dropped"


def test_an_erased_case_s_notices_are_no_incident(org_app, clock, server, worker):
    deploy_bytes(org_app, sla_process(warnings=""))
    case = org_app.execute(StartInstance("sla", "BJ-E")).id
    task = open_tasks(org_app, case)["t"]["id"]
    org_app.execute(ClaimTask(task, "yang"))
    org_app.execute(CompleteTask(task, "yang", {}))
    message = notice(org_app, "erased:1", case)
    for _ in range(FAILING_AFTER):
        worker.run_once()
        clock.advance(timedelta(hours=1))
    assert message in [m["id"] for m in org_app.read(undeliverable)]
    org_app.execute(EraseCase(case), actor="zhao")
    assert row(org_app, message).status == "dead"
    assert message not in [m["id"] for m in org_app.read(undeliverable)]
    with pytest.raises(Conflict):
        org_app.execute(RetryDelivery(message), actor="zhao")


@pytest.mark.parametrize(
    ("channel", "recipient", "shown"),
    [
        ("email", "张三 <zhangsan@example.gov.cn>", "zh***@example.gov.cn"),
        ("email", "li@example.gov.cn", "li***@example.gov.cn"),
        ("email", "not an address", "***"),
        ("sms", "13800000009", "138****0009"),
        ("sms", "110", "****"),
        ("webhook", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET",
         "qyapi.weixin.qq.com"),
        ("webhook", "钉钉值班群", "钉钉值班群"),
        ("inapp", "yang", "yang"),
    ],
)  # fmt: skip
def test_recipients_are_masked_in_the_list(channel, recipient, shown):
    assert masked_recipient(channel, recipient) == shown


def test_the_cli_lists_retries_and_drops(org_app, server, worker, cli):
    retried, dropped = notice(org_app, "cli:1"), notice(org_app, "cli:2")
    fail(org_app, worker, FAILING_AFTER, messages=2)
    out = cli("incidents", "list").stdout
    assert "undeliverable notices:" in out and "zh***@example.gov.cn" in out
    assert "zhangsan" not in out and "ConnectionRefused" in out
    listed = json.loads(cli("--json", "incidents", "list").stdout)
    assert listed["timers"] == [] and [m["id"] for m in listed["deliveries"]] == [retried, dropped]

    out = cli("incidents", "retry-delivery", str(retried), "--user", "zhao").stdout
    assert out == f"notice {retried} is due to be sent again now\n"
    assert row(org_app, retried).status == "pending"
    out = cli("incidents", "drop-delivery", str(dropped), "--note", "号码停用").stdout
    assert out == f"notice {dropped} dropped\n"
    assert row(org_app, dropped).status == "dropped"
    [(event, private)] = events(org_app, "delivery_drop")
    assert (event.actor, private["note"]) == ("cli", "号码停用")

    refused = cli("incidents", "drop-delivery", str(dropped), ok=False)
    assert refused.stderr.startswith(f"error: outbox message {dropped} is not an undeliverable")
    unknown = cli("incidents", "retry-delivery", "999999", ok=False)
    assert unknown.stderr == "error: no outbox message 999999\n"
    assert len(events(org_app, "delivery_drop")) == 1


def test_the_cli_retries_and_skips_failed_timers(org_app, case, cli):
    timer = org_app.read(lambda s: s.scalars(select(Timer.id).where(Timer.instance_id == case)
                                             .order_by(Timer.id)).first())  # fmt: skip
    org_app.execute(RecordTimerFailure(timer, "RuntimeError: gateway unreachable"))
    listed = json.loads(cli("--json", "incidents", "list").stdout)
    assert [t["id"] for t in listed["timers"]] == [timer]
    assert cli("incidents", "retry-timer", str(timer)).stdout == f"timer {timer} is due now\n"
    assert cli("incidents", "skip-timer", str(timer), "--note", "x").stdout == (
        f"timer {timer} skipped\n"
    )
    assert "not a failed waiting timer" in cli("incidents", "skip-timer", str(timer),
                                               ok=False).stderr  # fmt: skip
