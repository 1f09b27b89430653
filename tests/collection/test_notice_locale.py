"""Each customer's notices and letters in their own language (zh-CN by default, or en),
set by the CSV import or the command line."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from engine.collection.customers import SetCustomerLocale
from engine.collection.daily import run_collection_day
from engine.collection.importing import COLUMNS, export_rows, parse_csv, to_csv
from engine.errors import NotFound, ValidationError
from engine.store import AuditEvent, OutboxMessage
from engine.store.collection_tables import Customer
from engine.store.ladder_tables import CollectionNotice

from ..conftest import SHANGHAI, SHIPPED, deploy
from .helpers import csv_text, import_rows, row

CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@pytest.fixture
def debt_app(org_app, clock):
    deploy(org_app, SHIPPED / "debt_collection.bpmn")
    return org_app


def morning(clock, day: date) -> None:
    clock.set(datetime.combine(day, time(9, 0), tzinfo=SHANGHAI))


def portfolio(app) -> None:
    """Two debtors due 20 Feb (D+10 on 2 Mar: the formal letter) and a third person whose
    details must never appear in their notices."""
    own = {"contact_verified_on": "2026-01-01"}
    import_rows(
        app,
        row("EN-1", "2500.00", "2026-02-20", customer_key="C-EN", customer_name="John Smith",
            email="john@example.com", locale="en", **own),
        row("ZH-1", "800.00", "2026-02-20", customer_key="C-ZH", customer_name="张三",
            phone="13900000001", locale="zh_CN", **own),
        row("OT-1", "100.00", "2026-06-20", customer_key="C-OT", customer_name="Jane Roe",
            phone="13900000002", email="jane@example.com", **own),
    )  # fmt: skip


def notices(app) -> dict[str, tuple[str, str, str]]:
    """receivable → (locale, level, outbox subject)."""
    rows = app.read(lambda s: s.execute(
        select(CollectionNotice, OutboxMessage.subject)
        .join(OutboxMessage, OutboxMessage.id == CollectionNotice.outbox_id)
        .order_by(CollectionNotice.id)).all())  # fmt: skip
    keys = {1: "EN-1", 2: "ZH-1", 3: "OT-1"}
    return {f"{keys[n.receivable_id]}:{n.level}": (n.locale, n.kind, subject)
            for n, subject in rows}  # fmt: skip


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True, text=True).stdout  # fmt: skip


def test_an_english_speaking_debtor_gets_the_letter_in_english(debt_app, clock, cli, tmp_path):
    portfolio(debt_app)
    morning(clock, date(2026, 3, 2))
    assert sorted(run_collection_day(debt_app, date(2026, 3, 2)).notices) == [
        "EN-1:notice", "ZH-1:notice"]  # fmt: skip
    sent = notices(debt_app)
    assert sent["EN-1:notice"] == (
        "en", "formal", "[Collection notice] Account EN-1 is overdue")  # fmt: skip
    assert sent["ZH-1:notice"] == ("zh-CN", "formal", "【催收函】账款 ZH-1 逾期还款通知")
    out = tmp_path / "en.pdf"
    cli("collection", "letter", "EN-1", "notice", "--out", str(out))
    text = pdf_text(out)
    flat = " ".join(text.split())
    assert not CJK.search(text), CJK.findall(text)  # not a word of Chinese
    # The six contents, in English, with the debtor's own figures.
    for phrase in (
        "1. Reminder", "John Smith: as of 2026-03-02, 2500.00 CNY is outstanding on your "
        "account EN-1, 10 days overdue (due date 2026-02-20)",
        "2. Consequences", "Overdue interest accrues daily", "0.00 CNY so far", "credit record",
        "3. Ways to repay", "bank transfer", "4. Remedies", "deferral", "instalment plan",
        "5. Legal risk", "lawsuit", "6. Credit-record impact", "credit reference system",
    ):  # fmt: skip
        assert phrase in flat, phrase
    # Addressed to the debtor alone: no other person, contact or collector.
    for other in ("Jane Roe", "jane@example.com", "13900000002", "张三", "guarantor",
                  "family", "collector"):  # fmt: skip
        assert other.lower() not in flat.lower(), other
    assert "john@example.com" not in flat  # the address is the envelope's, not the letter's
    cli("collection", "letter", "ZH-1", "notice", "--out", str(tmp_path / "zh.pdf"))
    assert "一、欠款提醒" in pdf_text(tmp_path / "zh.pdf")


def test_the_locale_set_from_the_shell_applies_to_the_next_notice(debt_app, clock, cli):
    portfolio(debt_app)
    morning(clock, date(2026, 3, 2))
    run_collection_day(debt_app, date(2026, 3, 2))
    assert cli("collection", "locale", "C-ZH", "en", "--user", "wu").output.strip() == (
        "C-ZH: notices in en")  # fmt: skip
    cli("collection", "locale", "C-ZH", "fr", ok=False)
    with pytest.raises(NotFound):
        debt_app.execute(SetCustomerLocale("C-NOBODY", "en"), actor="wu")
    morning(clock, date(2026, 3, 7))  # D+15: the supervisor's review, an e-mail
    run_collection_day(debt_app, date(2026, 3, 7))
    sent = notices(debt_app)
    assert sent["ZH-1:notice"][0] == "zh-CN"  # what was sent stays as it was sent
    assert sent["ZH-1:review"][0] == "en"
    assert sent["ZH-1:review"][2] == "[Collection notice] Account ZH-1 is overdue"
    event = debt_app.read(lambda s: s.scalars(select(AuditEvent).where(
        AuditEvent.command == "collection.customer_locale")).one())  # fmt: skip
    assert (event.actor, event.payload) == (
        "wu", {"customer": "C-ZH", "old": "zh-CN", "new": "en"})  # fmt: skip


def test_the_import_reads_and_the_export_writes_the_locale(app):
    parsed = parse_csv(csv_text(
        row("L-1", "10.00", "2026-04-01", locale="EN"),
        row("L-2", "10.00", "2026-04-01", locale="zh-CN"),
        row("L-3", "10.00", "2026-04-01"),
        row("L-4", "10.00", "2026-04-01", locale="de"),
    ))  # fmt: skip
    assert [(r.key, r.error) for r in parsed if r.error] == [
        ("L-4", "locale 'de': one of zh-CN, en")]  # fmt: skip
    import_rows(app, *[row(f"L-{n}", "10.00", "2026-04-01", locale=loc)
                       for n, loc in ((1, "en"), (2, "zh"), (3, ""))])  # fmt: skip
    locales = app.read(lambda s: dict(s.execute(select(Customer.key, Customer.locale)).all()))
    assert locales == {"C-L-1": "en", "C-L-2": "zh-CN", "C-L-3": "zh-CN"}
    # A later row without a locale leaves the customer's alone.
    import_rows(app, row("L-5", "10.00", "2026-04-01", customer_key="C-L-1"))
    exported = app.read(lambda s: to_csv(export_rows(s)))
    assert [line.split(",")[COLUMNS.index("locale")] for line in exported.splitlines()] == [
        "locale", "en", "zh-CN", "zh-CN", "en"]  # fmt: skip
    with pytest.raises(ValidationError):
        app.execute(SetCustomerLocale("C-L-1", "english"), actor="wu")
