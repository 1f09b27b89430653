"""Words for the codes the engine stores, as the case and task pages show them.

The engine keeps states, timer kinds and audit payload keys as short English codes,
which the API and the command line show as they are. A page shows the word in its own
language instead; a code with no word here is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask import Flask

from engine import queries
from engine.calendars import DEFAULT_NAME

from . import engine_text
from .filters import (
    GRADES,
    LADDER_LEVELS,
    REQUEST_STATES,
    elapsed,
    label,
    sla_text,
    standard_label,
    when,
    worktime,
)
from .i18n import colon, current_locale, gettext, lazy_pgettext, listed
from .names import page_person_names
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
    "sha256": lazy_pgettext("code", "SHA-256 校验值"),
    # a collection case's start (engine.collection.cases)
    "receivable": lazy_pgettext("code", "应收款"),
    "due_date": lazy_pgettext("code", "到期日"),
    "as_of": lazy_pgettext("code", "基准日"),
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

# How a 催办 ended, for the outcomes that say more than a code (engine.chase, runtime,
# clock_control, assistance write them in English, naming people by key).
_ESCALATED = re.compile(r"escalated to (?P<key>\S+)")
_REASSIGNED = re.compile(r"reassigned to (?P<key>\S+)")
_EXTENDED = re.compile(r"extended by (?P<amount>.+)")
_HANDLED = re.compile(r"handled: (?P<note>.*)", re.S)
_WITHDRAWN = re.compile(r"withdrawn: the asking step was (?P<state>\w+)")
POOL = "the group pool"
# A 协办 request's clock is its own standard, labelled with who asked (engine.assistance).
_ASSIST_STANDARD = re.compile(r"协办 for (?P<key>\S+)")

# Case variables the engine writes itself, which no form declares (so no form labels
# them): the collection ladder's (engine.collection.cases, .ladder, .case_events), a risk
# warning report's (engine.collection.risk) and the 办件's overall limit
# (case_handling.bpmn's event subprocess sets it). A variable only a designer's diagram
# or a message's sender sets, and no form labels, keeps its key.
VARIABLES = {
    "receivable_id": lazy_pgettext("code", "应收款编号"),
    "debtor_name": lazy_pgettext("code", "债务人"),
    "currency": lazy_pgettext("code", "币种"),
    "product": lazy_pgettext("code", "产品"),
    "collector": lazy_pgettext("code", "催收员"),
    "owed_minor": lazy_pgettext("code", "应还合计（分）"),
    "amount": lazy_pgettext("code", "应还合计"),
    "principal_outstanding": lazy_pgettext("code", "未还本金"),
    "fees_due": lazy_pgettext("code", "应付费用"),
    "owed_as_of": lazy_pgettext("code", "欠款计算日"),
    "settled_on": lazy_pgettext("code", "结清日"),
    "promise_broken_on": lazy_pgettext("code", "承诺还款日"),
    "broken_promises": lazy_pgettext("code", "违约承诺次数"),
    "ladder": lazy_pgettext("code", "催收阶梯"),
    "ladder_due_date": lazy_pgettext("code", "到期日"),
    "case_overdue": lazy_pgettext("code", "整体超时"),
    "customer": lazy_pgettext("code", "客户"),
    "department": lazy_pgettext("code", "部门"),
    "old_grade": lazy_pgettext("code", "原风险等级"),
    "new_grade": lazy_pgettext("code", "新风险等级"),
    "days_past_due": lazy_pgettext("code", "逾期天数"),
    "as_of": lazy_pgettext("code", "基准日"),
    "recommended_actions": lazy_pgettext("code", "建议措施"),
    "warning_group": lazy_pgettext("code", "预警承办组"),
}
# ladder_<level>_at: when the ladder reaches the level; ladder_<level>_role: the group
# that works it (engine.collection.ladder.case_data; the diagram reads both).
LADDER_VARIABLE = re.compile(r"ladder_(?P<level>[a-z]+)_(?P<part>at|role)")
# Case variables whose values are person, group or department keys, or risk grades.
PERSON_VARIABLES = frozenset({"collector"})
GROUP_VARIABLES = frozenset({"warning_group"})
DEPARTMENT_VARIABLES = frozenset({"department"})
GRADE_VARIABLES = frozenset({"old_grade", "new_grade"})

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
        # message name -> the name of the event that waits for it (pages only)
        self.messages: Mapping[str, str] = names.get("messages") or {}
        self.data: Mapping[str, Any] = (case or {}).get("data_labels") or {}
        # the case's process version as the engine labels it (``case_handling:1``), and
        # the process's name (the diagram's)
        self.definition: str = (case or {}).get("definition") or ""
        self.process: str | None = (case or {}).get("process")

    def person(self, key: Any) -> Any:
        return self.people.get(key, key) if isinstance(key, str) else key

    def task(self, task_id: Any) -> Any:
        return self.tasks.get(task_id) or self.tasks.get(str(task_id)) or task_id


def yes_no(value: bool) -> str:
    return gettext("是") if value else gettext("否")


def data_value(value: Any, field: Mapping[str, Any] | None = None) -> Any:
    """A case variable's value as a page shows it: a yes/no in words, an enum value by its
    option's name (the form's ``field``), nothing (or a field left blank) as "–", the rest
    as it is."""
    if isinstance(value, bool):
        return yes_no(value)
    if value is None or value == "":
        return "–"
    options = (field or {}).get("options") or {}
    if isinstance(value, str) and value in options:
        return options[value]
    return value


def variable_label(key: str, names: Names) -> str:
    """A case variable by its form's label, or, for one the engine writes, by its word;
    any other by its key."""
    field = names.data.get(key)
    if field:
        return str(field["label"])
    if key in VARIABLES:
        return str(VARIABLES[key])
    ladder = LADDER_VARIABLE.fullmatch(key)
    if ladder and ladder["level"] in LADDER_LEVELS:
        level = str(LADDER_LEVELS[ladder["level"]])
        if ladder["part"] == "at":
            return gettext("%(level)s时间", level=level)
        return gettext("%(level)s承办组", level=level)
    return key


def variable_value(key: str, value: Any, names: Names) -> Any:
    """A case variable's value in words: as :func:`data_value` says it, a person, group or
    department by name, a risk grade, a product, an instant in the organisation's time,
    the collection ladder as its levels and when each is due."""
    if isinstance(value, str):
        if key in PERSON_VARIABLES:
            return names.person(value)
        ladder = LADDER_VARIABLE.fullmatch(key)
        if key in GROUP_VARIABLES or (ladder and ladder["part"] == "role"):
            return names.groups.get(value, value)
        if key in DEPARTMENT_VARIABLES:
            return names.departments.get(value, value)
        if key in GRADE_VARIABLES:
            return label(GRADES, value)
        if key == "product":
            # Imported here: webapp.collection imports this module (through reads).
            from .collection import product_name

            return product_name(value)
        instant = _instant(value)
        if instant:
            return instant
    if key == "ladder" and isinstance(value, list):
        return _ladder(value)
    return data_value(value, names.data.get(key))


def _ladder(levels: list[Any]) -> str:
    shown = []
    for level in levels:
        if not isinstance(level, dict):
            continue
        name = LADDER_LEVELS.get(level.get("level")) or level.get("action") or level.get("level")
        at = _instant(level["at"]) if isinstance(level.get("at"), str) else None
        shown.append(f"{name} {at}" if at else str(name))
    return listed(shown)


def data_text(data: Mapping[str, Any], names: Names) -> str:
    """Form data in a history entry: each variable by its label, values in words."""
    return _joined(
        f"{variable_label(key, names)}{colon()}{variable_value(key, value, names)}"
        for key, value in data.items()
    )


def _joined(parts: Iterable[str]) -> str:
    """Parts of one detail: "；"-separated in Chinese, "; " in English."""
    return ("; " if current_locale() == "en" else "；").join(parts)


def named_keys(view: Mapping[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """The person, group and department keys a case or task page names beyond what
    ``case_names`` looks up: in the case's variables (its data and the history's form
    data), who a 催办's outcome or a 协办 clock's standard names."""
    people: set[str] = set()
    groups: set[str] = set()
    departments: set[str] = set()
    datas = [view.get("data") or view.get("case_data") or {}]
    for key in ("owner", "on_behalf_of"):  # a task page's, by key in the task view
        if isinstance(view.get(key), str):
            people.add(view[key])
    for event in view.get("history") or ():
        payload = {**event["payload"], **(event.get("private") or {})}
        if isinstance(payload.get("data"), dict):
            datas.append(payload["data"])
        for key, pattern in (("outcome", _ESCALATED), ("outcome", _REASSIGNED),
                             ("standard", _ASSIST_STANDARD)):  # fmt: skip
            found = pattern.fullmatch(str(payload.get(key) or ""))
            if found:
                people.add(found["key"])
    for data in datas:
        for key, value in data.items():
            if not isinstance(value, str):
                continue
            ladder = LADDER_VARIABLE.fullmatch(key)
            if key in PERSON_VARIABLES:
                people.add(value)
            elif key in GROUP_VARIABLES or (ladder and ladder["part"] == "role"):
                groups.add(value)
            elif key in DEPARTMENT_VARIABLES:
                departments.add(value)
    return people, groups, departments


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
        text = f"{row.get('task') or names.task(row.get('task_id'))}{colon()}{person}"
        if row.get("superior"):
            text = gettext("%(holder)s（上级：%(superior)s）", holder=text,
                           superior=names.person(row["superior"]))  # fmt: skip
        shown.append(text)
    return listed(shown)


def _extensions(value: list[Any]) -> str:
    return listed(_extension(e) for e in value if isinstance(e, dict))


def _extension(row: Mapping[str, Any]) -> str:
    state = REQUEST_STATES.get(row.get("status"), row.get("status"))
    return gettext("%(amount)s（%(state)s）", amount=sla_text(row.get("amount")), state=state)


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
        if value == "case" and value not in names.steps:  # the case's own clock (engine.sla)
            return SCOPES["case"]
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
        return standard_text(value, names.people)
    if key == "definition" and isinstance(value, str):
        return definition_text(value, names)
    if key == "scope":
        return SCOPES.get(value, value)
    if key == "outcome" and isinstance(value, str):
        return outcome_text(value, names)
    if key == "message" and isinstance(value, str) and value in names.messages:
        return names.messages[value]
    if key == "calendar" and isinstance(value, str):
        return calendar_name(value)
    if isinstance(value, str):
        return _instant(value) or value
    return value


def standard_text(standard: str | None, people: Mapping[str, str]) -> str:
    """The SLA standard a clock follows, in words: a 协办 request's names who asked, by
    their name in ``people`` (else by key)."""
    found = _ASSIST_STANDARD.fullmatch(standard or "")
    if found:
        return gettext("%(name)s 请求的协办", name=people.get(found["key"], found["key"]))
    return standard_label(standard)


def clock_standard(clock: Mapping[str, Any]) -> str:
    """A clock's standard in words (the clock panel's): a 协办 clock's asker is looked up
    here, as the clock (the JSON API's too) carries keys only."""
    found = _ASSIST_STANDARD.fullmatch(clock.get("policy") or "")
    people = page_person_names([found["key"]]) if found else {}
    return standard_text(clock.get("policy"), people)


def definition_text(definition: str, names: Names) -> str:
    """A process version as the engine labels it (``case_handling:1``), in words: the
    process's name (the case's; another process by its key) and the version."""
    key, _, version = definition.rpartition(":")
    if not key or not version.isdigit():
        return definition
    own = names.process and names.definition.rpartition(":")[0] == key
    return gettext("%(process)s 第 %(version)s 版", process=names.process if own else key,
                   version=version)  # fmt: skip


def outcome_text(outcome: str, names: Names) -> str:
    """How a 催办 ended, in words, with people by name."""
    if outcome in OUTCOMES:
        return str(OUTCOMES[outcome])
    if found := _ESCALATED.fullmatch(outcome):
        return gettext("已上报给 %(name)s", name=names.person(found["key"]))
    if outcome == f"reassigned to {POOL}":
        return gettext("已退回组任务池")
    if found := _REASSIGNED.fullmatch(outcome):
        return gettext("已改派给 %(name)s", name=names.person(found["key"]))
    if found := _EXTENDED.fullmatch(outcome):
        return gettext("已延期 %(amount)s", amount=sla_text(found["amount"]))
    if found := _HANDLED.fullmatch(outcome):
        return gettext("已处理：%(note)s", note=found["note"])
    if found := _WITHDRAWN.fullmatch(outcome):
        state = TASK_STATES.get(found["state"]) or gettext("已不存在")
        return gettext("已撤回（提问的环节%(state)s）", state=state)
    return engine_text.localize(outcome)


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
        clock_standard=clock_standard,
        definition_text=lambda definition, case: definition_text(definition, Names(case)),
        variable_label=lambda key, source: variable_label(key, Names(source)),
        variable_value=lambda key, value, source: variable_value(key, value, Names(source)),
        actor_name=actor_name,
        # an SLA timer of the whole case is named "<purpose>: case" (engine.sla)
        sla_scope=lambda name: SCOPES["case"] if name == "case" else name,
        data_value=data_value,
    )
