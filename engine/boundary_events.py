"""Non-interrupting boundary events that stay armed (BPMN, Camunda).

SpiffWorkflow 3.2 puts one waiting task per boundary event under the activity's
``BoundaryEventSplit``; once a non-interrupting one fires, its task completes and
nothing listens any more. BPMN says the event stays armed while the activity is
active, so every correlated message, every signal and every escalation thrown inside
starts another token down the boundary's path.

:class:`RearmingBoundaryEvent` does that: when such a non-interrupting boundary
completes and its activity is still open, it adds a fresh waiting sibling of itself
under the same split. The ``BoundaryEventJoin`` already cancels every waiting
boundary task under the split when the activity finishes, so the copies leave with
the activity as the original would. A copy is an ordinary task of the same spec, so
stored instances need nothing new to load.

The spec is serialized under SpiffWorkflow's typename ``BoundaryEvent``: definitions
deployed before this class existed load as it, and re-arm too.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.serializer.default.task_spec import BoundaryEventConverter
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    EscalationEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import (
    BoundaryEvent as BoundaryEventMixin,
)
from SpiffWorkflow.util.task import TaskState

# Events that arrive from outside the boundary's own clock. Not conditionals: re-armed,
# one would fire again at once while its condition holds. Not timers: a date or duration
# is due once, and a cycle repeats by itself.
REARMING = (MessageEventDefinition, SignalEventDefinition, EscalationEventDefinition)


class RearmingBoundaryEvent(BoundaryEvent):
    def _on_complete_hook(self, my_task: Any) -> None:
        super()._on_complete_hook(my_task)
        if self._rearms(my_task):
            self._arm_copy(my_task)

    def _rearms(self, my_task: Any) -> bool:
        if self.cancel_activity or not isinstance(self.event_definition, REARMING):
            return False
        activity = _attached_activity(my_task)
        return activity is not None and not activity.has_state(TaskState.FINISHED_MASK)

    def _arm_copy(self, my_task: Any) -> None:
        """A new waiting task of this spec beside the one that fired, as the split made it."""
        copy = my_task.parent._add_child(self, TaskState.MAYBE)
        # _update predicts the copy's outputs (MAYBE, like the split predicts the first
        # one's) and, as it has not fired, sets it WAITING and registers it with the
        # workflow's event manager, which is what catches the next message.
        self._update(copy)


def _attached_activity(my_task: Any) -> Any:
    """The activity under the same ``BoundaryEventSplit``: the one child that is no boundary.

    The same test as SpiffWorkflow's ``BoundaryEventJoin`` uses to find it.
    """
    children = my_task.parent.children
    return next((t for t in children if not isinstance(t.task_spec, BoundaryEventMixin)), None)


class RearmingBoundaryEventConverter(BoundaryEventConverter):
    """Keeps the typename of the class it replaces, so stored specs restore as ours."""

    def __init__(self, target_class: type, registry: Any) -> None:
        super().__init__(target_class, registry, BoundaryEvent.__name__)
