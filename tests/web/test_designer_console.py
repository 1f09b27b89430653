"""The designer pages run clean under the site's CSP (style-src 'self', no inline
style): no console error, no Content-Security-Policy violation and no uncaught
exception while a designer works — draws a task, edits it in the properties panel,
validates and deploys; edits, adds and moves rules of a decision table, opens its
column editor (CodeMirror), its requirements diagram and the bpmn.io notice.

The libraries' own inline styles are applied through CSSOM instead
(webapp/frontend/src/csp-styles.js), so they also take effect: the checks on
positions below would fail if they were merely blocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from webapp.security import CSP

from ..conftest import SHIPPED, deploy
from .test_browser import browser, live, log_in, page  # noqa: F401 (fixtures)

# Every violation the document sees, with what it was about, collected in the page (the
# console's wording of a violation differs between browsers; the event does not).
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  const target = event.target;
  window.cspViolations.push([event.violatedDirective, event.sourceFile,
    target && target.outerHTML ? target.outerHTML.slice(0, 160) : String(target)].join(' '));
}, true);
"""

# A point of the diagram (its own coordinates) where it is on the screen now.
DIAGRAM_TO_SCREEN = """([x, y]) => {
  const canvas = window.caseclockModeler.get('canvas');
  const box = canvas.viewbox();
  const rect = canvas.getContainer().getBoundingClientRect();
  return [rect.left + (x - box.x) * box.scale, rect.top + (y - box.y) * box.scale];
}"""


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)

    def problems(self, tab: Page) -> list[str]:
        return self.errors + tab.evaluate("window.cspViolations")


@pytest.fixture
def console(page: Page) -> Iterator[Console]:  # noqa: F811
    seen = Console()

    def message(msg: ConsoleMessage) -> None:
        if msg.type == "error" or "Content Security Policy" in msg.text:
            seen.errors.append(f"console {msg.type}: {msg.text}")

    page.add_init_script(WATCH_CSP)
    page.on("console", message)
    page.on("pageerror", lambda error: seen.errors.append(f"uncaught: {error}"))
    yield seen


def test_the_site_csp_is_unchanged():
    """The fix is in the designer's code, not a looser policy."""
    assert "style-src 'self';" in CSP and "unsafe-inline" not in CSP


def test_bpmn_designer_draws_edits_and_deploys_without_console_errors(
    site,
    live,  # noqa: F811
    page: Page,  # noqa: F811
    console: Console,
):
    log_in(page, live, "huang")
    page.goto(f"{live}/designer/case_handling")
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)
    assert console.problems(page) == []
    # The properties panel's containers take their layout (height: 100%) from CSSOM.
    panel = page.locator("#properties .bio-properties-panel-container")
    assert panel.evaluate("e => e.style.height") == "100%"

    # Draw a task: from the palette onto the flow from 审核's gateway to 审批 (bpmn-js
    # splits the flow around it; below the flow's label), name it, make it a user task.
    x, y = page.evaluate(DIAGRAM_TO_SCREEN, [790, 800])
    page.locator('.djs-palette [data-action="create.task"]').click()  # the task follows the mouse
    page.mouse.move(x, y, steps=8)
    page.mouse.click(x, y)
    page.keyboard.type("复核")
    page.keyboard.press("Enter")  # ends the label editing; the new task stays selected
    expect(page.locator(".djs-element.djs-shape.selected")).to_contain_text("复核")
    page.locator('.djs-context-pad [data-action="replace"]').click()
    page.locator(".djs-popup").get_by_text("用户任务", exact=True).click()
    expect(page.locator(".bio-properties-panel-header-type")).to_have_text("用户任务")

    # The properties panel: its documentation and the SLA group.
    documentation = page.locator('[data-group-id="group-documentation"]')
    documentation.locator(".bio-properties-panel-group-header").click()
    documentation.locator("textarea").fill("复核审核意见")
    page.locator('[data-group-id="group-caseclock-sla"] .bio-properties-panel-group-header').click()
    page.locator("#bio-properties-panel-caseclock-limit").fill("2 working days")
    page.wait_for_function(
        "() => window.caseclockModeler.get('elementRegistry').filter("
        "(e) => e.businessObject.name === '复核')[0].businessObject.get('caseclock:limit')"
        " === '2 working days'",
        timeout=30_000,
    )

    page.get_by_test_id("validate").click()
    status = page.get_by_test_id("designer-status")
    expect(status).to_contain_text("校验通过", timeout=30_000)
    page.get_by_test_id("deploy").click()
    expect(status).to_contain_text("已部署新版本", timeout=30_000)
    assert console.problems(page) == []


def test_dmn_designer_edits_rules_and_deploys_without_console_errors(
    site,
    live,  # noqa: F811
    page: Page,  # noqa: F811
    console: Console,
):
    deploy(site.engine, SHIPPED / "risk_grade.dmn")
    log_in(page, live, "huang")
    page.goto(f"{live}/designer/decisions/risk_grade.dmn")
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)
    assert console.problems(page) == []
    # The bpmn.io logo (which its licence wants visible) is placed by its own styles.
    logo = page.locator(".dmn-decision-table-container .bjs-powered-by")
    assert logo.evaluate("e => getComputedStyle(e).position") == "absolute"

    # Edit a cell.
    cell = 'td[data-element-id="Rule_loan_special_days"]'
    page.locator(f"{cell} [contenteditable]").click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("60]")
    rules = page.locator(".dmn-decision-table-container tbody tr")
    expect(rules).to_have_count(9)
    # Add rules: from the foot and from a cell's context menu.
    page.locator(".add-rule-add button").click()
    expect(rules).to_have_count(10)
    page.locator(cell).click(button="right")
    page.locator(".context-menu").get_by_text("在下方添加规则", exact=True).click()
    expect(rules).to_have_count(11)
    # Move a rule by its handle (the browser's drag and drop, with dmn-js's drag image).
    handle = rules.nth(0).locator(".dmn-icon-drag")
    handle.drag_to(rules.nth(3))
    page.wait_for_function(
        "() => window.caseclockModeler.getActiveViewer().get('sheet').getRoot()"
        ".rows[0].id !== 'Rule_current'"
    )
    # The column editor: its input expression is a CodeMirror editor, styled by CodeMirror.
    page.locator('th[data-col-id="Input_days_past_due"]').dblclick()
    editor = page.locator(".context-menu .cm-editor")
    expect(editor).to_be_visible()
    assert editor.evaluate("e => getComputedStyle(e).display") == "flex"
    page.locator("h1").click()

    # The bpmn.io notice the logo opens, laid over the page, and closed again.
    page.locator(".view-drd-button").click()
    page.locator(".dmn-drd-container .bjs-powered-by").click()
    notice = page.locator(".bjs-powered-by-lightbox")
    expect(notice).to_be_visible()
    assert notice.evaluate("e => getComputedStyle(e).position") == "fixed"
    notice.locator(".backdrop").click(position={"x": 5, "y": 5})
    expect(notice).to_have_count(0)
    page.locator(".drill-down-overlay").first.click()

    page.get_by_test_id("deploy").click()
    expect(page.get_by_test_id("designer-status")).to_contain_text("已部署新版本", timeout=30_000)
    assert console.problems(page) == []
