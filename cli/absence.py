"""``caseclock absence …`` (休假委托) and ``caseclock reassign-all`` (handing over work)."""

from __future__ import annotations

import click

from engine.absence import CancelAbsence, DeclareAbsence, ReassignAll, absences
from engine.calendars import parse_day
from engine.store.models import Absence

from . import app_of, emit, main
from .output import table
from .params import ID, known_person, person_option, user_option


@main.group("absence")
def absence_group() -> None:
    """Leave with a deputy: their tasks, notices and chases go to the deputy meanwhile."""


@absence_group.command("add")
@click.argument("person", callback=known_person)
@person_option("--deputy", required=True, help_text="Who stands in.")
@click.option("--from", "starts", required=True, help="First day away (YYYY-MM-DD).")
@click.option("--to", "ends", required=True, help="Last day away (YYYY-MM-DD).")
@click.option("--reason", default="", help="Why (kept erasable).")
@user_option("Who declares it (audit).")
@click.pass_context
def add(ctx: click.Context, person: str, deputy: str, starts: str, ends: str, reason: str,
        user: str) -> None:  # fmt: skip
    """Declare PERSON away from --from to --to, with --deputy standing in."""
    command = DeclareAbsence(person, deputy, parse_day(starts), parse_day(ends), reason)
    row = app_of(ctx).execute(command, actor=user)
    emit(ctx, _view(row), f"absence {row.id}: {person} away {row.starts_on} – {row.ends_on}, "
                          f"{deputy} stands in")  # fmt: skip


@absence_group.command("list")
@click.option("--person", help="Only this person's absences.")
@click.pass_context
def list_(ctx: click.Context, person: str | None) -> None:
    """Absences not cancelled, soonest first."""
    app = app_of(ctx)
    rows = [_view(a) for a in app.read(lambda s: absences(s, person))]
    if person and not rows:
        # A misspelt key would list nobody's absences, as if there were none. Someone who
        # left the org chart may still have absences, so only a key with none is refused.
        app.read(lambda s: app.services.org.snapshot(s).person_id(person))
    emit(ctx, rows, table(rows, ["id", "person", "deputy", "from", "to"]))


@absence_group.command("cancel")
@click.argument("absence_id", type=ID)
@user_option("Who cancels it (audit).")
@click.pass_context
def cancel(ctx: click.Context, absence_id: int, user: str) -> None:
    """Cancel an absence (the person is back, or it was declared by mistake)."""
    row = app_of(ctx).execute(CancelAbsence(absence_id), actor=user)
    emit(ctx, _view(row), f"absence {row.id} cancelled")


@main.command("reassign-all")
@click.argument("holder")
@person_option("--to", "to", help_text="New assignee; omit to put user tasks back in their pools.")
@user_option("Who reassigns (audit).")
@click.pass_context
def reassign_all(ctx: click.Context, holder: str, to: str | None, user: str) -> None:
    """Hand every open task and chase task HOLDER holds to --to (e.g. when they leave)."""
    moved = app_of(ctx).execute(ReassignAll(holder, to), actor=user)
    emit(ctx, {"holder": holder, "to": to, "tasks": moved},
         f"{len(moved)} task(s) of {holder} now with {to or 'their group pools'}")  # fmt: skip


def _view(row: Absence) -> dict[str, object]:
    return {"id": row.id, "person": row.person_key, "deputy": row.deputy_key,
            "from": row.starts_on.isoformat(), "to": row.ends_on.isoformat()}  # fmt: skip
