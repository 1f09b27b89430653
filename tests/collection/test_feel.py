"""The FEEL unary-test translator: a table of what it accepts, and clear refusals."""

from __future__ import annotations

import re

import pytest

from engine.errors import DeploymentError
from engine.feel import FeelError, translate

from ..conftest import deploy

TRANSLATIONS = [
    ("-", None),
    ("", None),
    ("0", "? == 0"),
    ("007", "? == 7"),
    ("-5", "? == -5"),
    ("1.50", "? == 1.50"),
    ('"loan"', '? == "loan"'),
    ('"正常"', '? == "正常"'),
    ('"why?"', '? == "why\\u003f"'),  # never a bare "?" inside a string
    ('"say \\"hi\\""', '? == "say \\u0022hi\\u0022"'),
    ("true", "? == True"),
    ("null", "? == None"),
    ("> 360", "? > 360"),
    ("<= 90", "? <= 90"),
    (">=1", "? >= 1"),
    ("[1..90]", "1 <= ? <= 90"),
    ("(90..120]", "90 < ? <= 120"),
    ("]90..120]", "90 < ? <= 120"),
    ("[1..90)", "1 <= ? < 90"),
    ("[1..90[", "1 <= ? < 90"),
    ("[1.5..2.5]", "1.5 <= ? <= 2.5"),
    ('"loan","trade_receivable"', '(? == "loan") or (? == "trade_receivable")'),
    ("< 0, > 100", "(? < 0) or (? > 100)"),
    ("[1..90], > 360", "(1 <= ? <= 90) or (? > 360)"),
    ('not("loan")', 'not (? == "loan")'),
    ("not([1..90], 0)", "not ((1 <= ? <= 90) or (? == 0))"),
]


@pytest.mark.parametrize(("feel", "python"), TRANSLATIONS)
def test_translation(feel, python):
    assert translate(feel) == python


def test_translations_hold_at_their_boundaries():
    # Evaluate the Python the way SpiffWorkflow does: "?" is the input value.
    def holds(feel: str, value: object) -> bool:
        return eval(translate(feel).replace("?", "v"), {}, {"v": value})

    assert [d for d in range(0, 200) if holds("(90..120]", d)] == list(range(91, 121))
    assert [d for d in range(0, 200) if holds("[1..90]", d)] == list(range(1, 91))
    assert not holds("not([1..90])", 50) and holds("not([1..90])", 91)
    assert holds('"loan","trade_receivable"', "trade_receivable")


REFUSED = [
    ("days > 5", "name 'days' is not supported"),
    ("< limit", "name 'limit' is not supported"),
    ('date("2026-01-01")', "function date() is not supported"),
    ("!= 5", "is not FEEL in a unary test"),
    ("? > 5", "'?' is not supported"),
    ("[1..90", "a range is written"),
    ("[1,90]", "a range is written"),
    ("5 + 1", "unexpected '+'"),
    ("not 5", "not must be written not(test, ...)"),
    ("1,,2", "empty test"),
    ('"a\\q"', "unknown escape"),
]


@pytest.mark.parametrize(("feel", "message"), REFUSED)
def test_unsupported_feel_is_refused_with_a_reason(feel, message):
    with pytest.raises(FeelError, match=re.escape(message)):
        translate(feel)


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="D" name="d"
    namespace="http://caseclock.dev/dmn">
  <decision id="bad_decision" name="bad">
    <decisionTable id="Table_bad" hitPolicy="{policy}">
      <input id="In_days"><inputExpression id="IE_days" typeRef="integer">
        <text>days</text></inputExpression></input>
      <output id="Out_grade" name="grade" typeRef="string" />
      <rule id="Rule_ok"><inputEntry id="Entry_ok"><text>[1..90]</text></inputEntry>
        <outputEntry id="Out_ok"><text>"a"</text></outputEntry></rule>
      <rule id="Rule_bad"><inputEntry id="Entry_bad"><text>{test}</text></inputEntry>
        <outputEntry id="Out_bad"><text>"b"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_deploy_refuses_unsupported_feel_naming_the_element(app, tmp_path):
    path = tmp_path / "bad.dmn"
    path.write_text(DMN.format(policy="UNIQUE", test='date("2026-01-01")'))
    with pytest.raises(DeploymentError) as excinfo:
        deploy(app, path)
    assert excinfo.value.message == (
        "cannot deploy: bad.dmn: Entry_bad: FEEL 'date ( \"2026-01-01\" )': "
        "function date() is not supported"
    )
    assert excinfo.value.details["problems"] == [
        {
            "file": "bad.dmn",
            "element_id": "Entry_bad",
            "message": "FEEL 'date ( \"2026-01-01\" )': function date() is not supported",
        }
    ]


def test_deploy_refuses_hit_policies_spiffworkflow_would_get_wrong(app, tmp_path):
    path = tmp_path / "policy.dmn"
    path.write_text(DMN.format(policy="PRIORITY", test="> 90"))
    with pytest.raises(DeploymentError, match="Table_bad: hit policy PRIORITY is not supported"):
        deploy(app, path)
    path.write_text(DMN.format(policy="FIRST", test="> 90"))
    assert deploy(app, path) == []  # a DMN alone creates no process definition
