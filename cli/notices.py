"""``caseclock notices``: list, reword and reset the notice templates (engine.notice_templates)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any, TextIO

import click

from engine.notice_templates import ResetNoticeTemplate, SetNoticeTemplate, preview, templates

from . import app_of, emit, main
from .output import table

_USER = click.option("--user", default="cli", show_default=True, help="Who changes it (audit).")


@main.group("notices")
def notices_group() -> None:
    """Notice templates: the wording of SLA, chase, 协办 and applicant notices."""


@notices_group.command("templates")
@click.pass_context
def list_templates(ctx: click.Context) -> None:
    """Every kind in every locale, with the wording in use and who edited it."""
    app = app_of(ctx)
    rows = app.read(templates)
    shown = [{**row, "edited": _edited(row, app.services.timezone)} for row in rows]
    emit(ctx, rows, table(shown, ["kind", "locale", "edited", "subject"]))


def _edited(row: dict[str, Any], zone: tzinfo) -> str:
    """Who edited a template and when (local time), or ``-`` for a built-in one."""
    if not row["edited"]:
        return "-"
    return f"{row['updated_by']} {row['updated_at'].astimezone(zone):%Y-%m-%d %H:%M}"


@notices_group.command("set")
@click.argument("kind")
@click.argument("locale")
@click.option("--subject", required=True, help="One line; placeholders such as {task}.")
@click.option("--body-file", type=click.File(encoding="utf-8"), required=True,
              help="The body's text (`-` reads standard input).")  # fmt: skip
@_USER
@click.pass_context
def set_template(
    ctx: click.Context,
    kind: str,
    locale: str,
    subject: str,
    body_file: TextIO,
    user: str,
) -> None:
    """Reword notices of KIND in LOCALE (zh-CN or en); prints them filled with sample values."""
    body = body_file.read()
    command = SetNoticeTemplate(kind, locale, subject, body)
    app_of(ctx).execute(command, actor=user)
    sample = preview(kind, locale, command.subject, command.body)
    emit(ctx, {"kind": kind, "locale": locale, "subject": command.subject, "body": command.body,
               "by": user}, f"saved {kind} ({locale}); with sample values:\n\n"
                            f"{sample.subject}\n\n{sample.body}")  # fmt: skip


@notices_group.command("reset")
@click.argument("kind")
@click.argument("locale")
@_USER
@click.pass_context
def reset_template(ctx: click.Context, kind: str, locale: str, user: str) -> None:
    """Go back to the built-in wording of KIND in LOCALE."""
    reset = app_of(ctx).execute(ResetNoticeTemplate(kind, locale), actor=user)
    emit(ctx, {"kind": kind, "locale": locale, "reset": reset},
         f"{kind} ({locale}) uses the built-in template"
         + ("" if reset else " (it was not edited)"))  # fmt: skip
