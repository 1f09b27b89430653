"""CaseClock's BPMN parser: SpiffWorkflow's Camunda parser with our timers and messages.

Timer events become :mod:`engine.timer_events` classes (clock-aware, ISO-text-aware);
message events become SpiffWorkflow's base message definition, whose payload is merged
into the case data (the Camunda flavour nests it under a generated variable); boundary
events become :mod:`engine.boundary_events` specs (non-interrupting messages re-arm).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TIMER_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.parser.util import first, one
from SpiffWorkflow.bpmn.specs.defaults import (
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)

from .boundary_events import RearmingBoundaryEvent
from .timer_events import TIMER_CLASSES
from .timer_text import TimerKind

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)

TIMER_TAGS: dict[str, TimerKind] = {
    "timeDate": "date",
    "timeDuration": "duration",
    "timeCycle": "cycle",
}


class _CaseClockEvents:
    """Mixin for every event parser: our timer and message definitions."""

    def parse_timer_event(self, event: Any) -> Any:
        name = self.node.get("name", self.node.get("id"))
        description = self.get_event_description(event)
        for tag, kind in TIMER_TAGS.items():
            node = first(self.xpath(f".//bpmn:{tag}"))
            if node is not None:
                return TIMER_CLASSES[kind](name, node.text or "", description=description)
        self.raise_validation_exception("timer has no timeDate, timeDuration or timeCycle")
        return None

    def parse_message_event(self, message_event: Any) -> MessageEventDefinition:
        message_ref = message_event.get("messageRef")
        if message_ref:
            message = one(self.doc_xpath(f'.//bpmn:message[@id="{message_ref}"]'))
            name = message.get("name") or message_ref
            correlations = self.get_message_correlations(message_ref)
        else:
            name = message_event.getparent().get("name")
            correlations = []
        return MessageEventDefinition(name, correlations)


class StartEventParser(_CaseClockEvents, CamundaStartEventParser):
    def create_task(self) -> Any:
        # SpiffWorkflow 3.2 reads no error or escalation definition on start events, so an
        # event subprocess started by one would run as soon as the process starts.
        event_definition = self.get_event_definition([
            MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH,
            CONDITIONAL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
        ])  # fmt: skip
        task = self._create_task(event_definition)
        self.spec.start.connect(task)
        return task


class EndEventParser(_CaseClockEvents, CamundaEndEventParser):
    pass


class IntermediateCatchEventParser(_CaseClockEvents, CamundaIntermediateCatchEventParser):
    pass


class IntermediateThrowEventParser(_CaseClockEvents, CamundaIntermediateThrowEventParser):
    pass


class BoundaryEventParser(_CaseClockEvents, CamundaBoundaryEventParser):
    pass


class CaseClockParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("endEvent"): (EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (IntermediateThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, RearmingBoundaryEvent),
    }
