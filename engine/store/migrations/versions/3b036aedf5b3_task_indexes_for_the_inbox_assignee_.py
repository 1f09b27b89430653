"""task indexes for the inbox: (assignee, state, due_at, id) and (state, due_at, id)

Revision ID: 3b036aedf5b3
Revises: cfdba449efe4
Create Date: 2026-11-29 07:01:13.182258

The staff inbox walks open tasks in deadline order until its page is full (webapp/reads.py
``_soonest``): (state, due_at, id) for the group pool, and (assignee, state, due_at, id),
which replaces (assignee, state) and still serves every lookup that one served, for what
one person holds. Reviewed: index changes only, no table is rebuilt.
"""

from __future__ import annotations

from alembic import op

revision = "3b036aedf5b3"
down_revision = "cfdba449efe4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_assignee_state"))
        batch_op.create_index(
            batch_op.f("ix_task_assignee_state_due_at_id"),
            ["assignee", "state", "due_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_task_state_due_at_id"), ["state", "due_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_state_due_at_id"))
        batch_op.drop_index(batch_op.f("ix_task_assignee_state_due_at_id"))
        batch_op.create_index(
            batch_op.f("ix_task_assignee_state"), ["assignee", "state"], unique=False
        )
