"""Words for the codes the engine stores, as the case and task pages show them.

The engine keeps states, timer kinds and audit payload keys as short English codes,
which the API and the command line show as they are. A page shows the word in its own
language instead; a code with no word here is shown as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from engine import queries

from .filters import when, worktime
from .i18n import lazy_pgettext
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
}


def payload_value(key: str, value: Any) -> Any:
    """An audit payload value as a page shows it: an instant in the organisation's time, a
    number of working seconds as working time, who held a task for how long, the rest as
    it is."""
    if key.endswith("_seconds") and isinstance(value, int):
        return worktime(value)
    if key == "holders" and isinstance(value, list):
        return ", ".join(
            f"{span.get('holder') or '–'} {worktime(span.get('working_seconds'))}"
            for span in value
            if isinstance(span, dict)
        )
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and "T" in value:
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        if instant.tzinfo is not None:
            return when(queries.local(instant, engine().services.timezone))
    return value


def install(app: Flask) -> None:
    app.jinja_env.filters.update(
        case_state=lambda code: CASE_STATES.get(code, code),
        task_state=lambda code: TASK_STATES.get(code, code),
        timer_kind=lambda code: TIMER_KINDS.get(code, code),
        timer_state=lambda code: TIMER_STATES.get(code, code),
        payload_key=lambda key: PAYLOAD_KEYS.get(key, key),
        payload_value=payload_value,
    )
