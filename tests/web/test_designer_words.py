"""The designer's libraries speak the page's language: dmn-js's decision table (header,
hit policy, types, the cell's context menu, the column editor, the requirements diagram)
and what bpmn-js showed in English on a Chinese page (the "change element" menu, the
properties panel's own buttons, the root's type) — in Chinese on a Chinese page, in
English one click away (webapp/frontend/src/translate.js, dmn-translate.js).

In a real browser (Debian's Chromium) against a real server, as test_designer.py.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from ..conftest import SHIPPED, deploy
from .test_browser import browser, live, log_in, page  # noqa: F401 (fixtures)

TABLE = ".dmn-decision-table-container"
CELL = 'td[data-element-id="Rule_loan_special_days"]'
DAYS = 'th[data-col-id="Input_days_past_due"]'

# What dmn-js shows where, in each language (the table's own labels and cells are data).
DMN_WORDS = {
    "zh": {
        "clauses": ["当", "且", "且", "则"],
        "annotations": "注释",
        "hit_policy": "命中策略：",
        "unique": "唯一 (Unique)",
        "first": "首个 (First)",
        "integer": "整数",
        "string": "字符串",
        "add_rule": "添加规则",
        "view_drd": "查看决策需求图",
        "rule_menu": ["复制规则", "在上方添加规则", "在下方添加规则", "删除规则", "添加单元格说明"],
        "column_menu": ["在左侧添加输入列", "删除输入列"],
        "expression": "表达式",
        "type": "类型",
        "create_decision": "创建决策",
    },
    "en": {
        "clauses": ["When", "And", "And", "Then"],
        "annotations": "Annotations",
        "hit_policy": "Hit policy:",
        "unique": "Unique",
        "first": "First",
        "integer": "integer",
        "string": "string",
        "add_rule": "Add rule",
        "view_drd": "View DRD",
        "rule_menu": [
            "Copy rule",
            "Add rule above",
            "Add rule below",
            "Remove rule",
            "Add cell description",
        ],
        "column_menu": ["Add input column left", "Remove input column"],
        "expression": "Expression",
        "type": "Type",
        "create_decision": "Create decision",
    },
}


def open_table(tab: Page, base: str, lang: str) -> None:
    tab.goto(f"{base}/lang/{'zh_CN' if lang == 'zh' else 'en'}")
    tab.goto(f"{base}/designer/decisions/risk_grade.dmn")
    expect(tab.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)


def menu(tab: Page) -> Locator:
    return tab.locator(".context-menu")


def check_decision_table(tab: Page, words: dict) -> None:
    table = tab.locator(TABLE)
    expect(table.locator("thead th .clause")).to_have_text(words["clauses"])
    expect(table.locator("th.annotations, th.annotation").first).to_have_text(words["annotations"])
    expect(table.locator(".hit-policy label")).to_have_text(words["hit_policy"])
    expect(table.locator(".hit-policy .dms-input-select")).to_contain_text(words["unique"])
    expect(table.locator(f"{DAYS} .input-variable")).to_have_text(words["integer"])
    expect(table.locator(".add-rule-add button")).to_have_attribute("title", words["add_rule"])
    expect(tab.locator(".view-drd-button")).to_have_text(words["view_drd"])

    # The hit policies to choose from.
    table.locator(".hit-policy .dms-input-select").click()
    expect(tab.locator(".dms-select-options .option", has_text=words["first"])).to_be_visible()
    tab.keyboard.press("Escape")
    tab.locator("h1").click()

    # A rule's context menu and a column's.
    tab.locator(CELL).click(button="right")
    for entry in words["rule_menu"]:
        expect(menu(tab).get_by_text(entry, exact=True)).to_be_visible()
    tab.locator("h1").click()
    expect(menu(tab)).to_have_count(0)
    tab.locator(DAYS).click(button="right")
    for entry in words["column_menu"]:
        expect(menu(tab).get_by_text(entry, exact=True)).to_be_visible()
    tab.locator("h1").click()

    # The column editor (its expression is a CodeMirror FEEL editor).
    tab.locator(DAYS).dblclick()
    expect(menu(tab).get_by_text(words["expression"], exact=True)).to_be_visible()
    type_label = menu(tab).locator(".dms-label", has_text=words["type"])
    expect(type_label.first).to_be_visible()
    menu(tab).locator(".dms-input-select input, .type-ref-edit-select").first.click()
    expect(tab.locator(".dms-select-options .option", has_text=words["string"])).to_be_visible()
    tab.locator("h1").click()

    # The requirements diagram: its palette.
    tab.locator(".view-drd-button").click()
    create = tab.locator('.djs-palette [data-action="create.decision"]')
    expect(create).to_have_attribute("aria-label", words["create_decision"])


def test_decision_table_in_chinese_and_in_english(site, live, page: Page):  # noqa: F811
    deploy(site.engine, SHIPPED / "risk_grade.dmn")
    log_in(page, live, "huang")
    open_table(page, live, "zh")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    check_decision_table(page, DMN_WORDS["zh"])
    # English is one click away (the page's own switch), and then dmn-js is English.
    open_table(page, live, "zh")
    page.get_by_test_id("lang-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)
    check_decision_table(page, DMN_WORDS["en"])


def test_requirements_diagram_has_room(site, live, page: Page):  # noqa: F811
    """The page lets the table grow with its rules; the requirements diagram is a
    canvas and needs a height of its own, or it shows as a strip."""
    deploy(site.engine, SHIPPED / "risk_grade.dmn")
    log_in(page, live, "huang")
    open_table(page, live, "zh")
    page.locator(".view-drd-button").click()
    decision = page.locator('.djs-element[data-element-id="risk_grade"]')
    expect(decision).to_be_visible()
    box = page.locator(".dmn-drd-container").bounding_box()
    assert box and box["height"] > 400, box
    # Back to the table through the decision's drill-down.
    page.locator(".drill-down-overlay").first.click()
    expect(page.locator(CELL)).to_be_visible()


# What bpmn-js showed in English on a Chinese page, and shows in English on an English one.
BPMN_WORDS = {
    "zh": {
        "root": "协作",
        "toggle": "展开/收起",
        "edited": "此组已有设置",
        "menu": ["任务", "服务任务", "业务规则任务", "调用活动", "子流程（折叠）"],
        "lane": "在上方添加泳道",
        "boundary": "定时边界事件（非中断）",
    },
    "en": {
        "root": "Collaboration",
        "toggle": "Toggle section",
        "edited": "Section contains edits",
        "menu": [
            "Task",
            "Service task",
            "Business rule task",
            "Call activity",
            "Sub-process (collapsed)",
        ],
        "lane": "Add lane above",
        "boundary": "Timer Boundary Event (Non Interrupting)",
    },
}


def check_modeler(tab: Page, words: dict) -> None:
    header = tab.locator(".bio-properties-panel-header-type")
    expect(header).to_have_text(words["root"], ignore_case=True)
    general = tab.locator('[data-group-id="group-general"]')
    expect(general.locator(".bio-properties-panel-arrow")).to_have_attribute(
        "title", words["toggle"]
    )
    expect(general.locator(".bio-properties-panel-dot")).to_have_attribute("title", words["edited"])
    tab.locator('.djs-element[data-element-id="Task_receive"]').click()
    tab.locator('.djs-context-pad [data-action="replace"]').click()
    popup = tab.locator(".djs-popup")
    for entry in words["menu"]:
        expect(popup.get_by_text(entry, exact=True)).to_be_visible()
    tab.keyboard.press("Escape")
    tab.locator('.djs-element[data-element-id="Lane_reviewers"]').click(position={"x": 15, "y": 40})
    expect(tab.locator('.djs-context-pad [data-action="lane-insert-above"]')).to_have_attribute(
        "title", words["lane"]
    )
    # 受理's warning timer: its type in the panel's header, built from its parts.
    tab.locator('.djs-element[data-element-id="Timer_receive_warning"]').click()
    expect(header).to_have_text(words["boundary"], ignore_case=True)


def test_modeler_menus_and_panel_in_chinese_and_in_english(site, live, page: Page):  # noqa: F811
    log_in(page, live, "huang")
    page.goto(f"{live}/designer/case_handling")
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)
    check_modeler(page, BPMN_WORDS["zh"])
    page.get_by_test_id("lang-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)
    check_modeler(page, BPMN_WORDS["en"])
