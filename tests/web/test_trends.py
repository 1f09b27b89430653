"""The supervisor's on-time trends: per week or month, by person or by step, for the
people below the supervisor only; as an SVG line chart with a table on /board/trends and
as JSON on /api/board/trends. Tasks are completed on time and late across two weeks by
moving the clock (every 受理 is due the next working day at 17:30)."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from engine.runtime import StartInstance

from ..conftest import SHANGHAI
from ..helpers import work
from . import test_browser
from .test_browser import SHOTS, log_in
from .test_inbox import GOOD as FORM

# The browser fixtures, shared with the staff scenario.
browser, live, page = test_browser.browser, test_browser.live, test_browser.page


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture
def history(site, clock):
    """Week of 2 March: li on time (Mon), chen late (Wed, due Tue); yang, a reviewer not
    below wang, completes a review. Week of 9 March: li on time (Mon) and late (Thu, due
    Tue). 16 March: li on time, after the two weeks."""
    clock.set(at(2))
    work(site.engine, site.case, "Task_receive", "li", FORM)
    clock.set(at(4))
    work(site.engine, site.yang_case, "Task_receive", "chen", FORM)
    work(site.engine, site.case, "Task_review", "yang", {"review_opinion": "pass"})
    clock.set(at(9, 9))
    started = [site.engine.execute(StartInstance("case_handling", f"BJ-00{n}"), actor="zhao").id
               for n in (11, 12)]  # fmt: skip
    clock.set(at(9))
    work(site.engine, started[0], "Task_receive", "li", FORM)
    clock.set(at(12))
    work(site.engine, started[1], "Task_receive", "li", FORM)
    clock.set(at(16, 9))
    third = site.engine.execute(StartInstance("case_handling", "BJ-0013"), actor="zhao").id
    clock.set(at(16))
    work(site.engine, third, "Task_receive", "li", FORM)
    clock.set(at(17))
    return site


def figures(series):
    return {s["key"]: [(p["met"], p["closed"]) if p else None for p in s["points"]] for s in series}


def api(site, query, user="wang"):
    headers = {"Authorization": f"Bearer {site.token(user)}"}
    return site.client().get(f"/api/board/trends?{query}", headers=headers)


def test_weekly_by_person_counts_only_the_team(history):
    found = api(history, "from=2026-03-02&to=2026-03-15&by=person&period=week").get_json()
    assert [p["start"] for p in found["periods"]] == ["2026-03-02", "2026-03-09"]
    assert [p["end"] for p in found["periods"]] == ["2026-03-08", "2026-03-15"]
    # yang is below liu, not wang: his review is not counted; 16 March is after "to".
    assert figures(found["series"]) == {"chen": [(0, 1), None], "li": [(1, 1), (1, 2)]}
    li = next(s for s in found["series"] if s["key"] == "li")
    assert li["label"] == "李窗口" and [p["rate"] for p in li["points"]] == [1.0, 0.5]
    assert li["total"] == {"closed": 3, "met": 2, "rate": 0.667}


def test_by_step_and_by_month(history):
    steps = api(history, "from=2026-03-02&to=2026-03-15&by=step").get_json()
    assert figures(steps["series"]) == {"受理": [(1, 2), (1, 2)]}
    months = api(history, "from=2026-03-01&to=2026-03-31&by=person&period=month").get_json()
    assert [p["start"] for p in months["periods"]] == ["2026-03-01"]
    assert figures(months["series"]) == {"chen": [(0, 1)], "li": [(3, 4)]}
    # A range inside a week widens to the whole week (Monday to Sunday).
    widened = api(history, "from=2026-03-04&to=2026-03-04").get_json()
    assert (widened["from"], widened["to"]) == ("2026-03-02", "2026-03-08")
    assert figures(widened["series"]) == {"chen": [(0, 1)], "li": [(1, 1)]}


def test_the_default_is_twelve_weeks_to_today(history):
    found = api(history, "").get_json()
    assert (found["by"], found["period"]) == ("person", "week")
    assert len(found["periods"]) == 12 and found["to"] == "2026-03-22"
    assert figures(found["series"])["li"][-3:] == [(1, 1), (1, 2), (1, 1)]


def test_bad_input_is_a_422_naming_the_field_and_staff_are_refused(history):
    for query, field in (("by=team", "by"), ("period=day", "period"), ("from=yesterday", "from"),
                         ("from=2026-03-09&to=2026-03-01", "to"),
                         ("from=2020-01-01&to=2026-03-01", "from"),
                         ("from=2999-12-01&to=3000-01-31&period=month", "to"),
                         ("from=0001-01-01&to=0001-02-01", "from")):  # fmt: skip
        response = api(history, query)
        assert response.status_code == 422, query
        assert field in response.get_json()["details"]["fields"], query
    assert api(history, "", user="li").status_code == 403
    assert history.client().get("/api/board/trends").status_code == 401


def test_a_supervisor_sees_only_the_people_below_them(history):
    # liu heads review: yang's review counts for him, the reception staff's work does not.
    from engine.accounts import CreateAccount

    history.engine.execute(CreateAccount("liu", ("supervisor",), None), actor="tests")
    found = api(history, "from=2026-03-02&to=2026-03-15", user="liu").get_json()
    assert figures(found["series"]) == {"yang": [(1, 1), None]}


def test_the_page_draws_the_lines_and_the_table(history):
    wang = history.client("wang")
    assert 'data-testid="trends-link"' in wang.get("/board").get_data(as_text=True)
    page = wang.get("/board/trends?from=2026-03-02&to=2026-03-15&by=person&period=week")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="trend-chart"' in body
    assert body.count("<polyline") == 1  # li's two weeks; chen has one point, no line
    assert body.count("<circle") == 3
    assert "李窗口 · 2026-03-09：50% (1/2)" in body  # the hover text of a point
    assert 'data-period="2026-03-09">50% (1/2)</td>' in body
    assert 'data-period="total">67% (2/3)</td>' in body
    assert " style=" not in body  # the CSP forbids inline style
    bad = wang.get("/board/trends?period=fortnight")
    assert bad.status_code == 422 and 'class="field-error"' in bad.get_data(as_text=True)
    empty = wang.get("/board/trends?from=2025-01-01&to=2025-01-31").get_data(as_text=True)
    assert 'data-testid="trend-empty"' in empty
    assert history.client("li").get("/board/trends").status_code == 403


def test_the_page_in_english(history):
    wang = history.client("wang")
    wang.get("/lang/en")
    body = wang.get("/board/trends?from=2026-03-02&to=2026-03-15").get_data(as_text=True)
    assert "On-time rate over time" in body and "按时办结率趋势" not in body


def test_browser_from_the_board_to_the_trend_by_step(history, live, page):
    expect.set_options(timeout=30_000)  # a loaded 2-core machine: wait, never sleep
    log_in(page, live, "wang")
    page.goto(f"{live}/board")
    page.get_by_test_id("trends-link").click()
    expect(page.get_by_test_id("trend-chart")).to_be_visible()
    page.fill("input[name=from]", "2026-03-02")
    page.fill("input[name=to]", "2026-03-15")
    page.select_option("select[name=by]", "step")
    page.get_by_test_id("apply-trend").click()
    expect(page).to_have_url(
        f"{live}/board/trends?from=2026-03-02&to=2026-03-15&by=step&period=week"
    )
    expect(page.locator("[data-testid=trend-chart] circle")).to_have_count(2)
    expect(page.locator("tr[data-series='受理'] td[data-period=total]")).to_have_text("50% (2/4)")
    page.screenshot(path=SHOTS / "trends.png", full_page=True)


def test_every_persona(site):
    pages = {"anonymous": 302, "li": 403, "yang": 403, "wang": 200, "zhou": 403, "huang": 403,
             "zhao": 403}  # fmt: skip
    for user, status in pages.items():
        client = site.client(None if user == "anonymous" else user)
        assert client.get("/board/trends").status_code == status, user
        headers = {} if user == "anonymous" else {"Authorization": f"Bearer {site.token(user)}"}
        answer = site.client().get("/api/board/trends", headers=headers).status_code
        assert answer == {302: 401}.get(status, status), user
