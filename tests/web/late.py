"""A case that goes overdue, shared by the board, ledger and browser tests.

BJ-0001's 受理 is claimed by 李窗口 (li) on Monday 2 March 09:00 and due Tuesday 17:30;
on Wednesday 4 March 10:00 the worker fires its deadline: a breach in the ledger and a
催办 task for li's superior 王科长 (wang). BJ-0002's 受理 sits unclaimed in the
reception pool, so its chase goes to wang's superior (qian), not to wang.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine.runtime import ClaimTask
from engine.store import Task
from timers.worker import Worker

from ..conftest import SHANGHAI
from .conftest import Site

OVERDUE = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)


def go_overdue(site: Site, clock) -> int:  # type: ignore[no-untyped-def]
    """Returns wang's chase task."""
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    clock.set(OVERDUE)
    Worker(site.engine).run_once()
    return site.engine.read(
        lambda s: s.scalars(
            select(Task.id).where(Task.kind == "chase", Task.assignee == "wang")
        ).one()
    )
