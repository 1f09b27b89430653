"""``caseclock collection …`` and ``caseclock report aging`` as a user types them."""

from __future__ import annotations

import json
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.store import make_engine
from engine.store.collection_tables import Payment
from engine.store.ladder_tables import PromiseToPay

from ..conftest import ROOT, SHIPPED
from .helpers import csv_text, row


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def portfolio(cli, tmp_path) -> str:
    cli("org", "import", str(ROOT / "demo" / "org.yaml"))  # the collectors and department
    text = csv_text(
        row(
            "L1",
            "10000.00",
            "2026-03-01",
            penalty_rate="0.0005",
            penalty_cap="12.00",
            collector="wu",
            department="collections",
        ),
        row(
            "C1",
            "2000.00",
            "2026-01-01",
            product="credit_card",
            collector="zheng",
            department="collections",
        ),
    )
    return cli("collection", "import", write(tmp_path, "ok.csv", text)).stdout


def test_import_reports_each_line_and_fails_if_any_row_failed(cli, tmp_path):
    text = csv_text(
        row("G1", "10.00", "2026-03-01"),
        row("B1", "ten", "2026-03-01"),
        row("G2", "20.00", "2026-03-01"),
    )
    result = cli("collection", "import", write(tmp_path, "mixed.csv", text), ok=False)
    assert result.exit_code == 1
    assert result.stdout == (
        "line 2: G1: ok\n"
        "line 3: B1: error: principal: amount 'ten' is not a plain decimal: write e.g. 1234.50 "
        "or 1,234.50\n"
        "line 4: G2: ok\n"
        "2 written, 1 failed\n"
    )
    exported = cli("collection", "export", "-").stdout
    assert exported.splitlines()[0].startswith("receivable_key,customer_key,")
    assert [line.split(",")[0] for line in exported.splitlines()[1:]] == ["G1", "G2"]
    out = tmp_path / "out.csv"
    assert cli("collection", "export", str(out)).stdout == f"2 receivables written to {out}\n"
    assert out.read_text(encoding="utf-8") == exported
    bad = cli("collection", "import", write(tmp_path, "cols.csv", "key,amount\n"), ok=False)
    assert bad.stderr.startswith("error: unknown column(s) key, amount; missing column(s)")


def test_pay_fees_and_grade(cli, tmp_path):
    assert portfolio(cli, tmp_path).endswith("2 written, 0 failed\n")
    # 5.00 a day from 2 March, capped at 12.00 on 4 March.
    fees = cli("collection", "fees", "L1", "--as-of", "2026-03-05", "--daily").stdout
    assert fees.splitlines()[0] == (
        "L1 as of 2026-03-05: penalty accrued 12.00 CNY (cap reached on 2026-03-04)"
    )
    assert "2026-03-04  10000.00  500.0000  2.00    12.00  True" in fees
    paid = cli("collection", "pay", "L1", "4012.00", "--on", "2026-03-05").stdout
    assert paid == (
        "L1: 4012.00 CNY paid on 2026-03-05 → fees 12.00, principal #1 4000.00\n"
        "still owed: fees 0.00, interest 0.00, principal due 6000.00, "
        "principal outstanding 6000.00\n"
    )
    data = json.loads(cli("--json", "collection", "fees", "L1", "--as-of", "2026-03-31").stdout)
    assert data["owed"]["payoff"] == "6000.00" and data["accrued"] == "12.00"
    refused = cli("collection", "pay", "L1", "9999999.00", "--on", "2026-03-06", ok=False)
    assert (
        refused.stderr == "error: payment of 9999999.00 is more than the 6000.00 owed on "
        "2026-03-06\n"
    )
    missing = cli("collection", "grade", "L1", "--as-of", "2026-06-01", ok=False)
    assert "decision 'risk_grade' is not deployed" in missing.stderr
    cli("deploy", str(SHIPPED / "risk_grade.dmn"))
    # L1: 6,000.00 still unpaid from 1 March; 1 June is 92 days later.
    assert cli("collection", "grade", "L1", "--as-of", "2026-06-01").stdout == (
        "L1 as of 2026-06-01: 次级 (92 days past due, loan)\n"
    )
    assert cli("collection", "grade", "C1", "--as-of", "2026-07-01").stdout == (
        "C1 as of 2026-07-01: 损失 (181 days past due, credit_card)\n"
    )
    cli("collection", "fees", "NOPE", "--as-of", "2026-03-05", ok=False)


def test_report_aging_in_every_format(cli, tmp_path):
    portfolio(cli, tmp_path)
    # As of 31 March: L1 30 days (1-30), C1 89 days (61-90).
    csv_out = cli("report", "aging", "--as-of", "2026-03-31", "--format", "csv").stdout
    lines = csv_out.splitlines()
    assert lines[0] == "group,bucket,count,outstanding,overdue,overdue_rate,default_rate"
    assert "(all),1-30,1,10000.00,10000.00,," in lines
    assert "(all),61-90,1,2000.00,2000.00,," in lines
    assert "(all),total,2,12000.00,,1.0000,0.0000" in lines
    data = json.loads(
        cli(
            "report", "aging", "--as-of", "2026-04-01", "--by", "product", "--format", "json"
        ).stdout
    )
    cards = next(g for g in data["groups"] if g["group"] == "credit_card")
    # 1 April is 90 days after 1 January: still 61-90, and not yet more than 90 (default).
    assert cards["buckets"]["61-90"] == {"count": 1, "outstanding": "2000.00", "overdue": "2000.00"}
    assert data["total"]["default_rate"] == "0.0000"
    later = json.loads(cli("report", "aging", "--as-of", "2026-04-02", "--format", "json").stdout)
    assert later["total"]["buckets"]["90+"]["count"] == 1
    assert later["total"]["default_rate"] == "0.1667"  # 2,000 of 12,000
    out = tmp_path / "aging.xlsx"
    cli("report", "aging", "--as-of", "2026-03-31", "--by", "collector", "--out", str(out))
    sheet = load_workbook(out).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:3] == ["group", "bucket", "count"]
    wu_total = next(r for r in rows if r[0] == "wu" and r[1] == "total")
    assert (wu_total[2], float(wu_total[3]), float(wu_total[5])) == (1, 10000.0, 1.0)
    table = cli("report", "aging", "--as-of", "2026-03-31").stdout
    assert table.startswith("aging as of 2026-03-31 (CNY, over 90 days = default)\n")
    cli("report", "aging", "--as-of", "2026-03-31", "--format", "xlsx", ok=False)
    cli("report", "aging", "--as-of", "2026-03-31", "--buckets", "60,30", ok=False)


def test_every_collection_command_refuses_an_unknown_user_and_changes_nothing(
    cli, tmp_path, database_url
):
    """--user is who acted in the audit trail (who recorded the payment): an unknown key
    is refused in one line, as `caseclock tasks --user ghost` is, before anything is
    written; a person of the organisation, or no --user at all (the CLI), acts."""
    portfolio(cli, tmp_path)
    batch = write(tmp_path, "more.csv", csv_text(row("G9", "10.00", "2026-03-01")))
    views = [("collection", "export", "-"), ("collection", "ladder", "list"),
             ("collection", "credit-rule", "show"), ("collection", "remedy", "list"),
             ("--json", "collection", "blacklist", "list"),
             ("--json", "collection", "blacklist", "lifts")]  # fmt: skip
    before = [cli(*view).stdout for view in views]
    commands = [
        ("import", batch),
        ("pay", "L1", "100.00", "--on", "2026-03-05"),
        ("promise", "L1", "--amount", "100.00", "--on", "2026-03-20"),
        ("locale", "C-L1", "en"),
        ("ladder", "reset"),
        ("ladder", "set", "courtesy", "--day", "-5"),
        ("remedy", "request", "L1", "--kind", "deferral", "--until", "2026-04-15",
         "--reason", "r"),
        ("remedy", "decide", "1", "--approve"),
        ("blacklist", "propose", "C-L1", "--reason", "r"),
        ("blacklist", "decide", "1", "--approve"),
        ("blacklist", "lift", "C-L1", "--reason", "r"),
        ("blacklist", "decide-lift", "1", "--approve"),
        ("credit-rule", "set", "--breaches", "2", "--months", "3", "--percent", "10"),
        ("credit-rule", "restore", "C-L1", "--reason", "r"),
    ]  # fmt: skip
    for command in commands:
        refused = cli("collection", *command, "--user", "ghost", ok=False)
        assert (refused.exit_code, refused.stderr) == (1, "error: unknown user 'ghost'\n"), command
    assert [cli(*view).stdout for view in views] == before
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Payment)) == 0
        assert conn.scalar(select(func.count()).select_from(PromiseToPay)) == 0
    # A person of the organisation acts, and is recorded as who did.
    cli("collection", "pay", "L1", "100.00", "--on", "2026-03-05", "--user", "wu")
    later = (date.today() + timedelta(days=30)).isoformat()  # the CLI's clock is the real one
    cli("collection", "promise", "L1", "--amount", "100.00", "--on", later, "--user", "wu")
    cli("collection", "pay", "L1", "50.00", "--on", "2026-03-06")  # the CLI's own default
    with engine.connect() as conn:
        assert conn.execute(select(Payment.recorded_by).order_by(Payment.id)).scalars().all() == [
            "wu", "cli",
        ]  # fmt: skip
        assert conn.scalars(select(PromiseToPay.recorded_by)).all() == ["wu"]
    engine.dispose()
