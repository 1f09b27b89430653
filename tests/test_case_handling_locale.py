"""The shipped 办件 diagram asks for the applicant's language at the receive step (受理):
the 补正 notice then goes out in it, and the form takes only the languages it offers."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from engine.app import CaseClock
from engine.errors import ValidationError
from engine.runtime import ClaimTask, CompleteTask, CorrelateMessage, StartInstance
from engine.store import OutboxMessage

from .conftest import SHIPPED, deploy
from .helpers import open_tasks, view, work

EMAIL, MOBILE = "applicant@example.com", "13900000000"
# What the counter clerk enters for an applicant whose documents are incomplete.
RECEIVE = {
    "applicant_name": "Zhang San",
    "matter": "Food business licence",
    "applicant_email": EMAIL,
    "applicant_mobile": MOBILE,
    "documents_complete": False,
}


@pytest.fixture
def case_app(org_app: CaseClock) -> CaseClock:
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    return org_app


def start(app: CaseClock, key: str) -> int:
    return app.execute(StartInstance("case_handling", key), actor="li").id


def outbox_rows(app: CaseClock, instance: int) -> list[OutboxMessage]:
    return list(app.read(lambda s: s.scalars(
        select(OutboxMessage).where(OutboxMessage.instance_id == instance)
        .order_by(OutboxMessage.id)
    ).all()))  # fmt: skip


def test_an_applicant_who_chose_english_gets_the_补正_notice_in_english(case_app):
    case = start(case_app, "BJ-EN")
    work(case_app, case, "Task_receive", "li", {**RECEIVE, "applicant_locale": "en"})
    assert view(case_app, case)["data"]["applicant_locale"] == "en"
    rows = outbox_rows(case_app, case)
    assert [(r.channel, r.recipient) for r in rows] == [("email", EMAIL), ("sms", MOBILE)]
    assert {r.subject for r in rows} == {"[Documents needed] Food business licence (BJ-EN)"}
    assert rows[0].body == (
        'Zhang San: your application "Food business licence" (case BJ-EN) is missing '
        "documents. Please supply them; the time limit is paused meanwhile."
    )
    assert rows[0].payload == {
        "kind": "documents_needed", "element_id": "Gateway_wait_documents", "locale": "en",
    }  # fmt: skip


@pytest.mark.parametrize("chosen", ["zh-CN", ""], ids=["中文", "not chosen"])
def test_chinese_or_no_choice_gets_the_补正_notice_in_chinese(case_app, chosen):
    case = start(case_app, "BJ-ZH")
    work(case_app, case, "Task_receive", "li", {**RECEIVE, "applicant_locale": chosen})
    [email, sms] = outbox_rows(case_app, case)
    assert email.subject == "【补正通知】您申请的“Food business licence”（BJ-ZH）需要补充材料"
    assert (email.payload["locale"], sms.payload["locale"]) == ("zh-CN", "zh-CN")


@pytest.mark.parametrize("refused", ["fr", "en-US", "English"])
def test_the_form_refuses_a_language_it_does_not_offer(case_app, refused):
    case = start(case_app, "BJ-FR")
    task = open_tasks(case_app, case)["Task_receive"]["id"]
    case_app.execute(ClaimTask(task, "li"), actor="li")
    with pytest.raises(ValidationError) as caught:
        case_app.execute(CompleteTask(task, "li", {**RECEIVE, "applicant_locale": refused}))
    assert caught.value.details["fields"] == {
        "applicant_locale": f"{refused!r} is not one of zh-CN, en"
    }
    assert "Task_receive" in open_tasks(case_app, case)
    assert outbox_rows(case_app, case) == []


def test_later_commands_neither_render_nor_write_a_notice_already_sent(case_app):
    """The 补正 notice goes with the command that reached it; while the case's workflow
    stays cached, the documents arriving and the second receive that follows write no
    applicant notice again, not even one the outbox would drop as a duplicate."""
    case = start(case_app, "BJ-ONCE")
    work(case_app, case, "Task_receive", "li", {**RECEIVE, "applicant_locale": "en"})
    assert len(outbox_rows(case_app, case)) == 2
    written: list[str] = []

    def watch(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.startswith("INSERT INTO outbox ") and "applicant:" in str(parameters):
            written.append(str(parameters))

    event.listen(case_app.db, "before_cursor_execute", watch)
    try:
        case_app.execute(CorrelateMessage("documents_supplied", "BJ-ONCE"), actor="portal")
        work(case_app, case, "Task_receive", "li", {**RECEIVE, "documents_complete": True})
    finally:
        event.remove(case_app.db, "before_cursor_execute", watch)
    assert written == [] and "Task_review" in open_tasks(case_app, case)
    assert len(outbox_rows(case_app, case)) == 2
