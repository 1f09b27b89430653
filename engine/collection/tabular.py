"""Writing report rows as CSV or XLSX (amounts stay exact decimals in both)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_xlsx(
    path: str | Path,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    title: str,
    amounts: Sequence[str] = (),
    rates: Sequence[str] = (),
) -> None:
    """One sheet; ``amounts`` columns become numbers (0.00), ``rates`` percentages.

    Amounts go in as :class:`Decimal` built from their exact text, so a spreadsheet
    shows and sums the same figures the CSV has.
    """
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_cell(row.get(c), c in amounts or c in rates) for c in columns])
    for index, column in enumerate(columns, start=1):
        fmt = "0.00" if column in amounts else "0.00%" if column in rates else None
        if fmt:
            for cell in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell[0].number_format = fmt
    book.save(path)


def _cell(value: Any, numeric: bool) -> Any:
    if numeric and isinstance(value, str) and value:
        return Decimal(value)
    return "" if value is None else value
