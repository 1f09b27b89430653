"""The collection pages: aging (checked against its own computation of the seeded
portfolio), grades, the receivable list and page, payments and promises with errors at
the field, and the CSV import's row report. The ``collection`` fixture is shared by the
other collection web tests."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from argon2 import PasswordHasher
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.accounts import CreateAccount
from engine.collection.daily import run_collection_day
from engine.collection.ladder import ResetLadder
from engine.collection.receivables import RecordPayment
from engine.store.collection_tables import Payment
from engine.store.ladder_tables import CollectionCase, PromiseToPay

from ..collection.helpers import csv_text, import_rows, row
from ..conftest import SHANGHAI, SHIPPED, deploy
from .conftest import Site, csrf, password, post

TODAY = date(2026, 3, 2)  # the fixture clock's day
# Collectors and their supervisors in demo/org.yaml: wu and zheng (collections, under
# sun); li (window, under wang).
ACCOUNTS = {"wu": ("staff",), "zheng": ("staff",), "sun": ("staff", "supervisor")}


@dataclass(frozen=True)
class Seed:
    key: str
    product: str
    principal: str
    due: date
    collector: str
    department: str = "collections"
    paid: str = "0"  # principal paid (no penalty on those paid: it all goes to principal)
    penalty_rate: str = "0"


SEEDS = [
    Seed("A-CUR", "loan", "1000.00", TODAY + timedelta(days=8), "wu"),
    Seed("A-010", "loan", "2000.00", TODAY - timedelta(days=10), "wu"),
    Seed("A-045", "credit_card", "3000.00", TODAY - timedelta(days=45), "zheng"),
    Seed("A-075", "loan", "4000.00", TODAY - timedelta(days=75), "zheng", paid="1000.00"),
    Seed(
        "A-120",
        "trade_receivable",
        "5000.00",
        TODAY - timedelta(days=120),
        "wu",
        penalty_rate="0.0005",
    ),
    Seed("A-PAID", "loan", "700.00", TODAY - timedelta(days=29), "wu", paid="700.00"),
    Seed("W-005", "loan", "600.00", TODAY - timedelta(days=5), "li", department="window"),
]
EARLIER = TODAY - timedelta(days=28)  # a first collection day, for the migration matrix
PAID_ON = EARLIER + timedelta(days=2)  # the seeds' payments


def at(clock, day: date, hour: int = 9) -> None:
    clock.set(datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI))


@pytest.fixture
def collection(site: Site, clock) -> Iterator[Site]:
    """The site with the debt collection diagrams, collector accounts, the seeded
    portfolio, its payments and two collection days (28 days apart)."""
    app = site.engine
    deploy(app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn")
    app.execute(ResetLadder(), actor="tests")
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    for key, roles in ACCOUNTS.items():
        app.execute(CreateAccount(key, roles, None, password_hash=cheap.hash(password(key))))
    import_rows(
        app,
        *(
            row(s.key, s.principal, s.due.isoformat(), product=s.product, collector=s.collector,
                department=s.department, phone="13900000009", contact_verified_on="2026-01-05",
                email=f"{s.key.lower()}@example.com", credit_limit="20000.00",
                penalty_rate=s.penalty_rate)
            for s in SEEDS
        ),
    )  # fmt: skip
    at(clock, EARLIER)
    run_collection_day(app, EARLIER)
    at(clock, PAID_ON)  # a payment is recorded on or after its day
    for seed in SEEDS:
        if seed.paid != "0":
            app.execute(RecordPayment(seed.key, seed.paid, PAID_ON), actor="tests")
    at(clock, TODAY)
    run_collection_day(app, TODAY)
    yield site


def expected_aging(as_of: date, seeds: list[Seed] = SEEDS) -> dict[str, tuple[int, Decimal]]:
    """The aging buckets computed here from the seeds alone: (count, outstanding)."""
    tops = (("current", 0), ("1-30", 30), ("31-60", 60), ("61-90", 90))
    result = {label: (0, Decimal(0)) for label in ("current", "1-30", "31-60", "61-90", "90+")}
    for seed in seeds:
        left = Decimal(seed.principal) - (Decimal(seed.paid) if as_of >= PAID_ON else 0)
        if left <= 0:
            continue
        days = max((as_of - seed.due).days, 0)
        label = next((name for name, top in tops if days <= top), "90+")
        count, amount = result[label]
        result[label] = (count + 1, amount + left)
    return result


def cells(html: str, group: str) -> dict[str, tuple[int, Decimal]]:
    line = re.search(rf'<tr data-group="{re.escape(group)}">(.*?)</tr>', html, re.S)
    assert line, group
    found = re.findall(
        r'data-bucket="([^"]+)" data-count="(\d+)" data-outstanding="([\d.]+)"', line.group(1)
    )
    return {label: (int(n), Decimal(amount)) for label, n, amount in found}


def rate(html: str, group: str, which: str) -> Decimal:
    line = re.search(rf'<tr data-group="{re.escape(group)}">(.*?)</tr>', html, re.S)
    assert line
    found = re.search(rf'data-rate="{which}" data-value="([\d.]+)"', line.group(1))
    assert found
    return Decimal(found.group(1))


def test_aging_page_matches_an_independent_computation(collection):
    client = collection.client("zhou")  # an auditor: the whole portfolio
    page = client.get("/collection/aging")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    want = expected_aging(TODAY)
    got = cells(html, "(all)")
    assert {k: v for k, v in got.items() if k != "total"} == want
    total = sum(a for _, a in want.values())
    assert got["total"] == (sum(n for n, _ in want.values()), total)
    overdue = total - want["current"][1]
    assert rate(html, "(all)", "overdue") == (overdue / total).quantize(Decimal("0.0001"))
    assert rate(html, "(all)", "default") == (want["90+"][1] / total).quantize(Decimal("0.0001"))
    assert 'data-testid="chart-aging-buckets"' in html
    # By product: the three products, each adding up to its seeds.
    by_product = client.get("/collection/aging?by=product").get_data(as_text=True)
    for product in ("loan", "credit_card", "trade_receivable"):
        owed = sum(Decimal(s.principal) - Decimal(s.paid) for s in SEEDS if s.product == product)
        assert cells(by_product, product)["total"][1] == owed, product
    assert 'data-testid="chart-aging-groups"' in by_product
    # A past day: the payments after it are not counted, and A-CUR is not yet due.
    earlier = client.get(f"/collection/aging?as_of={EARLIER}").get_data(as_text=True)
    got = cells(earlier, "(all)")
    assert {k: v for k, v in got.items() if k != "total"} == expected_aging(EARLIER)
    assert got["total"][1] == sum(Decimal(s.principal) for s in SEEDS)


def test_a_supervisor_s_reports_cover_their_team_only(collection):
    """孙经理 heads collections (wu, zheng); 王科长 heads the window (li): each report holds
    the receivables of their own people and departments, the auditor's all of them."""
    for user, department in (("sun", "collections"), ("wang", "window")):
        team = [seed for seed in SEEDS if seed.department == department]
        html = collection.client(user).get("/collection/aging").get_data(as_text=True)
        got = cells(html, "(all)")
        assert {k: v for k, v in got.items() if k != "total"} == expected_aging(TODAY, team)
        grades = collection.client(user).get("/api/collection/grades", headers={
            "Authorization": f"Bearer {collection.token(user)}"}).get_json()  # fmt: skip
        graded = sum(row["to"] for row in grades["distribution"])
        assert 0 < graded <= len(team), user
    everyone = collection.client("zhou").get("/api/collection/grades", headers={
        "Authorization": f"Bearer {collection.token('zhou')}"}).get_json()  # fmt: skip
    assert sum(row["to"] for row in everyone["distribution"]) > graded


def test_aging_other_buckets_and_bad_input(collection):
    client = collection.client("zhou")  # auditors read the reports
    html = client.get("/collection/aging?buckets=60,120").get_data(as_text=True)
    assert set(cells(html, "(all)")) == {"current", "1-60", "61-120", "120+", "total"}
    bad = client.get("/collection/aging?as_of=yesterday&by=colour")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'data-error="as_of"' in text and "YYYY-MM-DD" in text
    assert client.get("/collection/aging?buckets=90,30").status_code == 422


def test_aging_exports_csv_and_xlsx(collection):
    client = collection.client("zhao")
    response = client.get("/collection/aging/export.csv?by=collector")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "aging-2026-03-02-collector.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    wu = {r["bucket"]: r for r in rows if r["group"] == "wu"}
    assert wu["90+"]["outstanding"] == "5000.00" and wu["total"]["count"] == "3"
    book = load_workbook(io.BytesIO(client.get("/collection/aging/export.xlsx").data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["group", "bucket", "count"]
    values = {(r[0], r[1]): r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values[("(all)", "total")][3] == Decimal("14600.00")
    assert client.get("/collection/aging/export.pdf").status_code == 404


def graded(collection) -> dict[str, int]:
    rows = collection.engine.read(
        lambda s: s.execute(
            select(CollectionCase.grade, func.count()).group_by(CollectionCase.grade)
        ).all()
    )
    return {grade: n for grade, n in rows if grade is not None}


def test_grades_page_distribution_and_migration(collection):
    client = collection.client("zhou")
    html = client.get(f"/collection/grades?from={EARLIER}&to={TODAY}").get_data(as_text=True)
    today = graded(collection)
    for grade in ("正常", "关注", "次级", "可疑", "损失"):
        found = re.search(rf'<tr data-grade="{grade}">.*?data-day="to">(\d+)<', html, re.S)
        assert found and int(found.group(1)) == today.get(grade, 0), grade
    # Every receivable graded today is in one cell of the matrix; those with no case on
    # the earlier day come from 未评级.
    matrix = re.findall(r'<tr data-from="([^"]+)">(.*?)</tr>', html, re.S)
    counts = {
        f: [int(n) for n in re.findall(r'data-to="[^"]+">(\d+)<', body)] for f, body in matrix
    }
    assert sum(map(sum, counts.values())) == sum(today.values())
    assert sum(counts["未评级"]) == 2  # A-010 and W-005 got their first grade today
    assert 'data-testid="chart-grades"' in html
    exported = client.get(f"/collection/grades/export.csv?from={EARLIER}&to={TODAY}")
    assert exported.status_code == 200
    assert exported.get_data(as_text=True).startswith("# distribution\ngrade,from,to\n")
    assert client.get("/collection/grades/export.xlsx").status_code == 200
    wrong = client.get(f"/collection/grades?from={TODAY}&to={EARLIER}")
    assert wrong.status_code == 422 and 'data-error="to"' in wrong.get_data(as_text=True)


def keys(html: str) -> list[str]:
    return re.findall(r'<tr data-receivable="([^"]+)">', html)


def test_receivable_list_is_scoped_filtered_sorted_and_paged(collection):
    everything = keys(collection.client("zhao").get("/collection/receivables").get_data(True))
    # Most days past due first; not overdue last.
    assert everything == ["A-120", "A-075", "A-045", "A-010", "W-005", "A-CUR", "A-PAID"]
    assert keys(collection.client("wu").get("/collection/receivables").get_data(True)) == [
        "A-120", "A-010", "A-CUR", "A-PAID"]  # fmt: skip
    assert keys(collection.client("wang").get("/collection/receivables").get_data(True)) == [
        "W-005"]  # fmt: skip
    sun = collection.client("sun")
    assert len(keys(sun.get("/collection/receivables").get_data(True))) == 6
    assert keys(sun.get("/collection/receivables?product=loan&overdue=yes").get_data(True)) == [
        "A-075", "A-010"]  # fmt: skip
    assert keys(sun.get("/collection/receivables?overdue=no").get_data(True)) == [
        "A-CUR", "A-PAID"]  # fmt: skip
    assert keys(sun.get("/collection/receivables?collector=zheng").get_data(True)) == [
        "A-075", "A-045"]  # fmt: skip
    grade = graded_of(collection, "A-120")
    assert "A-120" in keys(sun.get(f"/collection/receivables?grade={grade}").get_data(True))
    first = sun.get("/collection/receivables?per_page=4").get_data(as_text=True)
    assert len(keys(first)) == 4 and 'data-testid="next-page"' in first
    second = sun.get("/collection/receivables?per_page=4&page=2").get_data(as_text=True)
    assert keys(second) == ["A-CUR", "A-PAID"]
    assert sun.get("/collection/receivables?grade=excellent&page=0").status_code == 422


def graded_of(collection, key: str) -> str:
    from engine.store.collection_tables import Receivable

    return collection.engine.read(
        lambda s: s.scalar(
            select(CollectionCase.grade)
            .join(Receivable, Receivable.id == CollectionCase.receivable_id)
            .where(Receivable.key == key)
        )
    )


def test_receivable_page_shows_everything(collection):
    client = collection.client("zheng")
    html = client.get("/collection/receivables/A-075").get_data(as_text=True)
    assert "客户A-075" in html and "13900000009" in html and "2026-01-05" in html
    assert "20000.00" in html  # credit limit
    assert re.search(r'data-owed="principal_outstanding">3000.00<', html)
    assert re.search(r'data-testid="days-past-due">75<', html)
    assert f'data-testid="grade">{graded_of(collection, "A-075")}<' in html
    assert 'data-testid="case-link"' in html and "/cases/" in html
    assert "data-payment=" in html and "1000.00" in html
    assert 'data-level="' in html  # the notices the ladder sent or held
    assert html.index("罚息") < html.index("利息") < html.index("到期本金")  # allocation order
    assert 'data-testid="fee-days"' not in html
    daily = collection.client("wu").get("/collection/receivables/A-120?fees=daily")
    assert re.search(r'<tr data-day="2026-03-02">.*?2.50<', daily.get_data(as_text=True), re.S)
    assert client.get("/collection/receivables/NOPE").status_code == 404
    assert client.get("/collection/receivables/A-120").status_code == 403  # wu's


def test_an_unknown_fees_view_shows_the_total_and_says_so(collection):
    """?fees= has one value, daily (the API refuses any other with a 422): a misspelt one
    is not silently read as the total. The page shows the total with a 422 and a notice
    naming the value typed and the one that exists."""
    client = collection.client("wu")
    flash = r'<p class="flash error" role="status">([^<]*)</p>'
    for value in ("weekly", "Daily"):
        refused = client.get(f"/collection/receivables/A-120?fees={value}")
        assert refused.status_code == 422, value
        html = refused.get_data(as_text=True)
        assert 'data-testid="fee-days"' not in html and 'data-testid="fees-accrued"' in html
        [notice] = re.findall(flash, html)
        assert f"fees={value}" in notice and "fees=daily" in notice
    # The notice is shown once, and the views that exist are unchanged.
    total = client.get("/collection/receivables/A-120")
    assert total.status_code == 200 and not re.findall(flash, total.get_data(as_text=True))
    daily = client.get("/collection/receivables/A-120?fees=daily")
    assert daily.status_code == 200 and 'data-testid="fee-days"' in daily.get_data(as_text=True)
    api = client.get("/api/collection/receivables/A-120?fees=weekly",
                     headers={"Authorization": f"Bearer {collection.token('wu')}"})  # fmt: skip
    assert api.status_code == 422


def test_payment_and_promise_with_errors_at_the_field(collection):
    client = collection.client("wu")
    bad = post(client, "/collection/receivables/A-010/payments", {"amount": "12.345"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-error="payments.amount"' in html and "小数位" in html
    assert 'value="12.345"' in html  # what was typed stays in the form
    too_much = post(client, "/collection/receivables/A-010/payments", {"amount": "99999"})
    assert 'data-error="payments.amount"' in too_much.get_data(as_text=True)
    late = post(client, "/collection/receivables/A-010/promises",
                {"amount": "500", "on": "2026-03-01"})  # fmt: skip
    assert late.status_code == 422
    assert 'data-error="promises.on"' in late.get_data(as_text=True)
    missing = post(client, "/collection/receivables/A-010/promises", {"amount": "500"})
    assert 'data-error="promises.on"' in missing.get_data(as_text=True)
    # Every bad field at once, not the first one only.
    both = post(client, "/collection/receivables/A-010/payments",
                {"amount": "abc", "on": "2026-13-01"})  # fmt: skip
    html = both.get_data(as_text=True)
    assert both.status_code == 422
    assert 'data-error="payments.amount"' in html and 'data-error="payments.on"' in html
    done = post(client, "/collection/receivables/A-010/payments",
                {"amount": "500.00", "reference": "BANK-1"})  # fmt: skip
    assert done.status_code == 303
    promised = post(client, "/collection/receivables/A-010/promises",
                    {"amount": "1500.00", "on": "2026-03-09"})  # fmt: skip
    assert promised.status_code == 303
    page = client.get("/collection/receivables/A-010").get_data(as_text=True)
    assert "BANK-1" in page and 'data-outcome="pending"' in page
    assert re.search(r'data-owed="principal_outstanding">1500.00<', page)
    stored = collection.engine.read(
        lambda s: (s.scalar(select(func.count(Payment.id)).where(Payment.recorded_by == "wu")),
                   s.scalar(select(PromiseToPay.recorded_by))))  # fmt: skip
    assert stored == (1, "wu")
    # Not without the CSRF token; not on another collector's receivable.
    assert (
        client.post("/collection/receivables/A-010/payments", data={"amount": "1"}).status_code
        == 400
    )
    other = post(client, "/collection/receivables/A-045/payments", {"amount": "1.00"})
    assert other.status_code == 403


def test_csv_import_reports_each_bad_row(collection):
    client = collection.client("sun")
    assert client.get("/collection/import").status_code == 200
    text = csv_text(
        row("N-1", "100.00", "2026-04-01", collector="wu", department="collections"),
        row("N-2", "-5", "2026-04-01"),
        row("A-010", "100.00", "2026-04-01"),
        row("N-3", "100.00", "2026-13-01"),
    )
    response = client.post(
        "/collection/import",
        data={"file": (io.BytesIO(text.encode()), "batch.csv"), "csrf_token": csrf(client)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<tr data-line="2" class="ok">', html)
    for line, words in ((3, "principal"), (4, "已存在"), (5, "due_date")):
        found = re.search(rf'<tr data-line="{line}" class="failed">(.*?)</tr>', html, re.S)
        assert found and words in found.group(1), line
    assert keys(client.get("/collection/receivables?collector=wu").get_data(True)).count("N-1") == 1
    empty = client.post(
        "/collection/import", data={"csrf_token": csrf(client)}, content_type="multipart/form-data"
    )
    assert empty.status_code == 422 and 'data-error="file"' in empty.get_data(as_text=True)
    latin = client.post(
        "/collection/import",
        data={"file": (io.BytesIO("é".encode("latin-1")), "x.csv"), "csrf_token": csrf(client)},
        content_type="multipart/form-data",
    )
    assert latin.status_code == 422 and "UTF-8" in latin.get_data(as_text=True)


def test_english_pages(collection):
    client = collection.client("sun")
    client.get("/lang/en")
    aging = client.get("/collection/aging").get_data(as_text=True)
    assert "Aging analysis" in aging and "Overdue rate" in aging and "账龄分析" not in aging
    page = client.get("/collection/receivables/A-010").get_data(as_text=True)
    assert "Record a payment" in page and "Promises to pay" in page


def test_nav_link_for_those_who_may_see_it(collection):
    for persona, shown in (("li", True), ("sun", True), ("zhou", True), ("zhao", True),
                           ("huang", False)):  # fmt: skip
        html = collection.client(persona).get("/notifications").get_data(as_text=True)
        assert ('data-nav="collection"' in html) == shown, persona
    assert (
        collection.client("wu")
        .get("/collection")
        .headers["Location"]
        .endswith("/collection/receivables")
    )
    assert (
        collection.client("sun")
        .get("/collection")
        .headers["Location"]
        .endswith("/collection/aging")
    )
