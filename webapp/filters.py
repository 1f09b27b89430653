"""Jinja filters: working time, local times and the names of things, in the page's language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

import chinese_calendar
from flask import Flask

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
    "sla_warning": lazy_pgettext("history", "时限预警"),
    "sla_breach": lazy_pgettext("history", "超出时限"),
    # a warning that came due after its deadline (after downtime): the breach says it all
    "sla_warning_coalesced": lazy_pgettext("history", "预警并入超时"),
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
    "recompute_clocks": lazy_pgettext("history", "重算全部时限"),
    # a debt's ladder case begins (engine.collection.cases; the case's own chain)
    "collection.case_started": lazy_pgettext("history", "进入催收阶梯"),
}


def worktime(seconds: int | None, day_seconds: int | None = None) -> str:
    """``2 个工作日 3 小时 30 分`` (a working day is the calendar's day length)."""
    if seconds is None:
        return "–"
    text = _days_hours_minutes(
        seconds, day_seconds or 8 * 3600,
        lambda days: ngettext("%(num)d 个工作日", "%(num)d 个工作日", days),
    )  # fmt: skip
    return gettext("超时 %(t)s", t=text) if seconds < 0 else text


def elapsed(seconds: float) -> str:
    """Wall-clock seconds (how late a timer fired) in days, hours and minutes."""
    return _days_hours_minutes(seconds, 86400, lambda days: gettext("%(n)d 天", n=days))


def _days_hours_minutes(seconds: float, day: int, days_text: Callable[[int], str]) -> str:
    days, rest = divmod(int(abs(seconds)), day)
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = [days_text(days)] if days else []
    if hours:
        parts.append(gettext("%(n)d 小时", n=hours))
    if minutes or not parts:
        parts.append(gettext("%(n)d 分钟", n=minutes))
    return " ".join(parts)


# The state of an extension or exemption request.
REQUEST_STATES = {
    "pending": lazy_gettext("待审批"),
    "approved": lazy_gettext("已批准"),
    "refused": lazy_gettext("已驳回"),
}


def sla_text(text: str | None) -> str:
    """A limit or an extension (``3 working days``) or the label of an SLA standard
    (``basic standard (diagram)``), as the engine writes them, in the page's language."""
    if not text:
        return ""
    return text if current_locale() == "en" else _sla_chinese(text)


@lru_cache(maxsize=512)  # a page shows the same few limits many times
def _sla_chinese(text: str) -> str:
    return engine_text.duration_chinese(text) or engine_text.chinese(text) or text


# --- the names of codes the engine stores (the engine and the API keep the codes) ------

# The five-tier risk grade is stored in Chinese (the DMN's output); an English page names
# it by the standard English terms. "grade": 正常 is also a light ("on time").
GRADES = {
    "正常": lazy_pgettext("grade", "正常"),
    "关注": lazy_pgettext("grade", "关注"),
    "次级": lazy_pgettext("grade", "次级"),
    "可疑": lazy_pgettext("grade", "可疑"),
    "损失": lazy_pgettext("grade", "损失"),
    "未评级": lazy_pgettext("grade", "未评级"),
}

# The shipped collection ladder's levels (engine.collection.ladder.DEFAULT_LEVELS); a
# level an admin added keeps its key.
LADDER_LEVELS = {
    "courtesy": lazy_gettext("到期前提醒"),
    "sms": lazy_gettext("短信提醒"),
    "call": lazy_gettext("电话催收"),
    "notice": lazy_gettext("正式催收函"),
    "review": lazy_gettext("主管复核"),
    "restriction": lazy_gettext("限制授信及黑名单提议"),
    "legal": lazy_gettext("法务审查"),
}

# The wording of a debtor notice (engine.collection.notices.PARTS).
NOTICE_KINDS = {
    "courtesy": lazy_gettext("还款提醒"),
    "reminder": lazy_gettext("逾期提醒"),
    "formal": lazy_gettext("催收函"),
    "final": lazy_gettext("最后催收通知"),
    "remedy": lazy_gettext("还款计划确认"),
}

# What a notice in the outbox is about (its payload's ``kind``: engine.notices.TEMPLATES,
# the digest, engine.collection's notices); another kind is shown as it is.
SENT_NOTICE_KINDS = {
    "sla_warning": lazy_gettext("时限预警通知"),
    "sla_breach": lazy_gettext("超期通知"),
    "chase_task": lazy_gettext("催办通知"),
    "assist_request": lazy_gettext("协办请求"),
    "assist_answered": lazy_gettext("协办答复通知"),
    "urge": lazy_gettext("催促通知"),
    "documents_needed": lazy_gettext("补正材料通知"),
    "case_concluded": lazy_gettext("办结通知"),
    "digest": lazy_gettext("汇总通知"),
    "grade_summary": lazy_gettext("月度风险分类汇总"),
}

CHANNELS = {
    "sms": lazy_gettext("短信"),
    "email": lazy_gettext("电子邮件"),
    "letter": lazy_gettext("信函"),
    "phone": lazy_gettext("电话"),
    "none": lazy_gettext("无"),
}

GUARANTEES = {
    "none": lazy_gettext("无担保"),
    "guaranteed": lazy_gettext("保证"),
    "collateral": lazy_gettext("抵质押"),
}

DAY_COUNTS = {"daily": lazy_gettext("按日")}  # act/360 and act/365 are written so

COLLECTION_CASE_STATES = {
    "open": lazy_gettext("催收中"),
    "settled": lazy_gettext("已结清"),
}

# A deferral or instalment plan is "requested" until a supervisor decides.
REMEDY_STATES = {**REQUEST_STATES, "requested": REQUEST_STATES["pending"]}

DEADLINE_ACTIONS = {
    "notify": lazy_gettext("到期通知"),
    "chase": lazy_gettext("到期催办"),
}

ROLES = {
    "staff": lazy_gettext("工作人员"),
    "supervisor": lazy_gettext("主管"),
    "auditor": lazy_gettext("审计员"),
    "designer": lazy_gettext("流程设计"),
    "admin": lazy_gettext("系统管理员"),
}


def label(labels: Mapping[str, Any], code: str | None) -> str:
    """The code's name in the page's language; an unknown code as it is, none as "–"."""
    if not code:
        return "–"
    found = labels.get(code)
    return str(found) if found is not None else code


# Why a debtor notice was held or withheld (engine.collection.contact), "; "-joined.
_HELD = [
    (re.compile(r"outside contact hours (?P<start>\S+)–(?P<end>\S+)"),
     "不在联系时段 {start}–{end} 内"),
    (re.compile(r"daily cap of (?P<n>\d+) contacts reached on (?P<day>\S+)"),
     "{day} 已达每日联系上限（{n} 次）"),
    (re.compile(r"withheld: the debtor has no verified contact of their own"),
     "未发送：债务人没有经核实的本人联系方式"),
]  # fmt: skip


def held_reason(text: str | None) -> str:
    """The engine's reason (English) on an English page, in Chinese on a Chinese one."""
    if not text:
        return "–"
    if current_locale() == "en":
        return text
    return "；".join(_held_chinese(part.strip()) for part in text.split(";"))


def _held_chinese(part: str) -> str:
    for pattern, chinese in _HELD:
        found = pattern.fullmatch(part)
        if found:
            return chinese.format(**found.groupdict())
    return part


_LADDER_LABEL = re.compile(r"催收阶梯 (?P<level>\w+)")
# The standard in force as engine.standards names it: its kind and id, then its label.
_IN_FORCE = re.compile(r"(?P<kind>basic|temporary) standard #(?P<id>\d+): (?P<label>.*)", re.S)


def standard_label(text: str | None) -> str:
    """An SLA standard, or its label, in words: the collection ladder's label (``催收阶梯
    call``, written by engine.collection.ladder) names its level, one given no label is
    its limit (``3 working days``); any other label as the admin wrote it."""
    found = _LADDER_LABEL.fullmatch(text or "")
    if found and found["level"] in LADDER_LEVELS:
        return gettext("催收阶梯：%(level)s", level=str(LADDER_LEVELS[found["level"]]))
    in_force = _IN_FORCE.fullmatch(text or "")
    if in_force is None:
        return sla_text(text)
    label = standard_label(in_force["label"])
    if in_force["kind"] == "basic":
        return gettext("基本标准 #%(id)s：%(label)s", id=in_force["id"], label=label)
    return gettext("临时标准 #%(id)s：%(label)s", id=in_force["id"], label=label)


def warnings_text(text: str | None) -> str:
    """An SLA standard's warnings (``50%; 1 working hour``), each in the page's language."""
    if not text:
        return ""
    return "; ".join(sla_text(part.strip()) for part in text.split(";"))


@lru_cache(maxsize=1)
def _holidays() -> dict[str, tuple[str, str]]:
    """chinese_calendar's "<English> <Chinese>" name -> (English, Chinese)."""
    return {f"{h.value} {h.chinese}": (h.value, h.chinese) for h in chinese_calendar.Holiday}


def holiday_name(text: str | None) -> str:
    """An official holiday as engine.calendar names it (``National Day 国庆节``), in the
    page's language; any other text (an override's note) as it is."""
    if not text:
        return ""
    found = _holidays().get(text)
    if found is None:
        return text
    return found[0] if current_locale() == "en" else found[1]


def name_map(rows: Iterable[Mapping[str, Any]], key: str = "key", name: str = "name") -> dict:
    """``{row[key]: row[name]}`` for rows that have a name (a template's lookup table)."""
    return {row[key]: row[name] for row in rows if row.get(key) and row.get(name)}


def sent_notice_kind(kind: str | None) -> str:
    """An outbox notice's kind in words (a debtor notice's is ``collection_<kind>``)."""
    if kind and kind.startswith("collection_") and kind[11:] in NOTICE_KINDS:
        return str(NOTICE_KINDS[kind[11:]])
    return label(SENT_NOTICE_KINDS, kind)


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
        grade_name=lambda grade: label(GRADES, grade),
        ladder_level=lambda level: label(LADDER_LEVELS, level),
        notice_kind=lambda kind: label(NOTICE_KINDS, kind),
        sent_notice_kind=sent_notice_kind,
        channel_name=lambda channel: label(CHANNELS, channel),
        guarantee_name=lambda guarantee: label(GUARANTEES, guarantee),
        day_count_name=lambda basis: label(DAY_COUNTS, basis),
        collection_state=lambda state: label(COLLECTION_CASE_STATES, state),
        remedy_state=lambda state: label(REMEDY_STATES, state),
        deadline_action=lambda action: label(DEADLINE_ACTIONS, action),
        role_name=lambda role: label(ROLES, role),
        held_reason=held_reason,
        standard_label=standard_label,
        warnings_text=warnings_text,
        holiday_name=holiday_name,
        name_map=name_map,
    )

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {"LIGHTS": LIGHTS}
