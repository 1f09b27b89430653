"""The organisation: import from YAML and CSV, responsibility and superiors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import org
from engine.errors import ValidationError
from engine.org import ImportOrg, parse_org_file
from engine.runtime import ClaimTask, StartInstance
from engine.store import Department, Person, Task

from .conftest import SHIPPED, deploy
from .helpers import open_tasks

CSV = """key,name,department,superior,groups,email,head_of
boss,老板,hq,,approvers,boss@example.com,hq
ann,安,hq,boss,reception;reviewers,ann@example.com,
"""


def person(app, key):
    return app.read(lambda s: s.scalars(select(Person).where(Person.key == key)).one())


def test_demo_org_has_departments_heads_and_superiors(org_app):
    departments = org_app.read(lambda s: {d.key: d for d in s.scalars(select(Department))})
    assert len(departments) == 6
    assert departments["window"].parent_id == departments["county"].id
    assert departments["review"].head_id == person(org_app, "liu").id
    assert person(org_app, "yang").superior_id == person(org_app, "liu").id


def test_csv_import_creates_people_groups_and_heads(app):
    app.execute(ImportOrg(parse_org_file("people.csv", CSV.encode())))
    ann = person(app, "ann")
    assert ann.superior_id == person(app, "boss").id and ann.email == "ann@example.com"
    groups = app.read(lambda s: app.services.org.snapshot(s).groups_of("ann"))
    assert groups == {"reception", "reviewers"}
    head = app.read(lambda s: s.scalars(select(Department).where(Department.key == "hq")).one())
    assert head.head_id == person(app, "boss").id


def test_import_again_updates_instead_of_duplicating(org_app):
    path = SHIPPED.parent / "demo" / "org.yaml"
    org_app.execute(ImportOrg(parse_org_file(path.name, path.read_bytes())))
    assert len(org_app.read(lambda s: s.scalars(select(Person)).all())) == 12


@pytest.mark.parametrize(
    "content, message",
    [
        ("people:\n  - {key: a, superior: ghost}\n", "unknown person 'ghost'"),
        ("people:\n  - {key: a, department: nowhere}\n", "unknown department 'nowhere'"),
        ("people:\n  - {name: nameless}\n", "has no key"),
        ("- just\n- a list\n", "expected a mapping"),
        ("people: [\n", "not valid YAML"),
    ],
)
def test_bad_org_files_are_refused_whole(app, content, message):
    with pytest.raises(ValidationError, match=message):
        app.execute(ImportOrg(parse_org_file("org.yaml", content.encode())))
    assert app.read(lambda s: s.scalars(select(Person)).all()) == []


def test_responsible_person_and_superior_of_a_task(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    case = org_app.execute(StartInstance("case_handling", "BJ-O")).id
    task_id = open_tasks(org_app, case)["Task_receive"]["id"]

    def responsible(session):
        task = session.get(Task, task_id)
        who = org.responsible_person(session, task)
        return who.key, org.superior_of(session, who).key

    # Unclaimed: the head of the department behind the candidate group (窗口 → 王科长).
    assert org_app.read(responsible) == ("wang", "qian")
    org_app.execute(ClaimTask(task_id, "li"))
    assert org_app.read(responsible) == ("li", "wang")
