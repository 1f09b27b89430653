"""The auditor's ledger: filters, the breach snapshot with its holder timeline, the chain
verification, CSV/XLSX exports of the ledger and the report, charts; and the JSON API."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select, update

from engine.exports import read_csv
from engine.runtime import CompleteTask, StartInstance
from engine.store import AuditEvent

from ..helpers import work
from . import test_browser
from .late import go_overdue
from .test_browser import SHOTS, log_in
from .test_inbox import GOOD as FORM

# The browser fixtures, shared with the staff scenario.
browser, live, page = test_browser.browser, test_browser.live, test_browser.page

MARCH = "from=2026-03-01&to=2026-03-31"


def test_ledger_lists_breaches_with_their_snapshot(site, clock):
    go_overdue(site, clock)
    zhou = site.client("zhou")
    page = zhou.get(f"/ledger?{MARCH}").get_data(as_text=True)
    assert page.count("data-breach=") == 2
    assert "BJ-0001" in page and "BJ-0002" in page
    # The snapshot: li held BJ-0001's 受理 from Monday 09:00 until the breach.
    assert "2026-03-02 09:00" in page and "2026-03-03 17:30" in page
    assert "审计链校验通过" in page
    assert '<svg class="chart"' in page and " style=" not in page


def test_ledger_filters(site, clock):
    go_overdue(site, clock)
    zhou = site.client("zhou")

    def breaches(query: str) -> int:
        return zhou.get(f"/ledger?{MARCH}&{query}").get_data(as_text=True).count("data-breach=")

    assert breaches("person=li") == 1
    assert breaches("step=Task_receive") == 2 and breaches("step=受理") == 2
    assert breaches("step=审批") == 0
    assert breaches("exemption=none") == 2 and breaches("exemption=approved") == 0
    assert breaches("department=window") == 2 and breaches("department=review") == 0
    assert zhou.get("/ledger?from=2026-02-01&to=2026-02-28").get_data(as_text=True).count(
        "data-breach=") == 0  # fmt: skip


def test_bad_filters_are_shown_at_the_field(site):
    zhou = site.client("zhou")
    for query, text in (("from=yesterday", "不是日期"), ("from=2026-03-05&to=2026-03-01",
                        "早于开始日"), ("department=nowhere", "没有部门"),
                        ("exemption=maybe", "免责筛选应为")):  # fmt: skip
        response = zhou.get(f"/ledger?{query}")
        page = response.get_data(as_text=True)
        assert response.status_code == 422, query
        assert page.count('class="field-error"') == 1 and text in page, query
        assert 'class="flash' not in page, query  # said at the field, not on top too
        assert zhou.get(f"/ledger/export/ledger.csv?{query}").status_code == 422


def test_exports_csv_and_xlsx(site, clock):
    go_overdue(site, clock)
    site.engine.execute(
        CompleteTask(
            site.receive,
            "li",
            {"applicant_name": "张三", "matter": "许可", "documents_complete": True},
        ),
        actor="li",
    )
    zhou = site.client("zhou")
    csv = zhou.get(f"/ledger/export/ledger.csv?{MARCH}&person=li")
    assert csv.headers["Content-Disposition"].endswith('ledger-2026-03-01-2026-03-31.csv"')
    [row] = read_csv(csv.get_data(as_text=True))["ledger"]
    assert (row["business_key"], row["responsible"], row["late_working_hours"]) == (
        "BJ-0001",
        "li",
        "1.0",  # due Tuesday 17:30, done Wednesday 10:00: one working hour
    )
    book = load_workbook(io.BytesIO(zhou.get(f"/ledger/export/ledger.xlsx?{MARCH}").data))
    assert book["ledger"].max_row == 3  # the header and two breaches
    report = read_csv(zhou.get(f"/ledger/export/report.csv?{MARCH}").get_data(as_text=True))
    assert report["summary"][0]["breaches"] == "2"
    assert (
        "by_person"
        in load_workbook(
            io.BytesIO(zhou.get(f"/ledger/export/report.xlsx?{MARCH}").data)
        ).sheetnames
    )
    assert zhou.get(f"/ledger/export/ledger.pdf?{MARCH}").status_code == 404


def test_a_tampered_chain_is_reported(site, clock):
    go_overdue(site, clock)
    with site.engine.sessions.begin() as session:
        first = select(AuditEvent.id).where(AuditEvent.command == "ledger_breach").limit(1)
        edit = update(AuditEvent).where(AuditEvent.id == session.scalar(first))
        session.execute(edit.values(payload={"step": "edited"}))
    page = site.client("zhou").get(f"/ledger?{MARCH}").get_data(as_text=True)
    assert "审计链校验失败" in page and "hash" in page


def test_api_ledger_report_and_verify(site, clock):
    go_overdue(site, clock)
    client = site.client()
    headers = {"Authorization": f"Bearer {site.token('zhou')}"}
    ledger = client.get(f"/api/ledger?{MARCH}&person=li", headers=headers).get_json()
    [row] = ledger["rows"]
    snapshot = ledger["snapshots"][str(row["breach_event_id"])]
    assert snapshot["holders"][0]["holder"] == "li"
    assert client.get("/api/ledger/verify", headers=headers).get_json()["ok"] is True
    report = client.get(f"/api/report?{MARCH}", headers=headers).get_json()
    assert report["summary"][0]["breaches"] == 2
    bad = client.get("/api/ledger?from=x", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["details"]["fields"]["from"]
    wang = {"Authorization": f"Bearer {site.token('wang')}"}
    assert client.get("/api/ledger", headers=wang).status_code == 403


# --- in a real browser ----------------------------------------------------------------


def test_browser_an_auditor_filters_the_ledger_and_exports_it(site, live, page, clock):
    # One step done on time (chen) and one an hour late (li), so the charts have bars.
    third = site.engine.execute(StartInstance("case_handling", "BJ-0003"), actor="zhao").id
    work(site.engine, third, "Task_receive", "chen", FORM)
    go_overdue(site, clock)
    site.engine.execute(CompleteTask(site.receive, "li", FORM), actor="li")
    expect.set_options(timeout=30_000)  # a loaded 2-core machine: wait, never sleep
    log_in(page, live, "zhou")
    page.locator("nav [data-nav=ledger]").click()
    expect(page).to_have_url(f"{live}/ledger")
    expect(page.get_by_test_id("chain")).to_contain_text("审计链校验通过")

    form = page.get_by_test_id("ledger-filter")
    form.locator("input[name=from]").fill("2026-03-01")
    form.locator("input[name=to]").fill("2026-03-31")
    form.locator("select[name=department]").select_option("window")
    form.locator("input[name=person]").fill("li")
    page.get_by_test_id("apply-filter").click()
    rows = page.locator("tr[data-breach]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("BJ-0001")
    rows.first.locator("summary").click()  # expand: the snapshot with the holder timeline
    expect(rows.first.locator("table.holders")).to_contain_text("2026-03-02 09:00")
    expect(rows.first.locator("table.holders")).to_contain_text("li")
    expect(page.get_by_test_id("chart-lateness")).to_contain_text("李窗口")
    page.screenshot(path=SHOTS / "ledger.png", full_page=True)

    with page.expect_download() as waiting:
        page.get_by_test_id("export-ledger-csv").click()
    download = waiting.value
    assert download.suggested_filename == "ledger-2026-03-01-2026-03-31.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    [row] = read_csv(text)["ledger"]
    assert (row["business_key"], row["responsible"], row["department"], row["charged"]) == (
        "BJ-0001", "li", "window", "yes")  # fmt: skip
    assert row["late_working_hours"] == "1.0"


def test_board_and_ledger_in_english(site, clock):
    go_overdue(site, clock)
    wang, zhou = site.client("wang"), site.client("zhou")
    for client in (wang, zhou):
        client.get("/lang/en")
    board = wang.get("/board").get_data(as_text=True)
    assert "My chase tasks" in board and "Mark handled" in board and "我的催办任务" not in board
    ledger = zhou.get(f"/ledger?{MARCH}").get_data(as_text=True)
    assert "Audit chain verified" in ledger and "Ledger CSV" in ledger and "追责台账" not in ledger
