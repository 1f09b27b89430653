"""Words for the codes the engine stores, as the case and task pages show them.

The engine keeps states, timer kinds and audit payload keys as short English codes,
which the API and the command line show as they are. A page shows the word in its own
language instead; a code with no word here is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Flask

from engine import queries
from engine.calendars import DEFAULT_NAME

from . import engine_text
from .filters import REQUEST_STATES, elapsed, sla_text, standard_label, when, worktime
from .i18n import gettext, lazy_pgettext
from .security import engine

CASE_STATES = {
    "running": lazy_pgettext("code", "办理中"),
    "completed": lazy_pgettext("code", "已办结"),
    "error": lazy_pgettext("code", "出错"),
}
TASK_STATES = {
    "open": lazy_pgettext("code", "待办"),
    "completed": lazy_pgettext("code", "已完成"),
    "cancelled": lazy_pgettext("code", "已取消"),
}
TIMER_KINDS = {
    "date": lazy_pgettext("code", "定时（日期）"),
    "duration": lazy_pgettext("code", "定时（时长）"),
    "cycle": lazy_pgettext("code", "循环定时"),
    "sla warning": lazy_pgettext("code", "时限预警"),
    "sla deadline": lazy_pgettext("code", "时限截止"),
}
DEFAULT_CALENDAR = lazy_pgettext("code", "默认日历")
TIMER_STATES = {
    "paused": lazy_pgettext("code", "已暂停"),
    "waiting": lazy_pgettext("code", "等待中"),
}
# The audit payload keys people meet most in a case's history.
PAYLOAD_KEYS = {
    "user": lazy_pgettext("code", "用户"),
    "from": lazy_pgettext("code", "原办理人"),
    "to": lazy_pgettext("code", "新办理人"),
    "on_behalf_of": lazy_pgettext("code", "代办对象"),
    "data": lazy_pgettext("code", "数据"),
    "reason": lazy_pgettext("code", "理由"),
    "note": lazy_pgettext("code", "备注"),
    "message": lazy_pgettext("code", "消息"),
    "business_key": lazy_pgettext("code", "办件编号"),
    "definition": lazy_pgettext("code", "流程版本"),
    "step": lazy_pgettext("code", "环节"),
    "step_name": lazy_pgettext("code", "环节名称"),
    "deadline": lazy_pgettext("code", "截止时间"),
    "breached_at": lazy_pgettext("code", "超时时间"),
    "completed_at": lazy_pgettext("code", "完成时间"),
    "completed_by": lazy_pgettext("code", "完成人"),
    "responsible": lazy_pgettext("code", "责任人"),
    "superior": lazy_pgettext("code", "上级"),
    "limit": lazy_pgettext("code", "时限"),
    "standard": lazy_pgettext("code", "标准"),
    "calendar": lazy_pgettext("code", "日历"),
    "holders": lazy_pgettext("code", "经手人"),
    "paused_working_seconds": lazy_pgettext("code", "暂停工时"),
    "late_working_seconds": lazy_pgettext("code", "超时工时"),
    "due_at": lazy_pgettext("code", "到期时间"),
    "outcome": lazy_pgettext("code", "结果"),
    "level": lazy_pgettext("code", "级别"),
    "amount": lazy_pgettext("code", "时长"),
    "approved": lazy_pgettext("code", "批准"),
    # what the timers, SLA and chase records write (engine.due_timers, engine.sla, chase)
    "timer": lazy_pgettext("code", "定时器"),
    "timer_id": lazy_pgettext("code", "定时器编号"),
    "element_id": lazy_pgettext("code", "环节"),
    "scope": lazy_pgettext("code", "范围"),
    "notified": lazy_pgettext("code", "已通知"),
    "late_seconds": lazy_pgettext("code", "延迟"),
    "department_id": lazy_pgettext("code", "部门"),
    "late_task_id": lazy_pgettext("code", "超时任务"),
    "task_id": lazy_pgettext("code", "任务"),
    "task": lazy_pgettext("code", "任务"),
    "holder": lazy_pgettext("code", "办理人"),
    "extensions": lazy_pgettext("code", "延期"),
    "extension_id": lazy_pgettext("code", "延期申请编号"),
    "exemption_id": lazy_pgettext("code", "免责申请编号"),
    "ended_at": lazy_pgettext("code", "结束时间"),
    "attempts": lazy_pgettext("code", "尝试次数"),
    "error": lazy_pgettext("code", "错误"),
    "status": lazy_pgettext("code", "状态"),
    "channel": lazy_pgettext("code", "渠道"),
    "message_id": lazy_pgettext("code", "通知编号"),
    "assists": lazy_pgettext("code", "协办环节"),
    "group": lazy_pgettext("code", "组"),
    "question": lazy_pgettext("code", "问题"),
    "answer": lazy_pgettext("code", "答复"),
    "text": lazy_pgettext("code", "内容"),
    "comment_id": lazy_pgettext("code", "意见编号"),
    "attachment_id": lazy_pgettext("code", "附件编号"),
    "filename": lazy_pgettext("code", "文件名"),
    "media_type": lazy_pgettext("code", "文件类型"),
    "size": lazy_pgettext("code", "大小（字节）"),
    "private_rows": lazy_pgettext("code", "清除的个人数据"),
    "notices": lazy_pgettext("code", "通知"),
    "requests": lazy_pgettext("code", "申请"),
    "attachments": lazy_pgettext("code", "附件"),
}

# Who acts when no person does (the worker, the command line, ...): a word, not a code.
SYSTEM_ACTORS = {
    "worker": lazy_pgettext("code", "系统定时任务"),
    "system": lazy_pgettext("code", "系统"),
    "cli": lazy_pgettext("code", "命令行"),
    "login": lazy_pgettext("code", "登录服务"),
    "collection": lazy_pgettext("code", "催收系统"),
    "demo": lazy_pgettext("code", "演示数据"),
}

# What an SLA record's ``scope`` was timed (engine.sla).
SCOPES = {
    "task": lazy_pgettext("code", "环节时限"),
    "subprocess": lazy_pgettext("code", "子流程时限"),
    "case": lazy_pgettext("code", "整体时限"),
}

# How a 催办 (chase) ended, for the outcomes that are single codes (engine.chase).
OUTCOMES = {
    "completed": lazy_pgettext("code", "已办理"),
    "handled": lazy_pgettext("code", "已处理"),
    "cancelled": lazy_pgettext("code", "已取消"),
    "answered": lazy_pgettext("code", "已答复"),
    "withdrawn": lazy_pgettext("code", "已撤回"),
}

# Payload keys whose values are person keys (the engine's audit payloads).
PEOPLE_KEYS = frozenset({
    "user", "from", "to", "on_behalf_of", "completed_by", "responsible", "superior",
    "holder", "by", "requested_by", "decided_by", "person", "deputy",
})  # fmt: skip
# Payload keys whose values are the diagram's element ids (a step, a timer, an event).
ELEMENT_KEYS = frozenset({"step", "element_id", "timer"})
# Payload keys whose values are task ids of the case.
TASK_KEYS = frozenset({"late_task_id", "assists", "task_id"})


class Names:
    """The names a case page gives what its history and data store as keys: people,
    the diagram's elements, the case's tasks, departments, groups, and the form fields'
    labels (``reads.case_detail``'s ``names`` and ``data_labels``). A key with no name
    is shown as it is."""

    def __init__(self, case: Mapping[str, Any] | None = None) -> None:
        names = (case or {}).get("names") or {}
        self.people: Mapping[str, str] = names.get("people") or {}
        self.steps: Mapping[str, str] = names.get("steps") or {}
        self.tasks: Mapping[Any, str] = names.get("tasks") or {}
        self.departments: Mapping[Any, str] = names.get("departments") or {}
        self.groups: Mapping[str, str] = names.get("groups") or {}
        self.data: Mapping[str, Any] = (case or {}).get("data_labels") or {}

    def person(self, key: Any) -> Any:
        return self.people.get(key, key) if isinstance(key, str) else key

    def task(self, task_id: Any) -> Any:
        return self.tasks.get(task_id) or self.tasks.get(str(task_id)) or task_id


def yes_no(value: bool) -> str:
    return gettext("是") if value else gettext("否")


def data_value(value: Any, field: Mapping[str, Any] | None = None) -> Any:
    """A case variable's value as a page shows it: a yes/no in words, an enum value by its
    option's name (the form's ``field``), nothing as "–", the rest as it is."""
    if isinstance(value, bool):
        return yes_no(value)
    if value is None:
        return "–"
    options = (field or {}).get("options") or {}
    if isinstance(value, str) and value in options:
        return options[value]
    return value


def data_text(data: Mapping[str, Any], names: Names) -> str:
    """Form data in a history entry: each variable by its label, values in words."""
    parts = []
    for key, value in data.items():
        field = names.data.get(key)
        label = field["label"] if field else key
        parts.append(f"{label}: {data_value(value, field)}")
    return "; ".join(parts)


def actor_name(actor: str | None, case: Mapping[str, Any] | None = None) -> Any:
    """Who did it: a person by name, a system actor in words, anyone else by key."""
    if not actor:
        return "–"
    if actor in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[actor]
    return Names(case).person(actor)


def _spans(value: list[Any], names: Names) -> str:
    """Who held a task for how long (engine.ledger), or who held which step when an SLA
    clock ran out, with their superior (engine.sla)."""
    shown = []
    for row in value:
        if not isinstance(row, dict):
            continue
        if "working_seconds" in row:
            holder = names.person(row.get("holder")) or gettext("未认领")
            shown.append(f"{holder} {worktime(row.get('working_seconds'))}")
            continue
        person = names.person(row.get("responsible")) or gettext("未认领")
        text = f"{row.get('task') or names.task(row.get('task_id'))}: {person}"
        if row.get("superior"):
            text += f" ({PAYLOAD_KEYS['superior']}: {names.person(row['superior'])})"
        shown.append(text)
    return ", ".join(shown)


def _extensions(value: list[Any]) -> str:
    return ", ".join(
        f"{sla_text(e.get('amount'))} ({REQUEST_STATES.get(e.get('status'), e.get('status'))})"
        for e in value
        if isinstance(e, dict)
    )


def _instant(value: str) -> str | None:
    if len(value) < 19 or value[4:5] != "-" or "T" not in value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    if instant.tzinfo is None:
        return None
    return when(queries.local(instant, engine().services.timezone))


def payload_value(key: str, value: Any, case: Mapping[str, Any] | None = None) -> Any:
    """An audit payload value as a page shows it: an instant in the organisation's time, a
    number of working seconds as working time, who held a task for how long, people, steps
    and tasks by name, limits and standards in the page's language, yes/no in words, form
    data by its labels; the rest as it is. ``case`` (the case view) carries the names."""
    names = Names(case)
    if isinstance(value, bool):
        return yes_no(value)
    if key == "late_seconds" and isinstance(value, int | float):
        return elapsed(value)
    if key.endswith("_seconds") and isinstance(value, int):
        return worktime(value)
    if key in ("holders", "responsible") and isinstance(value, list):
        return _spans(value, names)
    if key == "extensions" and isinstance(value, list):
        return _extensions(value)
    if key == "data" and isinstance(value, dict):
        return data_text(value, names)
    if not isinstance(value, str | int):
        return value
    return _scalar(key, value, names)


def _scalar(key: str, value: str | int, names: Names) -> Any:
    if key in PEOPLE_KEYS and isinstance(value, str):
        return names.person(value)
    if key in ELEMENT_KEYS:
        return names.steps.get(value, value)
    if key in TASK_KEYS:
        return names.task(value)
    if key == "department_id":
        return names.departments.get(value) or names.departments.get(str(value)) or value
    if key == "group":
        return names.groups.get(value, value)
    if key in ("limit", "amount") and isinstance(value, str):
        return sla_text(value)
    if key == "standard" and isinstance(value, str):
        return standard_label(value)
    if key == "scope":
        return SCOPES.get(value, value)
    if key == "outcome" and isinstance(value, str):
        return OUTCOMES.get(value) or engine_text.localize(value)
    if key == "calendar" and isinstance(value, str):
        return calendar_name(value)
    if isinstance(value, str):
        return _instant(value) or value
    return value


def calendar_name(name: str | None) -> str:
    """A working-time calendar by name; the default one is called so."""
    return str(DEFAULT_CALENDAR) if name in (None, "", DEFAULT_NAME) else str(name)


def install(app: Flask) -> None:
    app.jinja_env.filters.update(
        calendar_name=calendar_name,
        case_state=lambda code: CASE_STATES.get(code, code),
        task_state=lambda code: TASK_STATES.get(code, code),
        timer_kind=lambda code: TIMER_KINDS.get(code, code),
        timer_state=lambda code: TIMER_STATES.get(code, code),
        payload_key=lambda key: PAYLOAD_KEYS.get(key, key),
        payload_value=payload_value,
        actor_name=actor_name,
        # an SLA timer of the whole case is named "<purpose>: case" (engine.sla)
        sla_scope=lambda name: SCOPES["case"] if name == "case" else name,
        data_value=data_value,
    )
