"""What typed input may look like: whole numbers and days, checked the same way by the
import, the commands, the reports, the pages and the API.

Days are within the years 1900–2999 (:data:`engine.calendar.FIRST_YEAR`): fees and aging
count days from a due date, and a year-1 due date overflowed that arithmetic (and made the
daily job and a receivable's page loop over some 740,000 days). Whole numbers are ASCII
digits only: ``str.isdigit`` accepts "²", which ``int`` refuses.
"""

from __future__ import annotations

import re
from datetime import date

from .calendar import FIRST_YEAR, LAST_YEAR
from .errors import at_field

MAX_ID = 2**63 - 1  # the largest id a 64-bit signed INTEGER / BIGINT column holds
_WHOLE = re.compile(r"[-+]?[0-9]{1,20}")


def in_range(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def check_day(day: date, field: str) -> date:
    """``day`` itself, or a :class:`ValidationError` at ``field`` when its year is outside
    1900–2999."""
    if not in_range(day):
        raise at_field(field, f"{field} {day.isoformat()}: the year must be from "
                       f"{FIRST_YEAR} to {LAST_YEAR}")  # fmt: skip
    return day


def parse_day(text: str, field: str) -> date:
    """``YYYY-MM-DD`` within the supported years; an error at ``field`` otherwise."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise at_field(field, f"{field} {text.strip()!r}: write YYYY-MM-DD") from None
    return check_day(day, field)


def whole_number(value: object, low: int = 1, high: int = MAX_ID) -> int | None:
    """``value`` (a JSON integer, not a boolean, or text of ASCII digits with an optional
    sign) as an int between ``low`` and ``high``; anything else is None. The defaults
    are those of an id. A JSON number with nothing after the point (``7.0``) is an
    integer, as JSON Schema counts it."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if _WHOLE.fullmatch(text) else None
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if low <= value <= high else None
