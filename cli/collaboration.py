"""``caseclock comment`` and ``caseclock assist …`` (协办): working on a case together."""

from __future__ import annotations

import click

from engine.assistance import DEFAULT_LIMIT, AnswerAssist, RequestAssist
from engine.comments import AddComment

from . import app_of, emit, main
from .params import ID, user_option


@main.command()
@click.argument("instance_id", type=ID)
@click.argument("text")
@user_option("Who writes it.", required=True)
@click.option("--task", "task_id", type=ID, help="The task it is about, if any.")
@click.pass_context
def comment(ctx: click.Context, instance_id: int, text: str, user: str,
            task_id: int | None) -> None:  # fmt: skip
    """Add a comment to a case (or one of its tasks)."""
    row = app_of(ctx).execute(AddComment(instance_id, user, text, task_id), actor=user)
    emit(ctx, {"id": row.id, "instance_id": instance_id, "task_id": task_id},
         f"comment {row.id} on case {instance_id}")  # fmt: skip


@main.group()
def assist() -> None:
    """协办: ask another department's group for input, with its own deadline."""


@assist.command("request")
@click.argument("task_id", type=ID)
@user_option("Who asks (the task's holder).", required=True)
@click.option("--group", required=True, help="The group to ask (key or name).")
@click.option("--question", required=True, help="What input is needed.")
@click.option("--limit", default=DEFAULT_LIMIT, show_default=True, help="Its own time limit.")
@click.pass_context
def request(ctx: click.Context, task_id: int, user: str, group: str, question: str,
            limit: str) -> None:  # fmt: skip
    """Ask GROUP for input on TASK_ID; the request is chased in GROUP's own chain."""
    row = app_of(ctx).execute(RequestAssist(task_id, user, group, question, limit), actor=user)
    due = row.due_at.astimezone(app_of(ctx).services.timezone).isoformat() if row.due_at else None
    emit(ctx, {"id": row.id, "group": row.candidate_groups[0], "due_at": due},
         f"协办 request {row.id} to {row.candidate_groups[0]}, due {due}")  # fmt: skip


@assist.command("answer")
@click.argument("request_id", type=ID)
@user_option("Who answers (the request's holder).", required=True)
@click.option("--answer", required=True, help="The input given.")
@click.pass_context
def answer(ctx: click.Context, request_id: int, user: str, answer: str) -> None:
    """Answer a 协办 request you claimed; the asking task's holder is told."""
    row = app_of(ctx).execute(AnswerAssist(request_id, user, answer), actor=user)
    emit(ctx, {"id": row.id, "outcome": row.outcome}, f"协办 request {row.id} answered")
