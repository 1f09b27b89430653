"""What typed input may look like: whole numbers and days, checked the same way by the
import, the commands, the reports, the pages and the API.

Days are within the years 1900–2999 (:data:`engine.calendar.FIRST_YEAR`): fees and aging
count days from a due date, and a year-1 due date overflowed that arithmetic (and made the
daily job and a receivable's page loop over some 740,000 days). Whole numbers are ASCII
digits only: ``str.isdigit`` accepts "²", which ``int`` refuses.

Phone numbers and e-mail addresses (a person's, a debtor's) must look like one: a notice
is only as good as the address it goes to, so free text is refused, not stored.
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


# Digits with an optional leading +, and spaces, dashes or parentheses between them:
# 13800138000, +86 138 0013 8000, (010) 6552-9988. ASCII digits only: an SMS gateway
# dials what is stored.
PHONE = re.compile(r"\+?\(?[0-9][0-9 ()\-]*[0-9]")
PHONE_DIGITS = (5, 20)
# local@domain.tld: one @, no spaces, nothing that separates addresses (, ; < >) in the
# local part; dot-separated labels of letters, digits and inner hyphens; a top-level
# domain of two or more letters (中国 too) or its xn-- form.
EMAIL = re.compile(
    r"[^\s@,;<>]+@(?:[^\W_](?:(?:[^\W_]|-)*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)",
    re.IGNORECASE,
)
_PHONE_LENGTH, _EMAIL_LENGTH = 50, 200  # the person and customer tables' columns


def check_phone(text: str | None, field: str = "phone") -> str | None:
    """``text`` stripped if it is a plausible phone number, ``None`` if empty; otherwise
    a :class:`ValidationError` at ``field`` saying what a phone number looks like."""
    phone = within((text or "").strip(), _PHONE_LENGTH, field)
    if not phone:
        return None
    digits = sum(c.isdigit() for c in phone)
    low, high = PHONE_DIGITS
    if not PHONE.fullmatch(phone) or not low <= digits <= high:
        raise at_field(field, f"{field} {phone!r}: not a phone number: {low} to {high} digits, "
                       "with an optional leading + and spaces, dashes or parentheses")  # fmt: skip
    return phone


def check_email(text: str | None, field: str = "email") -> str | None:
    """``text`` stripped if it has the shape of an e-mail address, ``None`` if empty;
    otherwise a :class:`ValidationError` at ``field``."""
    email = within((text or "").strip(), _EMAIL_LENGTH, field)
    if not email:
        return None
    if not EMAIL.fullmatch(email):
        raise at_field(field, f"{field} {email!r}: not an e-mail address: write name@domain.tld")
    return email


def within(text: str, limit: int, field: str) -> str:
    """``text`` if it fits its column (``limit`` characters); a longer one is refused at
    ``field`` without being echoed."""
    if len(text) > limit:
        raise at_field(field, f"{field} is longer than {limit} characters")
    return text
