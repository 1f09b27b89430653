"""``caseclock calendar`` as a user types it: exact output, warnings, one-line errors.

Expected instants are computed by hand in tests/test_calendar.py (same 2026 facts).
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from cli import main


def test_add_prints_the_deadline_in_iso_with_offset(cli):
    # Thu 24 Sep 10:00 + 3 working days: 25-27 Mid-Autumn, then 28, 29, 30 Sep.
    assert cli("calendar", "add", "2026-09-24T10:00", "3 working days").stdout == (
        "2026-09-30T17:30:00+08:00\n"
    )
    # The same instant given in UTC, the duration unquoted, in Chinese.
    out = cli("calendar", "add", "2026-09-24T02:00:00Z", "3", "working", "days").stdout
    assert out == "2026-09-30T17:30:00+08:00\n"
    assert cli("calendar", "add", "2026-09-30T10:00", "3个工作日").stdout == (
        "2026-10-10T17:30:00+08:00\n"
    )
    # Working hours across lunch; calendar days keep the time.
    assert cli("calendar", "add", "2026-09-24T11:00", "2 working hours").stdout == (
        "2026-09-24T14:30:00+08:00\n"
    )
    assert cli("calendar", "add", "2026-09-24T10:00", "2 days").stdout == (
        "2026-09-26T10:00:00+08:00\n"
    )
    now = cli("calendar", "add", "now", "1 working day").stdout.strip()
    assert datetime.fromisoformat(now).utcoffset().total_seconds() == 8 * 3600


def test_a_year_without_data_warns_on_stderr_and_still_answers(cli):
    result = cli("calendar", "add", "2026-12-30T10:00", "3 working days")
    # Thu 31 Dec 2026 = 1; 1-3 Jan 2027 unknown officially: Fri 1 = 2 (no data, weekday),
    # Sat/Sun off, Mon 4 = 3.
    assert result.stdout == "2027-01-04T17:30:00+08:00\n"
    assert result.stderr.startswith("warning: no official calendar for 2027 yet")
    data = json.loads(cli("--json", "calendar", "add", "2026-12-30T10:00", "3 working days").stdout)
    assert data["result"] == "2027-01-04T17:30:00+08:00"
    assert data["duration"] == "3 working days" and len(data["warnings"]) == 1


def test_between_prints_working_time(cli):
    # Thu 24 Sep 10:00 -> Fri 9 Oct 15:00: 6h + 3 x 7h (28-30 Sep) + 7h (8 Oct) + 4.5h
    # = 38.5h = 5 working days of 7h and 3:30.
    out = cli("calendar", "between", "2026-09-24T10:00", "2026-10-09T15:00").stdout
    assert out == "5 working days 3:30 (38.5 working hours)\n"
    back = cli("calendar", "between", "2026-10-09T15:00", "2026-09-24T10:00").stdout
    assert back == "minus 5 working days 3:30 (-38.5 working hours)\n"
    data = json.loads(
        cli("--json", "calendar", "between", "2026-09-24T10:00", "2026-10-09T15:00").stdout
    )
    assert data["working_minutes"] == 2310 and data["working_day_minutes"] == 420
    assert (data["working_days"], data["remainder_minutes"]) == (5, 210)


def test_overrides_change_results_and_can_be_cleared(cli):
    # Fri 16 Oct + 1 working day: Mon 19 Oct, until Sat 17 Oct is made a workday.
    assert cli("calendar", "add", "2026-10-16T10:00", "1 working day").stdout.startswith(
        "2026-10-19T17:30"
    )
    out = cli("calendar", "override", "2026-10-17", "workday", "--note", "make-up day").stdout
    assert out == "2026-10-17 (Sat) is now a workday in calendar 'default'\n"
    assert cli("calendar", "add", "2026-10-16T10:00", "1 working day").stdout.startswith(
        "2026-10-17T17:30"
    )
    shown = cli("calendar", "show", "--year", "2026").stdout
    assert "2026-10-17  Sat      workday  override  make-up day (by cli)" in shown
    out = cli("calendar", "override", "2026-10-17", "clear").stdout
    assert out == "2026-10-17 (Sat) follows the rules again in calendar 'default': a holiday\n"
    assert cli("calendar", "add", "2026-10-16T10:00", "1 working day").stdout.startswith(
        "2026-10-19T17:30"
    )


def test_show_lists_holidays_adjusted_days_and_the_missing_year_warning(cli):
    shown = cli("calendar", "show", "--year", "2026").stdout
    assert "2026-09-20  Sun      workday  official  National Day 国庆节" in shown
    assert "2026-10-10  Sat      workday  official  National Day 国庆节" in shown
    assert "2026-09-25  Fri      holiday  official  Mid-autumn Festival 中秋" in shown
    assert "warning" not in shown
    data = json.loads(cli("--json", "calendar", "show", "--year", "2099").stdout)
    assert data["days"] == [] and data["warnings"][0].startswith(
        "no official calendar for 2099 yet"
    )
    assert (
        "warning: no official calendar for 2099 yet"
        in cli("calendar", "show", "--year", "2099").stdout
    )


def test_define_a_calendar_and_use_it(cli):
    out = cli("calendar", "define", "court", "--period", "08:30-12:00", "--period", "14:00-18:00")
    assert out.stdout == "calendar 'court' created: Asia/Shanghai, 08:30-12:00 14:00-18:00\n"
    out = cli("calendar", "add", "2026-09-24T10:00", "3 working days", "--calendar", "court")
    assert out.stdout == "2026-09-30T18:00:00+08:00\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("calendar", "add", "2026-09-24T10:00", "3 fortnights"),
            "error: unknown unit 'fortnights'",
        ),
        (
            ("calendar", "add", "2026-09-24T10:00", "1.5 working days"),
            "error: working days must be",
        ),
        (("calendar", "add", "tomorrow", "3 days"), "error: bad date-time 'tomorrow'"),
        (
            ("calendar", "add", "2026-09-24T10:00", "3 days", "--calendar", "nope"),
            "error: no calendar 'nope'; known calendars: default",
        ),
        (("calendar", "between", "2026-09-24", "soon"), "error: bad date-time 'soon'"),
        (("calendar", "override", "2026-02-30", "holiday"), "error: bad date '2026-02-30'"),
        (
            ("calendar", "override", "2026-10-13", "clear"),
            "error: calendar 'default' has no override",
        ),
        (
            ("calendar", "define", "x", "--period", "09:00-12:00", "--period", "11:00-13:00"),
            "error: working periods 09:00-12:00 and 11:00-13:00 overlap",
        ),
        (("calendar", "define", "x", "--timezone", "Mars/Base"), "error: unknown time zone"),
        (("calendar", "show", "--year", "0"), "error: --year must be between 1889 and 3010"),
    ],
)
def test_errors_are_one_clear_line_and_non_zero(cli, args, message):
    result = cli(*args, ok=False)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.output
    assert result.exit_code == 1


def test_a_database_without_the_calendar_tables_says_run_init(tmp_path, monkeypatch):
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE something_else (id INTEGER)"))
    engine.dispose()
    monkeypatch.setenv("CASECLOCK_DATABASE_URL", url)
    result = CliRunner().invoke(main, ["calendar", "add", "2026-09-24T10:00", "3 days"])
    assert result.exit_code == 1
    assert (
        result.output == "error: this database has no calendar tables yet: run `caseclock init`\n"
    )
