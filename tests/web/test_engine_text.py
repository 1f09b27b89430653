"""Engine messages on Chinese pages: the catalogue matches what the engine really says
(each error is provoked through the engine, so a reworded message fails here), and a
page in Chinese shows it in Chinese while English pages, the API and the CLI keep it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine import outbox
from engine.chase import UrgeChase
from engine.clock_control import PauseClock, RequestExtension, ResumeClock
from engine.comments import AddComment
from engine.errors import CaseClockError
from engine.incidents import DropDelivery, RetryDelivery, RetryTimer
from engine.runtime import ClaimTask, CompleteTask, DelegateTask, UnclaimTask
from engine.store import Timer
from webapp import engine_text

from .conftest import post


def provoked(site, command, actor="li"):
    with pytest.raises(CaseClockError) as caught:
        site.engine.execute(command, actor=actor)
    return caught.value.message


def test_every_entry_fills_its_chinese_from_its_own_pattern():
    for pattern, chinese in engine_text.ENTRIES:
        names = set(re.compile(pattern).groupindex)
        wanted = set(re.findall(r"{(\w+)}", chinese))
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
    li, chen = site.client("li"), site.client("chen")
    assert post(li, f"/tasks/{site.receive}/claim").status_code in (302, 303)
    refused = post(chen, f"/tasks/{site.receive}/claim")
    html = chen.get(refused.headers["Location"]).get_data(as_text=True)
    assert "已被 li 认领" in html and "already claimed" not in html
    assert chen.get("/lang/en").status_code == 302
    again = post(chen, f"/tasks/{site.receive}/claim")
    english = chen.get(again.headers["Location"]).get_data(as_text=True)
    assert "already claimed by li" in english
    api = site.flask.test_client().post(
        f"/api/tasks/{site.receive}/claim",
        headers={"Authorization": f"Bearer {site.token('chen')}"},
    )
    assert "already claimed by li" in api.get_json()["message"]


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
