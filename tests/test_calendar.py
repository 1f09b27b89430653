"""Working-time calendars: the arithmetic against hand-computed 2026 facts, and the
database-backed commands.

Every expectation below is computed by hand in its comment from the official 2026
calendar (checked against the package in the first test): Mid-Autumn holiday Fri 25
to Sun 27 Sep, National Day Thu 1 to Wed 7 Oct, adjusted working days (调休) Sun 20
Sep and Sat 10 Oct. Default periods 09:00-12:00 and 13:30-17:30, a 7-hour day.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from functools import cache

import chinese_calendar
import pytest
from sqlalchemy import select

from engine.calendar import (
    CalendarError,
    Duration,
    WorkingCalendar,
    describe_working_time,
    parse_duration,
    parse_instant,
)
from engine.calendars import (
    DefineCalendar,
    OverrideDay,
    RemoveOverride,
    load_calendar,
    override_notes,
)
from engine.errors import NotFound, ValidationError
from engine.store import AuditEvent, Calendar, CalendarOverride

from .conftest import SHANGHAI


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def test_the_package_says_what_these_tests_assume():
    holidays = [date(2026, 9, d) for d in (25, 26, 27)] + [date(2026, 10, d) for d in range(1, 8)]
    assert all(chinese_calendar.is_holiday(d) for d in holidays)
    assert chinese_calendar.is_workday(date(2026, 9, 20))  # Sunday, 调休
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday, 调休
    assert chinese_calendar.is_holiday(date(2026, 10, 11))  # an ordinary Sunday


# --- working days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, n, expected",
    [
        # Thu 24 Sep: the start day never counts; Fri 25-Sun 27 Mid-Autumn;
        # Mon 28 = 1, Tue 29 = 2, Wed 30 = 3 -> end of Wed 30.
        (at(2026, 9, 24, 10), 3, at(2026, 9, 30, 17, 30)),
        # The case: received Wed 30 Sep; 1-7 Oct National Day;
        # Thu 8 = 1, Fri 9 = 2, Sat 10 (调休) = 3.
        (at(2026, 9, 30, 10), 3, at(2026, 10, 10, 17, 30)),
        # Fri 9 Oct: the next working day is the adjusted Saturday 10 Oct.
        (at(2026, 10, 9, 10), 1, at(2026, 10, 10, 17, 30)),
        # Fri 9 Oct + 2: Sat 10 (调休) = 1, Sun 11 off, Mon 12 = 2.
        (at(2026, 10, 9, 10), 2, at(2026, 10, 12, 17, 30)),
        # Late evening of Thu 17 Sep: still that day, so Fri 18 = 1.
        (at(2026, 9, 17, 23, 0), 1, at(2026, 9, 18, 17, 30)),
        # Early morning of Mon 21 Sep: the whole day is left but does not count: Tue 22.
        (at(2026, 9, 21, 8, 0), 1, at(2026, 9, 22, 17, 30)),
        # Received on Sat 19 Sep (a rest day): Sun 20 is the adjusted working day = 1.
        (at(2026, 9, 19, 9, 0), 1, at(2026, 9, 20, 17, 30)),
        # Counting back from the deadline Sat 10 Oct: 1 working day before = Fri 9 Oct.
        (at(2026, 10, 10, 17, 30), -1, at(2026, 10, 9, 17, 30)),
        # Back from Thu 8 Oct: Wed 30 Sep (1-7 Oct are holidays).
        (at(2026, 10, 8, 10), -1, at(2026, 9, 30, 17, 30)),
        # Zero adds nothing (documented: n == 0 returns the start).
        (at(2026, 9, 24, 10, 5), 0, at(2026, 9, 24, 10, 5)),
    ],
)
def test_add_working_days(cal, start, n, expected):
    result = cal.add_working_days(start, n)
    assert result == expected
    assert result.tzinfo == SHANGHAI and result.isoformat().endswith("+08:00")


def test_an_instant_in_another_zone_counts_by_the_calendars_date(cal):
    # 2026-09-23T20:00Z is Thu 24 Sep 04:00 in Shanghai: counting as for Thu 24.
    start = datetime(2026, 9, 23, 20, 0, tzinfo=timezone.utc)
    assert cal.add_working_days(start, 3) == at(2026, 9, 30, 17, 30)


def test_adding_250_working_days_is_a_lookup_in_an_index_built_per_year(monkeypatch):
    calls: list[tuple[date, date]] = []
    real = chinese_calendar.get_workdays

    def counting(first: date, last: date, *args: object, **kwargs: object) -> list[date]:
        calls.append((first, last))
        return real(first, last, *args, **kwargs)

    monkeypatch.setattr(chinese_calendar, "get_workdays", counting)
    calendar = WorkingCalendar()
    start = at(2024, 3, 1, 10)  # Friday; 210 working days are left in 2024 after it
    # Reference: the 250th working day after 1 Mar 2024, day by day on the package.
    day, counted = date(2024, 3, 1), 0
    while counted < 250:
        day += timedelta(days=1)
        counted += chinese_calendar.is_workday(day)
    expected = at(day.year, day.month, day.day, 17, 30)

    assert calendar.add_working_days(start, 250) == expected
    assert calendar.loaded_years == range(2024, 2026)
    assert calls == [(date(2024, 1, 1), date(2024, 12, 31)), (date(2025, 1, 1), date(2025, 12, 31))]
    # Asked again: nothing is rebuilt, the index answers.
    assert calendar.add_working_days(start, 250) == expected
    assert len(calls) == 2
    # Further out (210 + 248 working days end 2025): exactly one more year is loaded.
    assert calendar.add_working_days(start, 480).year == 2026
    assert calendar.loaded_years == range(2024, 2027) and len(calls) == 3


@cache
def _is_workday(day: date) -> bool:
    return chinese_calendar.is_workday(day)


def _reference_working_days(start: date, n: int) -> date:
    day, step, left = start, (1 if n > 0 else -1), abs(n)
    while left:
        day += timedelta(days=step)
        left -= _is_workday(day)
    return day


def test_10000_random_working_day_sums_match_a_day_by_day_reference(cal):
    rng = random.Random(20260930)
    first, last = date(2004, 3, 1).toordinal(), date(2026, 10, 31).toordinal()
    for _ in range(10_000):
        start = date.fromordinal(rng.randint(first, last))
        n = rng.choice([-1, 1]) * rng.randint(1, 40)
        hour = rng.randint(0, 23)
        result = cal.add_working_days(at(start.year, start.month, start.day, hour), n)
        day = _reference_working_days(start, n)
        assert result == at(day.year, day.month, day.day, 17, 30), (start, n)


# --- working hours --------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, hours, expected",
    [
        # 11:00 + 2h: one hour to 12:00, lunch until 13:30, one more hour -> 14:30.
        (at(2026, 9, 24, 11), 2, at(2026, 9, 24, 14, 30)),
        # 09:00 + 3h ends exactly at the lunch break: 12:00, not 13:30.
        (at(2026, 9, 24, 9), 3, at(2026, 9, 24, 12)),
        # Starting in the lunch break begins at 13:30: 12:15 + 1h -> 14:30.
        (at(2026, 9, 24, 12, 15), 1, at(2026, 9, 24, 14, 30)),
        # Starting in the evening begins next morning: Mon 21 Sep 20:00 + 1h -> Tue 10:00.
        (at(2026, 9, 21, 20), 1, at(2026, 9, 22, 10)),
        # Thu 24 Sep 16:00 + 4h: 1.5h on Thu, 25-27 holidays, 2.5h on Mon 28 -> 11:30.
        (at(2026, 9, 24, 16), 4, at(2026, 9, 28, 11, 30)),
        # Overnight into the 调休 Saturday: Fri 9 Oct 16:00 + 4h -> Sat 10 Oct 11:30.
        (at(2026, 10, 9, 16), 4, at(2026, 10, 10, 11, 30)),
        # 16h from Thu 24 Sep 10:00: 6h Thu, 7h Mon 28, 3h Tue 29 -> Tue 29 12:00.
        (at(2026, 9, 24, 10), 16, at(2026, 9, 29, 12)),
        # Backwards, the latest matching instant: 17:30 - 4h = 13:30, not 12:00.
        (at(2026, 9, 24, 17, 30), -4, at(2026, 9, 24, 13, 30)),
        # Backwards over the holidays: Mon 28 Sep 10:00 - 2h: 1h Mon, 1h Thu 24 -> 16:30.
        (at(2026, 9, 28, 10), -2, at(2026, 9, 24, 16, 30)),
        # Fractional hours: 1.5h from 11:00 -> 12:00 + 0.5h after lunch = 14:00.
        (at(2026, 9, 24, 11), 1.5, at(2026, 9, 24, 14)),
        # Zero: unchanged, even outside working time.
        (at(2026, 9, 26, 3), 0, at(2026, 9, 26, 3)),
    ],
)
def test_add_working_hours(cal, start, hours, expected):
    assert cal.add_working_hours(start, hours) == expected


def test_working_hours_as_timedelta_and_minutes(cal):
    # 90 working minutes from 11:00: 60 before lunch, 30 after 13:30 -> 14:00.
    assert cal.add_working_hours(at(2026, 9, 24, 11), timedelta(minutes=90)) == at(2026, 9, 24, 14)
    # 7 working hours from the start of a day = the end of that day.
    assert cal.add_working_time(at(2026, 9, 24, 9), timedelta(hours=7)) == at(2026, 9, 24, 17, 30)


def test_random_working_time_round_trips(cal):
    rng = random.Random(7)
    first = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    for _ in range(2_000):
        start = first + timedelta(minutes=rng.randint(0, 600_000))
        amount = timedelta(minutes=rng.randint(1, 20_000))
        end = cal.add_working_time(start, amount)
        assert cal.working_time_between(start, end) == amount
        back = cal.add_working_time(end, -amount)
        assert cal.working_time_between(start, back) == timedelta(0)
        assert back >= start or not cal.is_working_time(start)


# --- between, is-working-time, calendar days ---------------------------------------------


def test_working_time_between_across_a_holiday(cal):
    # Thu 24 Sep 10:00 -> Mon 28 Sep 11:00: 2h + 4h on Thu, holidays, 2h on Mon = 8h.
    a, b = at(2026, 9, 24, 10), at(2026, 9, 28, 11)
    assert cal.working_time_between(a, b) == timedelta(hours=8)
    # Reversed: negative (documented), so "time left" becomes "how late".
    assert cal.working_time_between(b, a) == timedelta(hours=-8)
    assert cal.working_time_between(a, a) == timedelta(0)
    # End of Wed 30 Sep to the start of Thu 8 Oct: the whole National Day holiday, 0.
    assert cal.working_time_between(at(2026, 9, 30, 17, 30), at(2026, 10, 8, 9)) == timedelta(0)


@pytest.mark.parametrize(
    "instant, working",
    [
        (at(2026, 9, 24, 12, 15), False),  # lunch break
        (at(2026, 9, 24, 12, 0), False),  # periods end exclusive
        (at(2026, 9, 24, 11, 59), True),
        (at(2026, 9, 24, 9, 0), True),
        (at(2026, 9, 24, 17, 30), False),
        (at(2026, 10, 10, 10), True),  # 调休 Saturday
        (at(2026, 10, 1, 10), False),  # National Day
        (datetime(2026, 9, 24, 2, 15, tzinfo=timezone.utc), True),  # 10:15 in Shanghai
    ],
)
def test_is_working_time(cal, instant, working):
    assert cal.is_working_time(instant) is working


def test_calendar_days_keep_the_wall_clock_time(cal):
    assert cal.add_calendar_days(at(2026, 9, 30, 10), 2) == at(2026, 10, 2, 10)
    # 21-24 Sep (4) + 28-30 Sep (3) + 8-10 Oct (3) = 10; from Sun 20 Sep (调休) 11.
    assert cal.count_working_days(date(2026, 9, 21), date(2026, 10, 11)) == 10
    assert cal.count_working_days(date(2026, 9, 20), date(2026, 10, 11)) == 11


# --- overrides and years without data --------------------------------------------------


def test_overrides_change_results():
    plain = WorkingCalendar()
    # Without overrides: Fri 16 Oct + 1 -> Mon 19 Oct (an ordinary weekend).
    assert plain.add_working_days(at(2026, 10, 16, 10), 1) == at(2026, 10, 19, 17, 30)
    custom = WorkingCalendar(
        overrides={date(2026, 10, 17): "workday", date(2026, 10, 12): "holiday"}
    )
    # Sat 17 Oct made a workday: it is the next working day.
    assert custom.add_working_days(at(2026, 10, 16, 10), 1) == at(2026, 10, 17, 17, 30)
    assert custom.is_working_time(at(2026, 10, 17, 10))
    # Mon 12 Oct made a holiday: Fri 9 + 2 = Sat 10 (调休), then Tue 13.
    assert custom.add_working_days(at(2026, 10, 9, 10), 2) == at(2026, 10, 13, 17, 30)
    notes = {n.day: (n.kind, n.source) for n in custom.day_notes(2026)}
    assert notes[date(2026, 10, 17)] == ("workday", "override")
    assert notes[date(2026, 10, 10)] == ("workday", "official")


def test_a_year_without_official_data_falls_back_to_weekends_and_warns():
    calendar = WorkingCalendar(overrides={date(2099, 3, 9): "holiday"})
    # Fri 6 Mar 2099 + 1: Sat/Sun off, Mon 9 overridden to a holiday -> Tue 10.
    assert calendar.add_working_days(at(2099, 3, 6, 10), 1) == at(2099, 3, 10, 17, 30)
    assert calendar.missing_years == (2099,)
    assert "no official calendar for 2099 yet" in calendar.warnings[0]
    assert not calendar.has_official_data(2099) and calendar.has_official_data(2026)
    assert [(n.day, n.source) for n in calendar.day_notes(2099)] == [(date(2099, 3, 9), "override")]
    assert calendar.warnings_for(at(2026, 9, 24)) == []
    # The index is contiguous: 2026 after 2099 loads everything between; one line.
    (warning,) = calendar.warnings_for(at(2026, 9, 24), at(2099, 1, 1))
    assert warning.startswith("no official calendar for 2027-2099 yet:")
    assert calendar.missing_years == tuple(range(2027, 2100))


def test_a_year_before_the_data_warns_without_yet():
    calendar = WorkingCalendar()
    # Tue 30 Dec 2003: Wed 31 = 1 (weekday rule), Thu 1 Jan 2004 New Year's Day is an
    # official holiday, Fri 2 = 2, Mon 5 = 3.
    assert calendar.add_working_days(at(2003, 12, 30, 10), 3) == at(2004, 1, 5, 17, 30)
    assert calendar.warnings == [
        "no official calendar for 2003: chinesecalendar has no data before 2004, so only "
        "weekends and overrides count"
    ]


def test_official_holidays_can_be_switched_off():
    calendar = WorkingCalendar(use_official_holidays=False)
    # Thu 24 Sep + 1 -> Fri 25 (no Mid-Autumn holiday), and no warning for any year.
    assert calendar.add_working_days(at(2026, 9, 24, 10), 1) == at(2026, 9, 25, 17, 30)
    calendar.add_working_days(at(2099, 3, 6, 10), 1)
    assert calendar.warnings == []


def test_several_periods_and_another_zone():
    calendar = WorkingCalendar("Europe/Berlin", ["08:00-10:00", ("10:30", "12:00"), "13:00-16:00"])
    assert calendar.day_length == timedelta(hours=6, minutes=30)
    berlin = calendar.zone
    # Thu 24 Sep 09:30 + 1h: 30 min to 10:00, break, 30 min -> 11:00 Berlin time.
    result = calendar.add_working_hours(datetime(2026, 9, 24, 9, 30, tzinfo=berlin), 1)
    assert result == datetime(2026, 9, 24, 11, 0, tzinfo=berlin) and result.tzinfo == berlin


# --- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "periods, message",
    [
        ([("09:00", "12:00"), ("11:00", "13:00")], "09:00-12:00 and 11:00-13:00 overlap"),
        ([("13:30", "17:30"), ("09:00", "12:00")], "must be in order"),
        ([("12:00", "09:00")], "ends before it starts"),
        ([("9h", "12:00")], "bad time '9h'"),
        ([("25:00", "26:00")], "bad time '25:00'"),
        (["09:00 to 12:00"], "bad working period"),
        ([], "at least one working period"),
    ],
)
def test_bad_periods_are_refused(periods, message):
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(periods=periods)


def test_bad_zone_and_override_kind_are_refused():
    with pytest.raises(CalendarError, match="unknown time zone 'Mars/Base'"):
        WorkingCalendar("Mars/Base")
    with pytest.raises(CalendarError, match="kind must be workday or holiday"):
        WorkingCalendar(overrides={date(2026, 1, 1): "weekend"})  # type: ignore[dict-item]


def test_naive_datetimes_are_refused(cal):
    naive = datetime(2026, 9, 24, 10)
    calls = [
        lambda: cal.add_working_days(naive, 1),
        lambda: cal.add_working_hours(naive, 1),
        lambda: cal.add_calendar_days(naive, 1),
        lambda: cal.working_time_between(naive, at(2026, 9, 25)),
        lambda: cal.is_working_time(naive),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="naive date-time 2026-09-24T10:00:00 refused"):
            call()
    # The same error is a ValidationError, so adapters print it as one line.
    with pytest.raises(ValidationError):
        cal.add_working_days(naive, 1)


def test_non_integer_day_counts_are_refused(cal):
    with pytest.raises(CalendarError, match="whole number"):
        cal.add_working_days(at(2026, 9, 24), 1.5)  # type: ignore[arg-type]


# --- durations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, canonical, expected",
    [
        ("3 working days", "3 working days", at(2026, 9, 30, 17, 30)),
        ("1 working day", "1 working day", at(2026, 9, 28, 17, 30)),
        ("3个工作日", "3 working days", at(2026, 9, 30, 17, 30)),
        ("３ 个 工作日", "3 working days", at(2026, 9, 30, 17, 30)),  # full-width digit
        ("16 working hours", "16 working hours", at(2026, 9, 29, 12)),
        ("16工作小时", "16 working hours", at(2026, 9, 29, 12)),
        # 10:00 + 90 working minutes = 11:30, all before the 12:00 break.
        ("90 working minutes", "90 working minutes", at(2026, 9, 24, 11, 30)),
        ("90工作分钟", "90 working minutes", at(2026, 9, 24, 11, 30)),
        # Calendar days keep the time of day, holidays or not.
        ("2 days", "2 days", at(2026, 9, 26, 10)),
        ("2天", "2 days", at(2026, 9, 26, 10)),
        # Plain hours are elapsed time.
        ("1.5 Hours", "1.5 hours", at(2026, 9, 24, 11, 30)),
        ("30 minutes", "30 minutes", at(2026, 9, 24, 10, 30)),
    ],
)
def test_parse_duration(cal, text, canonical, expected):
    # All from Thu 24 Sep 10:00 (hand computations as in the tests above).
    duration = parse_duration(text)
    assert isinstance(duration, Duration) and str(duration) == canonical
    assert duration.add_to(cal, at(2026, 9, 24, 10)) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "cannot read duration ''"),
        ("three working days", "write a number and a unit"),
        ("-3 working days", "write a number and a unit"),
        ("3 fortnights", "unknown unit 'fortnights'"),
        ("1.5 working days", "whole number"),
        ("2.5 days", "whole number"),
        ("P3D", "write a number and a unit"),
    ],
)
def test_bad_durations_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_parse_instant_and_describe(cal):
    now = datetime(2026, 9, 24, 2, 0, tzinfo=timezone.utc)
    assert parse_instant("2026-09-24T10:00", cal) == at(2026, 9, 24, 10)
    assert parse_instant("2026-09-24T02:00:00Z", cal) == at(2026, 9, 24, 10)
    assert parse_instant("2026-09-24", cal) == at(2026, 9, 24)
    assert parse_instant("now", cal, now) == at(2026, 9, 24, 10)
    with pytest.raises(CalendarError, match="bad date-time 'soon'"):
        parse_instant("soon", cal)
    day = cal.day_length
    # 17.5h = 2 days of 7h + 3:30.
    assert describe_working_time(timedelta(hours=17.5), day) == (
        "2 working days 3:30 (17.5 working hours)"
    )
    assert describe_working_time(timedelta(hours=7), day) == "1 working day 0:00 (7 working hours)"
    assert describe_working_time(timedelta(minutes=-80), day) == (
        "minus 0 working days 1:20 (-1.33 working hours)"
    )


# --- in the database -------------------------------------------------------------------


def org_events(app) -> list[tuple[str, dict]]:
    return app.read(
        lambda s: [
            (e.command, e.payload)
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.chain_key == "org")
                .order_by(AuditEvent.chain_seq)
            )
        ]
    )


def test_default_calendar_exists_without_rows(app):
    calendar = app.read(load_calendar)
    assert calendar.timezone == "Asia/Shanghai"
    assert [str(p) for p in calendar.periods] == ["09:00-12:00", "13:30-17:30"]
    assert app.read(lambda s: s.scalars(select(Calendar)).all()) == []


def test_overrides_are_stored_audited_and_change_the_loaded_calendar(app):
    before = app.read(load_calendar)
    assert before.add_working_days(at(2026, 10, 16, 10), 1) == at(2026, 10, 19, 17, 30)

    app.execute(OverrideDay("2026-10-17", "workday", "audit make-up day"), actor="admin")
    after = app.read(load_calendar)
    # Sat 17 Oct is now the next working day after Fri 16 Oct.
    assert after.add_working_days(at(2026, 10, 16, 10), 1) == at(2026, 10, 17, 17, 30)
    assert after is not before and app.read(load_calendar) is after  # reused while unchanged
    assert app.read(override_notes) == {date(2026, 10, 17): "audit make-up day (by admin)"}

    # Replacing the override on the same day, then removing it.
    app.execute(OverrideDay(date(2026, 10, 17), "holiday"), actor="admin")
    assert app.read(load_calendar).add_working_days(at(2026, 10, 16, 10), 1) == at(
        2026, 10, 19, 17, 30
    )
    assert app.execute(RemoveOverride("2026-10-17"), actor="admin") == "holiday"
    rows = app.read(lambda s: s.scalars(select(CalendarOverride)).all())
    assert rows == []
    # The default calendar was created on demand by the first override.
    names = app.read(lambda s: s.scalars(select(Calendar.name)).all())
    assert names == ["default"]
    commands = [(c, p.get("kind"), p.get("before")) for c, p in org_events(app)]
    assert commands == [
        ("calendar_override", "workday", None),
        ("calendar_override", "holiday", "workday"),
        ("calendar_override_remove", None, "holiday"),
    ]


def test_define_calendars_and_refusals(app):
    info = app.execute(DefineCalendar("court", periods=["08:30-12:00", "14:00-18:00"]))
    assert info.created and info.periods == [["08:30", "12:00"], ["14:00", "18:00"]]
    court = app.read(lambda s: load_calendar(s, "court"))
    # Thu 24 Sep + 3 working days ends at this calendar's 18:00.
    assert court.add_working_days(at(2026, 9, 24, 10), 3) == at(2026, 9, 30, 18)
    updated = app.execute(DefineCalendar("court", "Asia/Shanghai", [("09:00", "17:00")]))
    assert not updated.created
    assert app.read(lambda s: load_calendar(s, "court")).day_length == timedelta(hours=8)
    app.execute(OverrideDay("2026-10-12", "holiday", calendar="court"))
    court = app.read(lambda s: load_calendar(s, "court"))
    assert not court.is_working_day(date(2026, 10, 12))
    assert app.read(load_calendar).is_working_day(date(2026, 10, 12))  # default untouched
    assert [c for c, _ in org_events(app)] == [
        "calendar_define", "calendar_define", "calendar_override",
    ]  # fmt: skip

    with pytest.raises(NotFound, match="no calendar 'nope'; known calendars: court, default"):
        app.read(lambda s: load_calendar(s, "nope"))
    with pytest.raises(NotFound, match="no calendar 'nope'"):
        app.execute(OverrideDay("2026-10-12", "holiday", calendar="nope"))
    with pytest.raises(ValidationError, match="overlap"):
        DefineCalendar("bad", periods=[("09:00", "12:00"), ("11:00", "13:00")])
    with pytest.raises(ValidationError, match="unknown time zone"):
        DefineCalendar("bad", timezone="Nowhere/City")
    with pytest.raises(ValidationError, match="'workday' or 'holiday'"):
        OverrideDay("2026-10-12", "weekend")
    with pytest.raises(ValidationError, match="bad date '2026-02-30'"):
        OverrideDay("2026-02-30", "holiday")
    with pytest.raises(NotFound, match="no override on 2026-10-13"):
        app.execute(RemoveOverride("2026-10-13", calendar="court"))
