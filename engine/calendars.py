"""Calendars in the database: define them, override days, load them for arithmetic.

Every change is a command with an ``org`` audit event, because it moves deadlines.
:func:`load_calendar` builds the :class:`~engine.calendar.WorkingCalendar` from the
rows and reuses an already built one while the rows are unchanged, so its lazily
built working-day index survives across commands in one process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .calendar import (
    DAY_KINDS,
    DEFAULT_PERIODS,
    DEFAULT_TIMEZONE,
    DayKind,
    WorkingCalendar,
)
from .errors import NotFound, ValidationError
from .executor import CommandContext
from .store import Calendar, CalendarOverride

DEFAULT_NAME = "default"
_CACHE_SIZE = 32


@dataclass(frozen=True)
class CalendarInfo:
    name: str
    timezone: str
    periods: list[list[str]]
    use_official_holidays: bool
    created: bool


class DefineCalendar:
    """Create a calendar, or replace the zone and periods of an existing one."""

    name = "calendar_define"

    def __init__(
        self,
        name: str,
        timezone: str = DEFAULT_TIMEZONE,
        periods: Sequence[tuple[str, str] | str] = DEFAULT_PERIODS,
        use_official_holidays: bool = True,
    ) -> None:
        self.calendar = _check_name(name)
        # Validate by building one: the same rules as at load time, and clear messages.
        probe = WorkingCalendar(timezone, periods, use_official_holidays=use_official_holidays)
        self.timezone = timezone
        self.periods = _stored_periods(probe)
        self.use_official_holidays = use_official_holidays

    def __call__(self, ctx: CommandContext) -> CalendarInfo:
        row = _row(ctx.session, self.calendar)
        created = row is None
        if row is None:
            row = Calendar(name=self.calendar, created_at=ctx.now)
            ctx.session.add(row)
        before = None if created else _settings(row)
        row.timezone, row.periods = self.timezone, self.periods
        row.use_official_holidays = self.use_official_holidays
        ctx.session.flush()
        audit.append(ctx, self.name, payload={
            "calendar": self.calendar, "before": before, "after": _settings(row),
        })  # fmt: skip
        return CalendarInfo(self.calendar, row.timezone, row.periods, row.use_official_holidays,
                            created)  # fmt: skip


class OverrideDay:
    """Make one day a workday or a holiday in a calendar (replacing an earlier override)."""

    name = "calendar_override"

    def __init__(
        self, day: date | str, kind: str, note: str = "", calendar: str = DEFAULT_NAME
    ) -> None:
        self.day = parse_day(day)
        if kind not in DAY_KINDS:
            raise ValidationError(f"an override is 'workday' or 'holiday', not {kind!r}")
        self.kind: DayKind = kind  # type: ignore[assignment]
        self.note = (note or "").strip()
        if len(self.note) > 200:
            raise ValidationError("an override note has at most 200 characters")
        self.calendar = _check_name(calendar)

    def __call__(self, ctx: CommandContext) -> CalendarOverride:
        row = _row_or_default(ctx, self.calendar)
        override = _override(ctx.session, row.id, self.day)
        before = override.kind if override else None
        if override is None:
            override = CalendarOverride(calendar_id=row.id, day=self.day)
            ctx.session.add(override)
        override.kind, override.note = self.kind, self.note
        override.created_at, override.created_by = ctx.now, ctx.actor
        ctx.session.flush()
        audit.append(ctx, self.name, payload={
            "calendar": self.calendar, "day": self.day.isoformat(), "kind": self.kind,
            "note": self.note, "before": before,
        })  # fmt: skip
        _recompute(ctx, self.calendar)
        return override


class RemoveOverride:
    """Take an override back: the day follows the weekend and official rules again."""

    name = "calendar_override_remove"

    def __init__(self, day: date | str, calendar: str = DEFAULT_NAME) -> None:
        self.day = parse_day(day)
        self.calendar = _check_name(calendar)

    def __call__(self, ctx: CommandContext) -> str:
        row = _row(ctx.session, self.calendar)
        override = _override(ctx.session, row.id, self.day) if row else None
        if row is None or override is None:
            raise NotFound(f"calendar {self.calendar!r} has no override on {self.day}")
        ctx.session.delete(override)
        audit.append(ctx, self.name, payload={
            "calendar": self.calendar, "day": self.day.isoformat(), "before": override.kind,
        })  # fmt: skip
        _recompute(ctx, self.calendar)
        return override.kind


def _recompute(ctx: CommandContext, calendar: str) -> None:
    """Open deadlines measured in this calendar move with it, in the same transaction."""
    from .clock_control import RecomputeClocks

    ctx.session.flush()
    ctx.forget_caches()  # this command just changed the calendar
    RecomputeClocks(calendar)(ctx)


# --- loading ---------------------------------------------------------------------------

_cache: OrderedDict[tuple[Any, ...], WorkingCalendar] = OrderedDict()
_cache_lock = threading.Lock()


def load_calendar(session: Session, name: str = DEFAULT_NAME) -> WorkingCalendar:
    """The calendar ``name`` with its overrides; ``default`` exists even without a row."""
    row = _row(session, name)
    if row is None:
        if name != DEFAULT_NAME:
            known = ", ".join(calendar_names(session))
            raise NotFound(f"no calendar {name!r}; known calendars: {known}")
        return _built((name, DEFAULT_TIMEZONE, DEFAULT_PERIODS, True, ()))
    overrides = session.execute(
        select(CalendarOverride.day, CalendarOverride.kind)
        .where(CalendarOverride.calendar_id == row.id)
        .order_by(CalendarOverride.day)
    ).all()
    periods = tuple(tuple(p) for p in row.periods)
    key = (name, row.timezone, periods, row.use_official_holidays, tuple(map(tuple, overrides)))
    return _built(key)


def calendar_names(session: Session) -> list[str]:
    return sorted({DEFAULT_NAME, *session.scalars(select(Calendar.name))})


def override_notes(session: Session, name: str = DEFAULT_NAME) -> dict[date, str]:
    """Day -> "note (by who)" for display next to :meth:`WorkingCalendar.day_notes`."""
    rows = session.scalars(
        select(CalendarOverride).join(Calendar).where(Calendar.name == name)
    ).all()
    return {r.day: " ".join(filter(None, [r.note, f"(by {r.created_by})"])) for r in rows}


def _built(key: tuple[Any, ...]) -> WorkingCalendar:
    with _cache_lock:
        calendar = _cache.get(key)
        if calendar is not None:
            _cache.move_to_end(key)
            return calendar
    name, zone, periods, official, overrides = key
    calendar = WorkingCalendar(
        zone, periods, overrides=dict(overrides), use_official_holidays=official, name=name
    )
    with _cache_lock:
        _cache[key] = calendar
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return calendar


# --- helpers -------------------------------------------------------------------------


def parse_day(value: date | str) -> date:
    if isinstance(value, datetime):
        raise ValidationError(f"expected a day, got the date-time {value.isoformat()}")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"bad date {value!r}: write YYYY-MM-DD, e.g. 2026-10-10") from None


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("a calendar name is 1 to 100 characters")
    return name


def _row(session: Session, name: str) -> Calendar | None:
    return session.scalars(select(Calendar).where(Calendar.name == name)).first()


def _row_or_default(ctx: CommandContext, name: str) -> Calendar:
    row = _row(ctx.session, name)
    if row is not None:
        return row
    if name != DEFAULT_NAME:
        known = ", ".join(calendar_names(ctx.session))
        raise NotFound(f"no calendar {name!r}; known calendars: {known}")
    row = Calendar(
        name=DEFAULT_NAME,
        timezone=DEFAULT_TIMEZONE,
        periods=[list(p) for p in DEFAULT_PERIODS],
        use_official_holidays=True,
        created_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def _override(session: Session, calendar_id: int, day: date) -> CalendarOverride | None:
    return session.scalars(
        select(CalendarOverride).where(
            CalendarOverride.calendar_id == calendar_id, CalendarOverride.day == day
        )
    ).first()


def _stored_periods(calendar: WorkingCalendar) -> list[list[str]]:
    return [str(p).split("-") for p in calendar.periods]


def _settings(row: Calendar) -> dict[str, Any]:
    return {
        "timezone": row.timezone,
        "periods": row.periods,
        "use_official_holidays": row.use_official_holidays,
    }


__all__ = [
    "DEFAULT_NAME",
    "CalendarInfo",
    "DefineCalendar",
    "OverrideDay",
    "RemoveOverride",
    "calendar_names",
    "load_calendar",
    "override_notes",
    "parse_day",
]
