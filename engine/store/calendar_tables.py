"""Working-time calendars as administrators define them.

The arithmetic lives in :mod:`engine.calendar`; these rows only say which calendar
has which zone, periods and day overrides, so that every worker process builds the
same :class:`~engine.calendar.WorkingCalendar` from them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, key_str, pk, short_str


class Calendar(Base):
    """A named calendar; ``default`` is created on demand with the defaults."""

    __tablename__ = "calendar"

    id: Mapped[pk]
    name: Mapped[key_str] = mapped_column(unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # [["09:00", "12:00"], ["13:30", "17:30"]]: local wall-clock periods of a working day.
    periods: Mapped[list[Any]]
    use_official_holidays: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class CalendarOverride(Base):
    """One day made a workday or a holiday by an administrator; wins over every rule."""

    __tablename__ = "calendar_override"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[pk]
    calendar_id: Mapped[int] = mapped_column(BigId, ForeignKey("calendar.id"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))  # workday | holiday
    note: Mapped[short_str] = mapped_column(default="")
    created_at: Mapped[datetime]
    created_by: Mapped[key_str]
