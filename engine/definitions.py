"""Deploying diagrams: hardened parse, validation that names elements, versions.

A deploy is all or nothing. Every file is parsed with :mod:`engine.safexml`, checked
for what CaseClock cannot run (each problem names the element id and says what is
wrong), then parsed by SpiffWorkflow. Each executable process becomes a new
:class:`Definition` version, unless its content is identical to the latest version,
which is then returned unchanged. Running instances keep the version they started on.

A decision table is compiled into the spec of every process that runs it. So a deploy
whose table differs from the one stored under its file name also makes a new version of
each process whose latest version runs one of its decisions (directly or in a called
process; ``meta["decisions"]`` records them), rebuilt from that version's own stored
BPMN file: new instances use the new table, as with Camunda's default binding
``latest``. If one cannot be rebuilt, nothing of the deploy is stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, NoReturn

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from . import audit, feel, forms, notices, safexml, sla
from .calendars import calendar_names
from .errors import DeploymentError, NotFound, ScriptError
from .executor import CommandContext
from .parser import BPMN_NS, CAMUNDA_NS, DMN_NAMESPACES, TIMER_TAGS, CaseClockParser
from .scripting import validate_expression, validate_script
from .store import Definition, Deployment, DeploymentResource
from .store.prepared import Prepared
from .timer_text import TimerTextError, classify

NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
DECISION_REF = f"{{{CAMUNDA_NS}}}decisionRef"

# Elements SpiffWorkflow would accept but CaseClock cannot run correctly yet.
UNSUPPORTED = {
    "serviceTask": "service tasks are not supported yet; use a scriptTask or a userTask",
    "complexGateway": "complex gateways are not supported",
    "compensateEventDefinition": "compensation events are not supported",
    "linkEventDefinition": "link events are not supported",
    "dataStoreReference": "data stores are not supported",
    "choreographyTask": "choreographies are not supported",
}
FLOW_NODES = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "task", "userTask", "manualTask", "scriptTask", "businessRuleTask",
    "sendTask", "receiveTask", "subProcess", "callActivity", "transaction",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "serviceTask", "complexGateway", "adHocSubProcess",
}  # fmt: skip
# What may have several outgoing sequence flows (SpiffWorkflow refuses them elsewhere, in
# words cut short: "not supported for tasks of type").
SPLITTING = {
    "startEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "complexGateway",
}  # fmt: skip
# SpiffWorkflow names its own internal task specs so; an element with such an id would
# be silently replaced by them.
RESERVED_IDS = {"Start", "End", "Root"}
MAX_ID = 100  # the width of the key and element id columns
_JUEL_NAME = re.compile(r"^\s*\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*$")


@dataclass(frozen=True)
class Problem:
    file: str
    element_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.element_id}" if self.element_id else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class DeployedVersion:
    key: str
    version: int
    definition_id: int
    created: bool
    # The changed decisions this version was made for: a process outside the deploy
    # whose latest version runs a decision of a redeployed table.
    decisions: tuple[str, ...] = ()


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _is_dmn(tree: etree._ElementTree) -> bool:
    return etree.QName(tree.getroot()).namespace in DMN_NAMESPACES


# --- validation -------------------------------------------------------------------------


def check_dmn(tree: etree._ElementTree, name: str) -> list[Problem]:
    """SpiffWorkflow runs decision tables only; any other decision logic would fail when a
    business rule task is compiled (or graded) with an unreadable error."""
    return [
        Problem(name, d.get("id"), "only decision tables are supported: this decision has "
                "no decisionTable (a literal expression, an invocation, …)")
        for d in tree.getroot()
        if _local(d.tag) == "decision" and not any(_local(c.tag) == "decisionTable" for c in d)
    ]  # fmt: skip


def check_bpmn(tree: etree._ElementTree, name: str) -> list[Problem]:
    """Problems CaseClock finds itself; also maps ``${name}`` conditions to Python."""
    problems: list[Problem] = []
    root = tree.getroot()
    if etree.QName(root).namespace != BPMN_NS or _local(root.tag) != "definitions":
        return [Problem(name, None, "not a BPMN 2.0 document (bpmn:definitions expected)")]
    processes = root.findall("bpmn:process", NS)
    if not any(p.get("isExecutable", "true").lower() == "true" for p in processes):
        problems.append(Problem(name, None, 'no executable process (isExecutable="true")'))
    for process in processes:
        if not (process.get("id") or "").strip():
            problems.append(Problem(name, None, "a bpmn:process needs an id (its process key)"))
        problems += _check_process(process, name) + _check_sla(process, name)
    return problems


def _check_process(process: etree._Element, name: str) -> list[Problem]:
    problems: list[Problem] = []
    _name_anonymous_flows(process)
    ids = {el.get("id") for el in process.iter() if el.get("id")}
    leaving = Counter(flow.get("sourceRef") for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"))
    for el in process.iter():
        local = _local(el.tag)
        own_id: str = el.get("id") or ""
        element_id = own_id or _owner_id(el)
        if len(own_id) > MAX_ID:
            # Ids are stored as process keys and task and timer element ids.
            problems.append(Problem(name, f"{own_id[:40]}…",
                                    f"the id is {len(own_id):,} characters long; "
                                    f"at most {MAX_ID} are allowed"))  # fmt: skip
        elif el.get("id") in RESERVED_IDS and local in FLOW_NODES:
            problems.append(
                Problem(name, element_id, f"the id {element_id!r} is reserved; rename the element")
            )
        elif local in UNSUPPORTED:
            problems.append(Problem(name, element_id, f"bpmn:{local}: {UNSUPPORTED[local]}"))
        elif local == "sequenceFlow":
            for end in ("sourceRef", "targetRef"):
                if el.get(end) not in ids:
                    problems.append(
                        Problem(name, element_id, f"{end} {el.get(end)!r} names no element")
                    )
            problems += _check_condition(el, name)
        elif local in TIMER_TAGS:
            problems += _check_timer(el, name)
        elif local == "scriptTask":
            problems += _check_script(el, name)
        elif (
            local in FLOW_NODES
            and local not in ("startEvent", "boundaryEvent")
            and _flows_into(process, el.get("id")) == 0
            and _is_in_flow(el)
        ):
            problems.append(Problem(name, element_id, "no incoming sequence flow"))
        if leaving[own_id] > 1 and local in FLOW_NODES and local not in SPLITTING:
            problems.append(Problem(name, element_id, (
                f"{leaving[own_id]} sequence flows leave it: only a gateway splits the flow; "
                "draw an exclusive gateway after it to take one path, or a parallel gateway "
                "to take them all"
            )))  # fmt: skip
        if local in ("userTask", "subProcess", "callActivity"):
            problems += _check_sla(el, name)
        if local == "formField":
            problems += _check_form_field(el, name)
        notice = el.get(f"{{{sla.CASECLOCK_NS}}}notifyApplicant")
        if notice and notice not in notices.TEMPLATES:
            problems.append(Problem(name, element_id, f"notifyApplicant: no notice {notice!r}; "
                                    f"known: {', '.join(notices.TEMPLATES)}"))  # fmt: skip
    return problems


def _name_anonymous_flows(process: etree._Element) -> None:
    """SpiffWorkflow drops sequence flows without an id; give them one."""
    for number, flow in enumerate(process.iter(f"{{{BPMN_NS}}}sequenceFlow"), start=1):
        if not flow.get("id"):
            flow.set("id", f"Flow_{flow.get('sourceRef')}_{flow.get('targetRef')}_{number}")


def _event_id(node: etree._Element) -> str | None:
    """The id of the event a timer text belongs to (not its timerEventDefinition's)."""
    parent = node.getparent()
    while parent is not None and _local(parent.tag) not in FLOW_NODES:
        parent = parent.getparent()
    return parent.get("id") if parent is not None else _owner_id(node)


def _owner_id(el: etree._Element) -> str | None:
    parent = el.getparent()
    while parent is not None:
        if parent.get("id"):
            return parent.get("id")
        parent = parent.getparent()
    return None


def _flows_into(process: etree._Element, element_id: str | None) -> int:
    return len(process.xpath(".//bpmn:sequenceFlow[@targetRef=$id]", namespaces=NS, id=element_id))


def _is_in_flow(el: etree._Element) -> bool:
    """Event-subprocess start events and compensation handlers have no incoming flow."""
    parent = el.getparent()
    in_event_subprocess = parent is not None and parent.get("triggeredByEvent") == "true"
    return not (in_event_subprocess or el.get("triggeredByEvent") == "true")


def _check_form_field(field: etree._Element, name: str) -> list[Problem]:
    """Named at the task (or start event) that declares the field; the message names it."""
    return [Problem(name, _owner_id(field), p) for p in forms.field_problems(_form_field(field))]


def _check_sla(el: etree._Element, name: str) -> list[Problem]:
    try:
        sla.read_attributes(el)
    except ValueError as exc:
        return [Problem(name, el.get("id"), f"SLA: {exc}")]
    return []


def _check_condition(flow: etree._Element, name: str) -> list[Problem]:
    condition = flow.find("bpmn:conditionExpression", NS)
    if condition is None or not (condition.text or "").strip():
        return []
    text = condition.text.strip()
    match = _JUEL_NAME.match(text)
    if match:
        condition.text = match.group(1)
        return []
    if text.startswith(("${", "#{")):
        return [
            Problem(
                name,
                flow.get("id"),
                f"condition {text!r} is in another engine's expression language; "
                "write a Python expression (e.g. approved == True)",
            )
        ]
    language = condition.get("language", "")
    if language and "python" not in language.lower():
        return [Problem(name, flow.get("id"), f"condition language {language!r} not supported")]
    return _refused(name, flow.get("id"), validate_expression, text)


def _check_timer(node: etree._Element, name: str) -> list[Problem]:
    event_id = _event_id(node)
    try:
        text = classify(TIMER_TAGS[_local(node.tag)], node.text)
    except TimerTextError as exc:
        return [Problem(name, event_id, f"bad timer text: {exc}")]
    if text.form == "expression":
        return _refused(name, event_id, validate_expression, text.value)
    return []


def _check_script(task: etree._Element, name: str) -> list[Problem]:
    script_format = (task.get("scriptFormat") or "python").lower()
    if "python" not in script_format:
        return [Problem(name, task.get("id"), f"scriptFormat {script_format!r} not supported")]
    script = task.find("bpmn:script", NS)
    if script is None or not (script.text or "").strip():
        return [Problem(name, task.get("id"), "script task has no script")]
    return _refused(name, task.get("id"), validate_script, script.text)


def _refused(name: str, element_id: str | None, check: Any, code: str) -> list[Problem]:
    try:
        check(code)
    except ScriptError as exc:
        return [Problem(name, element_id, exc.message)]
    return []


# --- metadata -----------------------------------------------------------------------------


def extract_meta(tree: etree._ElementTree, process: etree._Element) -> dict[str, Any]:
    """What the engine needs beyond SpiffWorkflow: assignment, forms, timers, messages."""
    lanes = _lanes(process)
    messages = {
        m.get("id"): m.get("name") or m.get("id") for m in tree.iterfind(".//bpmn:message", NS)
    }
    user_tasks = {}
    for task in process.iterfind(".//bpmn:userTask", NS):
        user_tasks[task.get("id")] = {
            "name": task.get("name") or task.get("id"),
            "lane": _lane_of(task, lanes),
            "assignee": task.get(f"{{{CAMUNDA_NS}}}assignee"),
            "candidate_groups": task.get(f"{{{CAMUNDA_NS}}}candidateGroups"),
            "candidate_users": task.get(f"{{{CAMUNDA_NS}}}candidateUsers"),
            "form": [_form_field(f) for f in task.iterfind(".//camunda:formField", NS)],
            "sla": sla.read_attributes(task),
        }
    timers = {}
    for event in process.iter(f"{{{BPMN_NS}}}boundaryEvent", f"{{{BPMN_NS}}}intermediateCatchEvent",
                              f"{{{BPMN_NS}}}startEvent"):  # fmt: skip
        definition = event.find("bpmn:timerEventDefinition", NS)
        if definition is None:
            continue
        node = next(iter(definition), None)
        timers[event.get("id")] = {
            "name": event.get("name") or event.get("id"),
            "kind": TIMER_TAGS.get(_local(node.tag), "duration") if node is not None else None,
            "text": (node.text or "").strip() if node is not None else "",
            "attached_to": event.get("attachedToRef"),
            "interrupting": event.get("cancelActivity", "true") == "true"
            and event.get("isInterrupting", "true") == "true",
        }
    message_starts = [
        messages.get(m.get("messageRef"))
        for start in process.findall("bpmn:startEvent", NS)
        for m in start.findall("bpmn:messageEventDefinition", NS)
    ]
    message_catches = {
        event.get("id"): messages.get(m.get("messageRef"))
        for event in process.iter(f"{{{BPMN_NS}}}intermediateCatchEvent")
        for m in event.findall("bpmn:messageEventDefinition", NS)
    }
    return {
        "process_key": process.get("id"),
        "calendar": process.get(f"{{{sla.CASECLOCK_NS}}}calendar"),
        "case_sla": sla.read_attributes(process),
        "user_tasks": user_tasks,
        "message_catches": message_catches,
        # Lets commands skip the subscription projection for processes without messages.
        "has_messages": bool(process.xpath(".//bpmn:messageEventDefinition", namespaces=NS)),
        "timers": timers,
        "message_starts": message_starts,
        "event_subprocesses": _event_subprocesses(process, messages),
        "subprocess_slas": {
            el.get("id"): sla.read_attributes(el)
            for el in process.iter(f"{{{BPMN_NS}}}subProcess", f"{{{BPMN_NS}}}callActivity")
            if el.get("triggeredByEvent") != "true" and sla.read_attributes(el)
        },
        "applicant_notices": {
            el.get("id"): el.get(f"{{{sla.CASECLOCK_NS}}}notifyApplicant")
            for el in process.iter()
            if el.get(f"{{{sla.CASECLOCK_NS}}}notifyApplicant")
        },
    }


def _event_subprocesses(process: etree._Element, messages: dict[str, str]) -> dict[str, Any]:
    """Top-level event subprocesses: their start event, whether it interrupts, its message."""
    found = {}
    for sub in process.findall("bpmn:subProcess[@triggeredByEvent='true']", NS):
        start = sub.find("bpmn:startEvent", NS)
        if start is None:
            continue
        message = start.find("bpmn:messageEventDefinition", NS)
        found[sub.get("id")] = {
            "start": start.get("id"),
            "interrupting": start.get("isInterrupting", "true") == "true",
            "message": messages.get(message.get("messageRef")) if message is not None else None,
        }
    return found


def _lanes(process: etree._Element) -> dict[str, str]:
    lanes = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    return lanes


def _lane_of(el: etree._Element, lanes: dict[str, str]) -> str | None:
    node: etree._Element | None = el
    while node is not None:
        if node.get("id") in lanes:
            return lanes[node.get("id")]
        node = node.getparent()
    return None


def _form_field(field: etree._Element) -> dict[str, Any]:
    constraints = {
        c.get("name"): c.get("config")
        for c in field.iterfind("camunda:validation/camunda:constraint", NS)
    }
    return {
        "id": field.get("id"),
        "label": field.get("label") or field.get("id"),
        "type": field.get("type") or "string",
        "default": field.get("defaultValue"),
        "constraints": constraints,
        "options": [
            {"id": v.get("id"), "name": v.get("name")} for v in field.iterfind("camunda:value", NS)
        ],
    }


# --- the deploy command --------------------------------------------------------------------


class DeployDiagrams:
    """Deploy one or more BPMN/DMN files as one unit.

    .. versionchanged:: issue 6
       A changed decision table also makes a new version of every process whose latest
       version runs one of its decisions (Camunda's ``decisionRefBinding="latest"``),
       rebuilt from that version's own stored BPMN file in the same transaction.
    """

    name = "deploy"

    def __init__(self, files: list[tuple[str, bytes]]) -> None:
        if not files:
            raise DeploymentError("nothing to deploy: give at least one .bpmn or .dmn file")
        self.files = files

    def __call__(self, ctx: CommandContext) -> list[DeployedVersion]:
        trees = [(name, safexml.parse(content, name)) for name, content in self.files]
        problems = [
            p
            for name, tree in trees
            for p in (check_dmn(tree, name) if _is_dmn(tree) else check_bpmn(tree, name))
        ]
        problems += _unknown_calendars(ctx.session, trees)
        if problems:
            _raise(problems)
        problems = _warnings_never_given(ctx, trees)  # needs the calendars found above
        if problems:
            _raise(problems)
        parser = CaseClockParser()
        for name, tree in trees:
            _add_to_parser(parser, name, tree)
        _add_dependencies(ctx, parser, trees)
        change = _changed_tables(ctx, self.files, trees)
        deployment = _store_deployment(ctx, self.files) if change.files else None
        results = []
        for name, tree in trees:
            if _is_dmn(tree):
                continue
            for process in _executable(tree):
                build = _build(ctx, parser, name, tree, process)
                _refuse_dropped(change, build.key, build.meta["decisions"])
                if build.latest is not None and build.latest.content_hash == build.digest:
                    latest = build.latest
                    results.append(DeployedVersion(latest.key, latest.version, latest.id, False))
                    continue
                if deployment is None:
                    deployment = _store_deployment(ctx, self.files)
                results.append(_add_version(ctx, build, deployment))
        if change.decisions and deployment is not None:
            deployed = {r.key for r in results}
            results += _redeploy_dependents(ctx, change, deployed, deployment)
        if deployment is not None:
            audit.append(ctx, "deploy", payload={
                "deployment_id": deployment.id,
                "files": [n for n, _ in self.files],
                "versions": [f"{r.key}:{r.version}" for r in results if r.created],
                "dependents": [
                    {"version": f"{r.key}:{r.version}", "decisions": list(r.decisions)}
                    for r in results if r.decisions
                ],
            })  # fmt: skip
        return results


@dataclass(frozen=True)
class _Build:
    """One process parsed for a deploy, before it is stored (or found unchanged)."""

    key: str
    name: str
    spec_json: str
    meta: dict[str, Any]
    digest: str
    latest: Definition | None


def _executable(tree: etree._ElementTree) -> list[etree._Element]:
    return [
        p
        for p in tree.getroot().findall("bpmn:process", NS)
        if p.get("isExecutable", "true").lower() == "true"
    ]


def _unknown_calendars(session: Session, trees: list[tuple[str, Any]]) -> list[Problem]:
    """A calendar a diagram names must exist when it is deployed: its first case's
    deadlines are computed in it, and a missing one would fail that case, not the deploy."""
    attribute = f"{{{sla.CASECLOCK_NS}}}calendar"
    named = [
        (name, el.get("id"), el.get(attribute).strip())
        for name, tree in trees
        if not _is_dmn(tree)
        for el in tree.getroot().iter(etree.Element)
        if (el.get(attribute) or "").strip()
    ]
    known = calendar_names(session) if named else []
    return [
        Problem(name, element_id, f"no calendar {wanted!r}; known calendars: {', '.join(known)}")
        for name, element_id, wanted in named
        if wanted not in known
    ]


def _warnings_never_given(ctx: CommandContext, trees: list[tuple[str, Any]]) -> list[Problem]:
    """A warning that falls at or after its deadline, or before its clock starts, would
    never be given: refused at deploy, as an SLA standard with one is. Placed on a clock
    starting now in the element's calendar (else its process's)."""
    found = []
    for name, tree in trees:
        if _is_dmn(tree):
            continue
        for process in _executable(tree):
            default = process.get(f"{{{sla.CASECLOCK_NS}}}calendar")
            for el in process.iter(etree.Element):
                declared = sla.read_attributes(el)
                if not declared or not declared["warnings"]:
                    continue
                calendar = ctx.calendar(declared["calendar"] or default)
                found += [
                    Problem(name, el.get("id"), f"SLA: {sla.never_given(text, declared['limit'])}")
                    for text in sla.misplaced_warnings(calendar, ctx.now, declared)
                ]
    return found


def _build(
    ctx: CommandContext,
    parser: CaseClockParser,
    name: str,
    tree: etree._ElementTree,
    process: etree._Element,
) -> _Build:
    key = process.get("id")
    spec_json = _spec_json(ctx, parser, name, key)
    meta = extract_meta(tree, process)
    digest = _digest(spec_json, meta)
    # Derived from the spec, so kept out of the digest: versions stored before it was
    # recorded still compare equal to an identical redeploy.
    meta["decisions"] = _decisions(parser, key)
    return _Build(key, process.get("name") or key, spec_json, meta, digest,
                  latest_or_none(ctx.session, key))  # fmt: skip


def _add_version(
    ctx: CommandContext, build: _Build, deployment: Deployment, decisions: tuple[str, ...] = ()
) -> DeployedVersion:
    definition = Definition(
        key=build.key,
        version=(build.latest.version + 1) if build.latest else 1,
        name=build.name,
        content_hash=build.digest,
        deployment_id=deployment.id,
        spec_json=build.spec_json,
        meta=build.meta,
        deployed_at=ctx.now,
    )
    ctx.session.add(definition)
    ctx.session.flush()
    return DeployedVersion(definition.key, definition.version, definition.id, True, decisions)


def _raise(problems: list[Problem]) -> NoReturn:
    shown = "; ".join(str(p) for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    raise DeploymentError(
        f"cannot deploy: {shown}{more}",
        details={"problems": [
            {"file": p.file, "element_id": p.element_id, "message": p.message} for p in problems
        ]},
    )  # fmt: skip


def _add_to_parser(parser: CaseClockParser, name: str, tree: etree._ElementTree) -> None:
    try:
        if _is_dmn(tree):
            # FEEL unary tests become the Python tests SpiffWorkflow evaluates.
            parser.add_dmn_xml(feel.translate_dmn(tree, name).getroot(), filename=name)
        else:
            parser.add_bpmn_xml(tree, filename=name)
    except SpiffWorkflowException as exc:
        _raise([_problem_from(exc, name)])


def _problem_from(exc: SpiffWorkflowException, name: str) -> Problem:
    element_id = getattr(exc, "id", None) or getattr(exc, "task_spec", None)
    return Problem(getattr(exc, "file_name", "") or name, element_id or None, str(exc).strip())


def _spec_json(ctx: CommandContext, parser: CaseClockParser, name: str, process_id: str) -> str:
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as exc:
        _raise([_problem_from(exc, name)])
    except Exception as exc:  # SpiffWorkflow raises bare exceptions for some bad input
        _raise([Problem(name, process_id, f"{type(exc).__name__}: {exc}")])
    return ctx.services.serializer.spec_to_json(spec, subprocess_specs)


def _add_dependencies(
    ctx: CommandContext, parser: CaseClockParser, trees: list[tuple[str, etree._ElementTree]]
) -> None:
    """Called processes and decision tables deployed earlier are added to the parser."""
    new_files = {name for name, _ in trees}
    problems = []
    for key in sorted(parser.get_process_dependencies() - set(parser.get_process_ids())):
        latest = latest_or_none(ctx.session, key)
        if latest is None:
            problems += _referrers(trees, "callActivity", "calledElement", key,
                                   f"calls process {key!r}, which is neither in this deploy "
                                   "nor deployed before")  # fmt: skip
            continue
        for resource in _resources(ctx.session, latest.deployment_id):
            if resource.name not in new_files:
                _add_to_parser(
                    parser, resource.name, safexml.parse(resource.content, resource.name)
                )
    missing = parser.get_dmn_dependencies() - set(parser.dmn_parsers)
    for decision in sorted(missing - _add_deployed_decisions(ctx, parser, missing)):
        problems += _referrers(trees, "businessRuleTask", DECISION_REF, decision,
                               f"needs decision {decision!r}: deploy its .dmn file "
                               "first or together with this diagram")  # fmt: skip
    if problems:
        _raise(problems)


def _referrers(
    trees: list[tuple[str, etree._ElementTree]], tag: str, attribute: str, value: str, text: str
) -> list[Problem]:
    return [
        Problem(name, el.get("id"), text)
        for name, tree in trees
        for el in tree.iter(f"{{{BPMN_NS}}}{tag}")
        if el.get(attribute) == value
    ]


def _add_deployed_decisions(
    ctx: CommandContext, parser: CaseClockParser, wanted: set[str]
) -> set[str]:
    """Add earlier deployed decision tables among ``wanted``; return the ids found."""
    found: set[str] = set()
    if not wanted:
        return found
    rows = ctx.session.scalars(
        select(DeploymentResource)
        .where(DeploymentResource.name.like("%.dmn"))
        .order_by(DeploymentResource.id.desc())
    )
    for resource in rows:
        tree = safexml.parse(resource.content, resource.name)
        ids = _decision_ids(tree)
        if ids & (wanted - found):
            _add_to_parser(parser, resource.name, tree)
            found |= ids
        if wanted <= found:
            break
    return found & wanted


@dataclass(frozen=True)
class _TableChange:
    """The decision table files of a deploy that differ from those stored under their names."""

    files: tuple[str, ...]
    # Every decision table file of the deploy, changed or not: dependents are parsed
    # with the same tables as the deploy's own diagrams.
    tables: tuple[tuple[str, bytes], ...]
    # Defined by those files, now or in the file they replace.
    decisions: frozenset[str]
    # Decision id -> the file that defined it before and no longer does (nor does any
    # other file of the deploy).
    dropped: dict[str, str]


def _changed_tables(
    ctx: CommandContext,
    files: list[tuple[str, bytes]],
    trees: list[tuple[str, etree._ElementTree]],
) -> _TableChange:
    changed: list[str] = []
    tables: list[tuple[str, bytes]] = []
    decisions: set[str] = set()
    before: dict[str, str] = {}
    for (name, content), (_, tree) in zip(files, trees, strict=True):
        if not _is_dmn(tree):
            continue
        tables.append((name, content))
        stored = ctx.session.scalars(
            select(DeploymentResource.content)
            .where(DeploymentResource.name == name)
            .order_by(DeploymentResource.id.desc())
            .limit(1)
        ).first()
        if stored == content:
            continue
        changed.append(name)
        decisions |= _decision_ids(tree)
        if stored is not None:
            before |= dict.fromkeys(_decision_ids(safexml.parse(stored, name)), name)
    now = {d for _, tree in trees if _is_dmn(tree) for d in _decision_ids(tree)}
    dropped = {d: name for d, name in before.items() if d not in now}
    return _TableChange(tuple(changed), tuple(tables), frozenset(decisions | before.keys()),
                        dropped)  # fmt: skip


def _decision_ids(tree: etree._ElementTree) -> set[str]:
    return {d.get("id") for d in tree.getroot() if _local(d.tag) == "decision"}


def _decisions(parser: CaseClockParser, process_id: str) -> list[str]:
    """The decisions a version runs: its own business rule tasks' and its called processes'."""
    found: set[str] = set()
    for key in (process_id, *parser.get_subprocess_specs(process_id)):
        process_parser = parser.get_process_parser(key)
        if process_parser is not None:
            found |= _decision_refs(process_parser.node)
    return sorted(found)


def _decision_refs(node: etree._Element) -> set[str]:
    return {
        ref
        for task in node.iter(f"{{{BPMN_NS}}}businessRuleTask")
        if (ref := task.get(DECISION_REF))
    }


def _refuse_dropped(change: _TableChange, key: str, decisions: list[str]) -> None:
    problems = [
        Problem(change.dropped[d], d, f"decision {d!r} is no longer defined, but process "
                f"{key!r} runs it: keep it, or first deploy a version of the process without it")
        for d in decisions
        if d in change.dropped
    ]  # fmt: skip
    if problems:
        _raise(problems)


def _redeploy_dependents(
    ctx: CommandContext, change: _TableChange, deployed: set[str], deployment: Deployment
) -> list[DeployedVersion]:
    """New versions of the processes (outside this deploy) whose latest version runs a
    changed decision: new instances get the new table, running ones keep their version."""
    copied: set[tuple[str, bytes]] = set()
    results = []
    for latest in _latest_definitions(ctx.session):
        if latest.key in deployed:
            continue
        hit = sorted(_used_decisions(ctx.session, latest) & change.decisions)
        if not hit:
            continue
        _refuse_dropped(change, latest.key, hit)
        source = stored_source(ctx.session, latest)
        if source is None:
            message = f"{_runs(latest, hit)}, but its BPMN file is not stored: deploy it again"
            _raise([Problem(latest.key, None, message)])
        build = _rebuild(ctx, latest, source, change.tables, hit)
        if build.digest == latest.content_hash:
            continue
        # The new deployment holds every file its versions were built from, so the
        # designer opens them and a later table change rebuilds them again.
        if (source.name, source.content) not in copied:
            copied.add((source.name, source.content))
            ctx.session.add(DeploymentResource(deployment_id=deployment.id, name=source.name,
                                               content=source.content))  # fmt: skip
        results.append(_add_version(ctx, build, deployment, tuple(hit)))
    return results


def _runs(definition: Definition, decisions: list[str]) -> str:
    return (f"process {definition.key!r} (version {definition.version}) runs the changed "
            f"decision {', '.join(decisions)}")  # fmt: skip


def _latest_definitions(session: Session) -> list[Definition]:
    newest = (
        select(Definition.key, func.max(Definition.version).label("version"))
        .group_by(Definition.key)
        .subquery()
    )
    return list(
        session.scalars(
            select(Definition)
            .join(
                newest, (Definition.key == newest.c.key) & (Definition.version == newest.c.version)
            )
            .order_by(Definition.key)
        )
    )


def _used_decisions(
    session: Session, definition: Definition, seen: frozenset[str] = frozenset()
) -> set[str]:
    """The decisions recorded at deploy; for versions deployed before they were recorded,
    every decisionRef in their stored BPMN file and in the processes it calls (a superset:
    an unaffected process rebuilds to the same digest, so it gets no new version)."""
    if "decisions" in definition.meta:
        return set(definition.meta["decisions"])
    source = stored_source(session, definition)
    if source is None:
        return set()
    root = safexml.parse(source.content, source.name).getroot()
    found = _decision_refs(root)
    seen |= {definition.key}
    for called in {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")}:
        latest = latest_or_none(session, called) if called not in seen else None
        if latest is not None:
            found |= _used_decisions(session, latest, seen)
    return found


def _rebuild(
    ctx: CommandContext,
    definition: Definition,
    source: DeploymentResource,
    tables: tuple[tuple[str, bytes], ...],
    decisions: list[str],
) -> _Build:
    """Parse ``definition``'s own stored BPMN file again, with this deploy's tables."""
    try:
        tree = safexml.parse(source.content, source.name)
        problems = check_bpmn(tree, source.name)  # also maps ${name} conditions, as at deploy
        if problems:
            _raise(problems)
        parser = CaseClockParser()
        _add_to_parser(parser, source.name, tree)
        # Parsed afresh: translating a table's FEEL rewrites its tree.
        dmn_trees = [(name, safexml.parse(content, name)) for name, content in tables]
        for name, dmn_tree in dmn_trees:
            _add_to_parser(parser, name, dmn_tree)
        _add_dependencies(ctx, parser, [(source.name, tree), *dmn_trees])
        process = tree.getroot().xpath("bpmn:process[@id=$id]", namespaces=NS, id=definition.key)
        return _build(ctx, parser, source.name, tree, process[0])
    except DeploymentError as exc:
        found = exc.details.get("problems") or [
            {"file": source.name, "element_id": None, "message": exc.message}
        ]
        _raise([Problem(p["file"], p["element_id"], f"{_runs(definition, decisions)} and "
                        f"cannot be rebuilt with the new table: {p['message']}")
                for p in found])  # fmt: skip


def stored_source(session: Session, definition: Definition) -> DeploymentResource | None:
    """The BPMN file, among those stored with ``definition``'s deployment, defining it."""
    for resource in _resources(session, definition.deployment_id):
        if resource.name.endswith(".dmn"):
            continue
        root = safexml.parse(resource.content, resource.name).getroot()
        if root.xpath("bpmn:process[@id=$id]", namespaces=NS, id=definition.key):
            return resource
    return None


def _resources(session: Session, deployment_id: int) -> list[DeploymentResource]:
    return list(
        session.scalars(
            select(DeploymentResource)
            .where(DeploymentResource.deployment_id == deployment_id)
            .order_by(DeploymentResource.id)
        )
    )


def _digest(spec_json: str, meta: dict[str, Any]) -> str:
    blob = spec_json + json.dumps(meta, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _store_deployment(ctx: CommandContext, files: list[tuple[str, bytes]]) -> Deployment:
    deployment = Deployment(deployed_at=ctx.now, deployed_by=ctx.actor)
    ctx.session.add(deployment)
    ctx.session.flush()
    for name, content in files:
        ctx.session.add(DeploymentResource(deployment_id=deployment.id, name=name, content=content))
    return deployment


def latest_or_none(session: Any, key: str) -> Definition | None:
    return session.scalars(
        select(Definition).where(Definition.key == key).order_by(Definition.version.desc()).limit(1)
    ).first()


# Prepared: a start runs it every time, and a deploy flushes its rows, so nothing
# pending in the session can be missed by reading on the connection.
_LATEST_ID = Prepared(
    select(Definition.id)
    .where(Definition.key == bindparam("key"))
    .order_by(Definition.version.desc())
    .limit(1)
)


def latest_definition_id(session: Any, key: str) -> int:
    """The id only: the definition cache holds the rest, so no row is loaded."""
    found = _LATEST_ID.rows(session.connection(), {"key": key})
    if not found:
        known = ", ".join(session.scalars(select(Definition.key).distinct())) or "none"
        raise NotFound(f"no process definition with key {key!r} (deployed: {known})")
    return found[0].id
