"""The accountability report (追责) and the ledger export, checked against a small
example computed by hand.

The calendar is the default one: working days 09:00-12:00 and 13:30-17:30 (7 working
hours), Asia/Shanghai; 2-5 March 2026 (Mon-Thu) are ordinary working days. Every case
starts Mon 2 Mar 09:00 with a limit of 1 working day, so each step is due Tue 3 Mar
17:30; the worker runs at 17:31 and writes the four breaches.

====  ===========  ===================================  ===========================
case  step/group   who held it (working hours)           completed / lateness
====  ===========  ===================================  ===========================
A     审核 review   pool Mon 09:00-11:00            2 h    huang, Wed 4 Mar 10:30:
                   yang Mon 11:00-Tue 10:00        6 h    Wed 09:00-10:30 = 1.5 h late
                   (1 + 4 + 1)
                   huang Tue 10:00-17:31           6 h
                   (2 + 4); responsible at breach: huang
B     审核 review   yang all along                 14 h    yang, Thu 5 Mar 11:00:
                                                          Wed 7 h + Thu 2 h = 9 h late;
                                                          exemption approved by liu
C     审核 review   yang                                   Mon 15:00: on time
D     受理 window   li all along                   14 h    li, Wed 4 Mar 12:00: 3 h late
E     审核 review   huang all along                14 h    still open (no lateness yet)
====  ===========  ===================================  ===========================

Figure (a), charged to the person responsible at breach (B is exempted: listed, not
charged): huang 2 (A, E), li 1 (D), yang 0 (1 exempted). Lateness over charged,
completed breaches: A 1.5 h, D 3 h -> mean 2.25 h; p90 by nearest rank of 2 values is
the 2nd = 3 h. (Without the exemption B's 9 h would count.)

Figure (b), A's 1.5 h shared by working time held up to the breach (14 h in all):
pool 2/14 -> liu, head of 审核科 behind the reviewers group: 1.5 x 2/14 = 0.2143 h;
yang 1.5 x 6/14 = 0.6429 h; huang 1.5 x 6/14 = 0.6429 h. D's 3 h: li alone.
Held hours (of charged, completed breaches): liu 2 (all in the pool), yang 6, huang 6,
li 14.

On time: completions in March with a deadline: A, B, C, D. On time by the deadline: C
only (raw 1/4 = 0.25); counting B's approved exemption: 2/4 = 0.5. By department of
whoever completed: 审核科 (huang A, yang B, yang C) 2/3 = 0.6667; 综合受理窗口 (li D) 0/1.
"""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from engine import accountability as acct
from engine import exports
from engine.ledger import DecideExemption, RequestExemption
from engine.runtime import ClaimTask, CompleteTask, ReassignTask, StartInstance
from timers.worker import Worker

from .conftest import SHANGHAI
from .helpers import open_tasks
from .test_deploy import deploy_bytes
from .test_sla import at, sla_process

MARCH = ("2026-03-01", "2026-03-31")


def window_process() -> bytes:
    """The same one-step diagram, offered to the reception group (综合受理窗口)."""
    body = sla_process(limit="1 working day", warnings="")
    return (
        body.replace(b'process id="sla"', b'process id="window"')
        .replace(b"reviewers", b"reception")
        .replace('name="审核"'.encode(), 'name="受理"'.encode())
    )


def start(app, key: str, business_key: str) -> int:
    instance = app.execute(StartInstance(key, business_key)).id
    return open_tasks(app, instance)["t"]["id"]


@pytest.fixture
def scenario(org_app, clock):
    """Cases A-E of the module docstring; B's exemption requested but not yet decided."""
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="1 working day", warnings=""))
    deploy_bytes(org_app, window_process())
    tasks = {name: start(org_app, "sla", f"BJ-{name}") for name in "ABCE"}
    tasks["D"] = start(org_app, "window", "BJ-D")
    for name, user in (("B", "yang"), ("C", "yang"), ("D", "li"), ("E", "huang")):
        org_app.execute(ClaimTask(tasks[name], user))
    clock.set(at("2026-03-02T11:00"))
    org_app.execute(ClaimTask(tasks["A"], "yang"))
    clock.set(at("2026-03-02T15:00"))
    org_app.execute(CompleteTask(tasks["C"], "yang"))
    clock.set(at("2026-03-03T10:00"))
    org_app.execute(ReassignTask(tasks["A"], "huang"), actor="liu")
    clock.set(at("2026-03-03T17:31"))
    Worker(org_app).run_once()
    clock.set(at("2026-03-04T10:30"))
    org_app.execute(CompleteTask(tasks["A"], "huang"))
    clock.set(at("2026-03-04T12:00"))
    org_app.execute(CompleteTask(tasks["D"], "li"))
    clock.set(at("2026-03-05T11:00"))
    org_app.execute(CompleteTask(tasks["B"], "yang"))
    request = org_app.execute(RequestExemption(tasks["B"], "yang", "省政务网停机一天（有公告）"))
    return tasks, request.id


def report(app, department=None, period=MARCH):
    p = acct.parse_period(*period, SHANGHAI)
    return app.read(lambda s: acct.accountability(s, p, department))


def rows_by(rows, key):
    return {r[key]: r for r in rows}


def approve(app, exemption_id):
    app.execute(DecideExemption(exemption_id, "liu", approve=True, note="附停机公告"))


def test_figures_match_the_hand_computed_example(org_app, scenario):
    _, exemption_id = scenario
    approve(org_app, exemption_id)
    data = report(org_app)
    [summary] = data["summary"]
    assert {k: summary[k] for k in ("breaches", "exempted", "charged", "open")} == {
        "breaches": 4, "exempted": 1, "charged": 3, "open": 1,
    }  # fmt: skip
    assert (summary["completed"], summary["on_time"], summary["on_time_rate"]) == (4, 2, 0.5)
    assert (summary["on_time_raw"], summary["on_time_rate_raw"]) == (1, 0.25)
    assert (summary["late_mean_hours"], summary["late_p90_hours"]) == (2.25, 3.0)

    people = rows_by(data["by_person"], "person")
    charged = {p: (r["breaches"], r["exempted"], r["charged"], r["charged_late_hours"])
               for p, r in people.items()}  # fmt: skip
    assert charged == {
        "huang": (2, 0, 2, 1.5),  # A (1.5 h) and E (open)
        "li": (1, 0, 1, 3.0),
        "yang": (1, 1, 0, 0.0),  # B exempted; yang also completed C on time
    }
    assert (people["yang"]["completed"], people["yang"]["on_time"]) == (2, 2)
    assert (people["huang"]["name"], people["huang"]["department"]) == ("黄审核", "review")

    departments = rows_by(data["by_department"], "department")
    assert {d: (r["breaches"], r["charged"], r["late_mean_hours"], r["on_time_rate"])
            for d, r in departments.items()} == {
        "review": (3, 2, 1.5, 0.6667),
        "window": (1, 1, 3.0, 0.0),
    }  # fmt: skip
    steps = rows_by(data["by_step"], "process")
    assert (steps["sla"]["step"], steps["sla"]["step_name"], steps["sla"]["charged"]) == (
        "t", "审核", 2,
    )  # fmt: skip
    assert steps["window"]["late_p90_hours"] == 3.0

    shared = {r["person"]: (r["held_hours"], r["pool_held_hours"], r["shared_late_hours"])
              for r in data["shared_lateness"]}  # fmt: skip
    assert shared == {
        "liu": (2.0, 2.0, 0.2143),  # the reviewers' pool, answered for by its head
        "yang": (6.0, 0.0, 0.6429),
        "huang": (6.0, 0.0, 0.6429),
        "li": (14.0, 0.0, 3.0),
    }
    # Shared lateness adds up to the charged lateness: nothing lost, nothing doubled.
    assert sum(v[2] for v in shared.values()) == pytest.approx(4.5, abs=1e-3)

    [exemption] = data["exemptions"]
    assert (exemption["business_key"], exemption["status"], exemption["decided_by"]) == (
        "BJ-B", "approved", "liu",
    )  # fmt: skip


def test_an_exemption_moves_the_figures_only_once_approved(org_app, scenario):
    _, exemption_id = scenario
    pending = report(org_app)
    [summary] = pending["summary"]
    # Requested, not decided: B is still charged, late 9 h, and not on time.
    assert (summary["charged"], summary["on_time"], summary["on_time_rate"]) == (4, 1, 0.25)
    assert (summary["late_mean_hours"], summary["late_p90_hours"]) == (4.5, 9.0)
    assert rows_by(pending["by_person"], "person")["yang"]["charged"] == 1
    assert pending["exemptions"][0]["status"] == "pending"
    approve(org_app, exemption_id)
    [summary] = report(org_app)["summary"]
    assert (summary["charged"], summary["on_time"], summary["on_time_rate"]) == (3, 2, 0.5)
    assert summary["on_time_rate_raw"] == 0.25  # the raw rate ignores exemptions


def test_department_filter_and_period_bounds(org_app, scenario):
    [review] = report(org_app, "review")["summary"]
    assert (review["breaches"], review["completed"], review["on_time_raw"]) == (3, 3, 1)
    # The county centre is above both departments.
    assert report(org_app, "county")["summary"][0]["breaches"] == 4
    # Breaches are Tue 3 Mar 17:31 local (09:31 UTC): a period ending Mon 2 Mar has none,
    # but C's on-time completion on Mon 2 Mar counts.
    [monday] = report(org_app, period=("2026-03-02", "2026-03-02"))["summary"]
    assert (monday["breaches"], monday["completed"], monday["on_time_rate"]) == (0, 1, 1.0)


def test_ledger_export_lists_every_breach_with_its_outcome(org_app, scenario):
    tasks, exemption_id = scenario
    approve(org_app, exemption_id)
    period = acct.parse_period(*MARCH, SHANGHAI)
    rows = rows_by(org_app.read(lambda s: acct.ledger_rows(s, period)), "business_key")
    assert set(rows) == {"BJ-A", "BJ-B", "BJ-D", "BJ-E"}
    a = rows["BJ-A"]
    assert (a["responsible"], a["department"], a["superior"]) == ("huang", "review", "liu")
    assert a["holders"] == "(pool) 2.0h; yang 6.0h; huang 6.0h"
    assert (a["deadline"], a["completed_at"]) == (
        "2026-03-03T17:30:00+08:00", "2026-03-04T10:30:00+08:00",
    )  # fmt: skip
    assert (a["late_working_hours"], a["exemption"], a["charged"]) == (1.5, None, True)
    assert (rows["BJ-B"]["exemption"], rows["BJ-B"]["charged"]) == ("approved", False)
    assert rows["BJ-E"]["late_working_hours"] is None and rows["BJ-E"]["task_id"] == tasks["E"]


def test_csv_xlsx_and_json_read_back(org_app, scenario, tmp_path):
    data = report(org_app)
    tables = acct.tables_of(data)
    parsed = exports.read_csv(acct.to_csv(tables))
    assert list(parsed) == list(acct.REPORT_TABLES)
    assert rows_by(parsed["by_person"], "person")["huang"]["charged"] == "2"
    assert parsed["exemptions"][0]["reason"] == "省政务网停机一天（有公告）"

    path = tmp_path / "r.xlsx"
    path.write_bytes(acct.to_xlsx(tables))
    book = load_workbook(path)
    assert book.sheetnames == list(acct.REPORT_TABLES)
    sheet = book["shared_lateness"]
    header = [c.value for c in sheet[1]]
    assert header == acct.COLUMNS["shared_lateness"]
    li = next(dict(zip(header, (c.value for c in row), strict=True))
              for row in sheet.iter_rows(min_row=2) if row[0].value == "li")  # fmt: skip
    assert li["shared_late_hours"] == 3.0

    assert json.loads(exports.to_json(data))["summary"][0]["breaches"] == 4


def test_text_that_looks_like_a_formula_stays_text(org_app, scenario, tmp_path):
    rows = [{"exemption_id": 1, "reason": '=HYPERLINK("http://x")'}]
    assert exports.read_csv(acct.to_csv({"exemptions": rows}))["exemptions"][0]["reason"] == (
        '\'=HYPERLINK("http://x")'
    )
    path = tmp_path / "f.xlsx"
    path.write_bytes(acct.to_xlsx({"exemptions": rows}))
    cell = load_workbook(path)["exemptions"]["I2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x")', "s")


def test_the_command_line(org_app, scenario, cli, tmp_path):
    _, exemption_id = scenario
    approve(org_app, exemption_id)
    text = cli("report", "accountability", "--from", MARCH[0], "--to", MARCH[1]).output
    assert "by_person" in text and "黄审核" in text
    out = cli("report", "accountability", "--from", MARCH[0], "--to", MARCH[1],
              "--department", "window", "--format", "json").output  # fmt: skip
    assert json.loads(out)["summary"][0]["breaches"] == 1
    csv_file = tmp_path / "r.csv"
    cli("report", "accountability", "--from", MARCH[0], "--to", MARCH[1], "--format", "csv",
        "--out", str(csv_file))  # fmt: skip
    assert exports.read_csv(csv_file.read_text("utf-8"))["summary"][0]["on_time_rate"] == "0.5"
    xlsx = tmp_path / "l.xlsx"
    cli("report", "ledger", "--from", MARCH[0], "--to", MARCH[1], "--format", "xlsx",
        "--out", str(xlsx))  # fmt: skip
    assert load_workbook(xlsx)["ledger"].max_row == 5  # header + 4 breaches
    ledger = json.loads(
        cli("--json", "report", "ledger", "--from", MARCH[0], "--to", MARCH[1]).output
    )
    assert len(ledger["ledger"]) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-13-01", "--to", "2026-03-31"), "--from '2026-13-01' is not a date"),
        (("--from", "2026-03-31", "--to", "2026-03-01"), "--to 2026-03-01 is before --from"),
        (("--from", "2026-03-01", "--to", "2026-03-31", "--department", "nope"),
         "no department 'nope'"),
        (("--from", "2026-03-01", "--to", "2026-03-31", "--format", "xlsx"), "needs --out"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_a_non_zero_exit(cli, args, message):
    result = cli("report", "accountability", *args, ok=False)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
