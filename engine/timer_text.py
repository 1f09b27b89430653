"""Timer text as other modelling tools write it, read once at deploy.

bpmn-js, Camunda Modeler and the OMG MIWG models write bare ISO 8601 (``PT4H``,
``2026-10-01T09:00``, ``R3/PT1H``); SpiffWorkflow would evaluate that as Python and
fail at run time. Here every timer text is classified at deploy:

* ISO 8601 literal: used as is. ISO wins over a case variable of the same name.
* a calendar duration (``3 working days``, ``16 working hours``, ``3个工作日``): added
  with the process's working-time calendar (:mod:`engine.calendar`).
* ``${name}``: a plain variable reference, mapped to the Python name ``name``.
* anything else: a restricted Python expression over case data.

Other engines' languages (JUEL beyond ``${name}``, JavaScript, Quartz cron) are
refused with a message, so a broken timer is found at deploy, not when it is due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Literal

from .calendar import FIRST_YEAR, LAST_YEAR
from .inputs import in_range

TimerKind = Literal["date", "duration", "cycle"]
TextForm = Literal["iso", "calendar", "variable", "expression"]

_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?"
    r"(?:(\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?"
    r"(?:(\d+(?:[.,]\d+)?)S)?)?$"
)
_CYCLE = re.compile(r"^R(\d*)/(.+)$")
_VARIABLE = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")
_CRON = re.compile(r"^\S+(\s+\S+){4,6}$")
MAX_DAYS = 3653  # 10 years, leap days included: the bound of every written duration


class TimerTextError(ValueError):
    """Timer text that can never work; the message says why."""


class TimerTextRange(TimerTextError):
    """Well-formed ISO 8601 text beyond what CaseClock schedules (a year, a length)."""


@dataclass(frozen=True)
class TimerText:
    kind: TimerKind
    form: TextForm
    # The ISO literal, the variable name, or the Python expression.
    value: str


def classify(kind: TimerKind, raw: str | None) -> TimerText:
    text = (raw or "").strip()
    if not text:
        raise TimerTextError(f"empty time{kind.capitalize()}: write e.g. PT4H or an ISO date")
    if _is_iso(kind, text):
        return TimerText(kind, "iso", text)
    if kind == "duration" and _is_calendar_duration(text):
        return TimerText(kind, "calendar", text)
    match = _VARIABLE.match(text)
    if match:
        return TimerText(kind, "variable", match.group(1))
    if text.startswith(("${", "#{")):
        raise TimerTextError(
            f"expression language of another engine is not supported: {text!r}; "
            "use ${variable} with a plain variable name or a Python expression"
        )
    if _CRON.match(text) and any(ch in text for ch in "*?"):
        raise TimerTextError(
            f"Quartz/cron expressions are not supported: {text!r}; "
            "write an ISO 8601 repeating interval such as R/PT1H"
        )
    if re.search(r"\bfunction\b|=>|\bnew\s+Date\b|\bvar\s|\blet\s", text):
        raise TimerTextError(f"JavaScript is not supported in timer text: {text!r}")
    if kind == "cycle" and text.upper().startswith("R") and "/" in text:
        raise TimerTextError(f"not a valid ISO 8601 repeating interval: {text!r}")
    if re.match(r"^P\d|^PT", text, re.IGNORECASE):
        raise TimerTextError(f"not a valid ISO 8601 duration: {text!r}")
    if re.match(r"^\d{4}-", text):
        raise TimerTextError(f"not a valid ISO 8601 date-time: {text!r}")
    return TimerText(kind, "expression", text)


def _is_calendar_duration(text: str) -> bool:
    """``3 working days``, ``16 working hours``, ``3个工作日``: measured by a calendar."""
    from .calendar import CalendarError, parse_duration

    try:
        parse_duration(text)
    except CalendarError:
        return False
    return True


def _is_iso(kind: TimerKind, text: str) -> bool:
    try:
        if kind == "duration":
            return parse_duration(text) is not None
        if kind == "date":
            return parse_datetime(text, timezone.utc) is not None
        return parse_cycle(text, datetime.now(timezone.utc), timezone.utc) is not None
    except TimerTextRange:
        raise  # ISO it is, but out of range: say so rather than "not valid"
    except TimerTextError:
        return False


# --- ISO 8601 arithmetic ---------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    """An ISO duration kept in calendar units: P1M is a month, not 30 days."""

    years: float = 0
    months: float = 0
    weeks: float = 0
    days: float = 0
    hours: float = 0
    minutes: float = 0
    seconds: float = 0

    def after(self, start: datetime) -> datetime:
        months = self.years * 12 + self.months
        whole = int(months)
        result = _add_months(start, whole)
        extra_days = self.weeks * 7 + self.days + (months - whole) * 30
        return result + timedelta(
            days=extra_days, hours=self.hours, minutes=self.minutes, seconds=self.seconds
        )


def parse_duration(text: str) -> Duration:
    """An ISO duration of at most 10 years (as :func:`engine.calendar.parse_duration`)."""
    match = _DURATION.match(text.strip().upper())
    if not match:
        raise TimerTextError(f"not a valid ISO 8601 duration: {text!r}")
    parts = [float(g.replace(",", ".")) if g else 0.0 for g in match.groups()]
    duration = Duration(*parts)
    if _days(duration) > MAX_DAYS:
        raise TimerTextRange(f"duration {text!r} is too long: at most 10 years (P10Y)")
    return duration


def _days(duration: Duration) -> float:
    """Days on average (a Gregorian year, a twelfth of it): P10Y is within the bound."""
    return (
        duration.years * 365.2425 + duration.months * 30.436875 + duration.weeks * 7
        + duration.days
        + (duration.hours + (duration.minutes + duration.seconds / 60) / 60) / 24
    )  # fmt: skip


def parse_datetime(text: str, tz: tzinfo) -> datetime:
    """An ISO date or date-time; without an offset it is read in ``tz``."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(raw), time())
        except ValueError:
            raise TimerTextError(f"not a valid ISO 8601 date-time: {text!r}") from None
    if not in_range(value):
        raise TimerTextRange(f"date-time {text!r}: the year must be {FIRST_YEAR}-{LAST_YEAR}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class Cycle:
    repetitions: int  # -1 = unbounded
    first: datetime
    interval: Duration


def parse_cycle(text: str, now: datetime, tz: tzinfo) -> Cycle:
    """``R[n]/duration``, ``R[n]/start/duration`` or ``R[n]/duration/end``."""
    match = _CYCLE.match(text.strip().upper())
    if not match:
        raise TimerTextError(f"not a valid ISO 8601 repeating interval: {text!r}")
    count = int(match.group(1)) if match.group(1) else -1
    parts = match.group(2).split("/")
    if len(parts) == 1:
        interval = parse_duration(parts[0])
        return Cycle(count, interval.after(now), interval)
    if len(parts) == 2:
        if parts[0].startswith("P"):
            interval = parse_duration(parts[0])
            end = parse_datetime(parts[1], tz)
            return Cycle(count, _before(end, interval, count), interval)
        return Cycle(count, parse_datetime(parts[0], tz), parse_duration(parts[1]))
    raise TimerTextError(f"not a valid ISO 8601 repeating interval: {text!r}")


def _before(end: datetime, interval: Duration, count: int) -> datetime:
    span = interval.after(end) - end
    try:
        return end - span * max(count, 1)
    except OverflowError:
        raise TimerTextRange(
            f"{count} repetitions of {span} before {end} start before the year 1"
        ) from None


def _add_months(start: datetime, months: int) -> datetime:
    if not months:
        return start
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, _days_in_month(year, month))
    return start.replace(year=year, month=month, day=day)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def due_from_value(kind: TimerKind, value: Any, now: datetime, tz: tzinfo) -> datetime | Cycle:
    """Turn an evaluated timer value (ISO text, datetime, timedelta) into a due time."""
    if isinstance(value, datetime):
        if kind == "cycle":
            raise TimerTextError("a timeCycle must be an ISO repeating interval such as R3/PT1H")
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(timezone.utc)
    if isinstance(value, timedelta):
        if kind == "cycle":
            raise TimerTextError("a timeCycle must be an ISO repeating interval such as R3/PT1H")
        return now + value
    if not isinstance(value, str):
        raise TimerTextError(f"timer expression gave {type(value).__name__}, expected ISO text")
    if kind == "duration":
        return parse_duration(value).after(now)
    if kind == "date":
        return parse_datetime(value, tz)
    return parse_cycle(value, now, tz)
