"""``caseclock user …``: web login accounts, their roles and API tokens."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import accounts
from engine.app import CaseClock
from engine.store import Department, Person
from engine.store.account_tables import Account

from . import app_of, emit, main
from .output import table

DEMO_PASSWORD = "demo"


@main.group()
def user() -> None:
    """Web login accounts: add, list, password, roles, API tokens."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        # One line from stdin, so scripts can pipe a secret in without it showing in `ps`.
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


@user.command("add")
@click.argument("person_key")
@click.option("--role", "roles", multiple=True, type=click.Choice(accounts.ROLES),
              help="Repeat for several roles (default: staff).")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--no-password", is_flag=True, help="Create without a password (tokens only).")
@click.pass_context
def add(ctx: click.Context, person_key: str, roles: tuple[str, ...], password_stdin: bool,
        no_password: bool) -> None:  # fmt: skip
    """Create the login account of PERSON_KEY (a person from the org import)."""
    password = None if no_password else _read_password(password_stdin)
    app_of(ctx).execute(
        accounts.CreateAccount(person_key, roles or ("staff",), password), actor="cli"
    )
    emit(ctx, {"person": person_key, "roles": sorted(roles or ("staff",))},
         f"account {person_key}: {', '.join(sorted(roles or ('staff',)))}")  # fmt: skip


@user.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Every account with its roles."""
    rows = app_of(ctx).read(accounts.accounts)
    emit(ctx, rows, table(rows, ["person", "name", "roles", "active", "password_set"]))


@user.command("passwd")
@click.argument("person_key")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_context
def passwd(ctx: click.Context, person_key: str, password_stdin: bool) -> None:
    """Set a new password."""
    app_of(ctx).execute(
        accounts.SetPassword(person_key, _read_password(password_stdin)), actor="cli"
    )
    emit(ctx, {"person": person_key}, f"password of {person_key} changed")


@user.command("roles")
@click.argument("person_key")
@click.option("--role", "roles", multiple=True, type=click.Choice(accounts.ROLES), required=True)
@click.pass_context
def roles_(ctx: click.Context, person_key: str, roles: tuple[str, ...]) -> None:
    """Replace the roles of an account."""
    app_of(ctx).execute(accounts.SetRoles(person_key, roles), actor="cli")
    emit(ctx, {"person": person_key, "roles": sorted(roles)},
         f"account {person_key}: {', '.join(sorted(roles))}")  # fmt: skip


@user.command("disable")
@click.argument("person_key")
@click.pass_context
def disable(ctx: click.Context, person_key: str) -> None:
    """Stop an account logging in; its API tokens are revoked."""
    app_of(ctx).execute(accounts.SetAccountActive(person_key, False), actor="cli")
    emit(ctx, {"person": person_key, "active": False}, f"account {person_key} disabled")


@user.command("token")
@click.argument("person_key")
@click.option("--name", required=True, help="Which client uses it (shown in the audit).")
@click.pass_context
def token(ctx: click.Context, person_key: str, name: str) -> None:
    """Issue an API token (printed once; send it as `Authorization: Bearer …`)."""
    value = app_of(ctx).execute(accounts.IssueToken(person_key, name), actor="cli")
    emit(ctx, {"person": person_key, "token": value}, value)


def seed_demo_accounts(app: CaseClock) -> list[str]:
    """An account with the password ``demo`` for every demo person that has none yet.

    Everyone is staff; department heads and anyone with people below them are also
    supervisors; 周律师 (legal) audits, 陈窗口 designs diagrams, 赵主任 administers.
    """
    extra = {"zhou": {"auditor"}, "chen": {"designer"}, "zhao": {"admin"}}

    def plan(s: Session) -> list[tuple[str, set[str]]]:
        people = s.execute(select(Person.key, Person.id, Person.superior_id)).all()
        heads = set(s.scalars(select(Department.head_id)))
        bosses = {sup for _, _, sup in people if sup is not None}
        have = set(s.scalars(select(Account.person_key)))
        return [
            (key, {"staff"} | ({"supervisor"} if pid in heads | bosses else set())
             | extra.get(key, set()))
            for key, pid, _ in people
            if key not in have
        ]  # fmt: skip

    created = []
    for key, roles in app.read(plan):
        app.execute(accounts.CreateAccount(key, roles, DEMO_PASSWORD), actor="demo")
        created.append(f"{key} ({', '.join(sorted(roles))})")
    lines = [f"accounts: {len(created)} created" + (f": {'; '.join(created)}" if created else "")]
    lines.append(
        # The port is serve's to choose (scripts/demo.sh takes PORT), so no address here.
        "log in (at /login on the address serve prints) as li (staff), wang (supervisor),"
        f" zhou (auditor), chen (designer) or zhao (admin); password: {DEMO_PASSWORD}"
    )
    return lines
