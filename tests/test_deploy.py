"""Deploying: hostile XML, validation that names elements, versions, nothing half-done."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.definitions import DeployDiagrams
from engine.errors import DeploymentError
from engine.runtime import StartInstance
from engine.store import Definition, Deployment

from .helpers import timers

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="t">'
)


def diagram(body: str, process_id: str = "p", executable: str = "true") -> bytes:
    return (
        f'{HEAD}<bpmn:process id="{process_id}" isExecutable="{executable}">{body}'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def timer_process(kind: str, text: str) -> bytes:
    return diagram(
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:userTask id="t" name="Wait"/>'
        '<bpmn:boundaryEvent id="timer" attachedToRef="t" cancelActivity="false">'
        f'<bpmn:timerEventDefinition><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{text}'
        f"</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
    )


SIMPLE = timer_process("timeDuration", "PT4H")


def deploy_bytes(app, *contents: bytes, names: list[str] | None = None):
    names = names or [f"d{i}.bpmn" for i in range(len(contents))]
    return app.execute(DeployDiagrams(list(zip(names, contents, strict=True))))


def problems(app, content: bytes) -> list[dict]:
    with pytest.raises(DeploymentError) as info:
        deploy_bytes(app, content)
    return info.value.details.get("problems") or [{"message": info.value.message}]


HOSTILE = {
    "xxe_file": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<d>&x;</d>",
    "xxe_network": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:1/">]>'
    b"<d>&x;</d>",
    "billion_laughs": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<l>&c;</l>",
    "parameter_entity": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://x/">%p;]>'
    b"<d/>",
    "lowercase_doctype": b'<?xml version="1.0"?><!doctype d><d/>',
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_xml_is_refused_before_parsing(app, name):
    [problem] = problems(app, HOSTILE[name])
    assert "DTDs and entity declarations are not allowed" in problem["message"]


def test_oversized_and_malformed_files(app):
    huge = diagram("<bpmn:documentation>" + "x" * (6 * 1024 * 1024) + "</bpmn:documentation>")
    assert "over the limit" in problems(app, huge)[0]["message"]
    assert "not well-formed XML" in problems(app, b"<bpmn:definitions")[0]["message"]
    assert "not a BPMN 2.0 document" in problems(app, b"<html><body/></html>")[0]["message"]


@pytest.mark.parametrize(
    "body, element, text",
    [
        ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="gone"/>',
         "f", "targetRef 'gone' names no element"),
        ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
         '<bpmn:serviceTask id="x"/>', "x", "service tasks are not supported"),
        ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
         '<bpmn:scriptTask id="x" scriptFormat="python"><bpmn:script>import os</bpmn:script>'
         "</bpmn:scriptTask>", "x", "invalid script: Line 1: import is not allowed"),
        ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
         '<bpmn:scriptTask id="x" scriptFormat="javascript"><bpmn:script>1</bpmn:script>'
         "</bpmn:scriptTask>", "x", "scriptFormat 'javascript' not supported"),
        ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e">'
         '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${a &gt; 1}'
         '</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:endEvent id="e"/>',
         "f", "another engine's expression language"),
        ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e">'
         '<bpmn:conditionExpression>().__class__</bpmn:conditionExpression></bpmn:sequenceFlow>'
         '<bpmn:endEvent id="e"/>', "f", "invalid expression"),
        ('<bpmn:startEvent id="s"/><bpmn:userTask id="orphan"/>', "orphan",
         "no incoming sequence flow"),
        ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>'
         '<bpmn:userTask id="t"/><bpmn:sequenceFlow id="a" sourceRef="t" targetRef="e"/>'
         '<bpmn:sequenceFlow id="b" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>',
         "t", "2 sequence flows leave it: only a gateway splits the flow"),
    ],
)  # fmt: skip
def test_validation_names_the_element(app, body, element, text):
    found = problems(app, diagram(body))
    assert any(p["element_id"] == element and text in p["message"] for p in found), found


@pytest.mark.parametrize(
    "kind, text, fragment",
    [
        ("timeDuration", "P2X", "not a valid ISO 8601 duration"),
        ("timeDate", "2026-13-01T09:00", "not a valid ISO 8601 date-time"),
        ("timeCycle", "0/5 0/1 * 1/1 * ?", "cron"),
        ("timeDate", "${environment.variables.catchDate}", "another engine"),
        ("timeDuration", "", "empty timeDuration"),
        ("timeCycle", "R3/PTXH", "not a valid ISO 8601 repeating interval"),
        ("timeDuration", "function() { return 'PT1H' }", "JavaScript"),
        ("timeDuration", "__import__('os')", "invalid expression"),
    ],
)
def test_bad_timer_text_is_found_at_deploy(app, kind, text, fragment):
    found = problems(app, timer_process(kind, text))
    assert any(p["element_id"] == "timer" and fragment in p["message"] for p in found), found


def test_non_executable_only_is_refused(app):
    found = problems(app, diagram('<bpmn:startEvent id="s"/>', executable="false"))
    assert "no executable process" in found[0]["message"]


def count(app, model) -> int:
    return app.read(lambda s: s.scalar(select(func.count()).select_from(model)))


def test_nothing_is_half_deployed(app):
    bad = diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
                  '<bpmn:complexGateway id="x"/>', "q")  # fmt: skip
    with pytest.raises(DeploymentError, match="complex gateways are not supported"):
        deploy_bytes(app, SIMPLE, bad)
    assert count(app, Definition) == 0 and count(app, Deployment) == 0


def test_identical_content_is_a_no_op_and_changes_make_versions(app):
    [first] = deploy_bytes(app, SIMPLE)
    [again] = deploy_bytes(app, SIMPLE)
    assert (first.version, first.created) == (1, True)
    assert (again.version, again.created, again.definition_id) == (1, False, first.definition_id)
    [second] = deploy_bytes(app, timer_process("timeDuration", "PT5H"))
    assert (second.version, second.created) == (2, True)
    assert count(app, Deployment) == 2


@pytest.mark.parametrize(
    "kind, text, data, due",
    [
        ("timeDuration", "PT4H", {}, "2026-03-02T13:00:00+08:00"),
        ("timeDuration", "P1M", {}, "2026-04-02T09:00:00+08:00"),
        ("timeDuration", "${wait}", {"wait": "PT2H"}, "2026-03-02T11:00:00+08:00"),
        ("timeDuration", "'PT' + str(hours) + 'H'", {"hours": 3}, "2026-03-02T12:00:00+08:00"),
        ("timeDuration", "PT4H", {"PT4H": "P9D"}, "2026-03-02T13:00:00+08:00"),  # ISO wins
        ("timeDate", "2026-03-05T10:00:00", {}, "2026-03-05T10:00:00+08:00"),  # local zone
        ("timeDate", "2026-03-05T10:00:00Z", {}, "2026-03-05T18:00:00+08:00"),
        ("timeDate", "${due}", {"due": "2026-03-06"}, "2026-03-06T00:00:00+08:00"),
        ("timeCycle", "R3/PT1H", {}, "2026-03-02T10:00:00+08:00"),
        ("timeCycle", "R/2026-03-02T12:00:00/PT1H", {}, "2026-03-02T12:00:00+08:00"),
    ],
)
def test_standard_timer_text_is_projected(app, kind, text, data, due):
    deploy_bytes(app, timer_process(kind, text))
    instance = app.execute(StartInstance("p", data=data)).id
    assert timers(app, instance) == {"timer": due}
