"""Debtor notices: the six contents in both languages, wording by days overdue, and the
formal letter as a PDF whose extracted text says all of it and names nobody else."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest

from engine.collection.letters import render_pdf
from engine.collection.notices import SIX, kind_for, render

VALUES = {
    "debtor_name": "张三", "receivable": "L-1", "amount": "10070.00", "currency": "CNY",
    "due_date": "2026-03-05", "days_overdue": 12, "penalty": "70.00", "as_of": "2026-03-17",
}  # fmt: skip

# What each of the six contents must say, per language.
CONTENTS = {
    "zh-CN": {
        "reminder": ["欠款提醒", "10070.00 CNY", "已逾期 12 天"],
        "consequences": ["逾期后果", "逾期利息", "70.00 CNY", "信用记录"],
        "repay": ["还款方式", "银行转账", "L-1"],
        "remedies": ["补救措施", "延期还款", "分期还款"],
        "legal": ["法律风险", "诉讼"],
        "credit": ["征信影响", "征信系统"],
    },
    "en": {
        "reminder": ["Reminder", "10070.00 CNY", "12 days overdue"],
        "consequences": ["Consequences", "Overdue interest", "70.00 CNY", "credit record"],
        "repay": ["Ways to repay", "bank transfer", "L-1"],
        "remedies": ["Remedies", "deferral", "instalment plan"],
        "legal": ["Legal risk", "lawsuit"],
        "credit": ["Credit-record impact", "credit reference system"],
    },
}


@pytest.mark.parametrize(
    ("days", "kind"),
    [(-3, "courtesy"), (0, "courtesy"), (1, "reminder"), (6, "reminder"), (7, "formal"),
     (29, "formal"), (30, "final"), (95, "final")],
)  # fmt: skip
def test_the_wording_follows_the_days_overdue(days, kind):
    assert kind_for(days) == kind


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_formal_notice_covers_the_six_contents(locale):
    notice = render("formal", VALUES, locale)
    assert len(notice.sections) == len(SIX) == 6
    for part, phrases in CONTENTS[locale].items():
        for phrase in phrases:
            assert phrase in notice.body, (part, phrase)


def test_shorter_notices_carry_fewer_parts():
    courtesy = render("courtesy", VALUES)
    assert "将于 2026-03-05 到期" in courtesy.subject and "诉讼" not in courtesy.body
    reminder = render("reminder", VALUES, "en")
    assert "12 days overdue" in reminder.subject and "lawsuit" not in reminder.body
    final = render("final", VALUES)
    assert "强制执行" in final.body and "征信系统" in final.body


def test_a_missing_value_is_an_error_not_a_blank():
    values = {k: v for k, v in VALUES.items() if k != "amount"}
    with pytest.raises(KeyError, match="amount"):
        render("formal", values)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_letter_pdf_says_all_six_contents(tmp_path, locale):
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(render_pdf(render("formal", VALUES, locale), date(2026, 3, 17)))
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = "".join(text.split())  # lines wrap anywhere in Chinese
    for part, phrases in CONTENTS[locale].items():
        for phrase in phrases:
            assert "".join(phrase.split()) in flat, (part, phrase)
    # Addressed to the debtor alone: no collector, guarantor or other person is named.
    assert "张三" in flat
    for other in ("吴催收", "担保人", "guarantor", "家属", "family"):
        assert other not in flat
