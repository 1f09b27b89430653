"""The ladder as configuration: levels, their instants in the case data, their checks,
and task time limits applied as the steps' basic SLA standards."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.collection import ladder
from engine.collection.cases import StartCollectionCase
from engine.errors import NotFound, ValidationError
from engine.store.models import SlaStandard

from ..conftest import SHANGHAI, SHIPPED, deploy
from ..helpers import view
from .helpers import import_rows, row


def test_case_data_holds_an_instant_and_a_role_per_level():
    data = ladder.case_data(list(ladder.DEFAULT_LEVELS), date(2026, 3, 5), SHANGHAI)
    assert data["ladder_courtesy_at"] == "2026-03-02T09:00:00+08:00"
    assert data["ladder_legal_at"] == "2026-05-04T09:00:00+08:00"
    assert data["ladder_review_role"] == "collection_supervisors"
    assert [lv["day"] for lv in data["ladder"]] == [-3, 1, 3, 7, 15, 30, 60]


def test_levels_default_to_the_shipped_ones_until_reset(app):
    assert app.read(ladder.levels) == sorted(ladder.DEFAULT_LEVELS, key=lambda lv: lv.day)
    app.execute(ladder.ResetLadder())
    assert app.read(ladder.levels) == list(ladder.DEFAULT_LEVELS)


def test_setting_a_level_checks_it(app):
    with pytest.raises(NotFound, match="no ladder level 'fax'"):
        app.execute(ladder.SetLevel("fax", day=2))
    with pytest.raises(ValidationError, match="channel 'pigeon'"):
        app.execute(ladder.SetLevel("sms", channel="pigeon"))
    with pytest.raises(ValidationError, match="day 9999"):
        app.execute(ladder.SetLevel("sms", day=9999))


def test_a_changed_time_limit_becomes_the_steps_basic_standard(app):
    app.execute(ladder.SetLevel("call", sla_limit="2 working days"))
    [standard] = app.read(lambda s: list(s.scalars(select(SlaStandard).where(
        SlaStandard.step == "Task_call", SlaStandard.active.is_(True)))))  # fmt: skip
    assert (standard.process_key, standard.kind) == ("debt_collection", "basic")
    assert (standard.limit, standard.on_deadline) == ("2 working days", "chase")
    # The other levels were stored as shipped on the first edit.
    assert {lv.level for lv in app.read(ladder.levels)} == {
        lv.level for lv in ladder.DEFAULT_LEVELS
    }


def test_a_moved_role_offers_the_next_cases_task_to_that_group(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn")
    org_app.execute(ladder.SetLevel("call", role="collection_supervisors", day=-1))
    import_rows(org_app, row("R-1", "100.00", "2026-03-03"))
    case = org_app.execute(StartCollectionCase("R-1", date(2026, 3, 2)))
    data = view(org_app, case)["data"]
    assert data["ladder_call_at"] == "2026-03-02T09:00:00+08:00"
    assert data["ladder_call_role"] == "collection_supervisors"
