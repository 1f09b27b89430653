"""Loading and saving SpiffWorkflow state, with an in-memory cache of live workflows.

Deserializing a workflow costs more than the rest of a command, so a process keeps
the workflows it recently used, keyed by instance id and tagged with the row's
``version``. The instance row is locked first, so the version read is current: a
cached workflow is reused only when no other process has changed the instance since.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from .serialization import WorkflowSerializer
from .store import Definition, ProcessInstance


class SpecCache:
    """Built spec objects per definition id; specs never change once deployed."""

    def __init__(self, serializer: WorkflowSerializer) -> None:
        self._serializer = serializer
        self._specs: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._lock = Lock()

    def get(self, definition: Definition) -> tuple[Any, dict[str, Any]]:
        with self._lock:
            specs = self._specs.get(definition.id)
        if specs is None:
            specs = self._serializer.spec_from_json(definition.spec_json)
            with self._lock:
                self._specs[definition.id] = specs
        return specs


class WorkflowCache:
    def __init__(self, serializer: WorkflowSerializer, specs: SpecCache, size: int) -> None:
        self._serializer = serializer
        self._specs = specs
        self._size = size
        self._entries: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = Lock()

    def load(self, instance: ProcessInstance, script_engine: Any) -> BpmnWorkflow:
        with self._lock:
            entry = self._entries.get(instance.id)
            if entry is not None and entry[0] == instance.version:
                self._entries.move_to_end(instance.id)
                return entry[1]
        spec, subprocess_specs = self._specs.get(instance.definition)
        workflow = self._serializer.state_from_json(instance.workflow_state, spec, subprocess_specs)
        workflow.script_engine = script_engine
        workflow.released_timers = frozenset()  # see engine.timer_events._released
        return workflow

    def new(self, definition: Definition, script_engine: Any) -> BpmnWorkflow:
        spec, subprocess_specs = self._specs.get(definition)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
        workflow.released_timers = frozenset()
        return workflow

    def save(self, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        """Write the state to the row and remember the workflow under the new version."""
        instance.workflow_state = self._serializer.state_to_json(workflow)
        instance.version += 1
        with self._lock:
            self._entries[instance.id] = (instance.version, workflow)
            self._entries.move_to_end(instance.id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def evict(self, instance_id: int) -> None:
        with self._lock:
            self._entries.pop(instance_id, None)
