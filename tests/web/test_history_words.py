"""What the case and task pages still showed as the engine stores it, now in words: a
message's name (the event that waited for it) and its data, a 催办's outcome, a
collection case's start and the variables the engine writes (people and groups by name,
products, instants in local time, the ladder by its levels), who owns a delegated task;
and label and value joined by the page's colon (full-width in Chinese)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine.accounts import CreateAccount
from engine.chase import HandleChase
from engine.collection.daily import run_collection_day
from engine.collection.demo import seed_demo_portfolio
from engine.collection.ladder import ResetLadder
from engine.runtime import ClaimTask, CompleteTask, CorrelateMessage, DelegateTask
from engine.store import ProcessInstance, Task
from timers.worker import Worker

from ..conftest import SHIPPED, deploy
from .conftest import Site, login, password
from .late import go_overdue
from .test_case_page_words import MISSING, history, row_of, text, visible

# What the applicant's message carries: a form's variable and one no form declares, an
# instant written in UTC (08:30 in Shanghai).
SUPPLIED = {"documents_complete": True, "supplied_at": "2026-03-03T00:30:00+00:00"}


def wait_for_documents(site: Site) -> None:
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    site.engine.execute(CompleteTask(site.receive, "li", MISSING), actor="li")


def test_a_message_names_the_event_it_reached_and_its_data_in_words(site: Site):
    wait_for_documents(site)
    site.engine.execute(CorrelateMessage("documents_supplied", "BJ-0001", SUPPLIED), "li")
    li = site.client("li")
    page = text(li.get(f"/cases/{site.case}"))
    message = row_of(page, "收到消息")
    assert '<span data-key="message">消息：材料已补正</span>' in message
    assert "documents_supplied" not in message
    data = re.search(r'<span data-key="data">([^<]*)</span>', message).group(1)
    assert data == "数据：材料齐全：是；supplied_at：2026-03-03 08:30"
    # The case data card: the instant in local time too, the undeclared key as it is.
    assert '<dt data-key="supplied_at">supplied_at</dt><dd>2026-03-03 08:30</dd>' in page

    li.get("/lang/en")
    message = row_of(text(li.get(f"/cases/{site.case}")), "message received")
    assert '<span data-key="message">message: 材料已补正</span>' in message
    assert "Yes; supplied_at: 2026-03-03 08:30" in message
    assert "documents_supplied" not in message and "True" not in message


def test_a_chase_outcome_names_people_and_reads_in_words(site: Site, clock):
    """王科长 handles BJ-0001's chase with a note; nobody handles BJ-0002's (钱副主任's:
    its 受理 sat in the pool), so it climbs to 赵主任. The engine writes "handled: …" and
    "escalated to zhao"."""
    chase = go_overdue(site, clock)
    site.engine.execute(HandleChase(chase, "wang", "已电话督促"), actor="wang")
    clock.advance(timedelta(days=7))
    Worker(site.engine).run_once()
    outcomes = {
        case: re.findall(
            r'<span data-key="outcome">([^<]*)</span>',
            history(text(site.client("zhou").get(f"/cases/{case}"))),
        )
        for case in (site.case, site.yang_case)
    }
    assert "结果：已处理：已电话督促" in outcomes[site.case]
    assert "结果：已上报给 赵主任" in outcomes[site.yang_case]
    shown = " ".join(outcomes[site.case] + outcomes[site.yang_case])
    assert "handled" not in shown and "escalated" not in shown and "zhao" not in shown


def test_the_owner_of_a_delegated_task_is_named(site: Site):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    site.engine.execute(DelegateTask(site.receive, "li", "chen"), actor="li")
    page = text(site.client("chen").get(f"/tasks/{site.receive}"))
    assert "<dt>所有者</dt><dd>李窗口</dd>" in page


def collection_case(site: Site) -> int:
    """The demo portfolio on the collection ladder (as `caseclock demo` seeds it): the
    case of a credit card debt collected by 吴催收 (wu)."""
    app = site.engine
    deploy(app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn")
    seed_demo_portfolio(app)
    app.execute(ResetLadder(), actor="tests")
    run_collection_day(app)
    for _ in range(3):  # the ladder's levels already due, one a pass: a call task opens
        Worker(app).run_once()

    def find(s) -> int:  # type: ignore[no-untyped-def]
        for instance in s.scalars(select(ProcessInstance).order_by(ProcessInstance.id)):
            data = instance.data or {}
            if data.get("collector") == "wu" and data.get("product") == "credit_card":
                return instance.id
        raise AssertionError("no credit card case of wu's")

    return app.read(find)


def test_a_collection_case_reads_in_words(site: Site):
    case = collection_case(site)
    zhou = site.client("zhou")  # the auditor reads every case
    page = text(zhou.get(f"/cases/{case}"))
    shown = visible(history(page))
    assert "collection.case_started" not in shown
    started = row_of(page, "进入催收阶梯")
    assert re.search(r'<span data-key="receivable">应收款：DEMO-\w+</span>', started)
    assert re.search(r'<span data-key="due_date">到期日：\d{4}-\d\d-\d\d</span>', started)
    assert re.search(r'<span data-key="as_of">基准日：2026-03-02</span>', started)
    data = row_of(page, "启动")
    words = ("催收员：吴催收", "产品：信用卡", "电话催收承办组：催收员", "催收阶梯：到期前提醒 ")
    for said in words:
        assert said in data, said
    assert re.search(r"电话催收时间：\d{4}-\d\d-\d\d 09:00；", data)
    for code in ("collector", "wu；", "credit_card", "[{", "T09:00:00", "ladder_call_role"):
        assert code not in visible(data), code
    # The data card: the engine's variables by their words, the keys muted.
    card = page.split('<dl class="data">')[1].split("</dl>")[0]
    assert '<dt data-key="collector">催收员 <small class="muted">collector</small></dt>' in card
    assert "<dd>吴催收</dd>" in card and "<dd>信用卡</dd>" in card
    call_at = r'data-key="ladder_call_at">电话催收时间 .*?<dd>\d{4}-\d\d-\d\d 09:00</dd>'
    assert re.search(call_at, card)
    assert "<dd>wu</dd>" not in card and "T09:00:00" not in card and "[{" not in card

    zhou.get("/lang/en")
    page = text(zhou.get(f"/cases/{case}"))
    card = page.split('<dl class="data">')[1].split("</dl>")[0]
    assert "<dd>吴催收</dd>" in card and "<dd>Credit card</dd>" in card
    for code in ("<dd>wu</dd>", "T09:00:00", "[{", "collection.case_started"):
        assert code not in page, code
    data = re.search(r'<span data-key="data">([^<]*)</span>', history(page)).group(1)
    assert ": 吴催收; " in data and "：" not in data  # English: ASCII colons


def test_the_task_page_names_the_case_variables_too(site: Site, password_hashes: dict[str, str]):
    """A collection task's page shows the same data card as its case: 吴催收 (wu), one
    of the collectors it is offered to, opens it."""
    case = collection_case(site)
    opened = (Task.instance_id == case, Task.state == "open", Task.kind == "user")
    task = site.engine.read(lambda s: s.scalars(select(Task.id).where(*opened)).first())
    assert task is not None, "the ladder has reached a task on the demo's collection day"
    hashed = password_hashes["li"]  # any hash: wu logs in with li's password
    site.engine.execute(CreateAccount("wu", ("staff",), None, password_hash=hashed), "tests")
    wu = site.flask.test_client()
    login(wu, "wu", password("li"))
    page = text(wu.get(f"/tasks/{task}"))
    card = page.split('<dl class="data">')[1].split("</dl>")[0]
    assert '<dt data-key="collector">催收员 <small class="muted">collector</small></dt>' in card
    assert "<dd>吴催收</dd>" in card and "<dd>信用卡</dd>" in card
    assert "<dd>wu</dd>" not in card and "T09:00:00" not in card
