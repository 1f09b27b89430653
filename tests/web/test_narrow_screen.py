"""Every persona's main pages on a phone-width screen (390 x 844, an iPhone 14) in a real
browser: the page never scrolls sideways (wide tables scroll inside their own box, charts
shrink, long text wraps), the nav labels stay whole instead of one character per line,
and the inbox's buttons can be reached and pressed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .test_browser import browser, live, log_in, page  # noqa: F401 (fixtures)
from .test_collection_pages import collection  # noqa: F401 (fixture)
from .test_trends import history  # noqa: F401 (fixture)

WIDTH = 390

# What the page sticks out by, and the outermost elements that stick out (to fix them).
OVERFLOW = """(width) => {
  const wide = [...document.querySelectorAll('body *')].filter((el) => {
    const box = el.getBoundingClientRect();
    const parent = el.parentElement.getBoundingClientRect();
    return box.right > width + 1 && parent.right <= width + 1;
  });
  const classes = (el) => (typeof el.className === 'string' ? el.className.split(' ') : []);
  const name = (el) => [el.tagName.toLowerCase(), ...classes(el)].filter(Boolean).join('.');
  const right = (el) => Math.round(el.getBoundingClientRect().right);
  return {
    scroll: document.documentElement.scrollWidth,
    wide: wide.slice(0, 5).map((el) => `${name(el)} ${right(el)}`),
  };
}"""

# The lines each nav label takes: the distinct tops of its text's boxes.
LABEL_LINES = """(link) => {
  const text = [...link.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE && n.data.trim());
  const tops = new Set();
  for (const node of text) {
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const box of range.getClientRects()) if (box.width > 0) tops.add(Math.round(box.top));
  }
  return tops.size;
}"""

# Each persona's main pages; {case} and {task} are the site's first case and its task.
PAGES = {
    "li": ["/inbox", "/tasks/{task}", "/cases/{case}", "/notifications"],
    "wang": ["/board", "/board/trends?from=2026-03-02&to=2026-03-15&by=step", "/board/trends"],
    "zhou": ["/ledger"],
    "zhao": [
        "/admin/org",
        "/admin/calendars",
        "/admin/sla",
        "/admin/incidents",
        "/admin/notices",
        "/admin/outbox",
        "/api/docs",
    ],
    "huang": ["/designer"],
}
COLLECTION = {
    "sun": [
        "/collection/aging",
        "/collection/grades",
        "/collection/receivables",
        "/collection/import",
    ],
    "wu": ["/collection/receivables", "/collection/receivables/A-010"],
}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale="zh-CN")
    yield context.new_page()
    context.close()


def faults(tab: Page, url: str) -> list[str]:
    """What is wrong with the page at ``url`` on the phone; nothing when it fits."""
    response = tab.goto(url)
    if response is None or not response.ok:  # an error page proves nothing about the layout
        return [f"{url}: {response.status if response else 'no response'}"]
    expect(tab.locator("main h1").first).to_be_visible()
    found = []
    overflow = tab.evaluate(OVERFLOW, WIDTH)
    if overflow["scroll"] > WIDTH + 1:
        found.append(f"{url}: scrolls sideways to {overflow['scroll']} px by {overflow['wide']}")
    for link in tab.locator("header.top nav a").all():
        lines = link.evaluate(LABEL_LINES)
        if lines > 1:
            found.append(f"{url}: nav label {link.inner_text()!r} broken over {lines} lines")
    return found


def check(tab: Page, base: str, pages: dict[str, list[str]], **ids: int) -> None:
    found = []
    for user, paths in pages.items():
        tab.context.clear_cookies()
        log_in(tab, base, user)
        for path in paths:
            found += faults(tab, base + path.format(**ids))
    assert not found, "\n".join(found)


def test_every_persona_on_a_phone(history, live, phone):  # noqa: F811
    expect.set_options(timeout=30_000)  # a loaded 2-core machine: wait, never sleep
    check(phone, live, PAGES, case=history.case, task=history.receive)


def test_collection_on_a_phone(collection, live, phone):  # noqa: F811
    expect.set_options(timeout=30_000)
    check(phone, live, COLLECTION)


def test_the_inbox_buttons_are_in_reach_on_a_phone(site, live, phone):  # noqa: F811
    """The claim button in the inbox's last column can be scrolled to and pressed."""
    expect.set_options(timeout=30_000)
    log_in(phone, live, "li")
    button = phone.get_by_test_id(f"claim-{site.receive}")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH + 1
    button.click()
    expect(phone.locator(".flash.info")).to_contain_text("已认领")


def test_the_desktop_layout_is_unchanged(site, live, page):  # noqa: F811
    """At 1280 px the phone rules stay off: one header row, tables laid out as tables."""
    expect.set_options(timeout=30_000)
    log_in(page, live, "zhao")  # the longest nav: admin, designer, collection
    page.goto(f"{live}/admin/sla")
    tops = page.evaluate(
        "[...document.querySelectorAll('.brand, .top nav a, .who .me')]"
        ".map((el) => Math.round(el.getBoundingClientRect().top + el.offsetHeight / 2))"
    )
    assert max(tops) - min(tops) <= 2, tops  # brand, nav and user centred on one line
    assert page.locator("table.tasks").first.evaluate("(t) => getComputedStyle(t).display") == (
        "table"
    )
