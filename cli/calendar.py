"""``caseclock calendar``: deadlines, working time and day overrides from the shell.

Arithmetic commands print the result on stdout and any "no official calendar for
that year" warning on stderr, so that scripts can use the output as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from engine.calendar import (
    DEFAULT_PERIODS,
    DEFAULT_TIMEZONE,
    INDEX_YEARS,
    WorkingCalendar,
    describe_working_time,
    parse_duration,
    parse_instant,
)
from engine.calendars import (
    DEFAULT_NAME,
    DefineCalendar,
    OverrideDay,
    RemoveOverride,
    load_calendar,
    override_notes,
    parse_day,
)
from engine.errors import ValidationError

from . import app_of, emit, main
from .output import table
from .params import user_option

T = TypeVar("T")
_CALENDAR = click.option(
    "--calendar", "calendar_name", default=DEFAULT_NAME, show_default=True,
    help="Which calendar (see `caseclock calendar define`).",
)  # fmt: skip


@main.group("calendar")
def calendar_group() -> None:
    """Working-time calendars: deadlines, working time between instants, overrides."""


@calendar_group.command("add")
@click.argument("start")
@click.argument("duration", nargs=-1, required=True)
@_CALENDAR
@click.pass_context
def add(ctx: click.Context, start: str, duration: tuple[str, ...], calendar_name: str) -> None:
    """Print START + DURATION as ISO 8601 with offset.

    START is ISO 8601 (without an offset: the calendar's zone) or `now`. DURATION is
    e.g. `3 working days`, `16 working hours`, `90 working minutes`, `2 days`,
    `3个工作日`; quotes are optional.
    """
    app = app_of(ctx)
    calendar = _read(ctx, lambda s: load_calendar(s, calendar_name))
    begin = parse_instant(start, calendar, app.clock.now())
    parsed = parse_duration(" ".join(duration))
    result = parsed.add_to(calendar, begin)
    warnings = calendar.warnings_for(begin, result)
    emit(ctx, {"start": _iso(begin), "duration": str(parsed), "calendar": calendar_name,
               "result": _iso(result), "warnings": warnings}, _iso(result))  # fmt: skip
    _warn(ctx, warnings)


@calendar_group.command("between")
@click.argument("start")
@click.argument("end")
@_CALENDAR
@click.pass_context
def between(ctx: click.Context, start: str, end: str, calendar_name: str) -> None:
    """Print the working time from START to END (negative when END is earlier)."""
    app = app_of(ctx)
    calendar = _read(ctx, lambda s: load_calendar(s, calendar_name))
    a = parse_instant(start, calendar, app.clock.now())
    b = parse_instant(end, calendar, app.clock.now())
    delta = calendar.working_time_between(a, b)
    day_minutes = calendar.day_length.total_seconds() / 60
    minutes = delta.total_seconds() / 60
    days, rest = divmod(abs(minutes), day_minutes)
    warnings = calendar.warnings_for(a, b)
    value = {
        "start": _iso(a), "end": _iso(b), "calendar": calendar_name,
        "working_minutes": _number(minutes), "working_day_minutes": _number(day_minutes),
        "working_days": int(days) * (-1 if minutes < 0 else 1),
        "remainder_minutes": _number(rest * (-1 if minutes < 0 else 1)), "warnings": warnings,
    }  # fmt: skip
    emit(ctx, value, describe_working_time(delta, calendar.day_length))
    _warn(ctx, warnings)


@calendar_group.command("override")
@click.argument("day")
@click.argument("kind", type=click.Choice(["workday", "holiday", "clear"]))
@click.option("--note", default="", help="Why (shown by `calendar show` and in the audit log).")
@_CALENDAR
@user_option("Who changes it (audit).")
@click.pass_context
def override(ctx: click.Context, day: str, kind: str, note: str, calendar_name: str,
             user: str) -> None:  # fmt: skip
    """Make DAY (YYYY-MM-DD) a workday or a holiday, or `clear` an earlier override."""
    when = parse_day(day)
    if kind == "clear":
        _execute(ctx, RemoveOverride(when, calendar_name), user)
    else:
        _execute(ctx, OverrideDay(when, kind, note, calendar_name), user)
    calendar = _read(ctx, lambda s: load_calendar(s, calendar_name))
    now = "workday" if calendar.is_working_day(when) else "holiday"
    label = f"{when} ({when.strftime('%a')})"
    human = (
        f"{label} follows the rules again in calendar {calendar_name!r}: a {now}"
        if kind == "clear"
        else f"{label} is now a {now} in calendar {calendar_name!r}"
    )
    emit(ctx, {"day": when.isoformat(), "calendar": calendar_name, "override": kind,
               "is_working_day": now == "workday", "by": user}, human)  # fmt: skip


@calendar_group.command("define")
@click.argument("name")
@click.option("--timezone", default=DEFAULT_TIMEZONE, show_default=True, help="IANA zone.")
@click.option("--period", "periods", multiple=True, metavar="HH:MM-HH:MM",
              help="A working period; repeat (default 09:00-12:00 and 13:30-17:30).")  # fmt: skip
@click.option("--no-official-holidays", is_flag=True,
              help="Ignore chinesecalendar: weekends and overrides only.")  # fmt: skip
@user_option("Who defines it (audit).")
@click.pass_context
def define(ctx: click.Context, name: str, timezone: str, periods: tuple[str, ...],
           no_official_holidays: bool, user: str) -> None:  # fmt: skip
    """Create calendar NAME, or replace its zone and working periods."""
    command = DefineCalendar(name, timezone, periods or DEFAULT_PERIODS, not no_official_holidays)
    info = _execute(ctx, command, user)
    verb = "created" if info.created else "updated"
    shown = " ".join("-".join(p) for p in info.periods)
    emit(ctx, info.__dict__, f"calendar {name!r} {verb}: {info.timezone}, {shown}")


@calendar_group.command("show")
@click.option("--year", type=int, help="Default: this year in the calendar's zone.")
@_CALENDAR
@click.pass_context
def show(ctx: click.Context, year: int | None, calendar_name: str) -> None:
    """List the holidays and adjusted working days (调休) of a year, and any warning."""
    app = app_of(ctx)
    calendar, notes = _read(ctx, lambda s: (load_calendar(s, calendar_name),
                                            override_notes(s, calendar_name)))  # fmt: skip
    if year is None:
        year = calendar.to_local(app.clock.now()).year
    if year not in INDEX_YEARS:
        raise ValidationError(
            f"--year must be between {INDEX_YEARS.start} and {INDEX_YEARS.stop - 1}, not {year}"
        )
    rows = [
        {"day": n.day.isoformat(), "weekday": n.day.strftime("%a"), "kind": n.kind,
         "source": n.source, "name": notes.get(n.day, "") if n.source == "override" else n.name}
        for n in calendar.day_notes(year)
    ]  # fmt: skip
    count = calendar.count_working_days(date(year, 1, 1), date(year, 12, 31))
    warnings = calendar.warnings_for(datetime(year, 7, 1, tzinfo=calendar.zone))
    periods = " ".join(str(p) for p in calendar.periods)
    value = {
        "calendar": calendar_name, "timezone": calendar.timezone, "periods": periods,
        "use_official_holidays": calendar.use_official_holidays, "year": year,
        "working_days": count, "days": rows, "warnings": warnings,
    }  # fmt: skip
    lines = [
        f"calendar {calendar_name}: {calendar.timezone}, {periods} "
        f"({_day_text(calendar)} a working day), official holidays "
        f"{'on' if calendar.use_official_holidays else 'off'}",
        f"{year}: {count} working days",
        table(rows, ["day", "weekday", "kind", "source", "name"]),
        *(f"warning: {w}" for w in warnings),
    ]
    emit(ctx, value, "\n".join(lines))


def _day_text(calendar: WorkingCalendar) -> str:
    minutes = int(calendar.day_length.total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


# --- helpers ----------------------------------------------------------------------------


def _read(ctx: click.Context, query: Callable[[Session], T]) -> T:
    try:
        return app_of(ctx).read(query)
    except (OperationalError, ProgrammingError) as exc:
        _missing_tables(exc)
        raise


def _execute(ctx: click.Context, command: Callable[..., T], user: str) -> T:
    try:
        return app_of(ctx).execute(command, actor=user)
    except (OperationalError, ProgrammingError) as exc:
        _missing_tables(exc)
        raise


def _missing_tables(exc: Exception) -> None:
    """A database from before calendars existed: say what to do, not a traceback."""
    text = str(exc)
    if "calendar" in text and ("no such table" in text or "does not exist" in text):
        raise ValidationError(
            "this database has no calendar tables yet: run `caseclock init`"
        ) from exc


def _warn(ctx: click.Context, warnings: list[str]) -> None:
    if not ctx.obj.as_json:
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)


def _iso(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds" if instant.microsecond == 0 else "microseconds")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)
