"""What the auditor's ledger shows: :mod:`engine.accountability`'s ledger rows and
report, filtered as the page asks, with each breach's snapshot and the chain status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import accountability, audit_verify, queries
from engine.accountability import Period
from engine.errors import NotFound, ValidationError
from engine.store import AuditEvent, Department

from .names import person_names

EXEMPTION = ("", "none", "pending", "approved", "refused")
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class LedgerFilter:
    period: Period
    department: str | None = None
    person: str | None = None
    step: str | None = None
    exemption: str = ""

    def args(self) -> dict[str, str]:
        """The filter as query arguments (for links to the exports)."""
        found = {"from": self.period.first.isoformat(), "to": self.period.last.isoformat(),
                 "department": self.department, "person": self.person, "step": self.step,
                 "exemption": self.exemption}  # fmt: skip
        return {k: v for k, v in found.items() if v}

    def keeps(self, row: Mapping[str, Any]) -> bool:
        if self.person and self.person not in (row["responsible"], row["on_behalf_of"]):
            return False
        if self.step and self.step not in (row["step"], row["step_name"]):
            return False
        if self.exemption:
            return (row["exemption"] or "none") == self.exemption
        return True


def parse(args: Mapping[str, str], tz: tzinfo, now: datetime) -> LedgerFilter:
    """From query arguments; bad input is a ValidationError naming the field."""
    today = now.astimezone(tz).date()
    first = args.get("from") or (today - timedelta(days=DEFAULT_DAYS)).isoformat()
    last = args.get("to") or today.isoformat()
    period = accountability.parse_period(first, last, tz)
    exemption = args.get("exemption", "")
    if exemption not in EXEMPTION:
        message = f"exemption must be one of {', '.join(e for e in EXEMPTION if e)}"
        raise ValidationError(message, details={"fields": {"exemption": message}})
    return LedgerFilter(
        period, (args.get("department") or "").strip() or None,
        (args.get("person") or "").strip() or None, (args.get("step") or "").strip() or None,
        exemption,
    )  # fmt: skip


def _department_checked(call: Any) -> Any:
    """An unknown department is the filter's error, not a missing page."""
    try:
        return call()
    except NotFound as exc:
        raise ValidationError(
            exc.message, details={"fields": {"department": exc.message}}
        ) from None


def rows(session: Session, chosen: LedgerFilter) -> list[dict[str, Any]]:
    found = _department_checked(
        lambda: accountability.ledger_rows(session, chosen.period, chosen.department)
    )
    return [r for r in found if chosen.keeps(r)]


def report(session: Session, chosen: LedgerFilter) -> dict[str, Any]:
    """The accountability report for the period and department (the report has no person,
    step or exemption filter: it is the figures for everyone in scope)."""
    return _department_checked(
        lambda: accountability.accountability(session, chosen.period, chosen.department)
    )


def snapshots(session: Session, event_ids: list[int], tz: tzinfo) -> dict[int, dict[str, Any]]:
    """Each breach entry as recorded: the holder timeline with local times."""
    if not event_ids:
        return {}
    found = {}
    for event_id, payload in session.execute(
        select(AuditEvent.id, AuditEvent.payload).where(AuditEvent.id.in_(event_ids))
    ):
        holders = [
            {**h, "from": _local(h["from"], tz), "to": _local(h["to"], tz),
             "hours": round(h["working_seconds"] / 3600, 2)}
            for h in payload.get("holders", [])
        ]  # fmt: skip
        found[event_id] = {**payload, "holders": holders}
    return found


def names_in(session: Session, snapshots: Mapping[int, Mapping[str, Any]]) -> dict[str, str]:
    """The names of the people the breach entries name (responsible, on whose behalf,
    superior, holders): the page shows names, the ledger and its exports keep keys."""
    keys: set[str | None] = set()
    for payload in snapshots.values():
        keys |= {payload.get(k) for k in ("responsible", "on_behalf_of", "superior")}
        keys |= {h.get("holder") for h in payload.get("holders", [])}
    return person_names(session, keys)


def _local(iso: str | None, tz: tzinfo) -> str | None:
    return queries.local(datetime.fromisoformat(iso), tz) if iso else None


def chain_status(session: Session) -> dict[str, Any]:
    """Verify every chain against the latest anchor: OK, or the first break."""
    breaks = audit_verify.verify(session, audit_verify.latest_anchor(session))
    return {"ok": not breaks, "breaks": len(breaks), "first": str(breaks[0]) if breaks else None}


def departments(session: Session) -> list[dict[str, str]]:
    rows_ = session.execute(select(Department.key, Department.name).order_by(Department.key))
    return [{"key": k, "name": n} for k, n in rows_]
