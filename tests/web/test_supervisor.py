"""The supervisor board: chase tasks (urge, handle, reassign, comment), late and yellow
work below me, decisions on extensions and exemptions, on-time charts; object-level
refusals; the same through the JSON API; and the staff side of 协办, stand-ins and
comments that the board relies on."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from engine.absence import DeclareAbsence
from engine.accounts import CreateAccount
from engine.clock_control import RequestExtension
from engine.ledger import RequestExemption
from engine.runtime import ClaimTask, StartInstance
from engine.store import OutboxMessage, Task
from engine.store.models import Comment, Exemption, SlaExtension
from timers.worker import Worker

from ..helpers import open_tasks, work
from . import test_browser
from .conftest import post
from .late import OVERDUE, go_overdue
from .test_browser import SHOTS, log_in
from .test_inbox import GOOD as FORM

# The browser fixtures, shared with the staff scenario.
browser, live, page = test_browser.browser, test_browser.live, test_browser.page


def task(site, task_id):
    return site.engine.read(lambda s: s.get(Task, task_id))


def test_board_lists_my_chase_and_the_late_work_below_me(site, clock):
    chase = go_overdue(site, clock)
    page = site.client("wang").get("/board").get_data(as_text=True)
    assert f'data-chase="{chase}"' in page and "催办：受理" in page
    assert "BJ-0001" in page and "李窗口" in page
    # BJ-0002 is unclaimed in reception, wang's department: late work he answers for.
    assert "BJ-0002" in page
    assert 'class="clock light-red"' in page
    assert '<svg class="chart"' in page or "暂无数据" in page
    assert " style=" not in page  # the CSP forbids inline style attributes


def test_urge_then_handle_a_chase(site, clock):
    chase = go_overdue(site, clock)
    wang = site.client("wang")
    response = post(wang, f"/board/chase/{chase}/urge", {"message": "今天下班前办完"})
    assert response.status_code == 303
    urged = site.engine.read(
        lambda s: s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.recipient == "li", OutboxMessage.idempotency_key.like("urge:%")
            )
        ).all()
    )
    assert urged and "今天下班前办完" in urged[0].body
    # Twice in the same hour is refused, under the urge form on the board, not an error page.
    again = post(wang, f"/board/chase/{chase}/urge", {"message": "again"})
    assert again.status_code == 409
    assert "本小时内已催办过" in again.get_data(as_text=True)
    assert post(wang, f"/board/chase/{chase}/handle", {"note": "已电话督促"}).status_code == 303
    closed = task(site, chase)
    assert closed.state == "completed" and closed.outcome == "handled: 已电话督促"
    assert f'data-chase="{chase}"' not in wang.get("/board").get_data(as_text=True)


def test_reassign_the_late_task_only_to_someone_below_me(site, clock):
    chase = go_overdue(site, clock)
    wang = site.client("wang")
    wrong = post(wang, f"/board/chase/{chase}/reassign", {"to": "yang"})
    assert wrong.status_code == 422
    assert "请选择组织架构中您的下级。" in wrong.get_data(as_text=True)
    assert task(site, site.receive).assignee == "li"
    assert post(wang, f"/board/chase/{chase}/reassign", {"to": "chen"}).status_code == 303
    assert task(site, site.receive).assignee == "chen"
    assert task(site, chase).state == "completed"  # reassigning settles the chase


def test_comment_on_a_chase_lands_on_the_late_task(site, clock):
    chase = go_overdue(site, clock)
    wang = site.client("wang")
    empty = post(wang, f"/board/chase/{chase}/comment", {"text": "  "})
    assert empty.status_code == 422 and 'class="field-error"' in empty.get_data(as_text=True)
    assert post(wang, f"/board/chase/{chase}/comment", {"text": "请优先办理"}).status_code == 303
    page = site.client("li").get(f"/tasks/{site.receive}").get_data(as_text=True)
    assert "请优先办理" in page and "王科长" in page


def test_someone_elses_chase_is_forbidden(site, clock):
    chase = go_overdue(site, clock)
    qians = site.engine.read(
        lambda s: s.scalars(
            select(Task.id).where(Task.kind == "chase", Task.assignee == "qian")
        ).one()
    )
    wang = site.client("wang")
    assert post(wang, f"/board/chase/{qians}/urge").status_code == 403
    assert post(wang, f"/board/chase/{site.receive}/urge").status_code == 404  # not a chase
    assert post(wang, f"/board/chase/{chase}/fly").status_code == 404
    assert post(site.client("li"), f"/board/chase/{chase}/urge").status_code == 403


def test_decide_an_extension_and_an_exemption(site, clock):
    go_overdue(site, clock)
    ext = site.engine.execute(RequestExtension(site.receive, "li", "1 working day", "材料多"),
                              actor="li").id  # fmt: skip
    exe = site.engine.execute(RequestExemption(site.receive, "li", "系统故障"), actor="li").id
    wang = site.client("wang")
    page = wang.get("/board").get_data(as_text=True)
    assert f'data-request="extension-{ext}"' in page and "材料多" in page
    assert f'data-request="exemption-{exe}"' in page and "系统故障" in page
    # A refusal needs a reason, shown at the field.
    refused = post(wang, f"/board/exemption/{exe}/refuse", {"note": ""})
    assert refused.status_code == 422 and "请说明驳回理由" in refused.get_data(as_text=True)
    assert post(wang, f"/board/extension/{ext}/approve", {"note": "同意"}).status_code == 303
    assert post(wang, f"/board/exemption/{exe}/refuse", {"note": "理由不足"}).status_code == 303
    status = site.engine.read(lambda s: (s.get(SlaExtension, ext).status,
                                         s.get(Exemption, exe).status))  # fmt: skip
    assert status == ("approved", "refused")
    again = post(wang, f"/board/extension/{ext}/approve")
    assert again.status_code == 303  # already decided: a message, not an error page


def test_deciding_needs_the_role_and_a_real_request(site, clock):
    go_overdue(site, clock)
    ext = site.engine.execute(RequestExtension(site.receive, "li", "1 working day", "x"),
                              actor="li").id  # fmt: skip
    assert post(site.client("li"), f"/board/extension/{ext}/approve").status_code == 403
    wang = site.client("wang")
    assert post(wang, "/board/extension/99999/approve").status_code == 404
    assert post(wang, f"/board/holiday/{ext}/approve").status_code == 404
    assert post(wang, f"/board/extension/{ext}/maybe").status_code == 404


def test_api_board_and_actions(site, clock):
    chase = go_overdue(site, clock)
    headers = {"Authorization": f"Bearer {site.token('wang')}"}
    client = site.client()
    board = client.get("/api/board", headers=headers).get_json()
    assert [c["id"] for c in board["my_chase_tasks"]] == [chase]
    assert "on_time_by_step" in board
    bad = client.post(f"/api/chase/{chase}/reassign", json={"to": "zhao"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["details"]["fields"]["to"]
    ok = client.post(f"/api/chase/{chase}/handle", json={"note": "ok"}, headers=headers)
    assert ok.status_code == 200 and ok.get_json() == {"chase_id": chase, "done": "handle"}
    ext = site.engine.execute(RequestExtension(site.receive, "li", "1 working day", "x"),
                              actor="li").id  # fmt: skip
    decided = client.post(f"/api/extensions/{ext}/refuse", json={"note": "不行"}, headers=headers)
    assert decided.get_json() == {"kind": "extension", "id": ext, "status": "refused"}
    junk = client.post("/api/chase/1/urge", data="[",
                       headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    assert junk.status_code == 422 and junk.is_json
    li = {"Authorization": f"Bearer {site.token('li')}"}
    assert client.get("/api/board", headers=li).status_code == 403


# --- the staff side: stand-ins, 协办 and comments ---------------------------------------


def test_the_inbox_shows_work_of_whom_i_stand_in_for(site):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    yang = site.client("yang")  # a reviewer: li's reception work is not his
    assert yang.get(f"/tasks/{site.receive}").status_code == 403
    assert yang.get(f"/cases/{site.case}").status_code == 403
    site.engine.execute(DeclareAbsence("li", "yang", date(2026, 3, 2), date(2026, 3, 6), "年假"),
                        actor="zhao")  # fmt: skip
    page = yang.get("/inbox?filter=mine").get_data(as_text=True)
    assert f'data-testid="deputy-{site.receive}"' in page and "代 李窗口" in page
    detail = yang.get(f"/tasks/{site.receive}")
    assert detail.status_code == 200 and 'data-testid="complete"' in detail.get_data(as_text=True)
    assert yang.get(f"/cases/{site.case}").status_code == 200
    done = post(yang, f"/tasks/{site.receive}/complete", FORM)
    assert done.status_code == 303 and task(site, site.receive).completed_by == "yang"


def test_request_claim_and_answer_assist(site):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    li = site.client("li")
    assert 'data-testid="assist-form"' in li.get(f"/tasks/{site.receive}").get_data(as_text=True)
    missing = post(li, f"/tasks/{site.receive}/assist", {"group": "reviewers", "question": ""})
    assert missing.status_code == 422 and "请说明需要" in missing.get_data(as_text=True)
    unknown = post(li, f"/tasks/{site.receive}/assist", {"group": "nobody", "question": "?"})
    assert unknown.status_code == 422
    asked = post(
        li,
        f"/tasks/{site.receive}/assist",
        {"group": "reviewers", "question": "请核对营业执照", "limit": "1 working day"},
    )
    assert asked.status_code == 303
    request_id = site.engine.read(
        lambda s: s.scalars(select(Task.id).where(Task.kind == "assist")).one()
    )
    yang = site.client("yang")
    inbox = yang.get("/inbox").get_data(as_text=True)
    assert f'data-testid="assists-{request_id}"' in inbox and "协办：受理" in inbox
    assert "协办事项：受理 · 李窗口" in inbox  # the asking step's holder by name
    assert post(yang, f"/tasks/{request_id}/claim").status_code == 303
    empty = post(yang, f"/tasks/{request_id}/answer", {"answer": ""})
    assert empty.status_code == 422
    assert post(yang, f"/tasks/{request_id}/answer", {"answer": "已核对无误"}).status_code == 303
    assert task(site, request_id).outcome == "answered"
    # Only reviewers see the request; li (who asked) sees her own task, not the pool's.
    assert site.client("chen").get(f"/tasks/{request_id}").status_code == 403


def test_comments_on_case_and_task_pages(site):
    li = site.client("li")
    empty = post(li, f"/cases/{site.case}/comment", {"text": ""})
    assert empty.status_code == 422 and 'role="alert"' in empty.get_data(as_text=True)
    assert post(li, f"/cases/{site.case}/comment", {"text": "申请人已来电"}).status_code == 303
    assert post(li, f"/tasks/{site.receive}/comment", {"text": "缺身份证复印件"}).status_code == 303
    case = li.get(f"/cases/{site.case}").get_data(as_text=True)
    assert "申请人已来电" in case and "缺身份证复印件" in case
    task_page = li.get(f"/tasks/{site.receive}").get_data(as_text=True)
    assert "缺身份证复印件" in task_page and "申请人已来电" not in task_page
    # yang may not see the case, so may not comment on it either.
    assert (
        post(site.client("yang"), f"/cases/{site.case}/comment", {"text": "x"}).status_code == 403
    )
    assert site.engine.read(lambda s: len(s.scalars(select(Comment)).all())) == 2


# --- in a real browser ----------------------------------------------------------------


def test_browser_a_case_goes_overdue_and_the_supervisor_handles_the_chase(site, live, page, clock):
    # An on-time completion by chen first, so the team's on-time charts have a bar.
    third = site.engine.execute(StartInstance("case_handling", "BJ-0003"), actor="zhao").id
    work(site.engine, third, "Task_receive", "chen", FORM)
    chase = go_overdue(site, clock)
    site.engine.execute(RequestExtension(site.receive, "li", "1 working day", "申请人补交材料"),
                        actor="li")  # fmt: skip
    expect.set_options(timeout=30_000)  # a loaded 2-core machine: wait, never sleep

    log_in(page, live, "wang")
    page.locator("nav [data-nav=board]").click()
    expect(page).to_have_url(f"{live}/board")
    card = page.locator(f"[data-chase='{chase}']")
    expect(card).to_contain_text("催办：受理")
    expect(card).to_contain_text("李窗口")
    expect(page.get_by_test_id("late-work")).to_contain_text("BJ-0001")
    expect(page.get_by_test_id("decisions")).to_contain_text("申请人补交材料")
    expect(page.get_by_test_id("chart-person")).to_contain_text("陈窗口")

    card.locator("input[name=message]").fill("请今天办结")
    page.get_by_test_id(f"urge-{chase}").click()
    expect(page.locator(".flash.info")).to_contain_text("已催办")
    page.screenshot(path=SHOTS / "board.png", full_page=True)
    urged = site.engine.read(lambda s: s.scalars(select(OutboxMessage.body).where(
        OutboxMessage.recipient == "li", OutboxMessage.channel == "inapp",
        OutboxMessage.idempotency_key.like("urge:%"))).all())  # fmt: skip
    assert any("请今天办结" in body for body in urged)

    page.locator(f"[data-chase='{chase}'] input[name=note]").fill("已电话督促")
    page.get_by_test_id(f"handle-{chase}").click()
    expect(page.locator(".flash.info")).to_contain_text("处理完毕")
    expect(page.locator(f"[data-chase='{chase}']")).to_have_count(0)
    assert task(site, chase).outcome == "handled: 已电话督促"


def test_a_supervisor_reads_the_cases_their_team_works_on(site):
    # 刘科长 (liu) is a supervisor only, head of review: yang works for him.
    site.engine.execute(CreateAccount("liu", ("supervisor",), None), actor="tests")
    work(site.engine, site.case, "Task_receive", "li", FORM)
    review = open_tasks(site.engine, site.case)["Task_review"]["id"]
    headers = {"Authorization": f"Bearer {site.token('liu')}"}
    client = site.client()
    assert client.get(f"/api/instances/{site.case}", headers=headers).status_code == 403
    site.engine.execute(ClaimTask(review, "yang"), actor="yang")
    assert client.get(f"/api/instances/{site.case}", headers=headers).status_code == 200
    # BJ-0002 (started by yang, nothing held below liu) stays closed to him.
    assert client.get(f"/api/instances/{site.yang_case}", headers=headers).status_code == 403


def test_a_chase_opened_while_i_was_away_is_shown_with_my_deputy(site, clock):
    # wang is on leave when li's task breaches: chen works his chase, for him.
    site.engine.execute(DeclareAbsence("wang", "chen", date(2026, 3, 4), date(2026, 3, 4), "出差"),
                        actor="zhao")  # fmt: skip
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    clock.set(OVERDUE)
    Worker(site.engine).run_once()
    mine = select(Task).where(Task.chase_of_id == site.receive, Task.owner == "wang")
    chase = site.engine.read(lambda s: s.scalars(mine).one())
    assert chase.assignee == "chen"
    page = site.client("wang").get("/board").get_data(as_text=True)
    assert f'data-deputy-chase="{chase.id}"' in page and "陈窗口" in page
    assert f'data-chase="{chase.id}"' not in page  # no actions: the deputy holds it
    assert post(site.client("wang"), f"/board/chase/{chase.id}/urge").status_code == 403
