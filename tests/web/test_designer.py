"""The designer: versions, the modeler's source, validate (nothing stored), deploy, and
in a real browser the SLA group of the properties panel end to end.

Role checks for every designer endpoint are in ``test_designer_access.py``.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import func, select

from engine.runtime import StartInstance
from engine.store import AuditEvent, Definition, Deployment, ProcessInstance, Task

from ..conftest import SHIPPED, deploy
from ..helpers import open_tasks
from .conftest import Site, csrf
from .test_browser import SHOTS, browser, live, log_in, page  # noqa: F401 (fixtures)

CASE_XML = (SHIPPED / "case_handling.bpmn").read_text(encoding="utf-8")
# Saved by the modeler (bpmn-js 18, our moddle extension) after opening the shipped
# diagram and setting Task_review's limit to 5 working days in the SLA group.
MODELER_XML = (Path(__file__).parent / "data" / "case_handling.modeler.bpmn").read_text("utf-8")


def send(client: FlaskClient, path: str, xml: str, file: str = "case_handling.bpmn") -> Any:
    """What designer.js sends: JSON with the CSRF token in the X-CSRFToken header."""
    token = csrf(client, "/notifications")
    return client.post(path, json={"xml": xml, "file": file}, headers={"X-CSRFToken": token})


def counts(site: Site) -> tuple[int, int, int]:
    def read(s: Any) -> tuple[int, int, int]:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t))
            for t in (Definition, Deployment, AuditEvent)
        )

    return site.engine.read(read)


def test_lists_versions_with_running_cases(site):
    site.engine.execute(StartInstance("case_handling", "BJ-0003"), actor="zhao")
    listing = site.client("huang").get("/designer")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "行政审批办件" in html and 'data-testid="open-case_handling"' in html
    running = re.search(r'data-testid="running-case_handling-1">(\d+)<', html)
    assert running and running.group(1) == "3"
    # Deployed at the fixture clock's 09:00 in Shanghai, shown so (not as 01:00+00:00).
    assert '<td class="nowrap">2026-03-02 09:00</td>' in html and "+00:00" not in html


def test_modeler_page_loads_its_script_and_the_deployed_file(site):
    client = site.client("huang")
    html = client.get("/designer/case_handling").get_data(as_text=True)
    # The CSP forbids inline script: only the external bundle, no <script> with a body.
    assert re.findall(r"<script[^>]*>([^<]*)</script>", html) == [""]
    assert "/static/build/designer.js" in html and "时限 SLA" in html
    source = client.get("/designer/case_handling/xml").get_json()
    assert (source["file"], source["version"], source["xml"]) == (
        "case_handling.bpmn", 1, CASE_XML
    )  # fmt: skip
    assert client.get("/designer/nope").status_code == 404
    assert client.get("/designer/nope/xml").get_json()["error"] == "not_found"


def test_validate_names_the_elements_and_stores_nothing(site):
    broken = CASE_XML.replace(
        'id="Task_review" caseclock:onDeadline="chase" caseclock:limit="3 working days"',
        'id="Task_review" caseclock:onDeadline="escalate" caseclock:limit="3 working days"',
    ).replace('caseclock:limit="2 working days"', 'caseclock:limit="2 fortnights"')
    assert broken.count("escalate") == 1 and "fortnights" in broken
    before = counts(site)
    response = send(site.client("huang"), "/designer/validate", broken)
    assert response.status_code == 422
    body = response.get_json()
    assert body["ok"] is False and "2" in body["message"]
    assert {p["element_id"] for p in body["problems"]} == {"Task_review", "Task_approve"}
    assert all(p["file"] == "case_handling.bpmn" for p in body["problems"])
    assert counts(site) == before


def test_validate_a_good_diagram_rolls_back(site):
    before = counts(site)
    response = send(site.client("zhao"), "/designer/validate", MODELER_XML)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ok"] is True
    assert counts(site) == before  # not even the audit event of the dry run remains


def test_malformed_input_is_a_json_error_not_a_500(site):
    client = site.client("huang")
    not_xml = send(client, "/designer/validate", "<bpmn:definitions")
    assert not_xml.status_code == 422 and not_xml.get_json()["problems"][0]["message"]
    token = csrf(client, "/notifications")
    empty = client.post("/designer/deploy", json={}, headers={"X-CSRFToken": token})
    assert empty.status_code == 422 and empty.get_json()["error"] == "invalid"


def test_json_calls_need_the_csrf_header(site):
    client = site.client("huang")
    response = client.post("/designer/deploy", json={"xml": CASE_XML})
    assert response.status_code == 400 and response.get_json()["error"] == "csrf"


def test_deploy_creates_a_version_and_identical_content_is_a_no_op(site):
    client = site.client("huang")
    same = send(client, "/designer/deploy", CASE_XML).get_json()
    assert same["versions"] == [{"key": "case_handling", "version": 1, "created": False}]
    assert "未创建新版本" in same["message"]
    changed = CASE_XML.replace(
        'caseclock:limit="3 working days"', 'caseclock:limit="4 working days"'
    )
    body = send(client, "/designer/deploy", changed).get_json()
    assert body["versions"] == [{"key": "case_handling", "version": 2, "created": True}]
    assert "case_handling v2" in body["message"]
    listing = client.get("/designer").get_data(as_text=True)
    assert 'data-version="2"' in listing
    assert client.get("/designer/case_handling/xml").get_json()["xml"] == changed


def test_modeler_output_deploys_and_runs_unchanged(site):
    body = send(site.client("huang"), "/designer/deploy", MODELER_XML).get_json()
    assert body["versions"] == [{"key": "case_handling", "version": 2, "created": True}]
    definition = site.engine.read(
        lambda s: s.scalars(select(Definition).filter_by(version=2)).one()
    )
    tasks = definition.meta["user_tasks"]
    assert tasks["Task_review"]["sla"]["limit"] == "5 working days"
    assert tasks["Task_receive"]["sla"]["limit"] == "1 working day"  # untouched
    assert tasks["Task_receive"]["form"][0]["id"] == "applicant_name"  # camunda:formData kept
    case = site.engine.execute(StartInstance("case_handling", "BJ-0009"), actor="zhao").id
    task = site.engine.read(
        lambda s: s.scalars(
            select(Task).filter_by(instance_id=case, element_id="Task_receive")
        ).one()
    )
    assert (task.sla_limit, task.due_at is not None) == ("1 working day", True)
    assert site.engine.read(lambda s: s.get(ProcessInstance, case).definition_id) == definition.id


# --- in the browser -------------------------------------------------------------------


def test_designer_sets_three_working_days_and_the_next_case_is_due_there(
    site,
    live,  # noqa: F811
    page: Page,  # noqa: F811
    cli,
):
    csp_errors: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        # The libraries' own inline styles go through CSSOM (csp-styles.js): nothing is
        # blocked (test_designer_console.py watches more closely).
        if "Content Security Policy" in message.text:
            csp_errors.append(message.text)

    page.on("console", watch)
    missing: list[str] = []
    # Every asset the modeler needs is served (the browser's own favicon probe aside).
    page.on(
        "response",
        lambda r: missing.append(r.url) if r.status == 404 and "/favicon" not in r.url else None,
    )
    log_in(page, live, "huang")
    page.get_by_role("link", name="流程设计").click()
    expect(page.get_by_test_id("running-case_handling-1")).to_have_text("2")
    page.get_by_test_id("open-case_handling").click()
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)

    page.locator('.djs-element[data-element-id="Task_receive"]').click()
    # The panel's own groups in the page's language (webapp/frontend/src/translate.js).
    general = page.locator('[data-group-id="group-general"] .bio-properties-panel-group-header')
    expect(general).to_contain_text("常规")
    expect(page.locator(".bio-properties-panel-header-type")).to_have_text("用户任务")
    expect(page.locator(".djs-palette")).to_be_visible()
    assert (
        page.locator('.djs-palette [data-action="create.task"]').get_attribute("aria-label")
        == "创建任务"
    )
    group = page.locator('[data-group-id="group-caseclock-sla"]')
    group.locator(".bio-properties-panel-group-header").click()
    limit = page.locator("#bio-properties-panel-caseclock-limit")
    expect(limit).to_have_value("1 working day")
    limit.fill("3 working days")
    # The panel commits typed text after a debounce: wait until the model has it.
    page.wait_for_function(
        "() => window.caseclockModeler.get('elementRegistry').get('Task_receive')"
        ".businessObject.get('caseclock:limit') === '3 working days'",
        timeout=30_000,
    )
    page.screenshot(path=SHOTS / "designer.png")
    page.get_by_test_id("deploy").click()
    status = page.get_by_test_id("designer-status")
    expect(status).to_contain_text("case_handling v2", timeout=30_000)
    expect(status).to_contain_text("已部署新版本")
    page.get_by_test_id("deploy").click()  # again, unchanged: nothing new
    expect(status).to_contain_text("未创建新版本", timeout=30_000)
    expect(page.locator("#designer-version")).to_have_text("case_handling v2")

    start = site.engine.clock.now()
    case = site.engine.execute(StartInstance("case_handling", "BJ-0010"), actor="zhao").id
    task = open_tasks(site.engine, case)["Task_receive"]
    printed = cli("calendar", "add", start.isoformat(), "3 working days").stdout.strip()
    assert datetime.fromisoformat(task["due_at"]) == datetime.fromisoformat(printed)
    assert csp_errors == []
    assert missing == []


APPROVE = '.djs-element[data-element-id="Task_approve"]'


def open_modeler(page: Page, live: str) -> None:  # noqa: F811
    """The case-handling diagram open in the modeler, as its designer huang."""
    log_in(page, live, "huang")
    page.goto(f"{live}/designer/case_handling")
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)


def break_approve_limit(page: Page) -> None:  # noqa: F811
    """审批's limit set to text the engine refuses, through the SLA group."""
    page.locator(APPROVE).click()
    page.locator('[data-group-id="group-caseclock-sla"] .bio-properties-panel-group-header').click()
    page.locator("#bio-properties-panel-caseclock-limit").fill("2 fortnights")
    page.wait_for_function(
        "() => window.caseclockModeler.get('elementRegistry').get('Task_approve')"
        ".businessObject.get('caseclock:limit') === '2 fortnights'",
        timeout=30_000,
    )


def test_validate_in_the_browser_marks_the_element(site, live, page: Page):  # noqa: F811
    open_modeler(page, live)
    break_approve_limit(page)
    page.get_by_test_id("validate").click()
    expect(page.get_by_test_id("problems")).to_contain_text("Task_approve", timeout=30_000)
    expect(page.locator('.djs-element.cc-problem[data-element-id="Task_approve"]')).to_have_count(1)
    expect(page.locator(".cc-problem-badge")).to_have_count(1)
    assert site.engine.read(lambda s: s.scalar(select(func.max(Definition.version)))) == 1


def test_a_diagram_deployed_with_others_opens_and_validates_alone(site):
    """As `caseclock demo` deploys: every .bpmn and the .dmn in one deployment. The
    modeler gets just the file that defines the process, which validates and (being
    unchanged) deploys as a no-op on its own."""
    files = sorted(SHIPPED.glob("*.bpmn")) + sorted(SHIPPED.glob("*.dmn"))
    deploy(site.engine, *files)
    client = site.client("huang")
    source = client.get("/designer/debt_collection/xml").get_json()
    assert source["file"] == "debt_collection.bpmn" and 'id="debt_collection"' in source["xml"]
    response = send(client, "/designer/validate", source["xml"], source["file"])
    assert response.status_code == 200, response.get_json()
    same = send(client, "/designer/deploy", source["xml"], source["file"]).get_json()
    assert [v["created"] for v in same["versions"]] == [False]


# --- decision tables (dmn-js) -----------------------------------------------------------

DMN_XML = (SHIPPED / "risk_grade.dmn").read_text(encoding="utf-8")


def stored_dmn(site: Site) -> str:
    from webapp.designer import latest_resource

    resource = site.engine.read(lambda s: latest_resource(s, "risk_grade.dmn"))
    return resource.content.decode("utf-8")


def test_decision_tables_list_open_validate_and_deploy(site):
    deploy(site.engine, SHIPPED / "risk_grade.dmn")
    client = site.client("huang")
    listing = client.get("/designer").get_data(as_text=True)
    assert 'data-testid="open-risk_grade.dmn"' in listing
    assert client.get("/designer/decisions/risk_grade.dmn").status_code == 200
    assert client.get("/designer/decisions/nope.dmn").status_code == 404
    assert client.get("/designer/decisions/risk_grade.dmn/xml").get_json()["xml"] == DMN_XML

    broken = DMN_XML.replace("<text>[1..90]</text>", "<text>[1..90</text>", 1)
    refused = send(client, "/designer/validate", broken, "risk_grade.dmn")
    assert refused.status_code == 422
    assert [p["element_id"] for p in refused.get_json()["problems"]] == ["Rule_loan_special_days"]

    same = send(client, "/designer/deploy", DMN_XML, "risk_grade.dmn").get_json()
    assert "未创建新版本" in same["message"]
    changed = DMN_XML.replace("<text>[1..90]</text>", "<text>[1..60]</text>", 1)
    body = send(client, "/designer/deploy", changed, "risk_grade.dmn").get_json()
    assert body["ok"] is True and "已部署新版本" in body["message"]
    assert stored_dmn(site) == changed


def test_browser_edits_a_decision_table_cell_and_deploys(site, live, page: Page):  # noqa: F811
    deploy(site.engine, SHIPPED / "risk_grade.dmn")
    csp_errors: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            csp_errors.append(message.text)

    page.on("console", watch)
    log_in(page, live, "huang")
    page.goto(f"{live}/designer")
    page.get_by_test_id("open-risk_grade.dmn").click()
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true", timeout=30_000)
    cell = 'td[data-element-id="Rule_loan_special_days"]'
    model = (
        "() => window.caseclockModeler.getActiveViewer().get('elementRegistry')"
        ".get('Rule_loan_special_days').businessObject.text === '{}'"
    )
    page.locator(f"{cell} [contenteditable]").click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")  # "[1..90": not a FEEL range
    page.wait_for_function(model.format("[1..90"), timeout=30_000)
    page.get_by_test_id("validate").click()
    expect(page.get_by_test_id("problems")).to_contain_text(
        "Rule_loan_special_days", timeout=30_000
    )
    expect(page.locator(f"{cell}.cc-problem")).to_have_count(1)

    page.locator(f"{cell} [contenteditable]").click()  # the focus went to the button
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("60]")
    page.wait_for_function(model.format("[1..60]"), timeout=30_000)
    page.get_by_test_id("deploy").click()
    expect(page.get_by_test_id("designer-status")).to_contain_text("已部署新版本", timeout=30_000)
    assert "<text>[1..60]</text>" in stored_dmn(site)
    assert csp_errors == []
