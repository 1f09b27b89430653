"""The case and task pages name what the engine stores as codes: the case's and the
task's state, who holds a task and its candidate groups, the kind of a waiting timer, and
the keys and values of the history's details, in the page's language."""

from __future__ import annotations

import re

from engine.runtime import ClaimTask, CompleteTask

from .conftest import Site
from .late import go_overdue

GOOD = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": True}


def text(response) -> str:
    return response.get_data(as_text=True)


def history(page: str) -> str:
    return page.split('class="history"')[1]


def test_the_case_page_names_states_people_groups_timers_and_details(site: Site):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    site.engine.execute(CompleteTask(site.receive, "li", GOOD), actor="li")
    li = site.client("li")
    page = text(li.get(f"/cases/{site.case}"))
    assert '<dd data-state="running">办理中</dd>' in page
    # 审核 is offered to the reviewers group: its name, not its key.
    assert "组：审核科" in page and "reviewers" not in page.split("<h2>案件数据")[0]
    # An SLA clock's timer: what it is, then the step, not "deadline: 审核 · sla deadline".
    assert re.search(r"data-kind=\"sla deadline\">[^<]*· 时限截止 · 审核<", page)
    assert "sla deadline" not in re.sub(r'data-kind="[^"]*"', "", page)
    done = history(page)
    assert '<span data-key="user">用户：李窗口</span>' in done

    li.get("/lang/en")
    page = text(li.get(f"/cases/{site.case}"))
    assert '<dd data-state="running">running</dd>' in page
    assert "· time-limit deadline · " in page and "group: 审核科" in page
    assert '<span data-key="user">user: 李窗口</span>' in history(page)


def test_the_task_page_names_its_state_holder_and_groups(site: Site):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    page = text(site.client("li").get(f"/tasks/{site.receive}"))
    assert '<dd data-state="open">待办</dd>' in page
    assert "<dd>默认日历 · 每个工作日" in page  # the calendar, not its key "default"
    assert '<dd data-testid="assignee">李窗口' in page
    assert "<dt>候选组</dt><dd>受理窗口</dd>" in page


def test_a_breach_in_the_history_reads_in_local_time_and_working_time(site: Site, clock):
    go_overdue(site, clock)
    page = text(site.client("li").get(f"/cases/{site.case}"))
    breach = re.search(r"<td>超时记录</td>\s*<td class=\"payload\">(.*?)</td>", history(page), re.S)
    assert breach, "no breach in the history"
    shown = breach.group(1)
    deadline = re.search(r'<span data-key="deadline">截止时间：([^<]*)</span>', shown)
    assert deadline and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", deadline.group(1))
    assert '<span data-key="responsible">责任人：李窗口</span>' in shown
    holders = re.search(r'<span data-key="holders">经手人：([^<]*)</span>', shown)
    assert holders and holders.group(1).startswith("李窗口 ") and "{" not in holders.group(1)
