"""Five-tier grading by the shipped risk_grade.dmn, at every boundary day, via the engine."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from engine.collection.grading import evaluate, grade_receivable
from engine.errors import NotFound, ValidationError
from engine.runtime import StartInstance

from ..conftest import SHIPPED, deploy
from ..helpers import view
from .helpers import import_rows, row

DMN = SHIPPED / "risk_grade.dmn"
CASE = Path(__file__).parent / "diagrams" / "grade_case.bpmn"
DUE = date(2026, 1, 1)
BOUNDARIES = (0, 1, 90, 91, 120, 121, 180, 181, 270, 271, 360, 361)
# Loans: overdue -> 关注, > 90 -> 次级, > 270 -> 可疑, > 360 -> 损失.
LOAN = dict(
    zip(
        BOUNDARIES,
        [
            "正常",
            "关注",
            "关注",
            "次级",
            "次级",
            "次级",
            "次级",
            "次级",
            "次级",
            "可疑",
            "可疑",
            "损失",
        ],
        strict=True,
    )
)
# Credit cards: 1-90 关注, 91-120 次级, 121-180 可疑, > 180 损失.
CARD = dict(
    zip(
        BOUNDARIES,
        [
            "正常",
            "关注",
            "关注",
            "次级",
            "次级",
            "可疑",
            "可疑",
            "损失",
            "损失",
            "损失",
            "损失",
            "损失",
        ],
        strict=True,
    )
)


def setup(app) -> None:
    deploy(app, DMN)
    import_rows(
        app,
        row("LOAN", "1000.00", DUE.isoformat()),
        row("CARD", "1000.00", DUE.isoformat(), product="credit_card"),
        row("TRADE", "1000.00", DUE.isoformat(), product="trade_receivable"),
    )


def grades(app, key: str) -> dict[int, str]:
    return {
        n: app.read(lambda s, n=n: grade_receivable(s, app.services, key, DUE + timedelta(n))).grade
        for n in BOUNDARIES
    }


def test_every_boundary_day_of_a_loan_and_a_card(app):
    setup(app)
    assert grades(app, "LOAN") == LOAN
    assert grades(app, "CARD") == CARD
    assert grades(app, "TRADE") == LOAN  # trade receivables follow the loan table
    graded = app.read(lambda s: grade_receivable(s, app.services, "LOAN", date(2026, 4, 2)))
    assert (graded.days_past_due, graded.grade, graded.dmn_file) == (91, "次级", "risk_grade.dmn")


def test_the_same_table_in_a_case_business_rule_task(org_app):
    deploy(org_app, DMN)
    deploy(org_app, CASE)
    for product, expected in (("loan", LOAN), ("credit_card", CARD)):
        for days, grade in expected.items():
            data = {"days_past_due": days, "product": product, "guarantee": "none"}
            instance = org_app.execute(StartInstance("grade_case", data=data), actor="tester")
            result = view(org_app, instance.id)
            assert result["state"] == "completed"
            assert result["data"]["grade"] == grade, (product, days)


def test_rules_never_overlap_so_unique_is_true(app, tmp_path):
    # The same rules under COLLECT list every match: exactly one for each day.
    text = DMN.read_text().replace('hitPolicy="UNIQUE"', 'hitPolicy="COLLECT"')
    text = text.replace('id="risk_grade"', 'id="risk_grade_all"')
    path = tmp_path / "risk_grade_all.dmn"
    path.write_text(text)
    deploy(app, path)
    started = time.monotonic()
    for product in ("loan", "credit_card", "trade_receivable"):
        for days in [*range(0, 400, 7), *BOUNDARIES]:
            inputs = {"days_past_due": days, "product": product, "guarantee": "none"}
            _, matched = app.read(
                lambda s, i=inputs: evaluate(s, app.services, i, "risk_grade_all")
            )
            assert len(matched) == 1, (product, days, matched)
    assert time.monotonic() - started < 60


def test_editing_a_threshold_and_redeploying_changes_the_grade(app, tmp_path):
    setup(app)
    as_of = DUE + timedelta(days=61)
    assert app.read(lambda s: grade_receivable(s, app.services, "LOAN", as_of)).grade == "关注"
    # A stricter bank: loans more than 60 days overdue are at least 次级.
    edited = DMN.read_text().replace("[1..90]</text>", "[1..60]</text>", 1)
    edited = edited.replace("(90..270]", "(60..270]")
    path = tmp_path / "risk_grade.dmn"
    path.write_text(edited)
    deploy(app, path)
    assert app.read(lambda s: grade_receivable(s, app.services, "LOAN", as_of)).grade == "次级"
    # Cards keep their own table.
    assert app.read(lambda s: grade_receivable(s, app.services, "CARD", as_of)).grade == "关注"


def test_missing_decision_and_unmatched_inputs_are_clear_errors(app):
    import_rows(app, row("X", "1.00", "2026-01-01"))
    with pytest.raises(NotFound, match="decision 'risk_grade' is not deployed"):
        app.read(lambda s: grade_receivable(s, app.services, "X", DUE))
    deploy(app, DMN)
    inputs = {"days_past_due": 5, "product": "lease", "guarantee": "none"}
    with pytest.raises(ValidationError, match="no rule matches"):
        app.read(lambda s: evaluate(s, app.services, inputs))
