"""Two processes act on the same task at the same moment: exactly one wins.

Run on SQLite (BEGIN IMMEDIATE) and, with CASECLOCK_TEST_DATABASE_URL, on PostgreSQL
(SELECT … FOR UPDATE on the instance row). Each process has its own engine, its own
workflow cache and its own connection pool, as separate workers would.
"""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlalchemy import select

from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.store import AuditEvent

from .conftest import SHIPPED, deploy
from .helpers import open_tasks, view

RECEIVE = {"applicant_name": "张三", "matter": "许可", "documents_complete": True}


def _act(url: str, action: str, task_id: int, user: str, label: str, go, results) -> None:
    from engine.app import CaseClock
    from engine.errors import CaseClockError
    from engine.services import Settings

    app = CaseClock(Settings(database_url=url))
    # Warm the cache so both processes hold the workflow in memory before the race.
    app.read(lambda s: None)
    go.wait(10)
    try:
        if action == "complete":
            app.execute(CompleteTask(task_id, user, RECEIVE), actor=user)
        else:
            app.execute(ClaimTask(task_id, user), actor=user)
        results.put((label, "ok"))
    except CaseClockError as exc:
        results.put((label, f"{exc.code}: {exc.message}"))
    finally:
        app.close()


def race(database_url: str, action: str, task_id: int, users: list[str]) -> dict[str, str]:
    ctx = mp.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_act, args=(database_url, action, task_id, u, f"{u}#{i}", go, results))
        for i, u in enumerate(users)
    ]
    for p in procs:
        p.start()
    go.set()
    outcome = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
    return outcome


@pytest.fixture
def case(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    return org_app.execute(StartInstance("case_handling", "BJ-R")).id


def test_two_concurrent_completes_one_wins(org_app, database_url, case):
    task_id = open_tasks(org_app, case)["Task_receive"]["id"]
    org_app.execute(ClaimTask(task_id, "li"))
    outcome = race(database_url, "complete", task_id, ["li", "li"])
    assert sorted(outcome.values()) == [
        f"conflict: task {task_id} is already completed",
        "ok",
    ], outcome
    history = [e["command"] for e in view(org_app, case)["history"]]
    assert history.count("complete") == 1
    assert list(open_tasks(org_app, case)) == ["Task_review"]


def test_two_concurrent_claims_one_wins(org_app, database_url, case):
    task_id = open_tasks(org_app, case)["Task_receive"]["id"]
    outcome = race(database_url, "claim", task_id, ["li", "chen"])
    winners = [label.split("#")[0] for label, r in outcome.items() if r == "ok"]
    assert len(winners) == 1, outcome
    [loser] = [r for r in outcome.values() if r != "ok"]
    assert loser == f"conflict: task {task_id} is already claimed by {winners[0]}"
    assert open_tasks(org_app, case)["Task_receive"]["assignee"] == winners[0]


def _append_events(url: str, count: int, go) -> None:
    from engine import audit
    from engine.app import CaseClock
    from engine.services import Settings

    app = CaseClock(Settings(database_url=url))
    go.wait(10)
    for n in range(count):
        app.execute(lambda ctx, n=n: audit.append(ctx, "note", payload={"n": n}), actor="p")
    app.close()


def test_concurrent_read_modify_writes_lose_nothing(app, database_url):
    """4 processes x 25 appends to one chain: each append reads the head and writes the
    next sequence number. pysqlite's default BEGIN would lose some silently."""
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_append_events, args=(database_url, 25, go)) for _ in range(4)]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    seqs = app.read(
        lambda s: list(s.scalars(select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq)))
    )
    assert seqs == list(range(1, 101))
