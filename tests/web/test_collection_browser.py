"""Collection in a real browser: a supervisor reads the aging by product and downloads it;
a collector records a promise to pay. No CSP errors on the way."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.store.ladder_tables import PromiseToPay

from .test_browser import SHOTS, browser, live, log_in, page  # noqa: F401 (fixtures)
from .test_collection_pages import SEEDS, TODAY, collection, expected_aging  # noqa: F401


def watch(page: Page) -> list[str]:  # noqa: F811
    """CSP reports and failed requests (the favicon probe aside)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and "Failed to load resource" not in m.text else None)  # fmt: skip
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400
            and "/favicon" not in r.url else None)  # fmt: skip
    return errors


def test_supervisor_reads_the_aging_by_product_and_downloads_it(collection, live, page):  # noqa: F811
    expect.set_options(timeout=30_000)  # a loaded 2-core machine: wait, never sleep
    errors = watch(page)
    log_in(page, live, "sun")
    page.locator("nav [data-nav=collection]").click()
    expect(page).to_have_url(f"{live}/collection/aging")
    total = page.locator('tr[data-group="(all)"] td[data-bucket="total"]')
    team = [seed for seed in SEEDS if seed.department == "collections"]  # 孙经理's
    want = expected_aging(TODAY, team)
    expect(total).to_have_attribute("data-count", str(sum(n for n, _ in want.values())))
    expect(page.get_by_test_id("chart-aging-buckets")).to_be_visible()
    expect(page.get_by_test_id("chart-aging-groups")).to_have_count(0)

    page.get_by_test_id("aging-by").select_option("product")
    page.get_by_test_id("apply-aging").click()
    expect(page).to_have_url(f"{live}/collection/aging?as_of={TODAY}&by=product&buckets=")
    expect(page.locator("tr[data-group=loan]")).to_be_visible()
    chart = page.get_by_test_id("chart-aging-groups")
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("贷款")
    expect(chart.locator("rect")).to_have_count(3)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "collection.png", full_page=True)

    with page.expect_download() as waiting:
        page.get_by_test_id("export-aging-csv").click()
    download = waiting.value
    assert download.suggested_filename == f"aging-{TODAY}-product.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    loan = {r["bucket"]: r for r in rows if r["group"] == "loan"}
    owing = [s for s in team if s.product == "loan" and s.paid != s.principal]
    assert loan["61-90"]["outstanding"] == "3000.00" and loan["total"]["count"] == str(len(owing))
    assert not errors, errors


def test_collector_records_a_promise_to_pay(collection, live, page):  # noqa: F811
    expect.set_options(timeout=30_000)
    errors = watch(page)
    log_in(page, live, "wu")
    page.locator("nav [data-nav=collection]").click()
    expect(page).to_have_url(f"{live}/collection/receivables")
    page.locator('tr[data-receivable="A-010"] a').click()
    form = page.get_by_test_id("promise-form")
    form.locator("input[name=amount]").fill("800.00")
    form.locator("input[name=on]").fill("2026-03-01")  # yesterday: refused at the field
    page.get_by_test_id("record-promise").click()
    expect(page.locator('[data-error="promises.on"]')).to_contain_text("已过")
    expect(form.locator("input[name=amount]")).to_have_value("800.00")
    errors.clear()  # the 422 above was expected
    form.locator("input[name=on]").fill("2026-03-09")
    page.get_by_test_id("record-promise").click()
    expect(page.locator(".flash.info")).to_contain_text("还款承诺已记录")
    promise = page.locator("[data-testid=promises] tr[data-promise]")
    expect(promise).to_contain_text("2026-03-09")
    expect(promise).to_contain_text("800.00")
    expect(promise).to_contain_text("待兑现")
    assert not errors, errors
    stored = collection.engine.read(
        lambda s: s.execute(select(PromiseToPay.amount_minor, PromiseToPay.recorded_by)).all()
    )
    assert stored == [(80000, "wu")]
