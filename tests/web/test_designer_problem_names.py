"""The designer's problem list names each element as the diagram being edited calls it,
with its id ("审批 (Task_approve)"), then the page's colon (full-width in Chinese); a
decision table's cell by its rule and column. Clicking a BPMN problem still selects its
element. The modeler's "最新版本" label takes the page's colon too."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from engine.store import Definition

from ..conftest import SHIPPED, deploy
from .conftest import Site
from .test_browser import browser, live, log_in, page  # noqa: F401 (fixtures)
from .test_designer import break_approve_limit, open_modeler


def test_a_problem_names_its_element_as_the_edited_diagram_does(
    site: Site,
    live: str,  # noqa: F811
    page: Page,  # noqa: F811
):
    open_modeler(page, live)
    expect(page.locator(".designer-bar")).to_contain_text("最新版本：case_handling v1")
    break_approve_limit(page)
    page.get_by_test_id("validate").click()
    problem = page.locator('#designer-problems li[data-element="Task_approve"]')
    expect(problem).to_have_count(1, timeout=30_000)
    expect(problem).to_contain_text("审批 (Task_approve)：")
    # Renamed in the editor, not yet deployed: the list says the name being edited.
    page.evaluate(
        "() => { const m = window.caseclockModeler;"
        " m.get('modeling').updateLabel(m.get('elementRegistry').get('Task_approve'), '终审'); }"
    )
    page.locator("body").click(position={"x": 5, "y": 5})  # the selection moves away
    page.get_by_test_id("validate").click()
    expect(problem).to_contain_text("终审 (Task_approve)：", timeout=30_000)
    # Clicking the entry still selects the element on the canvas.
    problem.click()
    selected = page.evaluate(
        "() => window.caseclockModeler.get('selection').get().map((e) => e.id)"
    )
    assert selected == ["Task_approve"]
    assert site.engine.read(lambda s: s.scalar(select(func.max(Definition.version)))) == 1


def test_an_english_page_says_it_with_an_ascii_colon(
    site: Site,
    live: str,  # noqa: F811
    page: Page,  # noqa: F811
):
    open_modeler(page, live)
    page.get_by_test_id("lang-en").click()
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator(".designer-bar")).to_contain_text("Latest version: case_handling v1")
    break_approve_limit(page)
    page.get_by_test_id("validate").click()
    problem = page.locator('#designer-problems li[data-element="Task_approve"]')
    expect(problem).to_contain_text("审批 (Task_approve): ", timeout=30_000)
    expect(problem).not_to_contain_text("：")


def test_a_decision_table_problem_names_the_rule_and_column(
    site: Site,
    live: str,  # noqa: F811
    page: Page,  # noqa: F811
):
    deploy(site.engine, SHIPPED / "risk_grade.dmn")
    log_in(page, live, "huang")
    page.goto(f"{live}/designer/decisions/risk_grade.dmn")
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)
    cell = 'td[data-element-id="Rule_loan_special_days"]'
    page.locator(f"{cell} [contenteditable]").click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")  # "[1..90": not a FEEL range
    page.wait_for_function(
        "() => window.caseclockModeler.getActiveViewer().get('elementRegistry')"
        ".get('Rule_loan_special_days').businessObject.text === '[1..90'",
        timeout=30_000,
    )
    page.get_by_test_id("validate").click()
    problem = page.locator('#designer-problems li[data-element="Rule_loan_special_days"]')
    # The second rule, its first column (labelled "逾期天数 days past due").
    expect(problem).to_contain_text(
        "规则 2 · 逾期天数 days past due (Rule_loan_special_days)：", timeout=30_000
    )
    expect(page.locator(f"{cell}.cc-problem")).to_have_count(1)
