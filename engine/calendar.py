"""Working-time arithmetic: pure, no database, exact to the microsecond.

A :class:`WorkingCalendar` is a time zone, the working periods of a working day (any
number, e.g. a lunch break between two) and day rules: Saturday and Sunday off,
China's public holidays and adjusted working days (调休) from ``chinese_calendar``,
and administrator overrides that win over both.

Deadlines must be right to the minute and cheap to compute for thousands of timers,
so nothing here walks day by day per call. The calendar keeps a sorted index of the
ordinal numbers of its working days, built once per year on first use and extended
year by year. Every working day has the same length ``D``, which gives each instant a
*working position*: ``D * (working days before its date) + working time already done
on its date``. Adding N working days is a bisect plus an index lookup; adding working
time is "position + amount", inverted by one ``divmod``; working time between two
instants is a difference of positions.

``chinese_calendar`` only knows the years up to its last release (it raises
``NotImplementedError`` beyond). Such a year must not stop deadlines from being
computed: it falls back to the weekend rule plus overrides and is reported in
:attr:`WorkingCalendar.missing_years` / :attr:`WorkingCalendar.warnings`, so that
callers can say the result may move once the official calendar is published.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from .errors import ValidationError

DayKind = Literal["workday", "holiday"]
DAY_KINDS: tuple[DayKind, ...] = ("workday", "holiday")
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_PERIODS: tuple[tuple[str, str], ...] = (("09:00", "12:00"), ("13:30", "17:30"))
WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())

_US_PER_MINUTE = 60_000_000
# Dates people type (report periods, import rows, windows) lie in these years; earlier
# or later ones are typos that would overflow date arithmetic further on.
FIRST_YEAR, LAST_YEAR = 1900, 2999
# The working-day index covers those years plus the longest duration either side
# (10 years, see _MAXIMA); building a year beyond would only end in an error later.
INDEX_YEARS = range(FIRST_YEAR - 11, LAST_YEAR + 12)
_PeriodSpec = tuple[str | time, str | time] | str


class CalendarError(ValidationError, ValueError):
    """Input the calendar can never accept.

    A ``ValueError`` for pure callers, and a :class:`ValidationError` so that the CLI
    and the web app show it as one clear line without translating it.
    """


# --- working periods ------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One working period of a day, in minutes after local midnight (end exclusive)."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    @property
    def minutes(self) -> int:
        return self.end - self.start


def parse_periods(specs: Iterable[_PeriodSpec]) -> tuple[Period, ...]:
    """Periods from ``("09:00", "12:00")`` pairs or ``"09:00-12:00"`` strings.

    Refused unless at least one, each non-empty, in order and not overlapping
    (touching is allowed): an overlap would count the same minutes twice.
    """
    periods: list[Period] = []
    for spec in specs:
        if isinstance(spec, str):
            parts = re.split(r"\s*[-–~]\s*", spec.strip())
            if len(parts) != 2:
                raise CalendarError(
                    f"bad working period {spec!r}: write HH:MM-HH:MM, e.g. 09:00-12:00"
                )
            spec = (parts[0], parts[1])
        if len(spec) != 2:
            raise CalendarError(f"bad working period {spec!r}: give a start and an end")
        start, end = (_minutes(value) for value in spec)
        period = Period(start, end)
        if end <= start:
            raise CalendarError(f"working period {period} ends before it starts")
        if periods and start < periods[-1].end:
            previous = periods[-1]
            if start < previous.start:
                raise CalendarError(
                    f"working periods must be in order: {period} comes after {previous}"
                )
            raise CalendarError(f"working periods {previous} and {period} overlap")
        periods.append(period)
    if not periods:
        raise CalendarError("a calendar needs at least one working period, e.g. 09:00-12:00")
    return tuple(periods)


def _minutes(value: str | time) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if (hours < 24 and minutes < 60) or (hours, minutes) == (24, 0):
            return hours * 60 + minutes
    raise CalendarError(f"bad time {value!r} in a working period: write HH:MM, e.g. 09:00")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CalendarError(
            f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai"
        ) from None


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- the calendar ---------------------------------------------------------------------


@dataclass(frozen=True)
class DayNote:
    """A day that differs from the plain weekend rule, for display."""

    day: date
    kind: DayKind
    source: Literal["official", "override"]
    name: str


class WorkingCalendar:
    """Working days and hours of one organisation, process or step.

    Thread-safe: the index only grows, under a lock, and every call works on one
    immutable snapshot of it.
    """

    def __init__(
        self,
        timezone: str = DEFAULT_TIMEZONE,
        periods: Iterable[_PeriodSpec] = DEFAULT_PERIODS,
        *,
        overrides: Mapping[date, DayKind] | None = None,
        use_official_holidays: bool = True,
        name: str = "default",
    ) -> None:
        self.name = name
        self.timezone = timezone
        self.zone = _zone(timezone)
        self.periods = parse_periods(periods)
        self.use_official_holidays = use_official_holidays
        self.overrides: dict[date, DayKind] = {}
        for day, kind in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise CalendarError(f"an override is for a day (a date), not {day!r}")
            if kind not in DAY_KINDS:
                raise CalendarError(
                    f"override for {day}: kind must be workday or holiday, not {kind!r}"
                )
            self.overrides[day] = kind
        # Period bounds in microseconds after midnight, and working time before each.
        self._bounds: list[tuple[int, int, int]] = []
        done = 0
        for period in self.periods:
            start, end = period.start * _US_PER_MINUTE, period.end * _US_PER_MINUTE
            self._bounds.append((start, end, done))
            done += end - start
        self._day = done
        self._lock = threading.Lock()
        self._ordinals: list[int] = []
        self._years: range = range(0)
        self._missing: set[int] = set()

    def __repr__(self) -> str:
        periods = " ".join(str(p) for p in self.periods)
        return f"<WorkingCalendar {self.name!r} {self.timezone} {periods}>"

    # --- what the calendar knows -------------------------------------------------------

    @property
    def day_length(self) -> timedelta:
        """The working time of one working day (7 hours for the defaults)."""
        return timedelta(microseconds=self._day)

    @property
    def loaded_years(self) -> range:
        """The years the working-day index covers so far (it grows on demand)."""
        return self._years

    @property
    def missing_years(self) -> tuple[int, ...]:
        """Loaded years that ``chinese_calendar`` has no data for."""
        with self._lock:
            return tuple(sorted(self._missing))

    @property
    def warnings(self) -> list[str]:
        """One line per run of loaded years computed without the official calendar."""
        return _missing_texts(self.missing_years)

    def warnings_for(self, *instants: datetime) -> list[str]:
        """The warnings that apply to results between the earliest and latest instant."""
        years = [self._local(i).year for i in instants]
        low, high = min(years), max(years)
        self._index(low, high)
        return _missing_texts([y for y in self.missing_years if low <= y <= high])

    def has_official_data(self, year: int) -> bool:
        self._index(year, year)
        return self.use_official_holidays and year not in self._missing

    def is_working_day(self, day: date) -> bool:
        ordinals = self._index(day.year, day.year)
        i = bisect_left(ordinals, day.toordinal())
        return i < len(ordinals) and ordinals[i] == day.toordinal()

    def count_working_days(self, first: date, last: date) -> int:
        """Working days from ``first`` to ``last``, both included (two bisects)."""
        if last < first:
            return 0
        ordinals = self._index(first.year, last.year)
        return bisect_right(ordinals, last.toordinal()) - bisect_left(ordinals, first.toordinal())

    def is_working_time(self, instant: datetime) -> bool:
        """Whether ``instant`` falls in a working period of a working day (end excluded)."""
        local = self._local(instant)
        if not self.is_working_day(local.date()):
            return False
        us = _time_of_day(local)
        return any(start <= us < end for start, end, _ in self._bounds)

    def day_notes(self, year: int) -> list[DayNote]:
        """Holidays and adjusted working days of ``year``, official ones and overrides."""
        notes: dict[date, DayNote] = {}
        if self.use_official_holidays and self.has_official_data(year):
            first, last = date(year, 1, 1), date(year, 12, 31)
            for day in chinese_calendar.get_holidays(first, last, include_weekends=False):
                notes[day] = DayNote(day, "holiday", "official", _holiday_name(day))
            for day in chinese_calendar.get_workdays(first, last):
                if day.weekday() in WEEKEND:
                    notes[day] = DayNote(day, "workday", "official", _holiday_name(day))
        for day, kind in self.overrides.items():
            if day.year == year:
                notes[day] = DayNote(day, kind, "override", "")
        return [notes[day] for day in sorted(notes)]

    # --- arithmetic --------------------------------------------------------------------

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The deadline of a limit of ``n`` working days starting at ``start``.

        Chinese administrative practice (期间开始的日不计算在期间内): the day the
        period starts on does not count, whatever the hour; counting starts on the
        next working day after ``start``'s date, and the deadline is the END of the
        n-th working day's last period (17:30 by default). So a case received on
        Wednesday 2026-09-30 with 3 working days is due Saturday 2026-10-10 17:30
        (National Day 1-7 Oct, then Thu 8, Fri 9 and the adjusted working Saturday).

        ``n == 0`` returns ``start`` itself: adding nothing changes nothing (a
        same-day limit, 当日办结, is a limit in working hours or an explicit time).
        ``n < 0`` counts back the same way: the end of the |n|-th working day before
        ``start``'s date ("1 working day before the deadline" = end of the previous
        working day).
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise CalendarError(f"a number of working days must be a whole number, not {n!r}")
        local = self._local(start)
        if n == 0:
            return local
        ordinal = local.date().toordinal()
        low = high = local.year
        while True:
            ordinals = self._index(low, high)
            if n > 0:
                k = bisect_right(ordinals, ordinal) + n - 1
                if k >= len(ordinals):
                    high += _years_for(k - len(ordinals) + 1)
                    continue
            else:
                k = bisect_left(ordinals, ordinal) + n
                if k < 0:
                    low -= _years_for(-k)
                    continue
            return self._at(date.fromordinal(ordinals[k]), self._bounds[-1][1])

    def add_working_hours(
        self, start: datetime, hours: float | int | Decimal | timedelta
    ) -> datetime:
        """``start`` plus working hours (a number of hours, or a timedelta of working time)."""
        if isinstance(hours, timedelta):
            return self.add_working_time(start, hours)
        if isinstance(hours, bool) or not isinstance(hours, int | float | Decimal):
            raise CalendarError(f"working hours must be a number or a timedelta, not {hours!r}")
        micros = round(Decimal(hours) * 3_600_000_000)
        return self.add_working_time(start, timedelta(microseconds=micros))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """Walk ``amount`` of working time from ``start`` through the working periods.

        A start outside working time begins at the next period start (12:15 + 1h =
        14:30 with a 12:00-13:30 lunch break). A result exactly at a period end is
        that end (09:00 + 3h = 12:00, not 13:30). Negative amounts walk back and stop
        at the latest matching instant (17:30 - 4h = 13:30, not 12:00). Working time
        is wall-clock time of the periods, also on days a DST change shortens.
        """
        local = self._local(start)
        delta = _micros(amount)
        if delta == 0:
            return local
        low = high = local.year
        while True:
            ordinals = self._index(low, high)
            target = self._position(ordinals, local) + delta
            if target < 0:
                low -= _years_for(-target // self._day)
                continue
            k, rest = divmod(target, self._day)
            if delta > 0 and rest == 0:  # earliest instant: the end of the day before
                k, rest = k - 1, self._day
            if k >= len(ordinals):
                high += _years_for(k - len(ordinals) + 1)
                continue
            return self._at(date.fromordinal(ordinals[k]), self._clock_time(rest, delta > 0))

    def add_calendar_days(self, start: datetime, n: int) -> datetime:
        """The same local wall-clock time ``n`` days later (holidays count like any day)."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise CalendarError(f"a number of days must be a whole number, not {n!r}")
        local = self._local(start)
        try:
            return (local + timedelta(days=n)).astimezone(self.zone)
        except OverflowError:
            raise CalendarError(f"{start} + {n} days is beyond the year 9999") from None

    def add_elapsed_time(self, start: datetime, amount: timedelta) -> datetime:
        """``start`` plus clock time that ignores the calendar (elapsed, not wall-clock)."""
        local = self._local(start)
        try:
            return (local.astimezone(timezone.utc) + amount).astimezone(self.zone)
        except OverflowError:
            raise CalendarError(f"{start} + {amount} is beyond the year 9999") from None

    def to_local(self, instant: datetime) -> datetime:
        """``instant`` in the calendar's zone; naive date-times are refused."""
        return self._local(instant)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from ``a`` to ``b``; negative when ``b`` is before ``a``.

        Antisymmetric on purpose: ``between(now, deadline)`` is the time left, and
        negative once the deadline has passed (how late, in working time).
        """
        la, lb = self._local(a), self._local(b)
        ordinals = self._index(min(la.year, lb.year), max(la.year, lb.year))
        return timedelta(microseconds=self._position(ordinals, lb) - self._position(ordinals, la))

    # --- internals ---------------------------------------------------------------------

    def _local(self, instant: datetime) -> datetime:
        if not isinstance(instant, datetime):
            raise CalendarError(f"expected a date-time, got {instant!r}")
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise CalendarError(
                f"naive date-time {instant.isoformat()} refused: give a time zone "
                "(e.g. +08:00), or the calendar cannot know which instant is meant"
            )
        return instant.astimezone(self.zone)

    def _position(self, ordinals: list[int], local: datetime) -> int:
        """Working microseconds from the start of ``ordinals`` to ``local``."""
        ordinal = local.date().toordinal()
        k = bisect_left(ordinals, ordinal)
        position = k * self._day
        if k < len(ordinals) and ordinals[k] == ordinal:
            us = _time_of_day(local)
            position += sum(max(0, min(us, end) - start) for start, end, _ in self._bounds)
        return position

    def _clock_time(self, done: int, earliest: bool) -> int:
        """Microseconds after midnight where ``done`` working time of a day is reached."""
        for start, end, before in self._bounds:
            if done < before + (end - start) or (earliest and done == before + (end - start)):
                return start + done - before
        raise AssertionError(f"{done} beyond a working day")  # pragma: no cover

    def _at(self, day: date, us: int) -> datetime:
        # Wall-clock time on ``day`` (24:00 is the next midnight), normalised through UTC.
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return (
            (midnight + timedelta(microseconds=us)).astimezone(timezone.utc).astimezone(self.zone)
        )

    def _index(self, low: int, high: int) -> list[int]:
        """The working-day ordinals covering years ``low..high`` (loaded as needed)."""
        years = self._years
        if years and years.start <= low and high < years.stop:
            return self._ordinals
        if low < INDEX_YEARS.start or high >= INDEX_YEARS.stop:
            # Checked before building anything: a year far out costs nothing to refuse.
            year = low if low < INDEX_YEARS.start else high
            raise CalendarError(
                f"working-time arithmetic reaches the year {year}: the calendar covers "
                f"{INDEX_YEARS.start}-{INDEX_YEARS.stop - 1}"
            )
        with self._lock:
            years, ordinals = self._years, self._ordinals
            if not years:
                years, ordinals = range(low, low + 1), self._year_ordinals(low)
            # New years are collected first and joined once: one copy per call, not per year.
            before = [d for y in range(low, years.start) for d in self._year_ordinals(y)]
            after = [d for y in range(years.stop, high + 1) for d in self._year_ordinals(y)]
            if before or after:
                ordinals = before + ordinals + after
            years = range(min(low, years.start), max(high + 1, years.stop))
            # Publish the list before the range: a reader that sees the new range
            # then always finds the years in it.
            self._ordinals = ordinals
            self._years = years
            return ordinals

    def _year_ordinals(self, year: int) -> list[int]:
        """Working days of one year: built once, day by day, then only looked up."""
        official = self._official_workdays(year)
        first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
        working = []
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            kind = self.overrides.get(day)
            if kind is not None:
                is_working = kind == "workday"
            elif official is not None:
                is_working = ordinal in official
            else:
                is_working = day.weekday() not in WEEKEND
            if is_working:
                working.append(ordinal)
        return working

    def _official_workdays(self, year: int) -> set[int] | None:
        if not self.use_official_holidays:
            return None
        try:
            days = chinese_calendar.get_workdays(date(year, 1, 1), date(year, 12, 31))
        except NotImplementedError:
            self._missing.add(year)
            return None
        return {day.toordinal() for day in days}


def parse_instant(text: str, calendar: WorkingCalendar, now: datetime | None = None) -> datetime:
    """An instant typed by a person: ISO 8601 with or without offset, or ``now``.

    Without an offset the text is read in the calendar's zone (what people mean when
    they type "2026-09-24T10:00" to a Shanghai calendar); a date alone is midnight.
    """
    value = (text or "").strip()
    if value.lower() == "now":
        if now is None:
            raise CalendarError("'now' needs a clock here; give an ISO 8601 date-time")
        return calendar.to_local(now)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CalendarError(
            f"bad date-time {text!r}: write ISO 8601, e.g. 2026-09-24T10:00 (in the "
            "calendar's zone) or 2026-09-24T10:00+08:00, or 'now'"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=calendar.zone)
    return calendar.to_local(parsed)


def describe_working_time(amount: timedelta, day_length: timedelta) -> str:
    """``2 working days 3:30 (17.5 working hours)``, where a working day is ``day_length``.

    Negative amounts (a deadline already passed) read ``minus 2 working days ...``.
    Seconds are dropped from the ``H:MM`` part, never rounded up.
    """
    total = _micros(amount)
    days, rest = divmod(abs(total), _micros(day_length))
    minutes = rest // _US_PER_MINUTE
    hours = f"{abs(total) / 3_600_000_000:.2f}".rstrip("0").rstrip(".")
    sign = "-" if total < 0 else ""
    text = (
        f"{days} working day{'' if days == 1 else 's'} {minutes // 60}:{minutes % 60:02d} "
        f"({sign}{hours} working hours)"
    )
    return f"minus {text}" if total < 0 else text


def _years_for(days: int) -> int:
    """Years to load for ``days`` more working days: never more than needed (a year has
    at most 366), so an index range check refuses only what is really out of range."""
    return max(1, days // 366)


def _time_of_day(local: datetime) -> int:
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return seconds * 1_000_000 + local.microsecond


def _missing_texts(years: Iterable[int]) -> list[str]:
    """Consecutive years as one line each: 2027-2099 is one warning, not 73."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and runs[-1][1] == year - 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    texts = []
    for first, last in runs:
        span = str(first) if first == last else f"{first}-{last}"
        if last < _first_official_year():
            texts.append(
                f"no official calendar for {span}: chinesecalendar has no data before "
                f"{_first_official_year()}, so only weekends and overrides count"
            )
        else:
            texts.append(
                f"no official calendar for {span} yet: chinesecalendar has no data for "
                "it, so only weekends and overrides count (update the package or add "
                "overrides)"
            )
    return texts


def _first_official_year() -> int:
    try:
        return min(chinese_calendar.holidays).year
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - other versions
        return 0


def _holiday_name(day: date) -> str:
    _, name = chinese_calendar.get_holiday_detail(day)
    if not name:
        return ""
    try:
        return f"{name} {chinese_calendar.Holiday(name).chinese}"
    except ValueError:
        return str(name)


# --- durations as people write them ---------------------------------------------------

Unit = Literal["working_days", "working_hours", "working_minutes", "days", "hours", "minutes"]

_LABELS: dict[Unit, str] = {
    "working_days": "working day",
    "working_hours": "working hour",
    "working_minutes": "working minute",
    "days": "day",
    "hours": "hour",
    "minutes": "minute",
}
_UNIT_WORDS: dict[str, Unit] = {
    "working day": "working_days", "workday": "working_days", "business day": "working_days",
    "working hour": "working_hours", "business hour": "working_hours",
    "working minute": "working_minutes", "business minute": "working_minutes",
    "day": "days", "calendar day": "days", "hour": "hours", "minute": "minutes",
    "工作日": "working_days", "工作天": "working_days",
    "工作小时": "working_hours", "工作时": "working_hours", "工时": "working_hours",
    "工作分钟": "working_minutes",
    "天": "days", "日": "days", "自然日": "days", "日历日": "days",
    "小时": "hours", "钟头": "hours", "分钟": "minutes",
}  # fmt: skip
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*个?\s*(\S.*)")
# The longest duration anyone may write: 10 years' worth in each unit (leap days
# included; 260 working days a year; a working hour bound as for 8-hour days). Beyond
# it a limit is a typo, and walking there would hold the database for minutes.
_MAXIMA: dict[Unit, int] = {
    "working_days": 2_600, "working_hours": 20_800, "working_minutes": 1_248_000,
    "days": 3_653, "hours": 87_672, "minutes": 5_260_320,
}  # fmt: skip
_MAX_TEXT = 100  # the stored column's width
_EXAMPLES = "'3 working days', '16 working hours', '90 working minutes', '2 days', '3个工作日'"


@dataclass(frozen=True)
class Duration:
    """A limit as written in the CLI or a diagram, applied by :meth:`add_to`.

    ``days``/``hours``/``minutes`` are calendar time: days keep the local wall-clock
    time, hours and minutes are elapsed time. The ``working_*`` units follow the
    calendar.
    """

    amount: Decimal
    unit: Unit

    def __str__(self) -> str:
        plural = "" if self.amount == 1 else "s"
        return f"{self.amount.normalize():f} {_LABELS[self.unit]}{plural}"

    def add_to(self, calendar: WorkingCalendar, start: datetime) -> datetime:
        if self.unit == "working_days":
            return calendar.add_working_days(start, int(self.amount))
        if self.unit == "days":
            return calendar.add_calendar_days(start, int(self.amount))
        per_unit = 3_600_000_000 if self.unit.endswith("hours") else _US_PER_MINUTE
        delta = timedelta(microseconds=round(self.amount * per_unit))
        if self.unit.startswith("working"):
            return calendar.add_working_time(start, delta)
        return calendar.add_elapsed_time(start, delta)


def parse_duration(text: str, *, positive: bool = False) -> Duration:
    """``"3 working days"``, ``"16 working hours"``, ``"2 days"``, ``"3个工作日"``, ...

    Full-width digits and spaces are accepted (NFKC). Whole numbers only for days,
    since half a working day has no single meaning; write hours instead. At most 10
    years' worth (:data:`_MAXIMA`); ``positive`` also refuses zero, for amounts where
    nothing makes no sense (an extension, a 协办 limit).
    """
    raw = text if isinstance(text, str) else str(text)
    if len(raw) > _MAX_TEXT:
        raise CalendarError(f"a duration has at most {_MAX_TEXT} characters, e.g. {_EXAMPLES}")
    cleaned = unicodedata.normalize("NFKC", raw).strip().lower()
    match = _DURATION.fullmatch(cleaned)
    if not match:
        raise CalendarError(
            f"cannot read duration {raw!r}: write a number and a unit, e.g. {_EXAMPLES}"
        )
    words = re.sub(r"\s+", " ", match[2]).strip()
    unit = _UNIT_WORDS.get(words) or _UNIT_WORDS.get(words.removesuffix("s"))
    if unit is None:
        raise CalendarError(
            f"unknown unit {match[2]!r} in duration {raw!r}: use working days, working "
            "hours, working minutes, days, hours or minutes (or 工作日, 工作小时, 工作分钟, "
            "天, 小时, 分钟)"
        )
    try:
        amount = Decimal(match[1])
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        raise CalendarError(f"cannot read the number in duration {raw!r}") from None
    if unit in ("working_days", "days") and amount != amount.to_integral_value():
        raise CalendarError(
            f"{_LABELS[unit]}s must be a whole number in {raw!r}: write hours instead, "
            "e.g. '10.5 working hours'"
        )
    if amount > _MAXIMA[unit]:
        raise CalendarError(
            f"duration {raw!r} is too long: at most {_MAXIMA[unit]:,} {_LABELS[unit]}s (10 years)"
        )
    if positive and amount == 0:
        raise CalendarError(f"duration {raw!r} is zero: give a time longer than nothing")
    return Duration(amount, unit)
