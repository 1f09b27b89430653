"""The case diagram: the instance's own version with its open tasks (deadline, traffic
light, "逾期 N 小时"), completed activities and waiting timers, as JSON for the viewer
and in a real browser (bpmn-js NavigatedViewer under the page's CSP)."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from engine.attachments import AttachmentStore
from engine.definitions import DeployDiagrams
from engine.erasure import EraseCase

from ..conftest import SHANGHAI, SHIPPED
from ..helpers import work
from .conftest import Site
from .test_browser import SHOTS, browser, live, log_in, page  # noqa: F401 (fixtures)

RECEIVED = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": True}
# Monday 9 March, 10:00: 审核 (3 working days from Monday 2 March 09:00) is late.
LATE = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def in_review(site: Site, clock) -> Site:
    """BJ-0001 received by li on Monday morning, its review offered to the reviewers and
    overdue a week later; the case's 20-day timer is waiting."""
    work(site.engine, site.case, "Task_receive", "li", RECEIVED)
    clock.set(LATE)
    return site


def diagram(site: Site, user: str | None, instance: int | None = None) -> tuple[int, dict]:
    response = site.client(user).get(f"/cases/{instance or site.case}/diagram.json")
    return response.status_code, response.get_json(silent=True) or {}


def test_the_json_marks_open_tasks_completed_activities_and_timers(in_review):
    status, body = diagram(in_review, "li")
    assert status == 200
    assert (body["definition"], body["file"]) == ("case_handling:1", "case_handling.bpmn")
    assert 'id="Task_review"' in body["xml"]
    [review] = body["open"]
    assert (review["element_id"], review["light"]) == ("Task_review", "red")
    # A working day of 7 hours (Friday) and Monday 09:00–10:00, as the task's clock says.
    assert review["state_text"] == "逾期 1 个工作日 1 小时"
    assert review["due_text"] == "截止 2026-03-05 17:30"
    assert {"Start_case", "Task_receive", "Gateway_documents"} <= set(body["completed"])
    assert "Task_review" not in body["completed"]
    # Only BPMN timers, and only elements the diagram has (SLA clocks are the tasks').
    timers = {t["element_id"]: t for t in body["timers"]}
    assert "case" not in timers and all(t["kind"] != "sla" for t in body["timers"])
    assert timers["Timer_case_deadline"]["due_at"] == "2026-03-30T17:30:00+08:00"
    assert timers["Timer_case_deadline"]["text"] == "定时 2026-03-30 17:30"


def test_overlay_texts_follow_the_language(in_review):
    client = in_review.client("li")
    client.get("/lang/en")
    body = client.get(f"/cases/{in_review.case}/diagram.json").get_json()
    [review] = body["open"]
    assert review["state_text"] == "overdue by 1 working day 1 h"
    assert review["due_text"] == "due 2026-03-05 17:30"


def test_a_new_version_does_not_change_an_older_case(in_review):
    source = (SHIPPED / "case_handling.bpmn").read_text(encoding="utf-8")
    changed = source.replace('name="审核"', 'name="复核"').encode()
    in_review.engine.execute(DeployDiagrams([("case_handling.bpmn", changed)]), actor="tests")
    _, body = diagram(in_review, "li")
    assert body["definition"] == "case_handling:1" and 'name="审核"' in body["xml"]


@pytest.mark.parametrize(
    ("user", "status"),
    [("li", 200), ("yang", 200), ("wang", 200), ("zhou", 200), ("zhao", 200),
     ("chen", 403), ("huang", 403)],
)  # fmt: skip
def test_whoever_may_read_the_case_reads_its_diagram(in_review, user, status):
    # li received it, yang is offered its review, wang is li's superior; chen and huang
    # have nothing to do with it.
    code, body = diagram(in_review, user)
    assert code == status
    if status != 200:
        assert body["error"] == "forbidden"  # JSON for the script, not an HTML page


def test_anonymous_is_sent_to_log_in_and_unknown_cases_are_404(in_review):
    response = in_review.client().get(f"/cases/{in_review.case}/diagram.json")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    status, body = diagram(in_review, "zhou", 99999)
    assert (status, body["error"]) == (404, "not_found")


def test_an_erased_case_still_shows_what_was_done(in_review, tmp_path):
    work(in_review.engine, in_review.case, "Task_review", "yang", {"review_opinion": "reject"})
    _, before = diagram(in_review, "zhou")
    in_review.engine.execute(EraseCase(in_review.case, AttachmentStore(tmp_path)), actor="zhao")
    status, after = diagram(in_review, "zhou")
    assert status == 200 and after["open"] == []
    # The workflow state is gone; the completed tasks' rows still mark their steps.
    assert {"Task_receive", "Task_review"} <= set(after["completed"])
    assert set(after["completed"]) < set(before["completed"])


def test_the_viewer_marks_the_late_task_and_the_timer(in_review, live, page):  # noqa: F811
    errors: list[str] = []  # CSP reports, script errors and failed requests (but the favicon)
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("response", lambda r: errors.append(r.url)
            if r.status >= 400 and "/favicon" not in r.url else None)  # fmt: skip
    log_in(page, live, "li")
    page.goto(f"{live}/cases/{in_review.case}")
    canvas = page.get_by_test_id("case-diagram")
    expect(canvas).to_have_attribute("data-state", "ready")
    review = page.locator('.djs-overlays[data-container-id="Task_review"] .cc-due')
    expect(review).to_have_count(1)
    expect(review).to_contain_text("逾期")
    expect(review).to_contain_text("截止 2026-03-05 17:30")
    expect(review).to_have_class("cc-due cc-light-red")
    expect(page.locator('.djs-element[data-element-id="Task_review"]')).to_have_class(
        "djs-element djs-shape cc-open cc-light-red"
    )
    expect(page.locator('.djs-element[data-element-id="Task_receive"]')).to_have_class(
        "djs-element djs-shape cc-done"
    )
    timer = page.locator('.djs-overlays[data-container-id="Timer_case_deadline"] .cc-timer')
    expect(timer).to_have_text("定时 2026-03-30 17:30")
    page.screenshot(path=SHOTS / "case-diagram.png", full_page=True)
    page.get_by_test_id("lang-en").click()
    expect(canvas).to_have_attribute("data-state", "ready")
    expect(review).to_contain_text("overdue")
    assert errors == []
