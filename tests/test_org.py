"""The organisation: import from YAML and CSV, responsibility and superiors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import org
from engine.errors import ValidationError
from engine.org import ImportOrg, parse_org_file
from engine.runtime import ClaimTask, StartInstance
from engine.store import AuditEvent, Department, Person, Task

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
        (
            "people:\n  - {key: x1, superior: x2}\n  - {key: x2, superior: x3}\n"
            "  - {key: x3, superior: x2}\n",
            "person superiors form a loop: x2 → x3 → x2",
        ),
        ("people:\n  - {key: me, superior: me}\n", "person superiors form a loop: me → me"),
        (
            "departments:\n  - {key: d1, parent: d2}\n  - {key: d2, parent: d1}\n",
            "department parents form a loop: d1 → d2 → d1",
        ),
    ],
)
def test_bad_org_files_are_refused_whole(app, content, message):
    with pytest.raises(ValidationError, match=message):
        app.execute(ImportOrg(parse_org_file("org.yaml", content.encode())))
    assert app.read(lambda s: s.scalars(select(Person)).all()) == []


PHONE_RULE = "5 to 20 digits, with an optional leading + and spaces, dashes or parentheses"


def test_contact_data_is_stored_as_the_person_form_stores_it(org_app):
    content = "people:\n  - {key: ma, email: ' ma@example.gov.cn ', phone: 13800138003}\n"
    org_app.execute(ImportOrg(parse_org_file("org.yaml", content.encode())))
    assert (person(org_app, "ma").email, person(org_app, "ma").phone) == (
        "ma@example.gov.cn", "13800138003"
    )  # fmt: skip
    # Left empty, the stored contact stays: an import only changes what the file says.
    org_app.execute(ImportOrg(parse_org_file("org.csv", b"key,email,phone\nma,,\n")))
    assert (person(org_app, "ma").email, person(org_app, "ma").phone) == (
        "ma@example.gov.cn", "13800138003"
    )  # fmt: skip


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("org.yaml", "people:\n  - {key: ma, email: ma.example.gov.cn}\n",
         "person 'ma': email 'ma.example.gov.cn': not an e-mail address: write name@domain.tld"),
        ("org.csv", 'key,email\nma,"ma@example.com, li@example.com"\n',
         "person 'ma': email 'ma@example.com, li@example.com': not an e-mail address: "
         "write name@domain.tld"),
        ("org.yaml", "people:\n  - {key: ma, phone: 110}\n",
         f"person 'ma': phone '110': not a phone number: {PHONE_RULE}"),
        ("org.csv", "key,phone\nma,call the front desk\n",
         f"person 'ma': phone 'call the front desk': not a phone number: {PHONE_RULE}"),
        ("org.yaml", f"people:\n  - {{key: ma, phone: '{'1' * 51}'}}\n",
         "person 'ma': phone is longer than 50 characters"),
    ],
)  # fmt: skip
def test_contact_data_that_is_no_address_is_refused_naming_the_person(app, name, content, message):
    with pytest.raises(ValidationError) as refused:
        app.execute(ImportOrg(parse_org_file(name, content.encode())))
    # No field details: the admin page shows the message at the uploaded file.
    assert (refused.value.message, refused.value.details) == (message, {})
    assert app.read(lambda s: s.scalars(select(Person)).all()) == []


def test_one_bad_address_refuses_the_whole_file_on_the_command_line(app, cli, tmp_path):
    cli("org", "import", str(SHIPPED.parent / "demo" / "org.yaml"))

    def state(s):
        people = [(p.key, p.name, p.email, p.phone) for p in s.scalars(select(Person))]
        return sorted(people), s.scalar(select(func.count()).select_from(AuditEvent))

    before = app.read(state)
    bad = tmp_path / "org.yaml"
    bad.write_text(
        "people:\n"
        "  - {key: li, name: 李新, email: li.new@example.gov.cn, phone: 13800138001}\n"
        "  - {key: ma, name: 马窗口, department: window, groups: [reception]}\n"
        "  - {key: wang, phone: 'ext. 8001'}\n",
        encoding="utf-8",
    )
    result = cli("org", "import", str(bad), ok=False)
    assert result.output.strip() == (
        f"error: person 'wang': phone 'ext. 8001': not a phone number: {PHONE_RULE}"
    )
    assert app.read(state) == before  # li unchanged, no ma, no audit event


PERSON_KEYS = "key, name, department, superior, groups, email, phone, locale, digest"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("org.yaml", "people:\n  - {key: ma, name: 马档案, superiour: li}\n",
         f"person 'ma': unknown key 'superiour'; person keys are {PERSON_KEYS}"),
        ("org.yaml", "people:\n  - {key: ma}\n  - {name: 无编号, superiour: li}\n",
         f"person #2: unknown key 'superiour'; person keys are {PERSON_KEYS}"),
        ("org.yaml", "departments:\n  - {key: d, name: D, haed: li}\n",
         "department 'd': unknown key 'haed'; department keys are key, name, parent, head, "
         "webhook"),
        ("org.yaml", "departments:\n  - {key: d, webhook: {url: 'https://x.example/h', "
                     "fromat: wecom}}\n",
         "department 'd': unknown webhook key 'fromat'; webhook keys are url, format"),
        ("org.yaml", "groups:\n  - {key: g, name: G, members: [li]}\n",
         "group 'g': unknown key 'members'; group keys are key, name, department"),
        ("org.yaml", "people: []\nsuperiors:\n  li: wang\n",
         "org.yaml: unknown key 'superiors'; top-level keys are departments, people, groups"),
        ("org.csv", "key,name,superiour\nma,马档案,li\n",
         "org.csv: unknown column 'superiour' in the header; columns are "
         f"{PERSON_KEYS}, head_of"),
        # what the import itself failed on with a traceback: one line too
        ("org.yaml", "people:\n  - li\n", "people: every entry must be a mapping, not 'li'"),
        ("org.yaml", "people: li\n",
         "org.yaml: people must be a list, one entry a line (- key: …)"),
        ("org.yaml", "departments:\n  - {key: d, webhook: 'https://x.example/h'}\n",
         "departments d: webhook must be a mapping"),
        ("org.csv", "name,head_of\n马档案,window\n",
         "a person entry has no key: {'name': '马档案', 'head_of': 'window'}"),
        ("org.yaml", "people:\n  - {key: x, groups: [{a: b}]}\n",
         "person 'x': groups must be a list of group keys, not [{'a': 'b'}]"),
        ("org.csv", "key,name,digest\nma,马档案,maybe\n",
         "person 'ma': digest 'maybe' is not yes or no"),
    ],
)  # fmt: skip
def test_unknown_keys_are_refused_at_every_level_naming_the_entry(app, name, content, message):
    """A key the import does not read is refused, not dropped: a misspelt ``superiour:``
    would leave the person without a superior, and chases would stop at them."""
    with pytest.raises(ValidationError) as refused:
        app.execute(ImportOrg(parse_org_file(name, content.encode())))
    assert refused.value.message == message
    assert app.read(lambda s: s.scalars(select(Person)).all()) == []


def test_every_key_the_import_reads_is_accepted(app):
    content = (
        "departments:\n  - {key: hq, name: 总部, head: boss, webhook: {url: 'https://x.example/h',"
        " format: wecom}}\n  - {key: desk, name: 前台, parent: hq}\n"
        "people:\n  - {key: boss, name: 老板, department: hq, email: boss@example.com,"
        " phone: '13800000001', locale: en, digest: true, groups: [approvers]}\n"
        "  - {key: ann, name: 安, department: desk, superior: boss}\n"
        "groups:\n  - {key: approvers, name: 审批, department: hq}\n"
    )
    app.execute(ImportOrg(parse_org_file("org.yaml", content.encode())))
    assert person(app, "ann").superior_id == person(app, "boss").id
    assert (person(app, "boss").locale, person(app, "boss").digest) == ("en", True)
    # A CSV header's names are trimmed as its values are; head_of names a department.
    csv_text = "key , name, superior ,head_of\nann,安,boss,desk\n"
    app.execute(ImportOrg(parse_org_file("org.csv", csv_text.encode())))
    desk = app.read(lambda s: s.scalars(select(Department).where(Department.key == "desk")).one())
    assert desk.head_id == person(app, "ann").id


def test_a_csv_digest_column_is_read_as_yes_or_no(app):
    """A CSV cell is text: "false" read as a truth value was true, and the person got a
    daily digest they had opted out of."""
    csv_text = "key,name,digest\nann,安,false\nbo,波,yes\ncy,晨,\n"
    app.execute(ImportOrg(parse_org_file("org.csv", csv_text.encode())))
    assert [person(app, key).digest for key in ("ann", "bo", "cy")] == [False, True, False]


def test_a_misspelt_key_is_one_line_on_the_command_line(app, cli, tmp_path):
    cli("org", "import", str(SHIPPED.parent / "demo" / "org.yaml"))
    before = app.read(lambda s: s.scalar(select(func.count()).select_from(AuditEvent)))
    bad = tmp_path / "org.yaml"
    bad.write_text("people:\n  - {key: ma, name: 马档案, department: window, superiour: wang}\n",
                   encoding="utf-8")  # fmt: skip
    result = cli("org", "import", str(bad), ok=False)
    assert (result.exit_code, result.stderr) == (
        1, f"error: person 'ma': unknown key 'superiour'; person keys are {PERSON_KEYS}\n"
    )  # fmt: skip
    assert app.read(lambda s: s.scalars(select(Person).where(Person.key == "ma")).all()) == []
    assert app.read(lambda s: s.scalar(select(func.count()).select_from(AuditEvent))) == before
    not_a_list = tmp_path / "list.yaml"
    not_a_list.write_text("people:\n  - li\n", encoding="utf-8")
    result = cli("org", "import", str(not_a_list), ok=False)
    assert result.stderr == "error: people: every entry must be a mapping, not 'li'\n"


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
