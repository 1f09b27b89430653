"""Jinja filters: working time, local times and the names of things, in the page's language."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Flask

from engine.calendar import CalendarError, parse_duration

from . import engine_text
from .i18n import current_locale, gettext, lazy_gettext, lazy_pgettext, ngettext

LIGHTS = {
    "green": lazy_gettext("正常"),
    "yellow": lazy_gettext("临近时限"),
    "red": lazy_gettext("已超时"),
    "paused": lazy_gettext("已暂停"),
    "met": lazy_gettext("按时完成"),
    "violated": lazy_gettext("超时完成"),
    "none": lazy_gettext("无时限"),
}

# What the case history calls each command, in its own words (the English in the past
# tense): a button may use the same Chinese for its action ("history" context).
COMMANDS = {
    "start": lazy_pgettext("history", "启动"),
    "claim": lazy_pgettext("history", "认领"),
    "unclaim": lazy_pgettext("history", "退回"),
    "delegate": lazy_pgettext("history", "委派"),
    "resolve": lazy_pgettext("history", "交回"),
    "reassign": lazy_pgettext("history", "改派"),
    "complete": lazy_pgettext("history", "办理"),
    "pause_clock": lazy_pgettext("history", "暂停计时"),
    "resume_clock": lazy_pgettext("history", "恢复计时"),
    "request_extension": lazy_pgettext("history", "申请延期"),
    "decide_extension": lazy_pgettext("history", "延期审批"),
    "message": lazy_pgettext("history", "收到消息"),
    "timer_fired": lazy_pgettext("history", "定时触发"),
    "timer_failed": lazy_pgettext("history", "定时失败"),
    "timer_retry": lazy_pgettext("history", "定时重试"),
    "timer_skip": lazy_pgettext("history", "定时跳过"),
    "delivery_retry": lazy_pgettext("history", "通知重发"),
    "delivery_drop": lazy_pgettext("history", "通知放弃"),
    "ledger_breach": lazy_pgettext("history", "超时记录"),
    "ledger_scope_breach": lazy_pgettext("history", "阶段超时记录"),
    "ledger_final": lazy_pgettext("history", "办结时效记录"),
    "ledger_case_final": lazy_pgettext("history", "案件时效记录"),
    "ledger_exemption_requested": lazy_pgettext("history", "申请免责"),
    "ledger_exemption_decided": lazy_pgettext("history", "免责审批"),
    "chase_opened": lazy_pgettext("history", "发起催办"),
    "chase_urge": lazy_pgettext("history", "催促"),
    "chase_closed": lazy_pgettext("history", "催办关闭"),
    "chase_cap_reached": lazy_pgettext("history", "催办已到顶"),
    "chase_unroutable": lazy_pgettext("history", "催办无人可发"),
    "assist_request": lazy_pgettext("history", "发起协办"),
    "assist_answer": lazy_pgettext("history", "协办答复"),
    "assist_withdrawn": lazy_pgettext("history", "协办撤回"),
    "comment": lazy_pgettext("history", "意见"),
    "attach": lazy_pgettext("history", "上传附件"),
    "delete_attachment": lazy_pgettext("history", "删除附件"),
    "recompute_clock": lazy_pgettext("history", "重算时限"),
    "erase_case": lazy_pgettext("history", "删除个人信息"),
}


def worktime(seconds: int | None, day_seconds: int | None = None) -> str:
    """``2 个工作日 3 小时 30 分`` (a working day is the calendar's day length)."""
    if seconds is None:
        return "–"
    day = day_seconds or 8 * 3600
    rest = abs(int(seconds))
    days, rest = divmod(rest, day)
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = []
    if days:
        parts.append(ngettext("%(num)d 个工作日", "%(num)d 个工作日", days))
    if hours:
        parts.append(gettext("%(n)d 小时", n=hours))
    if minutes or not parts:
        parts.append(gettext("%(n)d 分钟", n=minutes))
    text = " ".join(parts)
    return gettext("超时 %(t)s", t=text) if seconds < 0 else text


# The state of an extension or exemption request.
REQUEST_STATES = {
    "pending": lazy_gettext("待审批"),
    "approved": lazy_gettext("已批准"),
    "refused": lazy_gettext("已驳回"),
}

# A duration's unit as a Chinese page writes it (engine.calendar's units).
_UNITS_ZH = {
    "working_days": "个工作日", "working_hours": "个工作小时", "working_minutes": "个工作分钟",
    "days": "天", "hours": "小时", "minutes": "分钟",
}  # fmt: skip


def sla_text(text: str | None) -> str:
    """A limit or an extension (``3 working days``) or the label of an SLA standard
    (``basic standard (diagram)``), as the engine writes them, in the page's language."""
    if not text:
        return ""
    return text if current_locale() == "en" else _sla_chinese(text)


@lru_cache(maxsize=512)  # a page shows the same few limits many times
def _sla_chinese(text: str) -> str:
    try:
        duration = parse_duration(text)
    except CalendarError:
        return engine_text.chinese(text) or text
    return f"{duration.amount.normalize():f} {_UNITS_ZH[duration.unit]}"


def when(iso: str | None) -> str:
    """Local ISO time as ``2026-03-02 09:00`` (the zone is the organisation's)."""
    return iso[:16].replace("T", " ") if iso else "–"


def init(app: Flask) -> None:
    app.jinja_env.filters.update(
        worktime=worktime,
        when=when,
        light_name=lambda light: LIGHTS.get(light, light),
        command_name=lambda name: COMMANDS.get(name, name),
        engine_text=engine_text.localize,
        sla_text=sla_text,
        request_state=lambda state: REQUEST_STATES.get(state, state),
    )

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {"LIGHTS": LIGHTS}
