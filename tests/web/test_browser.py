"""In a real browser (Debian's Chromium through Playwright) against a real server.

The server runs the test's own app (its database and frozen clock) in a thread on a
free port. No sleeps: Playwright waits for what each step expects. The screenshots in
docs/screenshots/ are taken here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from engine.runtime import ClaimTask, StartInstance
from engine.store import Task

from ..conftest import ROOT, SHANGHAI
from .conftest import Site, password

SHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture
def live(site: Site) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, site.flask, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 760}, locale="zh-CN")
    yield context.new_page()
    context.close()


def log_in(page: Page, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password(user))
    page.click("button.primary")
    expect(page.locator(".me")).to_contain_text(user)


def test_staff_claims_and_completes_a_task(site, live, page, clock):
    # Red, yellow and green clocks: BJ-0001/2 came in on Monday 09:00 (due Tuesday
    # 17:30), BJ-0003 on Tuesday 10:00, BJ-0004 now, Wednesday 10:00.
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI))
    site.engine.execute(StartInstance("case_handling", "BJ-0003"), actor="zhao")
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI))
    site.engine.execute(StartInstance("case_handling", "BJ-0004"), actor="zhao")
    site.engine.execute(ClaimTask(site.yang_case_receive, "li"), actor="li")

    page.goto(f"{live}/login")
    page.fill("input[name=user]", "li")
    page.screenshot(path=SHOTS / "login.png")
    page.fill("input[name=password]", password("li"))
    page.click("button.primary")
    expect(page).to_have_url(f"{live}/inbox")
    rows = page.locator("table.tasks tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0).locator(".clock")).to_have_class("clock light-red")
    expect(rows.nth(2).locator(".clock")).to_have_class("clock light-yellow")
    expect(rows.nth(3).locator(".clock")).to_have_class("clock light-green")
    rows.nth(2).locator("summary").click()  # expand: why this deadline
    explain = rows.nth(2).locator(".explain")
    expect(explain).to_contain_text("1 个工作日")  # the limit in the page's language
    expect(explain).to_contain_text("基本标准（流程图）")
    expect(rows.nth(1)).to_contain_text("李窗口")  # held by li: his name, not his key
    expect(rows.nth(0)).to_contain_text("组：受理窗口")  # offered: the group's name
    page.screenshot(path=SHOTS / "inbox.png", full_page=True)

    page.locator(f"tr[data-task='{site.receive}'] a[data-testid=task-link]").click()
    page.get_by_test_id("claim").click()
    expect(page.locator(".flash.info")).to_contain_text("已认领")
    expect(page.get_by_test_id("assignee")).to_have_text("李窗口")  # his name, as the inbox
    page.get_by_test_id("complete").click()  # empty: the required fields complain
    expect(page.locator("[data-field=applicant_name] .field-error")).to_have_text("必填。")
    expect(page.locator("[data-field=matter] .field-error")).to_have_text("必填。")
    page.fill("#f-applicant_name", "张三")
    page.fill("#f-matter", "食品经营许可证")
    page.check("#f-documents_complete")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(f"{live}/inbox")
    expect(page.locator(".flash.info")).to_contain_text("已办理完成")
    expect(page.locator(f"tr[data-task='{site.receive}']")).to_have_count(0)
    row = site.engine.read(lambda s: s.get(Task, site.receive))
    assert (row.state, row.completed_by) == ("completed", "li")

    page.goto(f"{live}/cases/{site.case}")
    expect(page.locator("h1")).to_contain_text("BJ-0001")
    expect(page.locator("table.history")).to_contain_text("办理")
    page.screenshot(path=SHOTS / "case.png", full_page=True)


def test_language_switch(live, page):
    page.goto(f"{live}/login")
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_test_id("lang-en").click()
    expect(page.locator("h1")).to_have_text("Log in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    log_in(page, live, "li")
    expect(page.locator("h1")).to_have_text("My inbox")
    expect(page.locator(".clock .light-name").first).to_have_text("on time")
    page.get_by_test_id("lang-zh_CN").click()
    expect(page.locator("h1")).to_have_text("待办任务")
    expect(page).to_have_url(f"{live}/inbox")
