"""The admin in a real browser: adds a holiday override and sees it in the year's list."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from engine.store import AuditEvent

from .test_browser import SHOTS, browser, live, log_in, page  # noqa: F401 (fixtures)


def test_admin_adds_a_holiday_override(site, live, page):  # noqa: F811
    errors: list[str] = []  # CSP reports and failed requests (the favicon probe aside)
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: errors.append(r.url) if r.status >= 400 and "/favicon" not in r.url else None,
    )
    log_in(page, live, "zhao")
    page.click('a[data-nav="admin"]')
    page.click('a[data-admin="calendars"]')
    page.fill("#cal-year", "2026")
    page.click("form.filters button")
    expect(page.locator('tr[data-day="2026-10-01"]')).to_be_visible()
    page.fill("#ov-day", "2026-06-15")
    page.select_option("#ov-kind", "holiday")
    page.fill("#ov-note", "防汛停工")
    page.click('[data-testid="add-override-submit"]')
    expect(page.locator(".flash.info")).to_be_visible()
    row = page.locator('tr[data-day="2026-06-15"]')
    expect(row).to_contain_text("防汛停工")
    expect(row).to_contain_text("休息日")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin.png"), full_page=False)
    assert not errors, errors
    payloads = site.engine.read(
        lambda s: list(
            s.scalars(select(AuditEvent.payload).where(AuditEvent.command == "calendar_override"))
        )
    )
    assert payloads[-1]["day"] == "2026-06-15" and payloads[-1]["note"] == "防汛停工"


def test_a_refused_form_far_down_the_page_gets_the_view_and_the_keyboard(site, live, page):  # noqa: F811
    """The org page is long: an absence whose end comes before its start is refused at
    the end date's field, and the page opens there with the cursor in that field."""
    expect.set_options(timeout=30_000)
    log_in(page, live, "zhao")
    page.goto(f"{live}/admin/org")
    form = page.get_by_test_id("declare-absence")
    form.locator("select[name=person]").select_option("li")
    form.locator("select[name=deputy]").select_option("chen")
    form.locator("input[name=from]").fill("2026-03-10")
    form.locator("input[name=to]").fill("2026-03-06")
    form.locator("button[type=submit]").click()
    message = page.locator("[data-error='absence.to']")
    expect(message).to_be_in_viewport()
    expect(page.get_by_test_id("declare-absence").locator("input[name=to]")).to_be_focused()
    assert page.evaluate("window.scrollY") > 0
