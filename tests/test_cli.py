"""The ``caseclock`` command line as a user types it: exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.store import AuditEvent, Person, make_engine

from .conftest import DIAGRAMS, ROOT, SHIPPED


@pytest.fixture
def cli(cli):
    """The command line on an initialised database with the demo organisation."""
    cli("org", "import", str(ROOT / "demo" / "org.yaml"))
    return cli


def test_a_case_from_the_command_line(cli):
    out = cli("deploy", str(SHIPPED / "case_handling.bpmn")).output
    assert "case_handling version 1" in out
    assert "(unchanged)" in cli("deploy", str(SHIPPED / "case_handling.bpmn")).output
    assert "case_handling" in cli("definitions").output
    started = json.loads(cli("--json", "start", "case_handling", "--business-key", "BJ-7").output)
    task_id = started["open_tasks"][0]["id"]
    assert "受理" in cli("tasks", "--user", "li").output
    assert cli("tasks", "--user", "yang").output.strip() == "(none)"
    cli("claim", str(task_id), "--user", "li")
    data = '{"applicant_name": "张三", "matter": "许可", "documents_complete": true}'
    out = cli("complete", str(task_id), "--user", "li", "--data", data).output
    assert "new tasks:" in out and "审核" in out
    shown = cli("instance", str(started["id"])).output
    assert "waiting timers:" in shown and "Timer_review_deadline" in shown
    assert "complete" in shown


def test_message_start_and_correlation(cli):
    cli("deploy", str(ROOT / "tests" / "diagrams" / "messages.bpmn"))
    out = cli("message", "order_placed", "--business-key", "ORD-1", "--data", '{"quantity": 2}')
    assert "delivered to instance(s) [1]" in out.output
    assert "ORD-1" in cli("instances").output


@pytest.mark.parametrize(
    "args, message",
    [
        (("start", "nope"), "error: no process definition with key 'nope'"),
        (("claim", "42", "--user", "li"), "error: no task 42"),
        (("start", "case_handling", "--data", "{oops"), "error: data is not valid JSON"),
        (("deploy", "/no/such/file.bpmn"), "error: no such file: /no/such/file.bpmn"),
        (("instance", "77"), "error: no process instance 77"),
        (("tasks", "--user", "ghost"), "error: unknown user 'ghost'"),
        (("tasks", "--group", "ghost"), "error: unknown group 'ghost'"),
        (("start", "case_handling", "--data", '{"matter": NaN}'), "error: data is not valid"),
    ],
)
def test_errors_are_one_clear_line_and_non_zero(cli, args, message):
    cli("deploy", str(SHIPPED / "case_handling.bpmn"))
    result = cli(*args, ok=False)
    assert result.output.strip().splitlines() == [message] or result.output.startswith(message)
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("instance", "99999999999999999999"),
        ("claim", "99999999999999999999", "--user", "li"),
        ("incidents", "retry-timer", "99999999999999999999"),
    ],
)
def test_an_id_too_large_for_the_database_is_a_clear_refusal(cli, args):
    result = cli(*args, ok=False)
    assert "Traceback" not in result.output and "OverflowError" not in result.output
    assert "99999999999999999999 is not in the range 1<=x<=9223372036854775807" in result.output


def test_an_org_file_that_is_not_utf8_is_refused_in_one_line(cli, tmp_path):
    org = tmp_path / "org.yaml"
    org.write_bytes("departments: [{key: 办, name: 办}]".encode("gb18030"))
    result = cli("org", "import", str(org), ok=False)
    assert result.output.strip() == "error: org.yaml: not UTF-8 text (byte 20); save it as UTF-8"


def test_deploy_problems_are_listed(cli, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text(
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="nowhere"/></bpmn:process>'
        "</bpmn:definitions>"
    )
    result = cli("deploy", str(bad), ok=False)
    assert result.output.startswith("error: cannot deploy: bad.bpmn: f: targetRef 'nowhere'")


def test_demo_seeds_once(cli):
    out = cli("demo").output
    assert "deployed case_handling v1" in out and "case 6: concluded" in out
    assert "collection: 10 cases on the ladder (DEMO-L001," in out
    again = cli("demo").output
    assert "16 cases already present; nothing started" in again  # 6 办件 + 10 催收
    assert "BJ-2026-0006" in cli("instances", "--state", "completed").output


def test_clock_control_from_the_command_line(cli, tmp_path):
    from .test_sla import sla_process

    diagram = tmp_path / "sla.bpmn"
    diagram.write_bytes(sla_process(limit="2 working days", warnings="1/2"))
    cli("deploy", str(diagram))
    started = json.loads(cli("--json", "start", "sla").output)
    task = str(started["open_tasks"][0]["id"])
    cli("claim", task, "--user", "yang")
    listing = cli("tasks", "--user", "yang").output
    assert "green" in listing and "working" in listing  # light and time left
    assert "clock paused" in cli("pause", task, "--user", "yang", "--reason", "补正").output
    assert "paused" in cli("tasks", "--user", "yang").output
    assert "clock running" in cli("resume", task, "--user", "yang").output
    out = cli("extend", task, "--user", "yang", "--by", "1 working day", "--reason", "核查")
    assert "waiting for your superior" in out.output
    refused = cli("decide-extension", "1", "--user", "huang", "--approve", ok=False)
    assert refused.output.startswith("error: only the superior of yang")
    assert "approved" in cli("decide-extension", "1", "--user", "liu", "--approve").output
    bad = cli("extend", task, "--user", "yang", "--by", "soon", "--reason", "x", ok=False)
    assert bad.output.startswith("error: extension: cannot read duration 'soon'")


def test_org_entries_edited_one_at_a_time(cli):
    cli("org", "department", "archive", "--name", "档案室", "--parent", "county", "--head", "li")
    cli("org", "group", "archivists", "--name", "档案员", "--department", "archive")
    cli("org", "person", "ma", "--name", "马档案", "--department", "archive",
        "--superior", "li", "--groups", "archivists,reception")  # fmt: skip
    cli("deploy", str(SHIPPED / "case_handling.bpmn"))
    cli("start", "case_handling", "--business-key", "BJ-8")
    assert "受理" in cli("tasks", "--user", "ma").output  # a reception member now
    result = cli("org", "person", "li", "--name", "李窗口", "--superior", "ma", ok=False)
    assert result.output.strip() == "error: ma reports (directly or not) to li"


def test_every_person_option_refuses_an_unknown_person_and_writes_nothing(cli, database_url):
    """--user (who acted, as the audit trail records it), --to, --deputy and the absent
    person name a person of the organisation: an unknown key is refused in one line, as
    `tasks --user ghost` is, before anything is written. A person acts and is recorded;
    left out, --user is the command line itself."""
    cli("deploy", str(SHIPPED / "case_handling.bpmn"), str(DIAGRAMS / "messages.bpmn"))
    started = json.loads(cli("--json", "start", "case_handling", "--business-key", "BJ-9").output)
    case, task = str(started["id"]), str(started["open_tasks"][0]["id"])
    cli("claim", task, "--user", "li")
    away = ("--from", "2026-10-12", "--to", "2026-10-14")
    absence = json.loads(cli("--json", "absence", "add", "yang", "--deputy", "huang", *away).output)
    commands = [
        # --user is only written to the audit trail as who acted
        ("start", "case_handling", "--user", "ghost"),
        ("message", "order_placed", "--business-key", "ORD-9", "--user", "ghost"),
        ("reassign", task, "--user", "ghost"),
        ("reassign-all", "li", "--user", "ghost"),
        ("absence", "add", "wang", "--deputy", "chen", *away, "--user", "ghost"),
        ("absence", "cancel", str(absence["id"]), "--user", "ghost"),
        ("calendar", "override", "2026-05-06", "holiday", "--user", "ghost"),
        ("calendar", "define", "night", "--user", "ghost"),
        ("notices", "set", "documents_needed", "en", "--subject", "x", "--user", "ghost"),
        ("notices", "reset", "documents_needed", "en", "--user", "ghost"),
        ("erase", "person", "chen", "--yes", "--user", "ghost"),
        ("erase", "case", case, "--yes", "--user", "ghost"),
        ("incidents", "retry-timer", "1", "--user", "ghost"),
        ("incidents", "skip-timer", "1", "--user", "ghost"),
        ("incidents", "retry-delivery", "1", "--user", "ghost"),
        ("incidents", "drop-delivery", "1", "--user", "ghost"),
        # --user is who must hold the task (or decide): the same one line
        ("pause", task, "--user", "ghost", "--reason", "补正"),
        ("resume", task, "--user", "ghost"),
        ("resolve", task, "--user", "ghost"),
        ("decide-extension", "1", "--user", "ghost", "--approve"),
        ("chase", "handle", "1", "--user", "ghost"),
        ("assist", "request", task, "--user", "ghost", "--group", "reviewers", "--question", "q"),
        # the other people an option names
        ("reassign", task, "--to", "ghost"),
        ("reassign-all", "li", "--to", "ghost"),
        ("delegate", task, "--user", "li", "--to", "ghost"),
        ("absence", "add", "wang", "--deputy", "ghost", *away),
        ("absence", "add", "ghost", "--deputy", "chen", *away),
        ("absence", "list", "--person", "ghost"),
    ]
    engine = make_engine(database_url)
    events = select(func.count()).select_from(AuditEvent)
    with engine.connect() as conn:
        before = conn.scalar(events)
    for command in commands:
        refused = cli(*command, ok=False)
        assert (refused.exit_code, refused.stderr) == (1, "error: unknown user 'ghost'\n"), command
    with engine.connect() as conn:
        assert conn.scalar(events) == before  # every command appends one when it writes
        assert conn.scalar(select(Person.name).where(Person.key == "chen")) == "陈窗口"
    # A person of the organisation acts, and the command line acts when --user is left out.
    cli("start", "case_handling", "--user", "wang")
    cli("calendar", "override", "2026-05-06", "holiday", "--user", "zhao")
    cli("absence", "cancel", str(absence["id"]))
    assert cli("absence", "list", "--person", "wang").output.strip() == "(none)"
    with engine.connect() as conn:
        done = conn.execute(select(AuditEvent.command, AuditEvent.actor).order_by(AuditEvent.id)
                            .where(AuditEvent.id > before)).all()  # fmt: skip
    engine.dispose()
    assert [actor for _, actor in done] == ["wang", "zhao", "cli"], done
