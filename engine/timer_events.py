"""SpiffWorkflow timer event definitions that obey CaseClock's clock and time zone.

SpiffWorkflow's own timers read ``datetime.now(timezone.utc)`` and evaluate timer
text as Python. These subclasses read "now" from the workflow's script engine
(``script_engine.clock``), read dates without offset in ``script_engine.timezone``,
and accept timer text as :mod:`engine.timer_text` classifies it. They are swapped in
by the parser and registered with the serializer, so no module global is patched.

The computed due time lives in ``internal_data['event_value']`` (ISO, UTC) exactly
where SpiffWorkflow keeps it, so it survives serialization and is what the timer
projection reads.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.util.task import TaskState

from .calendar import parse_duration as parse_calendar_duration
from .timer_text import Cycle, TimerKind, classify, due_from_value, parse_duration


def _now(my_task: Any) -> datetime:
    return my_task.workflow.script_engine.clock.now()


def _evaluate(my_task: Any, kind: TimerKind, expression: str) -> Any:
    text = classify(kind, expression)
    if text.form == "iso":
        return text.value
    return my_task.workflow.script_engine.evaluate(my_task, text.value)


def _due(my_task: Any, kind: TimerKind, expression: str) -> datetime | Cycle:
    text = classify(kind, expression)
    if text.form == "calendar":
        calendar = my_task.workflow.top_workflow.calendar_provider()
        return parse_calendar_duration(text.value).add_to(calendar, _now(my_task))
    engine = my_task.workflow.script_engine
    return due_from_value(
        kind, _evaluate(my_task, kind, expression), _now(my_task), engine.timezone
    )


def _released(my_task: Any) -> bool:
    """Whether this timer may fire now.

    SpiffWorkflow re-checks every waiting timer after each engine step, so any command
    would fire every overdue timer at once. The engine instead sets
    ``released_timers`` on the workflow: only the timer the worker is firing (in due
    order, one command each) may fire. Without the attribute, timers behave as usual.
    """
    released = getattr(my_task.workflow.top_workflow, "released_timers", None)
    return released is None or my_task.id in released


def _fire_if_due(my_task: Any, kind: TimerKind, expression: str) -> bool:
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        due = _due(my_task, kind, expression)
        assert isinstance(due, datetime)
        event_value = due.isoformat()
        my_task._set_internal_data(event_value=event_value)
    if _released(my_task) and datetime.fromisoformat(event_value) <= _now(my_task):
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data("event_fired", False)


class ClockedTimeDate(TimeDateEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        return _fire_if_due(my_task, "date", self.expression)


class ClockedDuration(DurationTimerEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        return _fire_if_due(my_task, "duration", self.expression)


class ClockedCycle(CycleTimerEventDefinition):
    """``R[n]/…``: fires each time ``next`` passes, ``cycles`` times (-1 = forever)."""

    def cycle_complete(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            cycle = _due(my_task, "cycle", self.expression)
            assert isinstance(cycle, Cycle)
            event_value = {
                "cycles": cycle.repetitions,
                "next": cycle.first.isoformat(),
                "interval": _interval_text(self.expression, my_task),
            }
        ready = False
        if event_value["cycles"] != 0:
            next_at = datetime.fromisoformat(event_value["next"])
            if _released(my_task) and next_at <= _now(my_task):
                following = parse_duration(event_value["interval"]).after(next_at)
                event_value["next"] = following.astimezone(timezone.utc).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        my_task._set_internal_data(event_value=event_value)
        return ready

    def update_task(self, my_task: Any) -> None:
        if self.cycle_complete(my_task):
            for output in my_task.task_spec.outputs:
                child = my_task._add_child(output, TaskState.FUTURE)
                child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
                child.task_spec._update(child)

    def details(self, my_task: Any) -> PendingBpmnEvent:
        event_value = my_task._get_internal_data("event_value")
        if event_value is not None and event_value["cycles"] != 0:
            event_value = event_value["next"]
        return PendingBpmnEvent(self.name, self.__class__.__name__, event_value)


def _interval_text(expression: str, my_task: Any) -> str:
    value = _evaluate(my_task, "cycle", expression)
    parts = str(value).strip().upper().split("/")
    return next(part for part in reversed(parts) if part.startswith("P"))


TIMER_CLASSES: dict[TimerKind, type] = {
    "date": ClockedTimeDate,
    "duration": ClockedDuration,
    "cycle": ClockedCycle,
}
