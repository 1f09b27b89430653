"""Report tables as JSON, CSV (a section per table, or one plain table) and XLSX (a
sheet per table).

Shared by every report (accountability, ledger, risk grades, aging, defaulters). In
every CSV and in XLSX, user text that looks like a formula is kept as text (CSV
injection); a number written as text ("-12.50") stays a number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

Tables = Mapping[str, Sequence[Mapping[str, Any]]]
Columns = Mapping[str, Sequence[str]]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def columns_of(tables: Tables) -> dict[str, list[str]]:
    """Each table's columns as its first row has them (an empty table has none)."""
    return {name: list(rows[0]) if rows else [] for name, rows in tables.items()}


def to_json(report: Any) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, default=str)


def to_csv(tables: Tables, columns: Columns) -> str:
    """One CSV with a section per table: a ``# name`` line, the header, the rows, and an
    empty line; :func:`read_csv` reads it back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, rows in tables.items():
        writer.writerow([f"# {name}"])
        writer.writerow(columns[name])
        writer.writerows([_cell(row.get(c)) for c in columns[name]] for row in rows)
        writer.writerow([])
    return out.getvalue()


def rows_to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """One table as a plain CSV: the header, then the rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([inert(row.get(c)) for c in columns] for row in rows)
    return out.getvalue()


def read_csv(text: str) -> dict[str, list[dict[str, str]]]:
    """The sections of :func:`to_csv` as ``{name: [row, ...]}`` (cells as text)."""
    tables: dict[str, list[dict[str, str]]] = {}
    name, header = None, None
    for record in csv.reader(io.StringIO(text)):
        if not record:
            name, header = None, None
        elif name is None and len(record) == 1 and record[0].startswith("# "):
            name = record[0][2:]
            tables[name] = []
        elif name is not None and header is None:
            header = record
        elif name is not None and header is not None:
            tables[name].append(dict(zip(header, record, strict=True)))
    return tables


def to_xlsx(tables: Tables, columns: Columns, formats: Mapping[str, str] | None = None) -> bytes:
    """A workbook with one sheet per table, named after it, the header in row 1.

    ``formats`` gives columns a number format (``0.00`` for amounts, ``0.00%`` for
    rates); their exact decimal text goes in as :class:`Decimal`, so a spreadsheet shows
    and sums the same figures the CSV has.
    """
    from openpyxl import Workbook  # only the exports need it

    formats = formats or {}
    book = Workbook()
    book.remove(book.active)
    for name, rows in tables.items():
        sheet = book.create_sheet(name[:31])  # Excel's limit
        sheet.append(list(columns[name]))
        for row in rows:
            sheet.append([_number(row.get(c)) if c in formats else row.get(c)
                          for c in columns[name]])  # fmt: skip
            _as_text(sheet[sheet.max_row])
        for index, column in enumerate(columns[name], start=1):
            if column in formats:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = formats[column]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str) and value else value


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return inert(value)


def inert(value: Any) -> Any:
    """A cell a spreadsheet shows and never runs: text typed by a user (a reason, a
    customer's name) that starts like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _numeric(value):
        return "'" + value
    return value


def _numeric(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _as_text(cells: Any) -> None:
    """openpyxl stores text starting with ``=`` as a formula: keep user text as text."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"
