"""Notice templates in zh-CN (the default) and English.

A notice is rendered once, when the command that causes it runs, and written to the
outbox in that transaction; its text never changes afterwards. The templates here are the
shipped defaults: an admin may reword any of them (:mod:`engine.notice_templates`), and
:func:`render` uses that wording while it stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter
from typing import TYPE_CHECKING, Any

from . import outbox
from .errors import ValidationError

if TYPE_CHECKING:
    from .executor import CommandContext
    from .store import Person

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")
# Spellings people write in a file or on the command line, by the locale they mean.
_SPELLINGS = {"zh-cn": "zh-CN", "zh_cn": "zh-CN", "zh": "zh-CN", "en": "en"}


def parse_locale(text: str) -> str:
    """The notice locale written ``text`` (``zh-CN``/``zh_CN``/``zh`` or ``en``). A
    regional tag from a form or another system (``en-US``, ``en_GB``, ``zh-Hans-CN``)
    counts as its language: CaseClock writes one wording per language."""
    spelling = text.strip().lower()
    language = spelling.replace("_", "-").partition("-")[0]
    locale = _SPELLINGS.get(spelling) or _SPELLINGS.get(language)
    if locale is None:
        raise ValidationError(f"locale {text.strip()!r}: one of {', '.join(LOCALES)}")
    return locale


# The outbox's subject column; a long value filled into an edited subject is cut to fit.
MAX_RENDERED_SUBJECT = 500

TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "sla_warning": {
        "zh-CN": (
            "【预警】{task}（{case}）将于 {due} 到期",
            "{person}：您办理的“{task}”（办件 {case}）将于 {due} 到期，剩余工作时间 {left}。"
            "请及时办理。",
        ),
        "en": (
            "[Warning] {task} ({case}) is due {due}",
            '{person}: the task "{task}" of case {case} is due {due}; {left} of working '
            "time left. Please act on it.",
        ),
    },
    "sla_breach": {
        "zh-CN": (
            "【超期】{task}（{case}）已于 {due} 超期",
            "{person}：“{task}”（办件 {case}）已超过办理时限（{due}），已记录超期。请立即办理。",
        ),
        "en": (
            "[Overdue] {task} ({case}) was due {due}",
            '{person}: the task "{task}" of case {case} passed its deadline ({due}); the '
            "breach has been recorded. Please act on it now.",
        ),
    },
    "chase_task": {
        "zh-CN": (
            "【催办】{task}（{case}）已超期，请督办",
            "{person}：“{task}”（办件 {case}，办理人：{holder}）已超过办理时限。已在您的待办中"
            "生成第 {level} 级催办任务，请督促办理或说明情况。",
        ),
        "en": (
            "[Chase] {task} ({case}) is overdue",
            '{person}: "{task}" of case {case}, held by {holder}, passed its deadline. A '
            "level-{level} chase task is in your inbox: urge, reassign or explain.",
        ),
    },
    "assist_request": {
        "zh-CN": (
            "【协办】{task}（{case}）请求协助",
            "{person}：{by} 就“{task}”（办件 {case}）请求贵部门协办，请于 {due} 前答复：{question}",
        ),
        "en": (
            "[Assistance] {task} ({case}) asks for your input",
            '{person}: {by} asks your department for input on "{task}" of case {case}, '
            "due {due}: {question}",
        ),
    },
    "assist_answered": {
        "zh-CN": (
            "【协办答复】{task}（{case}）",
            "{person}：{by} 已答复您就“{task}”（办件 {case}）提出的协办请求：{answer}",
        ),
        "en": (
            "[Assistance answered] {task} ({case})",
            '{person}: {by} answered your request for input on "{task}" of case {case}: {answer}',
        ),
    },
    "urge": {
        "zh-CN": (
            "【催办通知】请尽快办理“{task}”（{case}）",
            "{person}：{by} 催办您办理的“{task}”（办件 {case}），该事项已超期。{message}",
        ),
        "en": (
            "[Urged] Please act on {task} ({case})",
            '{person}: {by} urges you to act on "{task}" of case {case}, which is overdue. '
            "{message}",
        ),
    },
    # To the applicant, where the diagram says so (caseclock:notifyApplicant).
    "documents_needed": {
        "zh-CN": (
            "【补正通知】您申请的“{matter}”（{case}）需要补充材料",
            "{applicant_name}：您申请的“{matter}”（办件编号 {case}）材料不全，请补充材料后"
            "提交。补正期间办理时限暂停计算。",
        ),
        "en": (
            "[Documents needed] {matter} ({case})",
            '{applicant_name}: your application "{matter}" (case {case}) is missing '
            "documents. Please supply them; the time limit is paused meanwhile.",
        ),
    },
    "case_concluded": {
        "zh-CN": (
            "【办结通知】您申请的“{matter}”（{case}）已办结",
            "{applicant_name}：您申请的“{matter}”（办件编号 {case}）已办结，感谢您的耐心等待。",
        ),
        "en": (
            "[Concluded] {matter} ({case})",
            '{applicant_name}: your application "{matter}" (case {case}) has been concluded.',
        ),
    },
}


def placeholder_names(*texts: str) -> tuple[str, ...]:
    """The placeholders ``texts`` name, each once, in order (ValueError: unbalanced braces)."""
    seen: dict[str, None] = {}
    for text in texts:
        seen.update((name, None) for _, name, _, _ in Formatter().parse(text) if name)
    return tuple(seen)


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def render(
    ctx: CommandContext, kind: str, values: dict[str, Any], locale: str = DEFAULT_LOCALE
) -> Notice:
    """The notice ``kind`` in ``locale`` with ``values`` filled in, in the admin's wording
    where there is one (read from memory: ``Services.notice_templates``)."""
    if locale not in TEMPLATES[kind]:
        locale = DEFAULT_LOCALE
    edited = ctx.services.notice_templates.get(ctx, None).get((kind, locale))
    subject, body = edited or TEMPLATES[kind][locale]
    return fill(subject, body, values)


def fill(subject: str, body: str, values: dict[str, Any]) -> Notice:
    fields = _Blank(values)
    return Notice(subject.format_map(fields)[:MAX_RENDERED_SUBJECT], body.format_map(fields))


class _Blank(dict[str, Any]):
    """Case data may lack a field a template names: show it empty, never fail."""

    def __missing__(self, key: str) -> str:
        return ""


def send(
    ctx: CommandContext,
    person: Person,
    notice: Notice,
    key: str,
    payload: dict[str, Any],
    instance_id: int | None,
    *,
    urgent: bool = False,
    digestible: bool = False,
) -> None:
    """Write ``notice`` to the outbox for ``person``: in-app, and e-mail if known.

    ``key`` is the idempotency key with ``{channel}`` where each channel's name goes.
    ``urgent`` (a breach) also goes to their phone and their department's group chat;
    ``digestible`` (a warning) e-mail waits for the daily digest if they chose one.
    """
    channels = [("inapp", person.key, payload)]
    if person.email:
        channels.append(("email", person.email, payload))
    if urgent and person.phone:
        channels.append(("sms", person.phone, payload))
    department = person.department if urgent else None
    if department is not None and department.webhook_url:
        robot = {**payload, "format": department.webhook_format or "plain"}
        channels.append(("webhook", department.webhook_url, robot))
    for channel, recipient, body_payload in channels:
        outbox.enqueue(
            ctx, channel=channel, recipient=recipient, subject=notice.subject, body=notice.body,
            idempotency_key=key.replace("{channel}", channel), payload=body_payload,
            instance_id=instance_id,
            hold=channel == "email" and digestible and person.digest,
        )  # fmt: skip
