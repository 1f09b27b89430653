"""``caseclock report …``: the auditors' and managers' reports."""

from __future__ import annotations

from . import main


@main.group()
def report() -> None:
    """Reports: accountability (追责) and receivables aging (账龄)."""
