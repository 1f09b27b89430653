"""Sending the outbox: the only place where notifications leave CaseClock.

:class:`OutboxSender` leases a batch (:class:`engine.delivery.AcquireOutbox`), delivers
each message with no transaction open, then records the outcome in a command of its
own. A crash between "the receiver accepted it" and "marked sent" lets the lease expire
and the message is delivered again, with the same idempotency key: delivery is
at-least-once, and every delivery carries the key so receivers can drop the duplicate
(e-mail ``Message-ID`` and ``X-CaseClock-Idempotency-Key``; HTTP ``Idempotency-Key``).

Standard library only (``smtplib``, ``urllib.request``), so the run-time dependencies do
not grow. Configuration comes from the environment (:meth:`SenderConfig.from_env`);
see docs/notifications.md. Secrets (the SMTP password, webhook tokens in URLs) never
reach a log line or ``last_error``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine.app import CaseClock
from engine.delivery import (
    DEFAULT_LEASE,
    DEFAULT_MAX_ATTEMPTS,
    AcquireOutbox,
    LeasedMessage,
    MarkFailed,
    MarkSent,
)

log = logging.getLogger(__name__)

BATCH = 50
FORMATS = ("plain", "wecom", "wecom-markdown", "dingtalk", "dingtalk-markdown")
USER_AGENT = "CaseClock-outbox/1"
_TRUE = {"1", "true", "yes", "on"}


class DeliveryError(Exception):
    """A delivery that did not succeed; its text becomes the message's ``last_error``."""


class PermanentDeliveryError(DeliveryError):
    """A delivery that can never succeed as the message stands (its recipient is not an
    address): retrying it only delays the dead letter, so it is dead at once."""


@dataclass(frozen=True)
class SenderConfig:
    smtp_host: str | None = None
    smtp_port: int | None = None  # None: 465 with SSL, else 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "caseclock@localhost"
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    timeout: float = 10.0
    sms_webhook_url: str | None = field(default=None, repr=False)  # may embed a token
    sms_webhook_token: str | None = field(default=None, repr=False)
    # E-mail and SMS with no server configured are written here as files (a pickup
    # directory, as mail servers have): the demo's notices can be read without one.
    drop_dir: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SenderConfig:
        env = os.environ if env is None else env

        def flag(name: str) -> bool:
            return env.get(name, "").strip().lower() in _TRUE

        port = env.get("CASECLOCK_SMTP_PORT")
        return cls(
            smtp_host=env.get("CASECLOCK_SMTP_HOST") or None,
            smtp_port=int(port) if port else None,
            smtp_user=env.get("CASECLOCK_SMTP_USER") or None,
            smtp_password=env.get("CASECLOCK_SMTP_PASSWORD") or None,
            smtp_from=env.get("CASECLOCK_SMTP_FROM") or cls.smtp_from,
            smtp_starttls=flag("CASECLOCK_SMTP_STARTTLS"),
            smtp_ssl=flag("CASECLOCK_SMTP_SSL"),
            timeout=float(env.get("CASECLOCK_SEND_TIMEOUT") or cls.timeout),
            sms_webhook_url=env.get("CASECLOCK_SMS_WEBHOOK_URL") or None,
            sms_webhook_token=env.get("CASECLOCK_SMS_WEBHOOK_TOKEN") or None,
            drop_dir=Path(env["CASECLOCK_DROP_DIR"]) if env.get("CASECLOCK_DROP_DIR") else None,
        )


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def message_id(idempotency_key: str) -> str:
    """A stable ``Message-ID`` derived from the key: the same message, the same id."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@caseclock>"


def redact_url(url: str) -> str:
    """Scheme, host and path only: WeCom and DingTalk put the robot's secret in the query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def webhook_body(message: LeasedMessage) -> dict[str, Any]:
    """The JSON body for ``payload['format']``: CaseClock's own, or a group-robot preset.

    WeCom and DingTalk robots show only ``content``/``text``, so the subject goes on the
    first line. Optional ``payload`` keys: ``mentioned_list``/``mentioned_mobile_list``
    (WeCom), ``at_mobiles``/``at_all`` (DingTalk).
    """
    payload = message.payload
    fmt = payload.get("format", "plain")
    text = f"{message.subject}\n{message.body}" if message.subject else message.body
    if fmt == "wecom":
        content: dict[str, Any] = {"content": text}
        for key in ("mentioned_list", "mentioned_mobile_list"):
            if payload.get(key):
                content[key] = list(payload[key])
        return {"msgtype": "text", "text": content}
    if fmt == "wecom-markdown":
        return {"msgtype": "markdown", "markdown": {"content": _markdown(message)}}
    if fmt in ("dingtalk", "dingtalk-markdown"):
        body: dict[str, Any]
        if fmt == "dingtalk":
            body = {"msgtype": "text", "text": {"content": text}}
        else:
            title = message.subject or message.body[:20]
            body = {"msgtype": "markdown", "markdown": {"title": title, "text": _markdown(message)}}
        if payload.get("at_mobiles") or payload.get("at_all"):
            body["at"] = {
                "atMobiles": list(payload.get("at_mobiles") or []),
                "isAtAll": bool(payload.get("at_all")),
            }
        return body
    if fmt != "plain":
        raise DeliveryError(f"unknown webhook format {fmt!r}; expected one of {FORMATS}")
    return {
        "idempotency_key": message.idempotency_key,
        "recipient": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "instance_id": message.instance_id,
        "data": payload.get("data"),
    }


def _markdown(message: LeasedMessage) -> str:
    return f"### {message.subject}\n{message.body}" if message.subject else message.body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would turn the POST into a body-less GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class _Mailer:
    """One SMTP connection reused for the e-mails of a pass, reopened after any error."""

    def __init__(self, config: SenderConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"smtp {self.config.smtp_host}:{self._port()}"

    def _port(self) -> int:
        return self.config.smtp_port or (465 if self.config.smtp_ssl else 25)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if not cfg.smtp_host:
            raise DeliveryError("e-mail not configured: CASECLOCK_SMTP_HOST is not set")
        smtp: smtplib.SMTP
        if cfg.smtp_ssl:
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(
                cfg.smtp_host, self._port(), timeout=cfg.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(cfg.smtp_host, self._port(), timeout=cfg.timeout)
        try:
            if cfg.smtp_starttls and not cfg.smtp_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password or "")
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def send(self, email: EmailMessage) -> None:
        for _ in range(2):
            fresh = self._smtp is None
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                self._smtp.send_message(email)
                return
            except smtplib.SMTPServerDisconnected:
                self.close()
                if fresh:
                    raise
                # The server dropped an idle connection between two messages: retry fresh.
            except BaseException:
                self.close()
                raise

    def close(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class OutboxSender:
    def __init__(
        self,
        app: CaseClock,
        config: SenderConfig | None = None,
        owner: str | None = None,
        batch: int = BATCH,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.app = app
        self.config = config or SenderConfig.from_env()
        self.owner = owner or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}-outbox"
        self.batch, self.lease, self.max_attempts = batch, lease, max_attempts
        if lease <= timedelta(seconds=self.config.timeout):
            raise ValueError("the lease must outlast the send timeout, or nothing is ever sent")

    def run_once(self) -> SendResult:
        """Send everything due now, batch after batch, until a batch comes back short."""
        result = SendResult()
        while self.send_batch(result):
            pass
        return result

    def send_batch(self, result: SendResult) -> bool:
        """Send one batch; True if it was full (more may be waiting)."""
        mailer = _Mailer(self.config)
        try:
            messages = self.app.execute(
                AcquireOutbox(self.owner, self.batch, self.lease), actor="worker"
            )
            for message in messages:
                self._send_one(message, mailer, result)
            return len(messages) == self.batch
        finally:
            mailer.close()

    def _send_one(self, message: LeasedMessage, mailer: _Mailer, result: SendResult) -> None:
        # Starting a delivery that could outlast the lease risks a second sender
        # delivering the same message at the same time: leave it for the next pass.
        if self.app.clock.now() + timedelta(seconds=self.config.timeout) >= message.lease_until:
            log.info("outbox %s: lease too short to start, left for later", message.id)
            return
        try:
            self.deliver(message, mailer)
        except Exception as exc:  # every failure is recorded and retried, never lost
            error = describe(exc)
            # A permanent failure is the last try: MarkFailed gives up once attempts reach 1.
            limit = 1 if isinstance(exc, PermanentDeliveryError) else self.max_attempts
            status = self._record(MarkFailed(message.id, self.owner, error, limit))
            result.failed += 1
            log.warning(
                "outbox %s (%s) failed, attempt %d, now %s: %s",
                message.id, message.channel, message.attempts + 1, status, error,
            )  # fmt: skip
            return
        if self._record(MarkSent(message.id, self.owner)):
            result.sent += 1
            log.info("outbox %s sent via %s", message.id, message.channel)

    def _record(self, command: MarkSent | MarkFailed) -> Any:
        """A lost outcome is not lost mail: the lease expires and the message is retried."""
        try:
            return self.app.execute(command, actor="worker")
        except Exception:
            log.exception("outbox %s: could not record the outcome", command.message_id)
            return None

    def deliver(self, message: LeasedMessage, mailer: _Mailer | None = None) -> None:
        """Hand one message to its channel; raise on failure. Records nothing."""
        if message.channel == "inapp":
            return  # read inside CaseClock from the outbox row itself
        if message.channel == "email" and self._drops(self.config.smtp_host):
            self._drop(message, "eml", bytes(self._email(message)))
        elif message.channel == "email":
            own = mailer is None
            mailer = mailer or _Mailer(self.config)
            try:
                mailer.send(self._email(message))
            except (smtplib.SMTPException, OSError) as exc:
                raise DeliveryError(f"{mailer.where}: {describe(exc)}") from exc
            finally:
                if own:
                    mailer.close()
        elif message.channel == "webhook":
            url = message.payload.get("url") or message.recipient
            self._post(url, webhook_body(message), message)
        elif message.channel == "sms" and self._drops(self.config.sms_webhook_url):
            body = {"to": message.recipient, "text": message.body,
                    "idempotency_key": message.idempotency_key}  # fmt: skip
            self._drop(message, "json", json.dumps(body, ensure_ascii=False, indent=2).encode())
        elif message.channel == "sms":
            if not self.config.sms_webhook_url:
                raise DeliveryError("SMS not configured: CASECLOCK_SMS_WEBHOOK_URL is not set")
            body = {"to": message.recipient, "text": message.body}
            self._post(self.config.sms_webhook_url, body, message, self.config.sms_webhook_token)
        else:
            raise DeliveryError(f"unknown channel {message.channel!r}")

    def _drops(self, server: str | None) -> bool:
        """A channel without its server writes to the drop directory, if there is one."""
        return server is None and self.config.drop_dir is not None

    def _drop(self, message: LeasedMessage, suffix: str, content: bytes) -> None:
        """Write the message as ``<outbox id>.<suffix>``: a redelivery rewrites the same
        file, and a reader never sees half of one (written aside, then renamed)."""
        folder = self.config.drop_dir
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{message.id:010d}-{message.channel}.{suffix}"
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(content)
        os.replace(partial, target)

    def _email(self, message: LeasedMessage) -> EmailMessage:
        email = EmailMessage()  # UTF-8 headers and body, encoded by the default policy
        email["From"] = self.config.smtp_from
        email["To"] = _recipient(message.recipient)
        email["Subject"] = message.subject
        email["Date"] = format_datetime(self.app.clock.now())
        email["Message-ID"] = message_id(message.idempotency_key)
        email["X-CaseClock-Idempotency-Key"] = message.idempotency_key
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        # base64, not the default 8bit: 8bit data without BODY=8BITMIME breaks old relays.
        email.set_content(message.body, cte=None if message.body.isascii() else "base64")
        return email

    def _post(
        self,
        url: str,
        body: dict[str, Any],
        message: LeasedMessage,
        token: str | None = None,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise DeliveryError(f"webhook URL must be http(s), got {redact_url(url)!r}")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.idempotency_key,
            "User-Agent": USER_AGENT,
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        where = redact_url(url)
        try:
            with _opener.open(request, timeout=self.config.timeout) as response:
                reply = response.read(65536)
        except urllib.error.HTTPError as exc:
            detail = _peek(exc)
            raise DeliveryError(f"HTTP {exc.code} from {where}{detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise DeliveryError(f"POST {where}: {describe(reason)}") from exc
        fmt = str(message.payload.get("format", "plain"))
        if message.channel == "webhook" and fmt.startswith(("wecom", "dingtalk")):
            _check_robot_reply(reply, where)


def _recipient(recipient: str) -> str:
    """``recipient`` if it parses as e-mail addresses, each with a name and a domain; else a
    permanent error (the header parser raises IndexError on ``bad@``, and an address
    without a domain would be delivered nowhere)."""
    header = EmailMessage()
    try:
        header["To"] = recipient
        addresses = header["To"].addresses
    except (IndexError, ValueError, MessageError):
        addresses = ()
    if not addresses or not all(a.username and a.domain for a in addresses):
        shown = repr(recipient) if len(recipient) <= 100 else f"{recipient[:100]!r}…"
        raise PermanentDeliveryError(
            f"permanent: the recipient {shown} is not a valid e-mail address; not retried"
        )
    return recipient


def _peek(exc: urllib.error.HTTPError) -> str:
    """The start of an error response's body, which usually says what was wrong."""
    try:
        text = exc.read(200).decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return ""
    return f": {text}" if text else ""


def _check_robot_reply(reply: bytes, where: str) -> None:
    """WeCom and DingTalk answer HTTP 200 with a non-zero ``errcode`` when they refuse."""
    try:
        answer = json.loads(reply or b"{}")
    except ValueError:
        return
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
        raise DeliveryError(
            f"robot at {where} refused: errcode {answer['errcode']}: {answer.get('errmsg', '')}"
        )


def describe(exc: BaseException | object) -> str:
    """A one-line error text for ``last_error``; never includes configuration secrets."""
    if isinstance(exc, DeliveryError):
        return str(exc)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{type(exc).__name__}: {exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{rcpt}: {code}" for rcpt, (code, _) in exc.recipients.items())
        return f"SMTPRecipientsRefused: {refused}"
    if isinstance(exc, BaseException):
        text = str(exc).strip()
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return str(exc)
