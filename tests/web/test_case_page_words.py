"""The case page reads as words, not the engine's codes: the case data by its forms'
labels (yes/no in words, an enum value by its option's name), what the case waits for by
the event's name, the history's commands, details and people by name, and the notices'
kinds and in-app recipients in words. The codes stay where a reader may want them (muted,
or in a title) and in the JSON API, which also carries the names."""

from __future__ import annotations

import re

from engine.runtime import ClaimTask, CompleteTask, StartInstance
from timers.worker import Worker

from ..helpers import open_tasks
from .conftest import Site
from .late import OVERDUE, go_overdue

MISSING = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": False,
           "applicant_email": "a@example.com", "applicant_locale": "en"}  # fmt: skip


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def history(page: str) -> str:
    return page.split('class="history"')[1]


def row_of(page: str, command: str) -> str:
    """The details of the history's first row whose command is ``command`` (its words)."""
    found = re.search(
        rf"<td>{command}</td>\s*<td class=\"payload\">(.*?)</td>", history(page), re.S
    )
    assert found, f"no {command} in the history"
    return found.group(1)


def visible(page: str) -> str:
    """What the page shows: its text without tags, attributes and the muted codes."""
    page = re.sub(r'<small class="muted">[^<]*</small>', "", page)
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def test_the_case_data_reads_by_the_forms_labels_and_option_names(site: Site):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    good = {**MISSING, "documents_complete": True}
    site.engine.execute(CompleteTask(site.receive, "li", good), actor="li")
    review = open_tasks(site.engine, site.case)["Task_review"]["id"]
    site.engine.execute(ClaimTask(review, "yang"), actor="yang")
    done = {"review_opinion": "pass", "review_comment": "材料齐全"}
    site.engine.execute(CompleteTask(review, "yang", done), actor="yang")
    li = site.client("li")
    page = text(li.get(f"/cases/{site.case}"))
    data = page.split('<dl class="data">')[1].split("</dl>")[0]
    assert (
        '<dt data-key="documents_complete">材料齐全 <small class="muted">documents_complete'
        "</small></dt><dd>是</dd>"
    ) in data
    assert '<dt data-key="review_opinion">审核意见 <small class="muted">' in data
    assert "<dd>通过</dd>" in data and ">pass<" not in data
    assert "<dd>English</dd>" in data  # applicant_locale "en" by its option's name
    assert "False" not in data and "True" not in data
    # The completed 受理's data in the history: labels and words too.
    completed = row_of(page, "办理")
    assert "材料齐全：是" in completed and "申请人：张三" in completed
    assert "documents_complete" not in completed and "{" not in completed
    # The task page's data card names its variables the same way.
    task = text(li.get(f"/tasks/{site.receive}"))
    assert '<dt data-key="documents_complete">材料齐全 <small class="muted">' in task
    assert "<dd>是</dd>" in task

    li.get("/lang/en")
    page = text(li.get(f"/cases/{site.case}"))
    assert '<small class="muted">documents_complete</small></dt><dd>Yes</dd>' in page


def test_a_variable_no_form_declares_is_shown_as_it_is(site: Site):
    case = site.engine.execute(
        StartInstance("case_handling", "BJ-0003", {"channel_code": "window"}), actor="li"
    ).id
    page = text(site.client("li").get(f"/cases/{case}"))
    assert '<dt data-key="channel_code">channel_code</dt><dd>window</dd>' in page


def test_a_waiting_message_shows_its_event_by_name(site: Site):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    site.engine.execute(CompleteTask(site.receive, "li", MISSING), actor="li")
    page = text(site.client("li").get(f"/cases/{site.case}"))
    waiting = page.split("<h2>等待中的消息</h2>")[1].split("</ul>")[0]
    assert '材料已补正 <small class="muted">documents_supplied</small>' in waiting
    assert "Catch_documents_supplied" not in visible(waiting)


def test_the_history_names_commands_details_and_people(site: Site, clock):
    go_overdue(site, clock)
    page = text(site.client("li").get(f"/cases/{site.case}"))
    shown = visible(history(page))
    for code in ("sla_breach", "sla_warning_coalesced", "element_id", "late_seconds",
                 "notified", "scope", "department_id", "late_task_id", "holder:",
                 "Task_receive", "worker", "– –", "basic standard", "working day"):  # fmt: skip
        assert code not in shown, f"{code!r} shown on the case page"
    breach = row_of(page, "超出时限")
    assert '<span data-key="element_id">环节：受理</span>' in breach
    assert '<span data-key="scope">范围：环节时限</span>' in breach
    assert '<span data-key="notified">已通知：是</span>' in breach
    assert "受理：李窗口（上级：王科长）" in breach
    assert re.search(r'data-key="late_seconds">延迟：16 小时 30 分钟<', breach)
    ledger = row_of(page, "超时记录")
    assert '<span data-key="responsible">责任人：李窗口</span>' in ledger
    assert '<span data-key="superior">上级：王科长</span>' in ledger
    assert '<span data-key="limit">时限：1 个工作日</span>' in ledger
    assert '<span data-key="standard">标准：基本标准（流程图）</span>' in ledger
    assert '<span data-key="step">环节：受理</span>' in ledger
    assert '<span data-key="department_id">部门：综合受理窗口</span>' in ledger
    assert re.search(r'data-key="holders">经手人：李窗口 1 个工作日', ledger)
    chase = row_of(page, "发起催办")
    assert '<span data-key="late_task_id">超时任务：受理</span>' in chase
    assert '<span data-key="holder">办理人：李窗口</span>' in chase
    assert '<span data-key="to">新办理人：王科长</span>' in chase
    assert "预警并入超时" in shown and "<td>定时触发</td>" in history(page)
    assert '<td data-actor="worker">系统定时任务</td>' in page
    assert '<td data-actor="li">李窗口</td>' in page

    li = site.client("li")
    li.get("/lang/en")
    page = text(li.get(f"/cases/{site.case}"))
    ledger = history(page)
    assert "1 working day" in ledger and "basic standard (diagram)" in ledger
    assert "1 个工作日" not in ledger and "基本标准" not in ledger
    assert re.search(r'<span data-key="notified">[^<:]*: Yes</span>', ledger)  # not True


def test_an_unclaimed_holder_is_said_so(site: Site, clock):
    """BJ-0002's 受理 sits unclaimed in the pool when it runs late: the ledger says no one
    held it (not "– –"); the breach names who answers for the pool (its head)."""
    clock.set(OVERDUE)
    Worker(site.engine).run_once()
    page = text(site.client("yang").get(f"/cases/{site.yang_case}"))
    breach = row_of(page, "超出时限")
    assert "受理：王科长（上级：钱副主任）" in breach and "– –" not in breach
    assert re.search(r'data-key="holders">经手人：未认领 \d', row_of(page, "超时记录"))


def test_the_notices_name_their_kind_and_in_app_recipient(site: Site, clock):
    go_overdue(site, clock)
    page = text(site.client("li").get(f"/cases/{site.case}"))
    notices = page.split('data-testid="notice-log"')[1].split("</table>")[0]
    assert '<small class="muted" data-kind="sla_breach">超期通知' in notices
    assert '<small class="muted" data-kind="chase_task">催办通知' in notices
    assert "<code>" not in notices
    assert '<span title="li">李窗口</span>' in notices
    assert '<span title="wang">王科长</span>' in notices


def test_the_api_carries_the_codes_and_their_names(site: Site, clock):
    go_overdue(site, clock)
    li = site.flask.test_client()
    bearer = {"Authorization": f"Bearer {site.token('li')}"}
    case = li.get(f"/api/instances/{site.case}", headers=bearer).get_json()
    assert case["names"]["people"]["li"] == "李窗口"
    assert case["names"]["steps"]["Task_receive"] == "受理"
    assert case["names"]["steps"]["Catch_documents_supplied"] == "材料已补正"
    assert case["data_labels"]["review_opinion"]["options"] == {"pass": "通过", "reject": "不通过"}
    breach = next(e for e in case["history"] if e["command"] == "sla_breach")
    assert breach["actor"] == "worker" and breach["payload"]["element_id"] == "Task_receive"
    inapp = next(n for n in case["notices"] if n["channel"] == "inapp")
    assert inapp["recipient"] in ("li", "wang") and inapp["recipient_name"] in ("李窗口", "王科长")
    task = li.get(f"/api/tasks/{site.receive}", headers=bearer).get_json()
    assert task["data_labels"]["documents_complete"]["label"] == "材料齐全"
