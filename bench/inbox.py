"""The staff inbox of a user who can see 100,000 open tasks: query and page server time.

Seeds, with Core bulk inserts, ``--instances`` running cases of a one-task SLA process and
``--tasks`` open user tasks visible to 李窗口 (``li``, group ``reception`` in
demo/org.yaml): most offered unclaimed to ``reception``, ``--assigned`` held by li; a
few hundred without a deadline. Around them lie tasks li must not see (other groups'
open tasks, claimed by someone else, completed ones: ``--noise``), so the scope filters
have work to do. Deadlines spread from 20 days overdue to 25 days ahead (created 0–30
days ago), so every traffic light occurs. Then, ``--requests`` times each, interleaved:

* ``raw``   -- the inbox's SQL statements (captured from one real call of the function
  below: the page's keys, one UNION ALL of the held and the offered tasks' walks, then
  the page's rows with their cases), executed on one DB-API cursor and fetched: the floor;
* ``query`` -- ``webapp.reads.inbox_page`` in a read transaction, the function ``/inbox``
  calls: the SQL plus the ORM rows, each row's SLA clock (calendar, working time left,
  traffic light) and the allowed actions;
* ``page``  -- ``GET /inbox`` on the Flask test client, logged in as li: the above plus
  the org snapshot, the session and account check, the unread count and the template.

p50 / p95 / max in milliseconds, on SQLite and PostgreSQL in the same run. The goal
(issue 5): p95 under 20 ms for the query and under 100 ms for the page.

Usage::

    .venv/bin/python bench/inbox.py [--tasks 100000] [--requests 200] [--no-pg]
                                    [--pg-url URL] [--explain] [--page-size 50]

The last line printed is ``query_p95_sqlite=… page_p95_sqlite=… query_p95_pg=…
page_p95_pg=…`` (ms; ``n/a`` for a variant that did not run).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared

_shared.take_bench_off_path()

from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from engine.accounts import CreateAccount, Principal  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.store import (  # noqa: E402
    Definition,
    ProcessInstance,
    Task,
    TaskCandidateGroup,
    make_engine,
)
from webapp import create_app, reads  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/caseclock_bench_inbox"
PROCESS_KEY = "bench_inbox"
USER = "li"
PASSWORD = "bench-pw"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)  # a Monday
STEPS = ("受理", "审核", "复核", "签发", "补正审查")


# --- seeding ------------------------------------------------------------------------------


def _task(rng: random.Random, i: int, instance_id: int, **columns: Any) -> dict[str, Any]:
    created = NOW - timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
    due = created + timedelta(minutes=rng.randrange(10 * 24 * 60, 25 * 24 * 60))
    row = {
        "instance_id": instance_id, "spiff_task_id": str(uuid.UUID(int=i)),
        "element_id": "t", "name": STEPS[i % len(STEPS)], "lane": None, "state": "open",
        "assignee": None, "owner": None, "delegation_state": None,
        "candidate_groups": ["reception"], "created_at": created, "claimed_at": None,
        "ended_at": None, "completed_by": None, "sla_limit": "10 working days",
        "sla_policy": "basic", "calendar_name": None, "due_at": due,
        "warn_at": due - (due - created) / 2, "paused_at": None, "sla_warnings": ["1/2"],
        "sla_on_deadline": "chase", "sla_note": None, "kind": "user", "chase_of_id": None,
        "chase_level": None, "assists_id": None, "outcome": None, "paused_seconds": 0,
        "extended_seconds": 0,
    }  # fmt: skip
    row.update(columns)
    return row


def seed(app: Any, tasks: int, instances: int, assigned: int, noise: int) -> float:
    """The rows described in the module docstring; returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(5)
    definition_id = app.read(lambda s: s.scalar(select(Definition.id)))
    cases = [
        {"definition_id": definition_id, "business_key": f"BJ-{n:06d}", "state": "running",
         "version": 0, "workflow_state": "{}", "data": {}, "started_at": NOW - timedelta(days=30),
         "started_by": "zhao", "ended_at": None, "error": None, "due_at": None,
         "audit_seq": 0, "audit_hash": "0" * 64}
        for n in range(1, instances + 1)
    ]  # fmt: skip
    with app.db.begin() as conn:
        conn.execute(insert(ProcessInstance), cases)
        ids = list(conn.scalars(select(ProcessInstance.id).order_by(ProcessInstance.id)))
    rows = []
    for i in range(tasks + noise):
        instance_id = ids[i % len(ids)]
        if i < assigned:  # held by li
            row = _task(rng, i, instance_id, assignee=USER, claimed_at=NOW)
        elif i < tasks:  # offered to reception; a few without a deadline
            row = _task(rng, i, instance_id)
            if i % 250 == 0:
                row.update(due_at=None, warn_at=None, sla_limit=None, sla_policy=None)
        elif i % 3 == 0:  # noise: another group's pool
            row = _task(rng, i, instance_id, candidate_groups=["reviewers"])
        elif i % 3 == 1:  # noise: reception's, but claimed by chen
            row = _task(rng, i, instance_id, assignee="chen", claimed_at=NOW)
        else:  # noise: done
            row = _task(rng, i, instance_id, state="completed", assignee=USER,
                        ended_at=NOW - timedelta(days=1), completed_by=USER)  # fmt: skip
        rows.append(row)
    for low in range(0, len(rows), _shared.INSERT_BATCH):
        batch = rows[low : low + _shared.INSERT_BATCH]
        with app.db.begin() as conn:
            new = insert(Task).returning(Task.id, sort_by_parameter_order=True)
            task_ids = conn.scalars(new, batch).all()
            links = [
                {"task_id": task_id, "group_key": g}
                for task_id, row in zip(task_ids, batch, strict=True)
                if row["state"] == "open"
                for g in row["candidate_groups"]
            ]
            conn.execute(insert(TaskCandidateGroup), links)
    with app.db.begin() as conn:
        conn.execute(text("ANALYZE"))  # statistics as a live database has them
        groups = conn.execute(
            text("SELECT count(*) FROM task t JOIN task_candidate_group g ON g.task_id = t.id "
                 "WHERE g.group_key = 'reception' AND t.assignee IS NULL AND t.state = 'open'")
        ).scalar()  # fmt: skip
        held = conn.execute(
            text("SELECT count(*) FROM task WHERE assignee = :u AND state = 'open'"), {"u": USER}
        ).scalar()
    visible = groups + held
    assert visible == tasks, f"seeded {visible} visible tasks, wanted {tasks}"
    return time.perf_counter() - started


# --- measuring ----------------------------------------------------------------------------


def principal() -> Principal:
    return Principal(USER, "李窗口", frozenset({"staff"}))


def inbox_statements(app: Any) -> list[tuple[str, Any]]:
    """The SQL the inbox runs (its task and case statements), compiled for the DB-API:
    captured from one real call."""
    captured: list[tuple[str, Any]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "FROM task" in statement or "FROM process_instance" in statement:
            captured.append((statement, parameters))

    from sqlalchemy import event

    event.listen(app.db, "before_cursor_execute", grab)
    try:
        run_query(app)
    finally:
        event.remove(app.db, "before_cursor_execute", grab)
    assert captured, "the inbox query was not seen"
    return captured


def run_query(app: Any) -> list[dict[str, Any]]:
    org = app.services.org
    return app.read(
        lambda s: reads.inbox_page(s, principal(), org.snapshot(s), TZ, app.clock.now()).rows
    )


def run_raw(app: Any, statements: list[tuple[str, Any]]) -> int:
    """Each statement executed and fetched on one pooled DB-API connection; the rows of
    the first (the page's keys: held and offered, dated) counted."""
    raw = app.db.raw_connection()
    counted = 0
    try:
        cursor = raw.cursor()
        for k, (statement, parameters) in enumerate(statements):
            cursor.execute(statement, parameters)
            counted += len(cursor.fetchall()) if k == 0 else 0
        cursor.close()
        raw.commit()
    finally:
        raw.close()
    return counted


def explain(app: Any, statements: list[tuple[str, Any]]) -> None:
    prefix = "EXPLAIN QUERY PLAN " if app.db.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    raw = app.db.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            print("   ", " ".join(statement.split())[:160])
            cursor.execute(prefix + statement, parameters)
            for row in cursor.fetchall():
                print("      ", " | ".join(str(c) for c in row))
        raw.commit()
    finally:
        raw.close()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered) * 1000,
        "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000,
        "max": ordered[-1] * 1000,
    }


def measure(url: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    clock = FrozenClock(NOW)
    diagram = _shared.sla_diagram(PROCESS_KEY, "收件箱基准", "10 working days")
    if not url.startswith("sqlite"):  # drop_all leaves Alembic's stamp of an earlier run
        _shared.reset_database(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    app = _shared.fresh_app(url, [("bench_inbox.bpmn", diagram)], clock=clock)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app.execute(CreateAccount(USER, ["staff"], None, password_hash=cheap.hash(PASSWORD)),
                actor="bench")  # fmt: skip
    seconds = seed(app, args.tasks, args.instances, args.assigned, args.noise)
    print(f"  seeded {args.tasks} visible + {args.noise} other tasks, {args.instances} "
          f"cases in {seconds:.1f} s")  # fmt: skip
    with tempfile.TemporaryDirectory() as inst:
        flask = create_app({"TESTING": True, "SECRET_KEY": "bench", "INSTANCE_PATH": inst},
                           engine=app)  # fmt: skip
        client = flask.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        login = client.post("/login", data={"user": USER, "password": PASSWORD,
                                             "csrf_token": token})  # fmt: skip
        assert login.status_code == 302, login.status_code
        statements = inbox_statements(app)
        if args.explain:
            print("  plans of the inbox statements:")
            explain(app, statements)
        rows = run_query(app)
        assert len(rows) == reads.INBOX_LIMIT, len(rows)
        assert run_raw(app, statements) >= reads.INBOX_LIMIT
        body = client.get("/inbox").get_data(as_text=True)
        assert body.count("data-task=") == reads.INBOX_LIMIT, "the page shows a full page"
        for _ in range(10):  # warm-up: caches, prepared statements, template compile
            run_raw(app, statements), run_query(app), client.get("/inbox")
        times: dict[str, list[float]] = {"raw": [], "query": [], "page": []}
        for _ in range(args.requests):
            t0 = time.perf_counter()
            run_raw(app, statements)
            t1 = time.perf_counter()
            run_query(app)
            t2 = time.perf_counter()
            response = client.get("/inbox")
            t3 = time.perf_counter()
            assert response.status_code == 200
            times["raw"].append(t1 - t0)
            times["query"].append(t2 - t1)
            times["page"].append(t3 - t2)
    app.close()
    return {name: percentiles(samples) for name, samples in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks li may see")
    parser.add_argument("--assigned", type=int, default=2_000, help="of them, held by li")
    parser.add_argument("--noise", type=int, default=30_000, help="tasks li may not see")
    parser.add_argument("--instances", type=int, default=4_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the statements' plans")
    parser.add_argument(
        "--page-size", type=int, default=reads.INBOX_LIMIT,
        help="what-if: rows per inbox page (webapp.reads.INBOX_LIMIT, 50)",
    )  # fmt: skip
    args = parser.parse_args()
    reads.INBOX_LIMIT = args.page_size

    results: dict[str, dict[str, dict[str, float]]] = {}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        print(f"sqlite: {args.tasks} visible tasks, {args.requests} requests, "
              f"{args.page_size} rows a page")  # fmt: skip
        results["sqlite"] = measure(f"sqlite:///{tmp}/inbox.db", args)
    if not args.no_pg:
        problem = _shared.pg_reachable(args.pg_url)
        if problem:
            print(f"postgres: not reachable ({problem})", file=sys.stderr)
            failed = True
        else:
            print(f"postgres: {args.tasks} visible tasks, {args.requests} requests, "
                  f"{args.page_size} rows a page")  # fmt: skip
            results["pg"] = measure(args.pg_url, args)

    print()
    print(f"{'ms':<36}" + "".join(f"{v + ' ' + p:>14}" for v in results for p in ("p50", "p95")))
    labels = {
        "raw": "raw SQL, DB-API (floor)",
        "query": "reads.inbox_page (goal p95 < 20)",
        "page": "GET /inbox (goal p95 < 100)",
    }
    for name, label in labels.items():
        cells = "".join(f"{results[v][name][p]:>14.1f}" for v in results for p in ("p50", "p95"))
        print(f"{label:<36}{cells}")

    def fig(variant: str, name: str) -> str:
        return f"{results[variant][name]['p95']:.1f}" if variant in results else "n/a"

    print(
        f"query_p95_sqlite={fig('sqlite', 'query')} page_p95_sqlite={fig('sqlite', 'page')} "
        f"query_p95_pg={fig('pg', 'query')} page_p95_pg={fig('pg', 'page')}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
