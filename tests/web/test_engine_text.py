"""Engine messages on Chinese pages: the catalogue matches what the engine really says
(each error is provoked through the engine, so a reworded message fails here), and a
page in Chinese shows it in Chinese while English pages, the API and the CLI keep it."""

from __future__ import annotations

import io
import re
import threading
import time
from datetime import date, datetime
from html import unescape
from xml.sax.saxutils import escape

import pytest
from flask import session
from sqlalchemy import select, text

from engine import outbox
from engine.absence import ReassignAll
from engine.accounts import CreateAccount, IssueToken, SetAccountActive, SetRoles, principal
from engine.assistance import RequestAssist
from engine.calendars import OverrideDay, RemoveOverride
from engine.chase import UrgeChase
from engine.clock_control import PauseClock, RequestExtension, ResumeClock
from engine.collection.aging import buckets, parse_edges
from engine.collection.importing import parse_csv
from engine.collection.listing import parse_filter
from engine.collection.promises import RecordPromise
from engine.collection.receivables import ImportReceivables, RecordPayment
from engine.comments import AddComment
from engine.definitions import DeployDiagrams
from engine.errors import CaseClockError, DeploymentError
from engine.incidents import DropDelivery, RetryDelivery, RetryTimer
from engine.org import ImportOrg, parse_org_file
from engine.org_edit import SavePerson
from engine.runtime import ClaimTask, CompleteTask, DelegateTask, ReassignTask, UnclaimTask
from engine.sla import CASECLOCK_NS
from engine.standards import RetireStandard, SetStandard
from engine.store import Task, Timer
from webapp import decisions, engine_text

from ..collection.helpers import csv_text, import_rows, row
from ..conftest import PG_URL, SHANGHAI
from ..test_deploy import diagram, timer_process
from .conftest import csrf, post
from .late import go_overdue
from .test_hostile_input import database_held


def provoked(site, command, actor="li"):
    with pytest.raises(CaseClockError) as caught:
        site.engine.execute(command, actor=actor)
    return caught.value.message


def test_every_entry_fills_its_chinese_from_its_own_pattern():
    for pattern, chinese in engine_text.ENTRIES:
        names = set(re.compile(pattern).groupindex)
        wanted = set(re.findall(r"(?<!{){(\w+)}(?!})", chinese))
        assert wanted <= names, (pattern, wanted - names)


def test_the_engine_messages_staff_meet_have_chinese(site):
    task = site.receive
    site.engine.execute(ClaimTask(task, "li"), actor="li")
    messages = [
        provoked(site, ClaimTask(task, "chen"), "chen"),
        provoked(site, CompleteTask(task, "chen", {}), "chen"),
        provoked(site, UnclaimTask(task, "chen"), "chen"),
        provoked(site, DelegateTask(task, "chen", "li"), "chen"),
        provoked(site, CompleteTask(task, "li", {"applicant_name": "", "documents_complete": "x"})),
        provoked(site, CompleteTask(task, "li", {"nonsense": 1})),
        provoked(site, ResumeClock(task, "li")),
        provoked(site, PauseClock(task, "chen", "等材料"), "chen"),
        provoked(site, ClaimTask(99999, "li")),
        provoked(site, UrgeChase(99999, "wang"), "wang"),
        provoked(site, DelegateTask(task, "li", "li")),
    ]
    with pytest.raises(CaseClockError) as empty:
        AddComment(site.case, "li", "  ")
    messages.append(empty.value.message)
    site.engine.execute(PauseClock(task, "li", "等材料"), actor="li")
    messages.append(provoked(site, PauseClock(task, "li", "再等")))
    messages.append(provoked(site, RequestExtension(task, "chen", "2 working days", "x"), "chen"))
    missing = [m for m in messages if engine_text.chinese(m) is None]
    assert missing == []
    form = engine_text.chinese(messages[4])
    assert form.startswith("表单数据有误：") and "必填" in form and "不是“是”或“否”" in form


def test_a_chinese_page_shows_the_engine_message_in_chinese(site):
    """Naming 李窗口 (li), who holds the task, as people see him: in Chinese and in English
    pages; the API keeps the engine's wording, key and all."""
    li, chen = site.client("li"), site.client("chen")
    assert post(li, f"/tasks/{site.receive}/claim").status_code in (302, 303)
    refused = post(chen, f"/tasks/{site.receive}/claim")
    html = chen.get(refused.headers["Location"]).get_data(as_text=True)
    assert f"任务 {site.receive} 已被 李窗口 认领。" in html and "already claimed" not in html
    assert "已被 li " not in html
    assert chen.get("/lang/en").status_code == 302
    again = post(chen, f"/tasks/{site.receive}/claim")
    english = chen.get(again.headers["Location"]).get_data(as_text=True)
    assert f"task {site.receive} is already claimed by 李窗口" in english
    assert "claimed by li" not in english
    api = site.flask.test_client().post(
        f"/api/tasks/{site.receive}/claim",
        headers={"Authorization": f"Bearer {site.token('chen')}"},
    )
    assert api.get_json()["message"] == f"task {site.receive} is already claimed by li"


@pytest.mark.parametrize(
    ("message", "zh", "en"),
    [
        ("task 5 is claimed by li, not chen", "任务 5 由 李窗口 认领，不是 陈窗口。",
         "task 5 is claimed by 李窗口, not 陈窗口"),
        ("'wang' has no account", "王科长 没有账号。", "王科长 has no account"),
        ("li reports (directly or not) to zhao",
         "李窗口（直接或间接）是 赵主任 的下级，不能做其上级。",
         "李窗口 reports (directly or not) to 赵主任"),
        # a key that names nobody stays as written
        ("unknown user 'nobody'", "未知用户 'nobody'。", "unknown user 'nobody'"),
        ("task 5 is not delegated to ghost", "任务 5 没有委派给 ghost。",
         "task 5 is not delegated to ghost"),
    ],
)  # fmt: skip
def test_a_page_names_every_person_an_engine_message_names_by_key(site, message, zh, en):
    """Each kind of part that holds a person's key (``who``, ``user``, ``other``, quoted
    or not), as a page's message area words it."""
    for lang, expected in (("zh_CN", zh), ("en", en)):
        with site.flask.test_request_context("/"):
            session["lang"] = lang
            assert engine_text.localize(message) == expected
    assert engine_text.chinese(message) is not None  # the catalogue has it, keys and all


def test_the_incident_messages_admins_meet_have_chinese(site):
    """An admin acting on an incident that is not one (or no longer exists)."""
    outbox_id = site.engine.execute(lambda ctx: outbox.enqueue(
        ctx, channel="email", recipient="li@example.gov.cn", subject="s", body="b",
        idempotency_key="engine-text"))  # fmt: skip
    [timer_id] = site.engine.read(lambda s: s.scalars(select(Timer.id).limit(1)).all())
    messages = [
        provoked(site, RetryTimer(99999), "zhao"),
        provoked(site, RetryTimer(timer_id), "zhao"),
        provoked(site, RetryDelivery(99999), "zhao"),
        provoked(site, DropDelivery(outbox_id), "zhao"),
    ]
    assert [m for m in messages if engine_text.chinese(m) is None] == []


def untranslated(messages):
    return [m for m in messages if engine_text.chinese(m) is None]


def refusal(refused):
    """What a page may show of a refusal: its message and its fields' messages."""
    with pytest.raises(CaseClockError) as caught:
        refused()
    return [caught.value.message, *caught.value.details.get("fields", {}).values()]


def deploy_problems(site, *bodies, name="bad.bpmn"):
    """Every problem a deploy of each file body reports (as the designer lists them)."""
    found = []
    for body in bodies:
        with pytest.raises(DeploymentError) as caught:
            site.engine.execute(DeployDiagrams([(name, body)]), actor="huang")
        found += [p["message"] for p in caught.value.details.get("problems") or []] or [
            caught.value.message
        ]
    return found


def said(site, build, actor="li"):
    """What a page may show when ``actor`` runs the command ``build`` makes (its
    constructor checks the input, its run the state)."""
    return refusal(lambda: site.engine.execute(build(), actor=actor))


def user_task(attributes):
    return diagram(
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        f'<bpmn:userTask id="t" {attributes}/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
    ).replace(b'id="Defs"', f'xmlns:caseclock="{CASECLOCK_NS}" id="Defs"'.encode())


def test_the_designer_s_deploy_problems_have_chinese(site):
    messages = deploy_problems(
        site,
        user_task('caseclock:limit="3 working days" caseclock:calendar="hainan"'),
        user_task('caseclock:limit="3 weeks"'),
        user_task('caseclock:limit="1.5 working days"'),
        user_task('caseclock:limit="three days"'),
        user_task('caseclock:limit="3 working days" caseclock:warnings="soon"'),
        user_task('caseclock:limit="3 working days" caseclock:warnings="3/2"'),
        user_task('caseclock:limit="3 working days" caseclock:onDeadline="panic"'),
        user_task('caseclock:notifyApplicant="postcard"'),
        timer_process("timeDuration", "P2X"),
        timer_process("timeDate", "2026-13-01T09:00"),
        timer_process("timeCycle", "0/5 0/1 * 1/1 * ?"),
        timer_process("timeCycle", "R3/PTXH"),
        timer_process("timeDate", "${environment.variables.catchDate}"),
        timer_process("timeDuration", ""),
        timer_process("timeDuration", "function() { return 'PT1H' }"),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" '
            'targetRef="x"/><bpmn:serviceTask id="x"/>'
        ),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" '
            'targetRef="x"/><bpmn:complexGateway id="x"/>'
        ),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="gone"/>'
        ),
        diagram('<bpmn:startEvent id="s"/><bpmn:userTask id="orphan"/>'),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>'
            '<bpmn:userTask id="t"/><bpmn:sequenceFlow id="a" sourceRef="t" targetRef="e"/>'
            '<bpmn:sequenceFlow id="b" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
        ),
        diagram('<bpmn:startEvent id="Start"/>'),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
            '<bpmn:scriptTask id="x" scriptFormat="javascript"><bpmn:script>1</bpmn:script>'
            "</bpmn:scriptTask>"
        ),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
            '<bpmn:scriptTask id="x"/>'
        ),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e">'
            '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${a &gt; 1}'
            '</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:endEvent id="e"/>'
        ),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e">'
            '<bpmn:conditionExpression language="javascript">a</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow><bpmn:endEvent id="e"/>'
        ),
        diagram(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="c"/>'
            '<bpmn:callActivity id="c" calledElement="elsewhere"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="c" targetRef="e"/><bpmn:endEvent id="e"/>'
        ),
        diagram('<bpmn:startEvent id="s"/>', executable="false"),
        b"<bpmn:definitions",
        b"<notbpmn/>",
    )
    assert untranslated(messages) == []
    shown = "\n".join(engine_text.chinese(m) for m in messages)
    for wording in (
        "没有工作日历 'hainan'；已有的工作日历：default。",
        "时限 SLA：无法识别时长 '3 weeks' 中的单位 'weeks'",
        "定时器文本有误：不是有效的 ISO 8601 时长：'P2X'。",
        "bpmn:serviceTask：暂不支持服务任务，请改用脚本任务或用户任务。",
        "没有流入的顺序流。",
        "有 2 条顺序流从这里流出：只有网关才能分流。",
        "预警 'soon'",
    ):
        assert wording in shown, wording


def test_the_admin_pages_engine_messages_have_chinese(site):
    messages = [
        *said(site, lambda: OverrideDay("2026-03-05", "holiday", "", "hainan"), "zhao"),
        *said(site, lambda: RemoveOverride("2026-03-05"), "zhao"),
        *said(site, lambda: SetStandard("case_handling", "Task_receive", "3 weeks"), "zhao"),
        *said(
            site,
            lambda: ImportOrg(parse_org_file("org.yaml", b"people: [{key: li, superior: li}]")),
            "zhao",
        ),
        *said(
            site,
            lambda: SetStandard(
                "case_handling", "Task_receive", "2 working days", warnings=["1/3", "2"]
            ),
            "zhao",
        ),
        *said(site, lambda: SetStandard("case_handling", "Task_nothing", "2 working days"), "zhao"),
        *said(
            site,
            lambda: SetStandard(
                "case_handling", "Task_receive", "2 working days", warnings=["5 working days"]
            ),
            "zhao",
        ),
        *said(
            site,
            lambda: SetStandard(
                "case_handling", "Task_receive", "2 working days", calendar="hainan"
            ),
            "zhao",
        ),
        *said(site, lambda: RetireStandard(99999), "zhao"),
        *said(site, lambda: CreateAccount("nobody", ["staff"], None), "zhao"),
        *said(site, lambda: CreateAccount("li", ["staff"], None), "zhao"),
        *said(site, lambda: SetRoles("qian", ["staff"]), "zhao"),
        *said(site, lambda: SetAccountActive("zhao", False), "zhao"),
        *said(
            site,
            lambda: SavePerson("li", "李窗口", "window", "wang", ["reception"], "", "1" * 51),
            "zhao",
        ),
    ]
    for refused in (
        lambda: SetStandard(
            "case_handling", "Task_receive", "2 working days", kind="temporary", condition="a ="
        ),
        lambda: SetStandard("case_handling", "Task_receive", "2 working days", priority=10**9),
        lambda: SetStandard(
            "case_handling",
            "Task_receive",
            "2 working days",
            kind="temporary",
            valid_from=datetime(1800, 1, 1, tzinfo=SHANGHAI),
        ),
        lambda: CreateAccount("zhou", ["staff"], "abc"),
        lambda: CreateAccount("zhou", ["boss"], None),
        lambda: IssueToken("li", " "),
        lambda: parse_org_file("org.yaml", b"people: [unclosed"),
    ):
        messages += refusal(refused)
    assert untranslated(messages) == []
    shown = [engine_text.chinese(m) for m in messages]
    assert "工作日历 'default' 在 2026-03-05 没有调整。" in shown
    assert "'li' 已有账号。" in shown and "phone 超过 50 个字符。" in shown


def test_supervisor_assist_and_clock_messages_have_chinese(site):
    task = site.receive
    site.engine.execute(ClaimTask(task, "li"), actor="li")
    messages = [
        *said(site, lambda: RequestExtension(task, "li", "3 weeks", "等材料")),
        *said(site, lambda: RequestExtension(task, "li", "1.5 working days", "等材料")),
        *said(site, lambda: RequestAssist(task, "li", "reviewers", "请核对", "soon")),
        *said(site, lambda: ReassignTask(task, "nobody"), "wang"),
    ]
    wang = site.engine.read(lambda s: principal(s, "wang"))
    for refused in (
        lambda: decisions.chase(site.engine, wang, 99999, "shout", {}),
        lambda: decisions.chase(site.engine, wang, 99999, "urge", {}),
        lambda: decisions.decide(site.engine, wang, "extension", 1, "refuse", {}),
    ):
        messages += refusal(refused)
    assert untranslated(messages) == []
    extension = engine_text.chinese(messages[0])
    assert extension.startswith("延期时长无效：无法识别时长 '3 weeks' 中的单位")
    assert "请说明驳回理由。" in [engine_text.chinese(m) for m in messages]


def test_the_collection_pages_engine_messages_have_chinese(site):
    """Payments and promises, the list's filters, the aging buckets and the CSV import's
    file and row reports."""
    app = site.engine
    import_rows(app, row("R-1", "1000.00", "2026-02-01", collector="li"))
    app.execute(RecordPayment("R-1", "100.00", date(2026, 2, 20), "TX-1"), actor="li")
    messages = [
        *said(site, lambda: RecordPayment("R-1", "0", date(2026, 2, 21))),
        *said(site, lambda: RecordPayment("R-1", "5000.00", date(2026, 2, 21))),
        *said(site, lambda: RecordPayment("R-1", "10.00", date(2026, 2, 10))),
        *said(site, lambda: RecordPromise("R-1", "10.00", date(2026, 1, 1))),
        *said(site, lambda: RecordPromise("R-1", "10.00", date(2099, 1, 1))),
        *said(site, lambda: RecordPayment("R-1", "10.00", date(2099, 1, 1))),
        *said(site, lambda: RecordPayment("R-1", "10.00", date(2026, 3, 2), "TX-1")),
    ]
    for refused in (
        lambda: parse_filter({"product": "car"}),
        lambda: parse_filter({"grade": "Z"}),
        lambda: parse_filter({"overdue": "maybe"}),
        lambda: parse_filter({"per_page": "0"}),
        lambda: parse_edges("30,x"),
        lambda: buckets((60, 30)),
        lambda: buckets(tuple(range(1, 40))),
        lambda: parse_csv(""),
        lambda: parse_csv("receivable_key,colour\nR-9,red\n"),
    ):
        messages += refusal(refused)
    bad_rows = [
        row("R-2", "-5", "2026-01-01"),
        row("R-3", "abc", "2026-01-01"),
        row("R-4", "10.00", "2026-13-01"),
        row("R-5", "10.00", "2026-01-01", product="car"),
        row("R-6", "10.00", "2026-01-01", currency="RMBX"),
        row("R-7", "10.00", "2026-01-01", guarantee="gold"),
        row("R-8", "10.00", "2026-01-01", blacklisted="yes"),
        row("R-9", "10.00", "2026-01-01", blacklisted="perhaps"),
        row("R-10", "10.00", "", schedule="2026-01-01=4.00;2026-02-01=5.00"),
        row("R-11", "10.00", "", schedule="2026-01-01"),
        row("R-12", "10.00", "2026-01-01", grace_days="soon"),
        row("R-13", "10.00", "2026-01-01", opened_on="2026-02-01"),
        row("R-14", "10.00", "2026-01-01", customer_name=""),
        row("R-15", "10.00", "2026-01-01", collector="nobody"),
        row("R-16", "10.00", "2026-01-01", credit_limit="-1"),
        row("R-18", "10.00", "2026-01-01", phone="ext 12"),
        row("R-19", "10.00", "2026-01-01", email="a@b"),
        row("R-20", "10.00", "2026-01-01", email="x" * 190 + "@example.com"),
    ]
    report = app.execute(ImportReceivables(parse_csv(csv_text(*bad_rows)), "bad.csv"),
                         actor="zhao")  # fmt: skip
    errors = [r.error for r in report.rows]
    assert len(errors) == len(bad_rows) and all(errors)
    longer = csv_text(row("R-17", "10.00", "2026-01-01")).rstrip("\n") + ",surplus\n"
    errors.append(parse_csv(longer)[0].error)
    assert untranslated(messages + errors) == []
    assert engine_text.chinese(errors[1]).startswith("principal：金额 'abc' 不是普通的十进制数")


def shown(response, status):
    assert response.status_code == status
    return unescape(response.get_data(as_text=True))


def test_chinese_admin_supervisor_and_collection_pages_show_them_in_chinese(site):
    zhao = site.client("zhao")
    html = shown(post(zhao, "/admin/calendars/clear", {"day": "2026-03-05"}), 404)
    assert "工作日历 'default' 在 2026-03-05 没有调整。" in html and "has no override" not in html
    standard = {"process": "case_handling", "step": "Task_receive", "limit": "3 weeks",
                "kind": "basic", "on_deadline": "notify"}  # fmt: skip
    html = shown(post(zhao, "/admin/sla", standard), 422)
    assert "时限标准：无法识别时长 '3 weeks' 中的单位" in html
    assert "unknown unit" not in html
    wang = site.client("wang")
    html = shown(post(wang, "/board/chase/99999/shout"), 404)
    assert "没有催办操作 'shout'" in html and "no chase action" not in html
    import_rows(site.engine, row("R-1", "1000.00", "2026-02-01", collector="li"))
    paid = post(site.client("li"), "/collection/receivables/R-1/payments", {"amount": "0"})
    html = shown(paid, 422)
    assert "付款金额必须大于零。" in html and "positive amount" not in html


def test_chase_and_assist_messages_have_chinese(site, clock):
    """A real chase task (li's 受理 goes late: wang's chase, and qian's for BJ-0002's) and
    a real 协办 request, each used the wrong way."""
    chase = go_overdue(site, clock)
    qians = site.engine.read(lambda s: s.scalars(
        select(Task.id).where(Task.kind == "chase", Task.assignee == "qian")).one())  # fmt: skip
    ask = RequestAssist(site.receive, "li", "reviewers", "请核对材料")
    assist = site.engine.execute(ask, actor="li").id
    wang = site.engine.read(lambda s: principal(s, "wang"))
    messages = [
        provoked(site, CompleteTask(chase, "wang", {}), "wang"),
        provoked(site, CompleteTask(assist, "yang", {}), "yang"),
        provoked(site, ReassignAll("wang", None), "zhao"),
        provoked(site, ReassignAll("ghost", "wang"), "zhao"),
    ]
    for refused in (
        lambda: decisions.chase(site.engine, wang, qians, "handle", {}),
        lambda: decisions.chase(site.engine, wang, chase, "reassign", {"to": "yang"}),
    ):
        messages += refusal(refused)
    assert untranslated(messages) == []
    worded = [engine_text.chinese(m) for m in messages]
    assert worded[:2] == [
        f"任务 {chase} 是催办任务：请在“督办”页面催办或标记已处理。",
        f"任务 {assist} 是协办请求：请直接答复。",
    ]
    assert "caseclock" not in "".join(worded)  # the CLI's hints stay off the pages


def test_the_board_and_the_admin_page_show_chase_refusals_in_chinese(site, clock):
    chase = go_overdue(site, clock)
    wrong = post(site.client("wang"), f"/board/chase/{chase}/reassign", {"to": "yang"})
    html = shown(wrong, 422)
    assert "请选择组织架构中您的下级。" in html and "below you" not in html
    handover = post(site.client("zhao"), "/admin/reassign", {"holder": "wang", "to": ""})
    html = shown(handover, 422)
    assert "催办任务不能退回组任务池：请选择接收人。" in html and "give --to" not in html


def test_what_a_page_does_not_let_you_open_is_said_in_chinese(site):
    yang = site.client("yang")
    html = shown(yang.get(f"/tasks/{site.receive}"), 403)
    assert f"任务 {site.receive} 不是您或您所在用户组的任务。" in html
    html = shown(yang.get(f"/cases/{site.case}"), 403)
    assert f"您没有参与办理案件 {site.case}。" in html and "work on" not in html


def test_a_command_that_meets_a_busy_database_has_chinese(site):
    with database_held(site):
        messages = said(site, lambda: CreateAccount("qian", ["staff"], None), "zhao")
    assert messages[0] == "create_account: the database is busy; try again"
    assert engine_text.chinese(messages[0]) == "系统繁忙，本次操作未完成，请重试。"


def _waiting_for_locks(site, count):
    """Block until ``count`` transactions on this test's database wait for a lock
    (PostgreSQL), or fail after 30 s."""
    query = text(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN "
        "(SELECT pid FROM pg_stat_activity WHERE datname = current_database())"
    )
    deadline = time.monotonic() + 30
    while site.engine.read(lambda s: s.scalar(query)) < count:
        assert time.monotonic() < deadline, f"{count} lock waits never came"
        time.sleep(0.01)


@pytest.mark.skipif(not PG_URL, reason="SQLite runs one writer at a time: no race to lose")
def test_a_command_that_loses_a_race_has_chinese(site):
    """Two admins create 钱副主任's account at once. The first has inserted it and waits
    for the access chain's lock (held here); the second passed its "already has an
    account" check and waits on the first's row. The first commits: the second lost."""
    outcomes = {}

    def create(label, roles):
        try:
            site.engine.execute(CreateAccount("qian", roles, None), actor="zhao")
            outcomes[label] = "ok"
        except CaseClockError as exc:
            outcomes[label] = exc.message

    threads = [threading.Thread(target=create, args=(n, [r])) for n, r in
               (("first", "staff"), ("second", "supervisor"))]  # fmt: skip
    with site.engine.db.connect() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(hashtext('access'))"))
        for waits, thread in enumerate(threads, start=1):
            thread.start()
            _waiting_for_locks(site, waits)
        holder.rollback()
    for thread in threads:
        thread.join(30)
    assert outcomes == {
        "first": "ok",
        "second": "create_account: a concurrent change won; try again",
    }
    assert (
        engine_text.chinese(outcomes["second"])
        == "有人同时修改了同一内容，本次操作未保存，请重试。"
    )


def decision_table(*tests, hit_policy="UNIQUE", aggregation=""):
    """A DMN file with one rule per FEEL input entry."""
    rules = "".join(
        f'<rule id="R{n}"><inputEntry id="In{n}"><text>{escape(test)}</text></inputEntry>'
        f'<outputEntry id="Out{n}"><text>"x"</text></outputEntry></rule>'
        for n, test in enumerate(tests)
    )
    table = f'hitPolicy="{hit_policy}"' + (f' aggregation="{aggregation}"' if aggregation else "")
    return (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="D" name="d" '
        'namespace="http://caseclock.dev/dmn"><decision id="grade" name="grade">'
        f'<decisionTable id="T" {table}><input id="I"><inputExpression id="E" '
        'typeRef="integer"><text>days</text></inputExpression></input>'
        f'<output id="O" name="grade" typeRef="string"/>{rules}</decisionTable></decision>'
        "</definitions>"
    ).encode()


def test_the_decision_table_problems_a_designer_meets_have_chinese(site):
    feel = ("not 5", "not()", "!= 5", "? > 5", "5 + 1", "1,,2", "> 1 2", 'date("2026-01-01")',
            "1 2", "[1..90", "days > 5", "> [", '"a\\q"')  # fmt: skip
    messages = deploy_problems(
        site,
        decision_table(*feel),
        decision_table("1", hit_policy="ANY"),
        decision_table("1", hit_policy="COLLECT", aggregation="SUM"),
        name="grade.dmn",
    )
    assert len(messages) == len(feel) + 2
    assert untranslated(messages) == []
    said_in_chinese = [engine_text.chinese(m) for m in messages]
    assert (
        "FEEL 条件有误：'[ 1 .. 90'：区间应写成 [下限..上限]、(下限..上限] 等形式。"
        in said_in_chinese
    )
    assert (
        said_in_chinese[-1]
        == "不支持带聚合的命中策略 COLLECT；请用 UNIQUE、FIRST 或 COLLECT（不带聚合）。"
    )
    designer = site.client("huang")
    body = {"xml": decision_table("[1..90").decode(), "file": "grade.dmn"}
    token = csrf(designer, "/designer")
    refused = designer.post("/designer/validate", json=body, headers={"X-CSRFToken": token})
    [problem] = refused.get_json()["problems"]
    assert problem["message"].startswith("FEEL 条件有误：'[ 1 .. 90'：区间应写成")


# An org file, and what the admin's upload says about it in Chinese.
ORG_FILES = {
    "people:\n  - just a string\n": "people：每一项都应是映射（mapping，即“键: 值”），不能是 "
    "'just a string'。",
    "departments:\n  - {key: d, webhook: http://x}\n": "departments d：webhook 应是映射（mapping）",
    "people:\n  - {key: x, groups: reception}\n": "people x：groups 应是列表",
    "people:\n  - {key: x, groups: [{a: b}]}\n": "人员 'x'：groups 应是用户组编号的列表，不能是 ",
    "people:\n  - {name: 无编号}\n": "有一个人员条目缺少 key：",
    "- just\n- a list\n": "org.yaml：应为包含 departments、people、groups 的映射（mapping）。",
    "people:\n  - {key: ma, phone: 110}\n": "人员 'ma'：phone '110' 不是电话号码",
    "people:\n  - {key: ma, superiour: li}\n": "人员 'ma'：未知的键 'superiour'；可用的键：",
    "staff:\n  - {key: ma}\n": "org.yaml：未知的顶层键 'staff'；可用的键：",
    "departments:\n  - {key: d, webhook: {adress: x}}\n": "部门 'd'：webhook 中有未知的键 'adress'",
    "people: ma\n": "org.yaml：people 应是列表，每行一项（- key: …）。",
}


def test_the_org_file_s_own_checks_are_shown_in_chinese(site):
    admin = site.client("zhao")
    for content, wording in ORG_FILES.items():
        upload = {"file": (io.BytesIO(content.encode()), "org.yaml")}
        html = shown(post(admin, "/admin/org/upload", upload), 422)
        [error] = re.findall(r'data-error="upload.file">([^<]*)<', html)
        assert wording in error, (content, error)
