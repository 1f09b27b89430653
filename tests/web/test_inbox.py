"""The staff inbox: listing, filtering, the task page's actions and form, the case view,
notifications, and object-level refusals (a 403 page, never a 500)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, insert, select

from engine.accounts import principal
from engine.runtime import ClaimTask, StartInstance
from engine.store import AuditEvent, OutboxMessage, ProcessInstance, Task
from timers.worker import Worker

from ..helpers import open_tasks
from . import test_browser
from .conftest import post
from .test_browser import log_in

# The browser fixtures, shared with the staff scenario.
browser, live, page = test_browser.browser, test_browser.live, test_browser.page

GOOD = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": "on"}


def task_row(engine, task_id):
    return engine.read(lambda s: s.get(Task, task_id))


def audit_count(engine, instance_id):
    return engine.read(
        lambda s: s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.instance_id == instance_id)
        )
    )


def test_inbox_lists_my_groups_tasks_soonest_deadline_first(site, clock):
    clock.advance(timedelta(hours=2))
    site.engine.execute(StartInstance("case_handling", "BJ-0003"), actor="zhao")
    client = site.client("li")
    page = client.get("/inbox").get_data(as_text=True)
    order = re.findall(r"BJ-000\d", page)
    assert order == ["BJ-0001", "BJ-0002", "BJ-0003"]
    # Traffic light, working time left, and the explanation behind it.
    assert 'class="clock light-green"' in page
    # "1 working day" ends with the next working day (Tuesday 17:30): at Monday 11:00 that
    # is 5 h today (11–12, 13:30–17:30) plus a 7-hour day; BJ-0003, received now, too.
    assert re.findall(r"剩余 ([^<]+)</span>", page) == ["1 个工作日 5 小时"] * 3
    assert "2026-03-03 17:30" in page
    assert "1 个工作日</dd>" in page and "默认日历" in page
    english = site.client("li")
    english.get("/lang/en")
    assert "1 working day</dd>" in english.get("/inbox").get_data(as_text=True)
    assert "截止时间 = 开始时间 + 时限" in page
    # yang (reviewers) has nothing: every task is offered to reception.
    assert "没有待办任务" in site.client("yang").get("/inbox").get_data(as_text=True)


def test_filters_and_search(site):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    client = site.client("li")
    mine = client.get("/inbox?filter=mine").get_data(as_text=True)
    group = client.get("/inbox?filter=group").get_data(as_text=True)
    assert "BJ-0001" in mine and "BJ-0002" not in mine
    assert "BJ-0002" in group and "BJ-0001" not in group
    found = client.get("/inbox?q=bj-0002").get_data(as_text=True)
    assert "BJ-0002" in found and "BJ-0001" not in found
    # % and _ are looked for as they are, not as LIKE wildcards matching every task.
    for wildcard in ("%", "_", "bj_0002"):
        shown = client.get("/inbox", query_string={"q": wildcard}).get_data(as_text=True)
        assert "BJ-0001" not in shown and "BJ-0002" not in shown, wildcard
    assert "BJ-0001" in client.get("/inbox?filter=bogus").get_data(as_text=True)
    # chen sees li's claimed task nowhere in his inbox, only the group's.
    chen = site.client("chen").get("/inbox").get_data(as_text=True)
    assert "BJ-0002" in chen and "BJ-0001" not in chen


def test_claim_unclaim_and_complete(site):
    client = site.client("li")
    response = post(client, f"/tasks/{site.receive}/claim")
    assert response.status_code == 303
    assert task_row(site.engine, site.receive).assignee == "li"
    assert "已认领" in client.get(response.headers["Location"]).get_data(as_text=True)
    post(client, f"/tasks/{site.receive}/unclaim")
    assert task_row(site.engine, site.receive).assignee is None
    response = post(client, f"/tasks/{site.receive}/complete", GOOD)
    assert response.status_code == 303 and response.headers["Location"] == "/inbox"
    row = task_row(site.engine, site.receive)
    assert (row.state, row.completed_by) == ("completed", "li")
    assert open_tasks(site.engine, site.case)["Task_review"]["candidate_groups"] == ["reviewers"]
    data = site.engine.read(lambda s: s.get(ProcessInstance, site.case).data)
    assert data["applicant_name"] == "张三" and data["documents_complete"] is True


def test_bad_form_data_shows_errors_at_the_fields_and_changes_nothing(site):
    client = site.client("li")
    post(client, f"/tasks/{site.receive}/claim")
    before = audit_count(site.engine, site.case)
    too_long = "x" * 101
    sent = {"applicant_name": too_long, "matter": "", "applicant_mobile": "1380"}
    response = post(client, f"/tasks/{site.receive}/complete", sent)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    name_field = re.search(
        r'class="field[^"]*" data-field="applicant_name".*?</div>', page, re.S
    ).group(0)
    # The engine's messages in the page's language (webapp.engine_text).
    assert "has-error" in name_field and "最多 100 个字符" in name_field
    matter_field = re.search(r'class="field[^"]*" data-field="matter".*?</div>', page, re.S).group(
        0
    )
    assert "必填" in matter_field
    mobile_field = re.search(
        r'class="field[^"]*" data-field="applicant_mobile".*?</div>', page, re.S
    ).group(0)
    # Four digits are no phone number (the form's format constraint); what was typed stays.
    assert "has-error" in mobile_field and "不是电话号码" in mobile_field
    assert 'value="1380"' in mobile_field
    # Nothing half-written: still open, no data, no audit event.
    assert task_row(site.engine, site.receive).state == "open"
    assert site.engine.read(lambda s: s.get(ProcessInstance, site.case).data) == {}
    assert audit_count(site.engine, site.case) == before


def test_pause_resume_and_extension(site, clock):
    client = site.client("li")
    post(client, f"/tasks/{site.receive}/claim")
    response = post(client, f"/tasks/{site.receive}/pause", {"reason": "  "})
    assert response.status_code == 422
    assert re.search(
        r"暂停计时（补正）</button><p class=\"field-error\"", response.get_data(as_text=True)
    )
    assert task_row(site.engine, site.receive).paused_at is None
    post(client, f"/tasks/{site.receive}/pause", {"reason": "等待申请人补正材料"})
    page = client.get(f"/tasks/{site.receive}").get_data(as_text=True)
    assert "light-paused" in page and "等待申请人补正材料" in page
    assert re.search(r"<li>[^<]* · 李窗口 · [^<]*：等待申请人补正材料</li>", page)  # by name
    due = task_row(site.engine, site.receive).due_at
    clock.advance(timedelta(hours=2))
    client = site.client("li")  # two idle hours ended the session
    post(client, f"/tasks/{site.receive}/resume")
    row = task_row(site.engine, site.receive)
    # Two working hours paused: Tuesday 17:30 moves to Wednesday 11:00.
    assert row.paused_at is None and row.paused_seconds == 2 * 3600 and row.due_at > due
    page = client.get(f"/tasks/{site.receive}").get_data(as_text=True)
    assert "<dt>截止</dt><dd>2026-03-04 11:00</dd>" in page
    assert "<dt>暂停</dt><dd>2 小时" in page
    response = post(client, f"/tasks/{site.receive}/extend",
                    {"amount": "two days", "reason": "材料复杂"})  # fmt: skip
    assert response.status_code == 422 and "延期时长无效" in response.get_data(as_text=True)
    # Both fields wrong: both are marked at once, not one after the other.
    response = post(client, f"/tasks/{site.receive}/extend", {"amount": "abc", "reason": " "})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "延期时长无效" in page and "申请延期需要说明原因" in page
    response = post(client, f"/tasks/{site.receive}/extend",
                    {"amount": "2 working days", "reason": "材料复杂"})  # fmt: skip
    assert response.status_code == 303
    page = client.get(f"/tasks/{site.receive}").get_data(as_text=True)
    assert "延期申请" in page and "2 个工作日" in page and "待审批" in page


def test_delegate(site):
    client = site.client("li")
    post(client, f"/tasks/{site.receive}/claim")
    # Offered: others who work tasks; asked for 协办: groups other than the step's own.
    page = client.get(f"/tasks/{site.receive}").get_data(as_text=True)
    choices = page.split('name="to"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="(\w+)">', choices)
    assert offered == ["chen", "wang", "yang"]  # not li herself, zhou (auditor), huang, zhao
    asked = page.split('name="group"')[1].split("</select>")[0]
    assert 'value="reviewers"' in asked and 'value="reception"' not in asked
    response = post(client, f"/tasks/{site.receive}/delegate", {"to": "ghost"})
    assert response.status_code == 422 and "未知用户" in response.get_data(as_text=True)
    response = post(client, f"/tasks/{site.receive}/delegate", {"to": "chen"})
    assert response.status_code == 303
    row = task_row(site.engine, site.receive)
    assert (row.assignee, row.owner, row.delegation_state) == ("chen", "li", "pending")
    # The owner still sees the task, but can no longer act on it.
    page = client.get(f"/tasks/{site.receive}").get_data(as_text=True)
    assert 'data-testid="complete"' not in page and 'data-testid="resolve"' not in page
    chen = site.client("chen")
    assert "BJ-0001" in chen.get("/inbox?filter=mine").get_data(as_text=True)
    assert post(chen, f"/tasks/{site.receive}/complete", GOOD).status_code == 303
    assert task_row(site.engine, site.receive).state == "open"  # refused: delegate resolves
    # The delegate is offered the form to fill in; a bad value is refused at its field.
    page = chen.get(f"/tasks/{site.receive}").get_data(as_text=True)
    assert f'action="/tasks/{site.receive}/resolve" class="task-form"' in page
    bad = post(chen, f"/tasks/{site.receive}/resolve", {"applicant_name": "x" * 101})
    assert bad.status_code == 422 and "最多 100 个字符" in bad.get_data(as_text=True)
    assert task_row(site.engine, site.receive).delegation_state == "pending"
    post(chen, f"/tasks/{site.receive}/resolve", {"applicant_name": "张三", "matter": ""})
    row = task_row(site.engine, site.receive)
    assert (row.assignee, row.delegation_state) == ("li", "resolved")
    page = client.get(f"/tasks/{site.receive}").get_data(as_text=True)
    assert 'data-testid="complete"' in page
    # What the delegate filled in is in the owner's form; what they left blank is not.
    assert re.search(r'name="applicant_name"[^>]*value="张三"', page)
    assert not re.search(r'name="matter"[^>]*value="[^"]', page)


def test_conflicts_come_back_as_a_message(site):
    site.engine.execute(ClaimTask(site.receive, "chen"), actor="chen")
    client = site.client("li")
    response = post(client, f"/tasks/{site.receive}/claim")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已被 陈窗口 认领" in page  # chen, by name


def test_object_level_refusals_are_403_pages(site):
    yang = site.client("yang")  # a reviewer: the 受理 task is not offered to him
    for response in (
        yang.get(f"/tasks/{site.receive}"),
        post(yang, f"/tasks/{site.receive}/claim"),
        post(yang, f"/tasks/{site.receive}/complete", GOOD),
        yang.get(f"/cases/{site.case}"),
    ):
        assert response.status_code == 403
        assert "无权访问" in response.get_data(as_text=True)
    assert task_row(site.engine, site.receive).assignee is None
    # His own case he may read, though its task is not his.
    assert yang.get(f"/cases/{site.yang_case}").status_code == 200
    assert yang.get("/tasks/99999").status_code == 404
    assert post(yang, f"/tasks/{site.receive}/bogus").status_code in (403, 404)


def test_post_without_csrf_token_is_refused(site):
    client = site.client("li")
    response = client.post(f"/tasks/{site.receive}/claim")
    assert response.status_code == 400
    assert task_row(site.engine, site.receive).assignee is None


def test_case_view(site):
    client = site.client("li")
    post(client, f"/tasks/{site.receive}/complete", GOOD)
    page = client.get(f"/cases/{site.case}").get_data(as_text=True)
    assert "BJ-0001" in page and "行政审批办件" in page
    assert "审核" in page  # the open task
    assert "sla deadline" in page  # its waiting clock timer
    assert "张三" in page  # case data
    assert "办理" in page and "认领" in page  # history: claim + complete by li
    client.get("/lang/en")
    history = client.get(f"/cases/{site.case}").get_data(as_text=True).split("<h2>History")[-1]
    commands = re.findall(
        r'<tr><td[^>]*>[^<]*</td><td data-actor="li">李窗口</td><td>([^<]*)</td>', history
    )
    assert commands == ["claimed", "completed"]  # not the inbox button's "Claim" and "Open"
    assert ">Open</a>" in client.get("/inbox").get_data(as_text=True)
    auditor = site.client("zhou")
    assert auditor.get(f"/cases/{site.case}").status_code == 200
    assert site.client("huang").get(f"/cases/{site.case}").status_code == 403


def inapp_ids(engine, recipient, mine=True):
    who = OutboxMessage.recipient == recipient if mine else OutboxMessage.recipient != recipient
    return engine.read(
        lambda s: list(
            s.scalars(select(OutboxMessage.id).where(OutboxMessage.channel == "inapp", who))
        )
    )


def test_notifications_with_unread_count(site, clock):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    site.engine.execute(ClaimTask(site.yang_case_receive, "li"), actor="li")
    clock.advance(timedelta(days=3))
    Worker(site.engine).run_once()  # warnings and breaches: in-app notices to li and others
    mine, others = inapp_ids(site.engine, "li"), inapp_ids(site.engine, "li", mine=False)
    assert len(mine) >= 2 and others
    client = site.client("li")
    assert f'data-testid="unread">{len(mine)}<' in client.get("/inbox").get_data(as_text=True)
    listing = client.get("/notifications").get_data(as_text=True)
    assert listing.count('class="unread"') == len(mine)
    assert set(map(int, re.findall(r'data-notice="(\d+)"', listing))) == set(mine)
    post(client, "/notifications/read", {"id": str(mine[0])})
    assert f'data-testid="unread">{len(mine) - 1}<' in client.get("/inbox").get_data(as_text=True)
    # Marking someone else's notice read is silently ignored.
    post(client, "/notifications/read", {"id": str(others[0])})
    owner = site.engine.read(lambda s: s.get(OutboxMessage, others[0]).recipient)
    assert owner != "li"
    from engine.store.account_tables import NoticeRead

    assert site.engine.read(lambda s: s.get(NoticeRead, others[0])) is None
    post(client, "/notifications/read")
    assert 'data-testid="unread"' not in client.get("/inbox").get_data(as_text=True)
    assert client.get("/notifications").get_data(as_text=True).count('class="unread"') == 0


# --- paging: 50 rows a page, "next" after the last (due_at, id), "previous" before the first


def clone_tasks(engine, model_id, dues, assignee=None):
    """Open tasks like ``model_id`` (a 受理 offered to reception) with these deadlines
    (None: no deadline), written as rows: paging needs more tasks than starting cases
    would quickly give."""
    from engine.store import TaskCandidateGroup

    ids = []
    with engine.db.begin() as conn:
        row = dict(conn.execute(select(Task.__table__).where(Task.id == model_id)).mappings().one())
        del row["id"]
        for due in dues:
            values = {**row, "due_at": due, "warn_at": None, "assignee": assignee,
                      "spiff_task_id": str(uuid.uuid4())}  # fmt: skip
            new = conn.execute(insert(Task).values(values).returning(Task.id)).scalar_one()
            if assignee is None:
                conn.execute(insert(TaskCandidateGroup).values(task_id=new, group_key="reception"))
            ids.append(new)
    return ids


def soonest_first(engine, ids):
    rows = engine.read(lambda s: s.execute(select(Task.due_at, Task.id).where(Task.id.in_(ids))))
    return [i for due, i in sorted(rows, key=lambda r: (r[0] is None, r[0] or 0, r[1]))]


def read_page(site, **where):
    from webapp import reads

    app = site.engine
    li = app.read(lambda s: principal(s, "li"))
    return app.read(
        lambda s: reads.inbox_page(
            s, li, app.services.org.snapshot(s), app.services.timezone, app.clock.now(),
            limit=3, **where,
        )
    )  # fmt: skip


@pytest.fixture
def many(site):
    """17 open tasks for li: ties on a deadline, some held by him, some without deadline."""
    due = task_row(site.engine, site.receive).due_at
    offered = clone_tasks(
        site.engine,
        site.receive,
        [due, due, due + timedelta(hours=1), due - timedelta(hours=1), None, None],
    )
    held = clone_tasks(
        site.engine,
        site.receive,
        [due, due + timedelta(hours=1), None, due, due - timedelta(days=1)],
        assignee="li",
    )
    more = clone_tasks(site.engine, site.receive, [due + timedelta(minutes=m) for m in (1, 2, 3)]
                       + [None])  # fmt: skip
    return soonest_first(site.engine, [site.receive, site.yang_case_receive,
                                       *offered, *held, *more])  # fmt: skip


def test_pages_follow_one_another_without_losing_or_repeating_a_row(site, many):
    assert len(many) == 17
    pages, after = [], None
    while True:
        page = read_page(site, after=after)
        pages.append([r["id"] for r in page.rows])
        assert (page.before is None) == (len(pages) == 1)
        if page.after is None:
            break
        after = page.after
    assert [len(p) for p in pages] == [3, 3, 3, 3, 3, 2]
    assert [i for p in pages for i in p] == many  # each row once, soonest first, undated last
    # Back from the last page, page by page, to the first.
    back, before = [pages[-1]], read_page(site, after=after).before
    while before is not None:
        page = read_page(site, before=before)
        back.insert(0, [r["id"] for r in page.rows])
        before = page.before
    assert back == pages


def test_paging_keeps_the_filter_and_the_search(site, many):
    mine = []
    page = read_page(site, which="mine")
    while True:
        mine += [r["id"] for r in page.rows]
        assert all(r["assignee"] == "li" for r in page.rows)
        if page.after is None:
            break
        page = read_page(site, which="mine", after=page.after)
    assert mine == [i for i in many if task_row(site.engine, i).assignee == "li"]
    found = read_page(site, which="group", search="bj-0002")
    assert [r["id"] for r in found.rows] == [site.yang_case_receive] and found.after is None


def test_a_page_whose_tasks_were_all_done_leads_back_to_those_before(site, many):
    after = f"u{many[-3]}"  # the last four are undated
    assert [r["id"] for r in read_page(site, after=after).rows] == many[-2:]
    with site.engine.db.begin() as conn:  # done meanwhile (plain rows: closed as rows)
        conn.execute(
            Task.__table__.update().where(Task.id.in_(many[-2:])).values(state="completed")
        )
    empty = read_page(site, after=after)
    assert empty.rows == [] and empty.after is None and empty.before is not None
    assert [r["id"] for r in read_page(site, before=empty.before).rows] == many[-5:-2]


def test_the_inbox_page_shows_fifty_with_links_to_the_next_and_previous(site):
    due = task_row(site.engine, site.receive).due_at
    clone_tasks(site.engine, site.receive, [due + timedelta(minutes=m) for m in range(53)])
    client = site.client("li")
    first = client.get("/inbox?filter=group&q=bj").get_data(as_text=True)
    rows = re.findall(r'<tr data-task="(\d+)"', first)
    assert len(rows) == 50 and 'data-testid="page-prev"' not in first
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "filter=group" in link and "q=bj" in link and "after=" in link
    second = client.get(link).get_data(as_text=True)
    more = re.findall(r'<tr data-task="(\d+)"', second)
    assert len(more) == 5 and not set(more) & set(rows)  # 55 tasks in all, none twice
    assert 'rel="next"' not in second
    back = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert "filter=group" in back and "before=" in back
    assert re.findall(r'<tr data-task="(\d+)"', client.get(back).get_data(as_text=True)) == rows
    # A position that is not one is a clear error, not a crash.
    bad = client.get("/inbox?after=yesterday")
    assert bad.status_code == 422 and "not a position in the inbox" in bad.get_data(as_text=True)
    assert client.get("/inbox?before=99999999999999999999_1").status_code == 422


def test_every_row_still_explains_its_deadline(site):
    page = site.client("li").get("/inbox").get_data(as_text=True)
    rows = re.findall(r'<tr data-task="\d+">.*?</tr>', page, re.S)
    assert len(rows) == 2
    for row in rows:  # limit, standard, calendar, start, deadline, pauses, extensions
        for label in ("<dt>时限</dt><dd>1 个工作日</dd>", "<dt>标准</dt>", "<dt>日历</dt>",
                      "<dt>开始</dt>", "<dt>截止</dt>", "<dt>暂停</dt><dd>无",
                      "<dt>延期</dt><dd>无", "截止时间 = 开始时间 + 时限"):  # fmt: skip
            assert label in row
    english = site.client("li")
    english.get("/lang/en")
    page = english.get("/inbox").get_data(as_text=True)
    assert "<dt>Limit</dt>" in page and "<dt>时限</dt>" not in page


def test_browser_next_page_and_its_explanations(site, live, page):
    due = task_row(site.engine, site.receive).due_at
    clone_tasks(site.engine, site.receive, [due + timedelta(minutes=m) for m in range(53)])
    expect.set_options(timeout=30_000)  # a loaded 2-core machine: wait, never sleep
    log_in(page, live, "li")
    rows = page.locator("table.tasks tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_test_id("page-next").click()
    expect(rows).to_have_count(5)
    rows.nth(4).locator("summary").click()  # why this deadline, on the second page too
    expect(rows.nth(4).locator(".explain")).to_contain_text("1 个工作日")
    expect(rows.nth(4).locator(".hint")).to_be_visible()
    page.get_by_test_id("page-prev").click()
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("page-prev")).to_have_count(0)
