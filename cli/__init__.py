"""The ``caseclock`` command line: a thin adapter that runs one engine command each.

Every command prints its result (``--json`` for machines) and exits 0; any
:class:`~engine.errors.CaseClockError` prints ``error: <message>`` on one line and
exits non-zero, and so does a database that cannot serve it (not reachable, no tables,
an older schema: :mod:`cli.database_errors`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from engine.app import CaseClock, settings_from_env
from engine.errors import CaseClockError, NotFound

from . import database_errors, output


class AppGroup(click.Group):
    """Turns engine errors into one clear line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CaseClockError as exc:
            click.echo(f"error: {exc.message}", err=True)
            for problem in exc.details.get("problems", [])[5:]:
                click.echo(f"  {problem['file']}: {problem['element_id']}: {problem['message']}",
                           err=True)  # fmt: skip
            sys.exit(exc.exit_code)
        except OverflowError:
            # A number too large for the database (the ids' own type refuses those first).
            click.echo("error: a number given is too large for the database", err=True)
            sys.exit(1)
        except DBAPIError:
            # Most often an uninitialised or unreachable database: say so in one line.
            obj: output.Context | None = ctx.obj
            reason = database_errors.explain(obj.settings.database_url) if obj else None
            if reason is None:
                raise  # a CaseClock database at the newest schema: a bug, keep its traceback
            click.echo(f"error: {reason}", err=True)
            sys.exit(1)


@click.group(cls=AppGroup)
@click.option(
    "--database-url",
    envvar="CASECLOCK_DATABASE_URL",
    help="SQLAlchemy URL (default: SQLite in ./instance/caseclock.db).",
)
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, as_json: bool) -> None:
    """CaseClock: BPMN cases with SLA clocks, chase tasks and accountability."""
    ctx.obj = output.Context(settings_from_env(database_url), as_json)


def app_of(ctx: click.Context) -> CaseClock:
    obj: output.Context = ctx.obj
    if obj.app is None:
        obj.app = CaseClock(obj.settings)
        ctx.call_on_close(obj.app.close)
    return obj.app


def read_files(paths: tuple[str, ...]) -> list[tuple[str, bytes]]:
    files = []
    for path in paths:
        p = Path(path)
        if not p.is_file():
            raise NotFound(f"no such file: {path}")
        files.append((p.name, p.read_bytes()))
    return files


def emit(ctx: click.Context, value: Any, human: str | None = None) -> None:
    if ctx.obj.as_json or human is None:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(human)


from . import (  # noqa: E402,F401  (registers their subcommands)
    absence,
    accounts,
    collaboration,
    collection,
    commands,
    erasure,
    incidents,
    notices,
    reports,
)
from . import calendar as calendar  # noqa: E402  (registers `caseclock calendar`)
