"""``caseclock erase …``: erase personal data (PIPL) while the audit chains stay verifiable."""

from __future__ import annotations

import click

from engine.erasure import EraseCase, ErasePerson

from . import app_of, emit, main
from .params import ID, user_option


@main.group()
def erase() -> None:
    """Erase a concluded case's data or a person's name and contact data (PIPL)."""


@erase.command("case")
@click.argument("instance_id", type=ID)
@user_option("Who erases (audit).")
@click.confirmation_option(prompt="Erase this case's data for good?")
@click.pass_context
def erase_case(ctx: click.Context, instance_id: int, user: str) -> None:
    """Erase case data, private audit details, notice bodies and request reasons."""
    erased = app_of(ctx).execute(EraseCase(instance_id), actor=user)
    emit(ctx, erased.__dict__, f"case {instance_id} erased: {erased.private_rows} audit details, "
                               f"{erased.notices} notices, {erased.requests} requests")  # fmt: skip


@erase.command("person")
@click.argument("key")
@user_option("Who erases (audit).")
@click.confirmation_option(prompt="Erase this person's name and contact data for good?")
@click.pass_context
def erase_person(ctx: click.Context, key: str, user: str) -> None:
    """Erase a person's name and contact data; their key stays in the ledger."""
    app_of(ctx).execute(ErasePerson(key), actor=user)
    emit(ctx, {"person": key, "erased": True}, f"{key}: name and contact data erased")
