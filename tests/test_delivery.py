"""Sending the outbox to real servers: an aiosmtpd SMTP server and a local HTTP receiver.

No mocks: the sender talks SMTP and HTTP over 127.0.0.1 sockets. Time is the frozen
test clock, so backoff and lease expiry are tested by moving it.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import outbox
from engine.app import CaseClock
from engine.delivery import AcquireOutbox, LeasedMessage, MarkFailed, MarkSent
from engine.org import ImportOrg
from engine.runtime import ClaimTask, StartInstance
from engine.store import OutboxMessage
from timers.sender import OutboxSender, SenderConfig, SendResult, message_id
from timers.worker import Worker

from .helpers import open_tasks
from .test_deploy import deploy_bytes
from .test_sla import at, sla_process

# --- real servers --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.peers: list[tuple[str, int]] = []  # the client's address: one per connection

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.peers.append(session.peer)
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """What the HTTP receiver saw, and how it answers the next requests."""

    requests: list[Received] = field(default_factory=list)
    status: int = 200
    reply: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    url: str = ""

    def keys(self) -> list[str]:
        return [r.headers["Idempotency-Key"] for r in self.requests]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(
                Received(self.path, dict(self.headers.items()), json.loads(raw.decode("utf-8")))
            )
            answer = json.dumps(state.reply).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def config(smtp: SmtpServer, receiver: Receiver) -> SenderConfig:
    return SenderConfig(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="caseclock@example.gov.cn",
        smtp_password="do-not-log-me",
        timeout=5,
        sms_webhook_url=f"{receiver.url}/sms",
    )


# --- helpers -------------------------------------------------------------------------


def enqueue(app: CaseClock, channel: str, recipient: str, key: str, **kwargs: Any) -> int:
    fields = {"subject": "", "body": ""} | kwargs
    return app.execute(
        lambda ctx: outbox.enqueue(
            ctx, channel=channel, recipient=recipient, idempotency_key=key, **fields
        )
    )


def text(mail: EmailMessage) -> str:
    """The decoded body, with SMTP's CRLF line ends back to Python's."""
    return mail.get_content().replace("\r\n", "\n")


def row(app: CaseClock, message_id: int) -> OutboxMessage:
    found = app.read(lambda s: s.get(OutboxMessage, message_id))
    assert found is not None
    return found


def all_rows(app: CaseClock) -> list[OutboxMessage]:
    return list(
        app.read(lambda s: s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all())
    )


# --- scenarios -----------------------------------------------------------------------


def test_every_channel_is_delivered_once_with_its_idempotency_key(
    app, clock, smtp, receiver, config
):
    subject = "预警：行政许可申请即将到期"
    body = "案件 BJ-2026-017 将于 2026年3月5日 17:30 到期。\n请尽快办理。"
    enqueue(app, "email", "张三 <zhangsan@example.gov.cn>", "warn:17:1",
            subject=subject, body=body)  # fmt: skip
    enqueue(app, "webhook", f"{receiver.url}/wecom?key=SECRET", "warn:17:wecom",
            subject="预警", body="案件即将到期", payload={"format": "wecom"})  # fmt: skip
    enqueue(app, "webhook", "钉钉值班群", "warn:17:dingtalk", subject="超期", body="已超期",
            payload={"format": "dingtalk", "url": f"{receiver.url}/dingtalk?access_token=T",
                     "at_mobiles": ["13800000000"]})  # fmt: skip
    enqueue(app, "sms", "13800000000", "warn:17:sms", subject="预警", body="您有案件即将到期")
    inapp = enqueue(app, "inapp", "zhangsan", "warn:17:inapp", subject="预警", body="即将到期")

    assert OutboxSender(app, config).run_once() == SendResult(sent=5, failed=0)

    [mail] = smtp.mailbox.messages
    assert mail["Subject"] == subject
    assert mail["To"].addresses[0].display_name == "张三"
    assert text(mail) == body + "\n"
    assert mail["Message-ID"] == message_id("warn:17:1")
    assert mail["X-CaseClock-Idempotency-Key"] == "warn:17:1"
    assert mail["From"] == "caseclock@example.gov.cn"
    assert mail["Content-Transfer-Encoding"] == "base64"  # no undeclared 8-bit data

    by_path = {r.path.split("?")[0]: r for r in receiver.requests}
    assert set(by_path) == {"/wecom", "/dingtalk", "/sms"}
    assert by_path["/wecom"].body == {
        "msgtype": "text", "text": {"content": "预警\n案件即将到期"},
    }  # fmt: skip
    assert by_path["/dingtalk"].body == {
        "msgtype": "text", "text": {"content": "超期\n已超期"},
        "at": {"atMobiles": ["13800000000"], "isAtAll": False},
    }  # fmt: skip
    assert by_path["/sms"].body == {"to": "13800000000", "text": "您有案件即将到期"}
    assert sorted(receiver.keys()) == ["warn:17:dingtalk", "warn:17:sms", "warn:17:wecom"]
    for request in receiver.requests:
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"

    rows = all_rows(app)
    assert {(r.status, r.attempts, r.lease_owner) for r in rows} == {("sent", 0, None)}
    assert all(r.sent_at == clock.now() for r in rows)
    assert row(app, inapp).status == "sent"

    assert OutboxSender(app, config).run_once() == SendResult(sent=0, failed=0)
    assert len(smtp.mailbox.messages) == 1 and len(receiver.requests) == 3


def test_a_refused_webhook_backs_off_then_succeeds(app, clock, receiver, config):
    message = enqueue(app, "webhook", f"{receiver.url}/hook", "chase:3", subject="催办",
                      body="请办理", payload={"data": {"task": 3}})  # fmt: skip
    sender = OutboxSender(app, config)
    receiver.status = 500
    assert sender.run_once() == SendResult(sent=0, failed=1)
    failed = row(app, message)
    assert (failed.status, failed.attempts, failed.lease_owner) == ("pending", 1, None)
    assert failed.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert failed.last_error.startswith(f"HTTP 500 from {receiver.url}/hook")

    receiver.status = 200
    clock.advance(timedelta(seconds=29))
    assert sender.run_once() == SendResult(sent=0, failed=0)
    assert len(receiver.requests) == 1
    clock.advance(timedelta(seconds=2))
    assert sender.run_once() == SendResult(sent=1, failed=0)
    assert row(app, message).status == "sent"
    assert receiver.keys() == ["chase:3", "chase:3"]  # the refused try, then the accepted
    assert receiver.requests[-1].body == {
        "idempotency_key": "chase:3", "recipient": f"{receiver.url}/hook", "subject": "催办",
        "body": "请办理", "instance_id": None, "data": {"task": 3},
    }  # fmt: skip


def test_a_robot_refusal_in_a_200_reply_is_a_failure_without_leaking_the_key(app, receiver, config):
    message = enqueue(app, "webhook", f"{receiver.url}/wecom?key=SECRET", "w:1",
                      body="x", payload={"format": "wecom"})  # fmt: skip
    receiver.reply = {"errcode": 93000, "errmsg": "invalid webhook url"}
    assert OutboxSender(app, config).run_once() == SendResult(sent=0, failed=1)
    error = row(app, message).last_error
    assert "errcode 93000: invalid webhook url" in error
    assert "SECRET" not in error


def test_smtp_down_is_recorded_then_delivered_when_it_is_back(app, clock, receiver):
    server = SmtpServer()  # not started yet: nothing listens on its port
    config = SenderConfig(smtp_host="127.0.0.1", smtp_port=server.port, timeout=5,
                          smtp_user="", smtp_password="do-not-log-me")  # fmt: skip
    message = enqueue(app, "email", "li@example.gov.cn", "concluded:9", subject="办结通知",
                      body="您的申请已办结。")  # fmt: skip
    sender = OutboxSender(app, config)
    assert sender.run_once() == SendResult(sent=0, failed=1)
    failed = row(app, message)
    assert failed.attempts == 1
    assert failed.last_error.startswith(f"smtp 127.0.0.1:{server.port}: ConnectionRefusedError")
    assert "do-not-log-me" not in failed.last_error

    server.start()
    try:
        clock.advance(timedelta(seconds=31))
        assert sender.run_once() == SendResult(sent=1, failed=0)
        [mail] = server.mailbox.messages
        assert (mail["Subject"], text(mail)) == ("办结通知", "您的申请已办结。\n")
    finally:
        server.stop()
    assert row(app, message).status == "sent"


def test_a_crash_after_delivery_redelivers_with_the_same_key(app, clock, smtp, receiver, config):
    """At-least-once: the receiver sees two deliveries and one distinct key to dedupe by."""
    mail_id = enqueue(app, "email", "li@example.gov.cn", "warn:5", subject="预警", body="到期")
    hook_id = enqueue(app, "webhook", f"{receiver.url}/hook", "warn:5:hook", body="到期")
    crashed = OutboxSender(app, config, owner="crashed")
    for message in app.execute(AcquireOutbox("crashed")):
        crashed.deliver(message)  # accepted by the receivers ... then the process dies

    survivor = OutboxSender(app, config, owner="survivor")
    assert survivor.run_once() == SendResult(sent=0, failed=0)  # still leased
    clock.advance(timedelta(minutes=2, seconds=1))
    assert survivor.run_once() == SendResult(sent=2, failed=0)

    assert [m["Message-ID"] for m in smtp.mailbox.messages] == [message_id("warn:5")] * 2
    assert {m["X-CaseClock-Idempotency-Key"] for m in smtp.mailbox.messages} == {"warn:5"}
    assert receiver.keys() == ["warn:5:hook", "warn:5:hook"]
    # The crashed sender coming back cannot overwrite the survivor's outcome.
    assert app.execute(MarkSent(mail_id, "crashed")) is False
    assert app.execute(MarkFailed(hook_id, "crashed", "late")) is None
    assert {(r.status, r.last_error) for r in all_rows(app)} == {("sent", None)}


def test_one_pass_sends_its_e_mails_over_one_connection(app, smtp, config):
    for n in range(3):
        enqueue(app, "email", f"p{n}@example.gov.cn", f"digest:{n}", subject="汇总", body="…")
    assert OutboxSender(app, config).run_once() == SendResult(sent=3, failed=0)
    assert len(set(smtp.mailbox.peers)) == 1
    assert [m["To"] for m in smtp.mailbox.messages] == [f"p{n}@example.gov.cn" for n in range(3)]


def test_mark_sent_is_idempotent_and_owner_checked(app):
    message = enqueue(app, "inapp", "li", "k")
    app.execute(AcquireOutbox("a"))
    assert app.execute(MarkSent(message, "b")) is False
    assert app.execute(MarkSent(message, "a")) is True
    sent_at = row(app, message).sent_at
    assert app.execute(MarkSent(message, "a")) is False
    assert row(app, message).sent_at == sent_at


def test_two_owners_acquire_disjoint_batches(app, clock):
    ids = [enqueue(app, "inapp", "li", f"k{n}") for n in range(10)]
    first = app.execute(AcquireOutbox("a", limit=4))
    second = app.execute(AcquireOutbox("b", limit=50))
    assert [m.id for m in first] == ids[:4]
    assert [m.id for m in second] == ids[4:]
    assert app.execute(AcquireOutbox("c")) == []
    clock.advance(timedelta(minutes=3))  # both leases expired: taken over, oldest first
    assert [m.id for m in app.execute(AcquireOutbox("c", limit=3))] == ids[:3]


def test_an_acquirer_skips_rows_locked_by_an_open_acquisition(app, database_url):
    """PostgreSQL: the second acquisition returns at once, skipping the locked rows.
    SQLite: it waits for the single write lock, then sees the first lease."""
    ids = [enqueue(app, "inapp", "li", f"k{n}") for n in range(6)]
    acquired, release = threading.Event(), threading.Event()
    batches: dict[str, list[int]] = {}

    def hold(ctx: Any) -> None:
        batches["a"] = [m.id for m in AcquireOutbox("a", limit=3)(ctx)]
        acquired.set()
        release.wait(10)

    def take() -> None:
        batches["b"] = [m.id for m in app.execute(AcquireOutbox("b", limit=50))]

    holder = threading.Thread(target=app.execute, args=(hold,))
    holder.start()
    assert acquired.wait(10)
    taker = threading.Thread(target=take)
    taker.start()
    if database_url.startswith("postgresql"):
        taker.join(5)
        assert not taker.is_alive(), "SKIP LOCKED must not wait for the other transaction"
    else:
        taker.join(0.2)
        assert taker.is_alive(), "BEGIN IMMEDIATE serialises SQLite writers"
    release.set()
    holder.join(10)
    taker.join(10)
    assert batches["a"] == ids[:3]
    assert batches["b"] == ids[3:]


def test_concurrent_senders_deliver_everything_exactly_once_in_the_happy_path(
    app, receiver, config
):
    for n in range(40):
        enqueue(app, "webhook", f"{receiver.url}/hook", f"bulk:{n}", body=str(n))
    results: list[SendResult] = []
    go = threading.Barrier(2)

    def run(owner: str) -> None:
        sender = OutboxSender(app, config, owner=owner, batch=5)
        go.wait(10)
        results.append(sender.run_once())

    threads = [threading.Thread(target=run, args=(f"s{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in results) == 40 and sum(r.failed for r in results) == 0
    assert sorted(receiver.keys()) == sorted(f"bulk:{n}" for n in range(40))
    assert {r.status for r in all_rows(app)} == {"sent"}


def test_backoff_doubles_up_to_an_hour_then_the_message_is_dead(app, clock):
    message = enqueue(app, "inapp", "li", "k")
    delays = []
    for _ in range(10):
        [leased] = app.execute(AcquireOutbox("a"))
        status = app.execute(MarkFailed(leased.id, "a", "boom", max_attempts=10))
        failed = row(app, message)
        delays.append((failed.next_attempt_at - clock.now()).total_seconds())
        clock.advance(timedelta(hours=1))
    assert status == "dead"
    assert delays[:-1] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert (failed.status, failed.attempts, failed.last_error) == ("dead", 10, "boom")
    assert app.execute(AcquireOutbox("a")) == []


def test_a_message_failing_max_attempts_times_is_dead_and_left_alone(app, clock, receiver, config):
    message = enqueue(app, "webhook", f"{receiver.url}/hook", "k", body="x")
    receiver.status = 503
    sender = OutboxSender(app, config, max_attempts=3)
    for _ in range(3):
        assert sender.run_once() == SendResult(sent=0, failed=1)
        clock.advance(timedelta(hours=1))
    assert row(app, message).status == "dead"
    receiver.status = 200
    assert sender.run_once() == SendResult(sent=0, failed=0)
    assert len(receiver.requests) == 3


def test_misconfigured_channels_fail_with_a_clear_error(app):
    sms = enqueue(app, "sms", "13800000000", "s", body="x")
    mail = enqueue(app, "email", "li@example.gov.cn", "e", body="x")
    local = enqueue(app, "webhook", "file:///etc/passwd", "f", body="x")
    odd = enqueue(app, "webhook", "http://127.0.0.1:9/", "o", body="x", payload={"format": "qq"})
    assert OutboxSender(app, SenderConfig()).run_once() == SendResult(sent=0, failed=4)
    assert row(app, sms).last_error == "SMS not configured: CASECLOCK_SMS_WEBHOOK_URL is not set"
    assert row(app, mail).last_error == "e-mail not configured: CASECLOCK_SMTP_HOST is not set"
    assert row(app, local).last_error == "webhook URL must be http(s), got 'file:///etc/passwd'"
    assert row(app, odd).last_error.startswith("unknown webhook format 'qq'")


def test_without_servers_e_mail_and_sms_are_written_to_the_drop_directory(app, tmp_path, receiver):
    """The demo's way to read its notices: each e-mail an .eml file a mail program opens,
    each SMS a JSON file; a redelivery rewrites the same file; webhooks still post."""
    drop = tmp_path / "outbox"
    mail = enqueue(app, "email", "李窗口 <li@example.gov.cn>", "warn-1", subject="【预警】审核",
                   body="请及时办理。")  # fmt: skip
    sms = enqueue(app, "sms", "13800000000", "warn-1:sms", body="【超期】审核")
    hook = enqueue(app, "webhook", receiver.url, "robot", body="x")
    sender = OutboxSender(app, SenderConfig(drop_dir=drop))
    assert sender.run_once() == SendResult(sent=3, failed=0)
    eml, text_message = drop / f"{mail:010d}-email.eml", drop / f"{sms:010d}-sms.json"
    assert sorted(p.name for p in drop.iterdir()) == sorted([eml.name, text_message.name])
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert (parsed["To"], parsed["Subject"]) == ("李窗口 <li@example.gov.cn>", "【预警】审核")
    assert parsed["Message-ID"] == message_id("warn-1") and text(parsed) == "请及时办理。\n"
    assert json.loads(text_message.read_text(encoding="utf-8")) == {
        "to": "13800000000", "text": "【超期】审核", "idempotency_key": "warn-1:sms",
    }  # fmt: skip
    assert [r.status for r in all_rows(app)] == ["sent"] * 3 and len(receiver.requests) == 1
    assert row(app, hook).status == "sent"

    eml.write_bytes(b"stale")
    leased = app.execute(AcquireOutbox("again", 10, timedelta(minutes=5)))
    assert leased == []  # sent is sent; a lost outcome would bring the same row back:
    OutboxSender(app, SenderConfig(drop_dir=drop)).deliver(_as_leased(app, mail))
    assert email.message_from_bytes(eml.read_bytes())["Message-ID"] == message_id("warn-1")
    assert SenderConfig.from_env({"CASECLOCK_DROP_DIR": str(drop)}).drop_dir == drop


def test_a_configured_server_wins_over_the_drop_directory(app, tmp_path, smtp, config):
    enqueue(app, "email", "li@example.gov.cn", "k", subject="s", body="b")
    sender = OutboxSender(app, replace(config, drop_dir=tmp_path / "outbox"))
    assert sender.run_once() == SendResult(sent=1, failed=0)
    assert len(smtp.mailbox.messages) == 1 and not (tmp_path / "outbox").exists()


def _as_leased(app: CaseClock, message_id_: int) -> LeasedMessage:
    found = row(app, message_id_)
    return LeasedMessage(found.id, found.channel, found.recipient, found.subject, found.body,
                         found.payload, found.idempotency_key, found.instance_id, found.attempts,
                         "test", app.clock.now() + timedelta(minutes=5))  # fmt: skip


def test_config_from_environment_hides_secrets():
    config = SenderConfig.from_env({
        "CASECLOCK_SMTP_HOST": "smtp.example.gov.cn", "CASECLOCK_SMTP_PORT": "587",
        "CASECLOCK_SMTP_USER": "caseclock", "CASECLOCK_SMTP_PASSWORD": "s3cret",
        "CASECLOCK_SMTP_FROM": "CaseClock <noreply@example.gov.cn>",
        "CASECLOCK_SMTP_STARTTLS": "true", "CASECLOCK_SEND_TIMEOUT": "3.5",
        "CASECLOCK_SMS_WEBHOOK_URL": "https://sms.example/send?token=T",
    })  # fmt: skip
    assert (config.smtp_host, config.smtp_port, config.smtp_starttls, config.smtp_ssl) == (
        "smtp.example.gov.cn", 587, True, False,
    )  # fmt: skip
    assert (config.smtp_user, config.smtp_password, config.timeout) == ("caseclock", "s3cret", 3.5)
    assert "s3cret" not in repr(config) and "token=T" not in repr(config)
    assert SenderConfig.from_env({}) == SenderConfig()


def test_a_breach_reaches_the_assignee_by_e_mail_through_the_worker(org_app, clock, smtp, config):
    """End to end: a 3-working-day limit from Wed 30 Sep 2026 runs over National Day and
    the 调休 Saturday; the worker fires the deadline and the real SMTP server gets the
    notice in Chinese, once."""
    clock.set(at("2026-09-30T10:00"))
    deploy_bytes(org_app, sla_process(warnings=""))
    instance = org_app.execute(StartInstance("sla", "BJ-E")).id
    org_app.execute(ClaimTask(open_tasks(org_app, instance)["t"]["id"], "yang"))
    worker = Worker(org_app, sender=OutboxSender(org_app, config))
    clock.set(at("2026-10-10T17:29"))
    assert (worker.run_once().fired, smtp.mailbox.messages) == (0, [])
    clock.set(at("2026-10-10T17:31"))
    result = worker.run_once()
    assert (result.fired, result.sent) == (1, 2)  # the e-mail and the in-app notice
    [mail] = smtp.mailbox.messages
    assert mail["To"] == "yang@example.gov.cn"
    assert mail["Subject"] == "【超期】审核（BJ-E）已于 2026-10-10 17:30 超期"
    assert "杨审核" in text(mail)
    assert worker.run_once().sent == 0


def test_a_breach_also_reaches_the_phone_and_the_department_robot(
    org_app, clock, smtp, receiver, config
):
    org_app.execute(ImportOrg({
        "departments": [{"key": "review", "webhook": {"url": f"{receiver.url}/robot",
                                                      "format": "wecom"}}],
        "people": [{"key": "yang", "phone": "13800000009"}], "groups": [],
    }))  # fmt: skip
    clock.set(at("2026-09-30T10:00"))
    deploy_bytes(org_app, sla_process(warnings=""))
    instance = org_app.execute(StartInstance("sla", "BJ-R")).id
    org_app.execute(ClaimTask(open_tasks(org_app, instance)["t"]["id"], "yang"))
    clock.set(at("2026-10-10T17:31"))
    result = Worker(org_app, sender=OutboxSender(org_app, config)).run_once()
    assert (result.fired, result.sent, result.send_failed) == (1, 4, 0)
    by_path = {r.path: r for r in receiver.requests}
    assert by_path["/sms"].body["to"] == "13800000009"
    robot = by_path["/robot"].body
    assert robot["msgtype"] == "text" and "已超过办理时限" in robot["text"]["content"]
    assert len(smtp.mailbox.messages) == 1
