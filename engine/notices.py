"""Notice templates in zh-CN (the default) and English.

A notice is rendered once, when the command that causes it runs, and written to the
outbox in that transaction; its text never changes afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_LOCALE = "zh-CN"

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
}


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def render(kind: str, values: dict[str, Any], locale: str = DEFAULT_LOCALE) -> Notice:
    by_locale = TEMPLATES[kind]
    subject, body = by_locale.get(locale) or by_locale[DEFAULT_LOCALE]
    return Notice(subject.format(**values), body.format(**values))
