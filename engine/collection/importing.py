"""CSV import and export of receivables, one row per receivable with its customer.

Import is two steps: :func:`parse_csv` validates each line on its own (no database)
and keeps its physical line number; :class:`~.receivables.ImportReceivables` writes the
good ones. The export writes the same columns, so an export imports again unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import exports, inputs
from ..errors import ValidationError
from ..inputs import check_email, check_phone
from ..notices import parse_locale
from ..store.collection_tables import PRODUCTS, Customer, Instalment, Receivable
from . import fees
from .money import check_currency, format_amount, parse_amount
from .receivables import CustomerData, ParsedRow, ReceivableData, terms_of

COLUMNS = (
    "receivable_key",
    "customer_key",
    "customer_name",
    "phone",
    "email",
    "address",
    "contact_verified_on",
    "credit_limit",
    "blacklisted",
    "blacklist_reason",
    "locale",
    "product",
    "principal",
    "currency",
    "due_date",
    "schedule",
    "opened_on",
    "department",
    "collector",
    "guarantee",
    "grace_days",
    "penalty_rate",
    "day_count",
    "penalty_cap",
    "rounding",
    "allocation_order",
    "update_customer",
)
REQUIRED = ("receivable_key", "customer_key", "product", "principal")
GUARANTEES = ("none", "guaranteed", "collateral")
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}
_MAX_KEY = 100


def parse_csv(text: str) -> list[ParsedRow]:
    """Every data line of ``text`` with its line number (the header is line 1).

    Raises :class:`ValidationError` for a file that cannot be read at all (no
    header, unknown or missing columns); a bad line only fails itself.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise ValidationError("the file is empty: a header line with column names comes first")
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        raise ValidationError(f"{'; '.join(parts)}; the columns are: {', '.join(COLUMNS)}")
    rows = []
    line = reader.line_num
    for record in reader:
        first_line = line + 1  # a quoted field may span lines: report where the row starts
        line = reader.line_num
        values = {k: _as_typed(v or "") for k, v in record.items() if k is not None}
        key = values.get("receivable_key") or None
        if None in record:
            rows.append(ParsedRow(first_line, key, None, "more fields than columns"))
            continue
        if not any(values.values()):
            continue  # blank line
        try:
            rows.append(ParsedRow(first_line, key, parse_row(values)))
        except ValidationError as exc:
            rows.append(ParsedRow(first_line, key, None, exc.message))
    return rows


def parse_row(values: Mapping[str, str]) -> ReceivableData:
    for column in REQUIRED:
        if not values.get(column):
            raise ValidationError(f"{column} is required")
    key = _key(values["receivable_key"], "receivable_key")
    currency = check_currency(values.get("currency") or "CNY")
    product = values["product"].lower()
    if product not in PRODUCTS:
        raise ValidationError(f"product {values['product']!r}: one of {', '.join(PRODUCTS)}")
    principal = _amount(values["principal"], currency, "principal")
    if principal <= 0:
        raise ValidationError("principal must be more than 0")
    instalments = _instalments(values, principal, currency)
    guarantee = (values.get("guarantee") or "none").lower()
    if guarantee not in GUARANTEES:
        raise ValidationError(f"guarantee {guarantee!r}: one of {', '.join(GUARANTEES)}")
    opened_on = _day(values.get("opened_on"), "opened_on")
    if opened_on is not None and opened_on > instalments[0].due_date:
        raise ValidationError(
            f"opened_on {opened_on} is after the first due date {instalments[0].due_date}"
        )
    return ReceivableData(
        key=key,
        customer=_customer(values, currency),
        product=product,
        principal_minor=principal,
        currency=currency,
        due_date=instalments[-1].due_date,
        instalments=tuple(instalments),
        terms=_terms(values, currency),
        opened_on=opened_on,
        department_key=_optional_key(values.get("department"), "department"),
        collector_key=_optional_key(values.get("collector"), "collector"),
        guarantee=guarantee,
    )


def _customer(values: Mapping[str, str], currency: str) -> CustomerData:
    limit = values.get("credit_limit")
    flag = _yes_no(values, "blacklisted")
    reason = values.get("blacklist_reason") or None
    if flag and not reason:
        raise ValidationError("blacklisted customers need a blacklist_reason")
    locale = values.get("locale")
    credit_limit = _amount(limit, currency, "credit_limit") if limit else None
    if credit_limit is not None and credit_limit < 0:
        raise ValidationError("credit_limit must not be negative")
    return CustomerData(
        key=_key(values["customer_key"], "customer_key"),
        name=_text(values.get("customer_name"), 200, "customer_name"),
        phone=check_phone(values.get("phone")),
        email=check_email(values.get("email")),
        address=_text(values.get("address"), 300, "address"),
        contact_verified_on=_day(values.get("contact_verified_on"), "contact_verified_on"),
        credit_limit_minor=credit_limit,
        blacklisted=flag if values.get("blacklisted") else None,
        blacklist_reason=_text(reason, 300, "blacklist_reason"),
        locale=parse_locale(locale) if locale else None,
        update_customer=_yes_no(values, "update_customer"),
    )


def _yes_no(values: Mapping[str, str], column: str) -> bool:
    flag = (values.get(column) or "").lower()
    if flag not in _TRUE | _FALSE:
        raise ValidationError(f"{column} {values.get(column)!r}: yes or no")
    return flag in _TRUE


def _terms(values: Mapping[str, str], currency: str) -> fees.Terms:
    grace = values.get("grace_days") or "0"
    grace_days = inputs.whole_number(grace, 0, 3650)
    if grace_days is None:
        raise ValidationError(f"grace_days {grace!r}: a whole number of days")
    cap = values.get("penalty_cap")
    return fees.Terms(
        grace_days=grace_days,
        penalty_rate=fees.parse_rate(values.get("penalty_rate") or "0"),
        day_count=(values.get("day_count") or "daily").lower(),
        cap_minor=_amount(cap, currency, "penalty_cap") if cap else None,
        rounding=(values.get("rounding") or "half_up").lower(),
        allocation_order=fees.parse_order(
            values.get("allocation_order") or ",".join(fees.COMPONENTS)
        ),
    )


def _instalments(values: Mapping[str, str], principal: int, currency: str) -> list[fees.Instalment]:
    """``schedule`` is ``DATE=PRINCIPAL[+INTEREST];...``; without it, one at ``due_date``."""
    schedule = values.get("schedule")
    due = _day(values.get("due_date"), "due_date")
    if not schedule:
        if due is None:
            raise ValidationError("due_date is required (or a schedule)")
        return [fees.Instalment(1, due, principal)]
    rows = []
    for seq, part in enumerate((p for p in schedule.split(";") if p.strip()), start=1):
        text, _, money = part.partition("=")
        day = _day(text, "schedule")
        if day is None or not money:
            raise ValidationError(
                f"schedule item {part.strip()!r}: write DATE=PRINCIPAL[+INTEREST]"
            )
        amount, _, interest = money.partition("+")
        rows.append(
            fees.Instalment(
                seq,
                day,
                _amount(amount, currency, "schedule"),
                _amount(interest, currency, "schedule") if interest.strip() else 0,
            )
        )
    days = [r.due_date for r in rows]
    if days != sorted(days) or len(set(days)) != len(days):
        raise ValidationError("schedule dates must be increasing")
    if any(r.principal_minor < 0 or r.interest_minor < 0 for r in rows):
        raise ValidationError("schedule amounts must not be negative")
    total = sum(r.principal_minor for r in rows)
    if total != principal:
        raise ValidationError(
            f"schedule principal adds up to {format_amount(total, currency)}, "
            f"not the principal {format_amount(principal, currency)}"
        )
    if due is not None and due != days[-1]:
        raise ValidationError(f"due_date {due} is not the last schedule date {days[-1]}")
    return rows


def _amount(text: str, currency: str, column: str) -> int:
    try:
        return parse_amount(text, currency)
    except ValidationError as exc:
        raise ValidationError(f"{column}: {exc.message}") from None


def _day(text: str | None, column: str) -> date | None:
    if not text or not text.strip():
        return None
    return inputs.parse_day(text, column)


def _key(text: str, column: str) -> str:
    return inputs.within(text, _MAX_KEY, column)


def _optional_key(text: str | None, column: str) -> str | None:
    return _key(text, column) if text else None


def _text(text: str | None, limit: int, column: str) -> str | None:
    return inputs.within(text or "", limit, column) or None


# --- export -------------------------------------------------------------------------------


def export_rows(session: Session) -> Iterable[dict[str, str]]:
    """Every receivable as an import row (payments are not part of the import format)."""
    query = (
        select(Receivable, Customer)
        .join(Customer, Customer.id == Receivable.customer_id)
        .order_by(Receivable.key)
    )
    for receivable, customer in session.execute(query):
        instalments = session.scalars(
            select(Instalment)
            .where(Instalment.receivable_id == receivable.id)
            .order_by(Instalment.seq)
        ).all()
        yield _row(receivable, customer, instalments)


def _row(
    receivable: Receivable, customer: Customer, instalments: list[Instalment]
) -> dict[str, str]:
    money = receivable.currency
    terms = terms_of(receivable)
    simple = len(instalments) == 1 and instalments[0].interest_minor == 0
    schedule = (
        ""
        if simple
        else ";".join(
            f"{i.due_date}={format_amount(i.principal_minor, money)}"
            + (f"+{format_amount(i.interest_minor, money)}" if i.interest_minor else "")
            for i in instalments
        )
    )
    return {
        "receivable_key": receivable.key,
        "customer_key": customer.key,
        "customer_name": customer.name,
        "phone": customer.phone or "",
        "email": customer.email or "",
        "address": customer.address or "",
        "contact_verified_on": _iso(customer.contact_verified_on),
        "credit_limit": _money(customer.credit_limit_minor, money),
        "blacklisted": "yes" if customer.blacklisted else "no",
        "blacklist_reason": customer.blacklist_reason or "",
        "locale": customer.locale,
        "product": receivable.product,
        "principal": format_amount(receivable.principal_minor, money),
        "currency": money,
        "due_date": receivable.due_date.isoformat(),
        "schedule": schedule,
        "opened_on": _iso(receivable.opened_on),
        "department": receivable.department_key or "",
        "collector": receivable.collector_key or "",
        "guarantee": receivable.guarantee,
        "grace_days": str(terms.grace_days),
        "penalty_rate": receivable.penalty_rate,
        "day_count": terms.day_count,
        "penalty_cap": _money(terms.cap_minor, money),
        "rounding": terms.rounding,
        "allocation_order": ",".join(terms.allocation_order),
        "update_customer": "",
    }


def to_csv(rows: Iterable[Mapping[str, str]]) -> str:
    """The rows as CSV; imported text that looks like a formula (a customer named
    ``=HYPERLINK(…)``) gets the reports' leading apostrophe, so a spreadsheet never runs
    it (:func:`engine.exports.inert`); the import takes the apostrophe off again."""
    return exports.rows_to_csv(list(rows), COLUMNS)


def _as_typed(cell: str) -> str:
    """A cell as it was before :func:`to_csv` guarded it: an export imports unchanged."""
    text = cell.strip()
    return text[1:] if text.startswith("'") and exports.inert(text[1:]) == text else text


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _money(minor: int | None, currency: str) -> str:
    return format_amount(minor, currency) if minor is not None else ""
