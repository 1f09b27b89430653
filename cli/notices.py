"""``caseclock notices``: list, reword and reset the notice templates (engine.notice_templates):
staff notices (subject and body) and debtor notices (``debtor.<kind>.subject``: a subject;
``debtor.part.<part>``: a part's heading and text)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any, TextIO

import click

from engine.notice_templates import (
    ResetNoticeTemplate,
    SetNoticeTemplate,
    fields,
    preview,
    templates,
)

from . import app_of, emit, main
from .output import table
from .params import user_option

_USER = user_option("Who changes it (audit).")


@main.group("notices")
def notices_group() -> None:
    """Notice templates: the wording of SLA, chase, 协办, applicant and debtor notices."""


@notices_group.command("templates")
@click.option("--audience", type=click.Choice(["staff", "debtor"]),
              help="Only the notices to staff, or only those to debtors.")  # fmt: skip
@click.pass_context
def list_templates(ctx: click.Context, audience: str | None) -> None:
    """Every kind in every locale, with the wording in use and who edited it."""
    app = app_of(ctx)
    rows = [row for row in app.read(templates) if audience in (None, row["audience"])]
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
@click.option("--subject", "--heading", "subject", default="",
              help="One line; placeholders such as {task}. A debtor part's heading.")  # fmt: skip
@click.option("--body-file", "--text-file", "body_file", type=click.File(encoding="utf-8"),
              help="The body's text (`-` reads standard input); a debtor part's text. "
                   "A debtor notice's subject has none.")  # fmt: skip
@_USER
@click.pass_context
def set_template(
    ctx: click.Context,
    kind: str,
    locale: str,
    subject: str,
    body_file: TextIO | None,
    user: str,
) -> None:
    """Reword notices of KIND in LOCALE (zh-CN or en); prints them filled with sample values.

    A debtor part (``debtor.part.reminder``) takes ``--heading`` and ``--text-file``.
    """
    body = body_file.read() if body_file else ""
    command = SetNoticeTemplate(kind, locale, subject, body)
    app_of(ctx).execute(command, actor=user)
    sample = preview(kind, locale, command.subject, command.body)
    saved = dict(zip(fields(kind), (command.subject, command.body), strict=True))
    emit(ctx, {"kind": kind, "locale": locale, **{k: v for k, v in saved.items() if k},
               "by": user}, f"saved {kind} ({locale}); with sample values:\n\n"
                            f"{sample.subject}\n\n{sample.body}".rstrip())  # fmt: skip


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
