"""Parameter types and options the commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from engine.inputs import MAX_ID

from . import app_of

F = TypeVar("F", bound=Callable[..., Any])

# An id as the database holds one (64-bit signed): a larger number is no such id, said
# in one line, not the database driver's OverflowError.
ID = click.IntRange(min=1, max=MAX_ID)

SYSTEM_ACTOR = "cli"  # who acts when --user is not given, in the audit trail


def known_person(ctx: click.Context, param: click.Parameter, key: str | None) -> str | None:
    """A person option (--user, --to, --deputy): a person of the organisation, refused
    in one line as the task commands refuse one ("unknown user 'ghost'") while the
    arguments are read, so before anything is written. Most commands only write --user
    to the audit trail as who acted, and a misspelt key would stand there for good.

    Left out, the option's own default passes as it is: the command line itself
    (``cli``) acting, or nobody (``--to`` omitted: back to the group pool)."""
    if key is None or key == param.default:
        return key
    # On the root context: it is closed (and the engine with it) even when this refuses.
    app = app_of(ctx.find_root())
    app.read(lambda s: app.services.org.snapshot(s).person_id(key))
    return key


def person_option(*decls: str, help_text: str, required: bool = False) -> Callable[[F], F]:
    """An option naming a person (e.g. ``--to``), checked by :func:`known_person`."""
    return click.option(*decls, required=required, callback=known_person, help=help_text)


def user_option(help_text: str, *, required: bool = False) -> Callable[[F], F]:
    """``--user``: who acts (a person's key), written to the audit trail. Required where
    the engine needs a person (who claims, who decides); otherwise it defaults to the
    command line itself."""
    if required:
        return person_option("--user", required=True, help_text=help_text)
    return click.option("--user", default=SYSTEM_ACTOR, show_default=True,
                        callback=known_person, help=help_text)  # fmt: skip
