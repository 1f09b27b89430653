"""A refused form, said once: the task page, the admin and collection pages and the
supervisor board say a refusal at the field of the form that sent it or under its
button, and in the message area only when the page no longer offers that form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect

from engine.errors import CaseClockError, Conflict, NotFound, ValidationError


def refusal(exc: CaseClockError, form: str, field: str | None = None) -> dict[str, str]:
    """Where the refusal of ``form`` is said, keyed as the page's errors: each field the
    engine names at that field (``form.field``); bad input that names none, or a name
    that does not exist, at ``field`` when the form has one to blame; anything else (a
    conflict) under the form's button (``form``)."""
    fields = dict(exc.details.get("fields") or {})
    if not fields and field is not None and isinstance(exc, ValidationError | NotFound):
        fields = {field: exc.message}
    return {f"{form}.{key}": message for key, message in fields.items()} or {form: exc.message}


def said_once(page: Callable[[dict[str, str]], str], errors: dict[str, str], status: int,
              offered: bool, back: str) -> Any:  # fmt: skip
    """A refused form's page: ``page(errors)`` says each message in the form that was
    sent, never in the message area too. When the page no longer offers that form (its
    row was removed, the task claimed by someone else meanwhile), the message area says it
    instead: a conflict after a redirect to ``back``, the page as it is now; anything else
    on the page, with its status."""
    if offered:
        return page(errors), status
    for message in errors.values():
        flash(message, "error")
    if status == Conflict.http_status:
        return redirect(back, 303)
    return page({}), status
