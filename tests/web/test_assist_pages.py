"""协办 on the task pages: the helper sees the question it answers, and the asking step's
holder sees each request's question, state and answer (pages and the JSON API alike)."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.accounts import SetRoles
from engine.attachments import AttachmentStore
from engine.erasure import EraseCase
from engine.runtime import ClaimTask
from engine.store import Task

from ..helpers import open_tasks, work
from .conftest import Site, post
from .test_inbox import GOOD as FORM
from .test_openapi import answers_match

QUESTION = "合同第5条是否合规？\n请一并看附件"
ANSWER = "第5条需修改：违约金过高"


@pytest.fixture
def review(site: Site) -> int:
    """杨审核 holds BJ-0001's 审核; 周律师 (法务, also staff here) can work 法务's pool."""
    work(site.engine, site.case, "Task_receive", "li", FORM)
    task_id = open_tasks(site.engine, site.case)["Task_review"]["id"]
    post(site.client("yang"), f"/tasks/{task_id}/claim")
    site.engine.execute(SetRoles("zhou", ["auditor", "staff"]), actor="zhao")
    return task_id


def ask(site: Site, task_id: int, question: str = QUESTION, limit: str = "1个工作日") -> int:
    asked = post(site.client("yang"), f"/tasks/{task_id}/assist",
                 {"group": "legal", "question": question, "limit": limit})  # fmt: skip
    assert asked.status_code == 303, asked.get_data(as_text=True)
    return site.engine.read(
        lambda s: s.scalars(select(Task.id).where(Task.assists_id == task_id)).all()[-1]
    )


def due_of(site: Site, task_id: int) -> str:
    """The request's deadline as the pages write it (local ``YYYY-MM-DD HH:MM``)."""
    due: datetime = site.engine.read(lambda s: s.get_one(Task, task_id).due_at)
    return due.astimezone(site.engine.services.timezone).strftime("%Y-%m-%d %H:%M")


def page(client: Any, task_id: int) -> str:
    response = client.get(f"/tasks/{task_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return html.unescape(response.get_data(as_text=True))


def request_item(text: str, request_id: int) -> str:
    """The asking page's entry for one request (up to the end of its list item)."""
    start = text.index(f'data-testid="assist-request-{request_id}"')
    return text[start : text.index("</li>", start)]


def test_the_helper_sees_the_question_and_the_asker_sees_the_answer(site, review):
    yang, zhou = site.client("yang"), site.client("zhou")
    before = page(yang, review)
    assert 'data-testid="assist-requests"' not in before
    assert "时限，默认 2个工作日" in before and "2 working days" not in before

    request_id = ask(site, review)
    asking = page(yang, review)
    assert 'data-testid="assist-form"' in asking  # more requests may follow
    assert 'data-testid="assist-pending"' in asking and "尚待答复：法务" in asking
    item = request_item(asking, request_id)
    assert 'data-assist-state="pending"' in item and "待答复" in item
    assert QUESTION in item and "法务" in item and "杨审核 于" in item
    assert f"截止 {due_of(site, request_id)}" in item and "在组任务池中，未认领" in item

    assert post(zhou, f"/tasks/{request_id}/claim").status_code == 303
    helper = page(zhou, request_id)
    assert 'data-testid="assist-question"' in helper and QUESTION in helper
    assert '<dd data-testid="asked-by">杨审核</dd>' in helper
    assert "1 个工作日" in helper and f"截止 {due_of(site, request_id)}" in helper
    assert "周律师 正在办理" in request_item(page(yang, review), request_id)

    assert post(zhou, f"/tasks/{request_id}/answer", {"answer": ANSWER}).status_code == 303
    answered = page(yang, review)
    item = request_item(answered, request_id)
    assert 'data-assist-state="answered"' in item and "已答复" in item
    assert QUESTION in item and f"答：{ANSWER}" in item and "周律师 于" in item
    assert 'data-testid="assist-pending"' not in answered  # nothing awaited any more
    assert 'data-testid="assist-form"' in answered
    helper = page(zhou, request_id)
    assert f"{ANSWER}" in helper and 'data-assist-state="answered"' in helper


def test_several_requests_each_with_its_own_state(site, review):
    first = ask(site, review, "营业执照是否有效？")
    second = ask(site, review, "是否涉及诉讼？")
    zhou = site.client("zhou")
    post(zhou, f"/tasks/{first}/claim")
    post(zhou, f"/tasks/{first}/answer", {"answer": "有效"})
    asking = page(site.client("yang"), review)
    assert 'data-assist-state="answered"' in request_item(asking, first)
    assert "是否涉及诉讼？" in request_item(asking, second)
    assert 'data-assist-state="pending"' in request_item(asking, second)
    assert asking.index(f"assist-request-{first}") < asking.index(f"assist-request-{second}")


def test_a_request_withdrawn_when_the_step_completes_shows_as_withdrawn(site, review):
    request_id = ask(site, review)
    yang = site.client("yang")
    done = post(yang, f"/tasks/{review}/complete", {"review_opinion": "pass"})
    assert done.status_code == 303, done.get_data(as_text=True)[:300]
    item = request_item(page(yang, review), request_id)
    assert 'data-assist-state="withdrawn"' in item and "已撤回" in item
    assert QUESTION in item and "本环节已结束，请求于" in item and "答：" not in item


def test_erasing_the_case_takes_question_and_answer_off_the_page(site, review, tmp_path):
    """They are personal free text, kept only in the erasable audit part: once the case
    is erased, its pages say so instead of showing them."""
    request_id = ask(site, review)
    zhou, yang = site.client("zhou"), site.client("yang")
    post(zhou, f"/tasks/{request_id}/claim")
    post(zhou, f"/tasks/{request_id}/answer", {"answer": ANSWER})
    post(yang, f"/tasks/{review}/complete", {"review_opinion": "reject"})  # the case ends
    site.engine.execute(EraseCase(site.case, AttachmentStore(Path(tmp_path))), actor="zhao")
    item = request_item(page(yang, review), request_id)
    assert 'data-assist-state="answered"' in item and "法务" in item
    assert QUESTION not in item and ANSWER not in item and item.count("（已删除）") == 2


def test_english_pages(site, review):
    yang, zhou = site.client("yang"), site.client("zhou")
    yang.get("/lang/en")
    zhou.get("/lang/en")
    assert "Limit, default 2 working days" in page(yang, review)
    request_id = ask(site, review, limit="1 working day")
    asking = page(yang, review)
    item = request_item(asking, request_id)
    assert "Pending" in item and "Asked by 杨审核 at" in item
    assert "in the group's pool, unclaimed" in item and "Q: " in item
    assert "Assistance still awaited from: 法务" in asking
    post(zhou, f"/tasks/{request_id}/claim")
    helper = page(zhou, request_id)
    for words in ("Question asked", "Asked by", "Asked at", "1 working day", "Pending"):
        assert words in helper, words
    post(zhou, f"/tasks/{request_id}/answer", {"answer": ANSWER})
    item = request_item(page(yang, review), request_id)
    assert "Answered" in item and f"A: {ANSWER}" in item and "Answered by 周律师 at" in item


def test_english_withdrawn(site, review):
    request_id = ask(site, review)
    yang = site.client("yang")
    yang.get("/lang/en")
    post(yang, f"/tasks/{review}/complete", {"review_opinion": "pass"})
    item = request_item(page(yang, review), request_id)
    assert "Withdrawn" in item and "The step ended; the request was withdrawn at" in item


def test_the_api_task_detail_carries_the_same(site, review):
    request_id = ask(site, review)
    zhou = {"Authorization": f"Bearer {site.token('zhou')}"}
    yang = {"Authorization": f"Bearer {site.token('yang')}"}
    client = site.client()
    site.engine.execute(ClaimTask(request_id, "zhou"), actor="zhou")
    helper = client.get(f"/api/tasks/{request_id}", headers=zhou).get_json()
    question = helper["assist_question"]
    assert (question["question"], question["asked_by"], question["state"]) == (
        QUESTION, "yang", "pending"
    )  # fmt: skip
    assert question["group"] == "legal" and question["limit"] == "1个工作日"
    assert question["due_at"] is not None and helper["assist_requests"] == []
    client.post(f"/api/tasks/{request_id}/answer", json={"answer": ANSWER}, headers=zhou)
    asking = client.get(f"/api/tasks/{review}", headers=yang).get_json()
    assert asking["assist_question"] is None
    [made] = asking["assist_requests"]
    assert (made["id"], made["state"], made["question"]) == (request_id, "answered", QUESTION)
    assert (made["answer"], made["answered_by"], made["answered_by_name"]) == (
        ANSWER, "zhou", "周律师"
    )  # fmt: skip
    assert made["answered_at"] is not None and made["group_name"] == "法务"
    # Both answers match the document's TaskDetail schema.
    assert answers_match(site, [
        (200, "zhou", "get", "/api/tasks/{task_id}", f"/api/tasks/{request_id}", None),
        (200, "yang", "get", "/api/tasks/{task_id}", f"/api/tasks/{review}", None),
    ]) == {200}  # fmt: skip
