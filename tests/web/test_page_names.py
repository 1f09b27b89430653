"""Pages name processes and people in words, not keys, in Chinese and in English: the
process version a case started on, the variables CaseClock itself writes into a case
(a variable only the sender of a message sets keeps its key: test_history_words), who
asked for the 协办 whose clock a request follows, and an SLA standard given no label.
The people an engine message names by key: test_engine_text."""

from __future__ import annotations

import html
import re
from datetime import date

from sqlalchemy import select

from engine.collection.daily import run_collection_day
from engine.runtime import CompleteTask, StartInstance
from engine.standards import SetStandard
from engine.store import ProcessInstance
from engine.store.ladder_tables import GradeChange

from ..collection.helpers import import_rows, row
from ..conftest import SHIPPED, deploy
from ..helpers import open_tasks
from .conftest import Site
from .late import go_overdue
from .test_assist_pages import ask, review  # noqa: F401 (a fixture)
from .test_case_page_words import row_of, text, visible


def english(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/lang/en").status_code == 302


def test_a_case_names_the_process_version_it_started_on(site: Site):
    li = site.client("li")
    page = text(li.get(f"/cases/{site.case}"))
    started = row_of(page, "启动")
    assert '<span data-key="definition">流程版本：行政审批办件 第 1 版</span>' in started
    assert "case_handling" not in started

    heading = re.search(r'<small class="muted" data-definition="case_handling:1">([^<]*)<', page)
    assert heading and heading.group(1) == "行政审批办件 第 1 版"

    english(li)
    page = text(li.get(f"/cases/{site.case}"))
    started = re.search(r'<span data-key="definition">([^<]*)</span>', page)
    assert started and started.group(1) == "process version: 行政审批办件, version 1"
    assert ">行政审批办件, version 1<" in page  # the heading


def warning_case(site: Site) -> int:
    """A receivable of 催收部, collected by 吴催收, downgraded from 关注 to 次级 on day 91:
    CaseClock opens a risk warning report (bpmn/risk_warning.bpmn) with its own data."""
    app = site.engine
    deploy(app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn",
           SHIPPED / "risk_warning.bpmn")  # fmt: skip
    import_rows(app, row("W-1", "1000.00", "2026-03-01", department="collections",
                         collector="wu"))  # fmt: skip
    run_collection_day(app, date(2026, 3, 2))  # enters the ladder as 关注
    run_collection_day(app, date(2026, 5, 31))  # day 91: 次级
    found = app.read(lambda s: s.scalars(
        select(ProcessInstance.id).join(
            GradeChange, GradeChange.warning_instance_id == ProcessInstance.id)
    ).all())  # fmt: skip
    assert len(found) == 1
    return found[0]


def data_card(page: str) -> str:
    return page.split('<dl class="data">')[1].split("</dl>")[0]


def entry(card: str, key: str) -> tuple[str, str]:
    """The label (its muted key left out) and the value the data card shows for ``key``."""
    found = re.search(rf'<dt data-key="{key}">(.*?)</dt><dd>(.*?)</dd>', card, re.S)
    assert found, f"{key} not in the data card"
    return visible(found.group(1)).strip(), html.unescape(found.group(2))


def test_the_variables_caseclock_writes_read_by_their_labels(site: Site):
    case = warning_case(site)
    zhou = site.client("zhou")  # the auditor reads every case
    card = data_card(text(zhou.get(f"/cases/{case}")))
    assert entry(card, "old_grade") == ("原风险等级", "关注")
    assert entry(card, "new_grade") == ("新风险等级", "次级")
    assert entry(card, "days_past_due") == ("逾期天数", "91")
    assert entry(card, "warning_group") == ("预警承办组", "催收主管")
    assert entry(card, "department") == ("部门", "催收部")
    assert entry(card, "as_of") == ("基准日", "2026-05-31")
    assert entry(card, "customer") == ("客户", "C-W-1")
    assert entry(card, "recommended_actions")[0] == "建议措施"
    assert entry(card, "collector") == ("催收员", "吴催收")

    english(zhou)
    card = data_card(text(zhou.get(f"/cases/{case}")))
    assert entry(card, "old_grade") == ("previous grade", "Special mention")
    assert entry(card, "new_grade") == ("new grade", "Substandard")
    assert entry(card, "days_past_due") == ("days past due", "91")
    assert entry(card, "warning_group") == ("warning report group", "催收主管")
    assert entry(card, "recommended_actions")[0] == "recommended actions"
    assert entry(card, "customer")[0] == "customer"


def clock_standard(page: str, label: str) -> str:
    found = re.search(rf"<dt>{label}</dt><dd>([^<]*)</dd>", page)
    assert found, f"no {label} line in the clock"
    return html.unescape(found.group(1))


def test_an_assist_clock_names_who_asked_in_the_page_language(site: Site, review: int):  # noqa: F811
    """杨审核 (yang) asks 法务 for 协办; 周律师 (zhou, in 法务) opens the request."""
    request = ask(site, review)
    zhou = site.client("zhou")
    page = text(zhou.get(f"/tasks/{request}"))
    assert clock_standard(page, "标准") == "杨审核 请求的协办"
    case = text(zhou.get(f"/cases/{site.case}"))
    assert "杨审核 请求的协办" in case
    for shown in (page, case):
        assert "协办 for" not in shown and "yang" not in visible(shown)

    english(zhou)
    page = text(zhou.get(f"/tasks/{request}"))
    assert clock_standard(page, "Standard") == "assistance requested by 杨审核"


def test_a_standard_without_a_label_is_named_by_its_limit_in_the_page_language(site: Site):
    """An admin sets a basic standard for 受理 and gives it no label: the clock's 标准 line
    names it by its limit, in the page's words, not "basic 4 working days"."""
    app = site.engine
    standard = app.execute(SetStandard("case_handling", "Task_receive", "4 working days"))
    case = app.execute(StartInstance("case_handling", "BJ-0003"), actor="zhao").id
    task = open_tasks(app, case)["Task_receive"]["id"]
    li = site.client("li")
    page = text(li.get(f"/tasks/{task}"))
    assert clock_standard(page, "标准") == f"基本标准 #{standard.id}：4 个工作日"

    english(li)
    page = text(li.get(f"/tasks/{task}"))
    assert clock_standard(page, "Standard") == f"basic standard #{standard.id}: 4 working days"


def test_a_case_page_links_only_the_tasks_its_reader_may_open(site: Site, clock):
    """BJ-0001 goes overdue: 王科长 (wang) gets a 催办. 李窗口 (li), who holds the late
    受理, sees the 催办 on the case page but cannot open it, so it is no link for him;
    wang's is a link. Its clock follows the chase's grace period, in words."""
    chase = go_overdue(site, clock)
    link = f'href="/tasks/{chase}"'
    li_page = text(site.client("li").get(f"/cases/{site.case}"))
    assert "催办：受理" in li_page and link not in li_page
    assert site.client("li").get(f"/tasks/{chase}").status_code == 403
    wang = site.client("wang")
    wang_page = text(wang.get(f"/cases/{site.case}"))
    assert link in wang_page and "催办宽限期" in wang_page
    assert "chase grace period" not in wang_page
    assert clock_standard(text(wang.get(f"/tasks/{chase}")), "标准") == "催办宽限期"


def test_a_field_left_blank_reads_as_a_dash_in_the_history(site: Site):
    """李窗口 completes 受理 without the applicant's e-mail: the history's form data says
    "申请人邮箱：–", not "申请人邮箱：" with nothing after it."""
    form = {"applicant_name": "张三", "matter": "食品经营许可证", "applicant_email": "",
            "documents_complete": True}  # fmt: skip
    site.engine.execute(CompleteTask(site.receive, "li", form, claim=True), actor="li")
    done = row_of(text(site.client("li").get(f"/cases/{site.case}")), "办理")
    assert "申请人邮箱：–" in visible(done) and "申请人：张三" in visible(done)
