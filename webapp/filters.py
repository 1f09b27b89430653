"""Jinja filters: working time, local times and the names of things, in the page's language."""

from __future__ import annotations

from typing import Any

from flask import Flask

from .i18n import gettext, lazy_gettext, ngettext

LIGHTS = {
    "green": lazy_gettext("正常"),
    "yellow": lazy_gettext("临近时限"),
    "red": lazy_gettext("已超时"),
    "paused": lazy_gettext("已暂停"),
    "met": lazy_gettext("按时完成"),
    "violated": lazy_gettext("超时完成"),
    "none": lazy_gettext("无时限"),
}

COMMANDS = {
    "start": lazy_gettext("启动"),
    "claim": lazy_gettext("认领"),
    "unclaim": lazy_gettext("退回"),
    "delegate": lazy_gettext("委派"),
    "resolve": lazy_gettext("交回"),
    "reassign": lazy_gettext("改派"),
    "complete": lazy_gettext("办理"),
    "pause_clock": lazy_gettext("暂停计时"),
    "resume_clock": lazy_gettext("恢复计时"),
    "request_extension": lazy_gettext("申请延期"),
    "decide_extension": lazy_gettext("延期审批"),
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


def when(iso: str | None) -> str:
    """Local ISO time as ``2026-03-02 09:00`` (the zone is the organisation's)."""
    return iso[:16].replace("T", " ") if iso else "–"


def init(app: Flask) -> None:
    app.jinja_env.filters.update(
        worktime=worktime,
        when=when,
        light_name=lambda light: LIGHTS.get(light, light),
        command_name=lambda name: COMMANDS.get(name, name),
    )

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {"LIGHTS": LIGHTS}
