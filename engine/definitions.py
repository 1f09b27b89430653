"""Deploying diagrams: hardened parse, validation that names elements, versions.

A deploy is all or nothing. Every file is parsed with :mod:`engine.safexml`, checked
for what CaseClock cannot run (each problem names the element id and says what is
wrong), then parsed by SpiffWorkflow. Each executable process becomes a new
:class:`Definition` version, unless its content is identical to the latest version,
which is then returned unchanged. Running instances keep the version they started on.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import bindparam, select

from . import audit, feel, notices, safexml, sla
from .errors import DeploymentError, NotFound, ScriptError
from .executor import CommandContext
from .parser import BPMN_NS, CAMUNDA_NS, DMN_NAMESPACES, TIMER_TAGS, CaseClockParser
from .scripting import validate_expression, validate_script
from .store import Definition, Deployment, DeploymentResource
from .timer_text import TimerTextError, classify

NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}

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
# SpiffWorkflow names its own internal task specs so; an element with such an id would
# be silently replaced by them.
RESERVED_IDS = {"Start", "End", "Root"}
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


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _is_dmn(tree: etree._ElementTree) -> bool:
    return etree.QName(tree.getroot()).namespace in DMN_NAMESPACES


# --- validation -------------------------------------------------------------------------


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
        problems += _check_process(process, name) + _check_sla(process, name)
    return problems


def _check_process(process: etree._Element, name: str) -> list[Problem]:
    problems: list[Problem] = []
    _name_anonymous_flows(process)
    ids = {el.get("id") for el in process.iter() if el.get("id")}
    for el in process.iter():
        local = _local(el.tag)
        element_id = el.get("id") or _owner_id(el)
        if el.get("id") in RESERVED_IDS and local in FLOW_NODES:
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
        if local in ("userTask", "subProcess", "callActivity"):
            problems += _check_sla(el, name)
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
    """Deploy one or more BPMN/DMN files as one unit."""

    name = "deploy"

    def __init__(self, files: list[tuple[str, bytes]]) -> None:
        if not files:
            raise DeploymentError("nothing to deploy: give at least one .bpmn or .dmn file")
        self.files = files

    def __call__(self, ctx: CommandContext) -> list[DeployedVersion]:
        trees = [(name, safexml.parse(content, name)) for name, content in self.files]
        problems = [p for name, tree in trees if not _is_dmn(tree) for p in check_bpmn(tree, name)]
        if problems:
            _raise(problems)
        parser = CaseClockParser()
        for name, tree in trees:
            _add_to_parser(parser, name, tree)
        _add_dependencies(ctx, parser, trees)
        new_decisions = _new_decisions(ctx, self.files, trees)
        deployment = _store_deployment(ctx, self.files) if new_decisions else None
        results = []
        for name, tree in trees:
            if _is_dmn(tree):
                continue
            for process in tree.getroot().findall("bpmn:process", NS):
                if process.get("isExecutable", "true").lower() != "true":
                    continue
                spec_json = _spec_json(ctx, parser, name, process.get("id"))
                meta = extract_meta(tree, process)
                digest = _digest(spec_json, meta)
                latest = latest_or_none(ctx.session, process.get("id"))
                if latest is not None and latest.content_hash == digest:
                    results.append(DeployedVersion(latest.key, latest.version, latest.id, False))
                    continue
                if deployment is None:
                    deployment = _store_deployment(ctx, self.files)
                definition = Definition(
                    key=process.get("id"),
                    version=(latest.version + 1) if latest else 1,
                    name=process.get("name") or process.get("id"),
                    content_hash=digest,
                    deployment_id=deployment.id,
                    spec_json=spec_json,
                    meta=meta,
                    deployed_at=ctx.now,
                )
                ctx.session.add(definition)
                ctx.session.flush()
                results.append(
                    DeployedVersion(definition.key, definition.version, definition.id, True)
                )
        if deployment is not None:
            audit.append(ctx, "deploy", payload={
                "deployment_id": deployment.id,
                "files": [n for n, _ in self.files],
                "versions": [f"{r.key}:{r.version}" for r in results if r.created],
            })  # fmt: skip
        return results


def _raise(problems: list[Problem]) -> None:
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
        for resource in _resources(ctx, latest.deployment_id):
            if resource.name not in new_files:
                _add_to_parser(
                    parser, resource.name, safexml.parse(resource.content, resource.name)
                )
    missing = parser.get_dmn_dependencies() - set(parser.dmn_parsers)
    for decision in sorted(missing - _add_deployed_decisions(ctx, parser, missing)):
        problems += _referrers(trees, "businessRuleTask", f"{{{CAMUNDA_NS}}}decisionRef", decision,
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
        ids = {d.get("id") for d in tree.getroot() if _local(d.tag) == "decision"}
        if ids & (wanted - found):
            _add_to_parser(parser, resource.name, tree)
            found |= ids
        if wanted <= found:
            break
    return found & wanted


def _new_decisions(
    ctx: CommandContext,
    files: list[tuple[str, bytes]],
    trees: list[tuple[str, etree._ElementTree]],
) -> bool:
    """Whether a decision table in this deploy differs from the one stored under its name."""
    for (name, content), (_, tree) in zip(files, trees, strict=True):
        if not _is_dmn(tree):
            continue
        stored = ctx.session.scalars(
            select(DeploymentResource.content)
            .where(DeploymentResource.name == name)
            .order_by(DeploymentResource.id.desc())
            .limit(1)
        ).first()
        if stored != content:
            return True
    return False


def _resources(ctx: CommandContext, deployment_id: int) -> list[DeploymentResource]:
    return list(
        ctx.session.scalars(
            select(DeploymentResource).where(DeploymentResource.deployment_id == deployment_id)
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


_LATEST_ID = (
    select(Definition.id)
    .where(Definition.key == bindparam("key"))
    .order_by(Definition.version.desc())
    .limit(1)
)


def latest_definition_id(session: Any, key: str) -> int:
    """The id only: the definition cache holds the rest, so no row is loaded."""
    definition_id = session.scalar(_LATEST_ID, {"key": key})
    if definition_id is None:
        known = ", ".join(session.scalars(select(Definition.key).distinct())) or "none"
        raise NotFound(f"no process definition with key {key!r} (deployed: {known})")
    return definition_id
