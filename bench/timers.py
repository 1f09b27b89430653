"""Timers at volume: the due-timer scan against a large schedule, and a burst drain.

Scan -- how the worker's acquisition query scales with the number of *pending* (not yet
due) timers. One fresh database per engine: the demo organisation, a one-task diagram
with an SLA (``caseclock:limit="1 working hours"``, ``caseclock:warnings="1/2"``) and
one instance started through the engine; then, with Core bulk inserts (``executemany``),
``--small`` pending SLA warning timers (``kind='sla'``, ``purpose='warning'``,
``status='waiting'``, due between one day and a year ahead) attached to that instance,
plus ``--due`` timers already due. ``AcquireDueTimers(owner, limit=50)`` is timed in
its own transaction (the locking SELECT and the flush of the 50 leases, i.e. the whole
command but its COMMIT), then rolled back, so nothing changes between repetitions; the
median of ``--reps`` runs counts. More pending rows are then inserted up to
``--pending`` and the scan timed again. PostgreSQL gets an ``ANALYZE`` after each bulk
insert, as autovacuum would do; SQLite is left as the engine leaves it (no ANALYZE).

Drain -- how fast due SLA warnings are fired. One fresh database per variant;
``--drain`` instances of the SLA diagram are started through the engine (one command
each) with the engine clock frozen at Monday 2026-03-02 09:00 (Asia/Shanghai), so each
open task has a real warning timer due at 09:30 and a deadline at 10:00. Then 1 or 2
worker processes (``multiprocessing`` spawn, each with its own ``CaseClock`` on the
database and a ``FrozenClock`` at 09:45: warnings due, deadlines not) run
``timers.worker.Worker(app, owner).run_once()`` after a barrier. Every warning writes
two outbox rows (in-app and e-mail to the head of the reviewers' department). The rate
is warnings fired / (last worker done - first worker started). Afterwards the bench
checks every warning fired exactly once (timer status, one ``sla_warning`` audit event
each) and two outbox rows per warning with distinct idempotency keys. Variants: SQLite
with 1 worker (a single writer), PostgreSQL with 1 and 2 workers.

Usage::

    .venv/bin/python bench/timers.py [--pending 1000000] [--small 1000] [--due 50]
                                     [--reps 30] [--drain 2000] [--pg-url URL] [--no-pg]
                                     [--no-scan] [--no-drain]

The last line printed is always ``scan_ratio_sqlite=X.XX scan_ratio_pg=Y.YY
drain_sqlite_1w=A drain_pg_1w=B drain_pg_2w=C`` (scan ms with ``--pending`` divided by
scan ms with ``--small``; drain in warnings fired per second; ``n/a`` for a variant that
did not run).
"""

# ruff: noqa: E402

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on sys.path, and this file and
# bench/calendar.py would shadow the ``timers`` package and the standard library's
# ``calendar`` module. Spawned workers inherit the corrected path.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]

import argparse
import gc
import multiprocessing as mp
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import OperationalError

from engine.app import CaseClock
from engine.clock import FrozenClock
from engine.definitions import DeployDiagrams
from engine.due_timers import AcquireDueTimers
from engine.executor import CommandContext
from engine.org import ImportOrg, parse_org_file
from engine.runtime import StartInstance
from engine.services import Settings
from engine.store import AuditEvent, Base, OutboxMessage, Timer, make_engine
from engine.store.database import ensure_database
from timers.worker import BATCH, Worker

ROOT = _BENCH.parent
ORG_FILE = ROOT / "demo" / "org.yaml"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/caseclock_bench_timers"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday, 09:00
SCAN_AT = datetime(2026, 3, 2, 9, 15, tzinfo=SHANGHAI)  # the real instance's timers: later
DRAIN_AT = datetime(2026, 3, 2, 9, 45, tzinfo=SHANGHAI)  # warnings (09:30) due, not deadlines
PROCESS_KEY = "bench_sla"
INSERT_BATCH = 10_000
WARMUP_REPS = 3
OUTBOX_PER_WARNING = 2  # in-app + e-mail to liu, head of the reviewers' department

DIAGRAM = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:caseclock="http://caseclock.dev/schema/1.0" id="Defs" targetNamespace="bench">'
    f'<bpmn:process id="{PROCESS_KEY}" name="Bench SLA" isExecutable="true">'
    '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<bpmn:userTask id="t" name="审核" camunda:candidateGroups="reviewers" '
    'caseclock:limit="1 working hours" caseclock:warnings="1/2"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
    "</bpmn:process></bpmn:definitions>"
).encode()


# --- databases -----------------------------------------------------------------------------


def fresh_app(url: str, at: datetime) -> tuple[CaseClock, FrozenClock]:
    """An app on an empty schema (PostgreSQL: created if missing, tables re-created) with
    the demo organisation and the SLA diagram deployed."""
    if not url.startswith("sqlite"):
        ensure_database(url)
        engine = make_engine(url)
        Base.metadata.drop_all(engine)
        engine.dispose()
    clock = FrozenClock(at)
    app = CaseClock(Settings(database_url=url), clock=clock)
    app.init_schema()
    app.execute(ImportOrg(parse_org_file(ORG_FILE.name, ORG_FILE.read_bytes())))
    app.execute(DeployDiagrams([("bench_sla.bpmn", DIAGRAM)]), actor="bench")
    return app, clock


def pg_reachable(url: str) -> str | None:
    """None if PostgreSQL answers, else a one-line reason."""
    try:
        ensure_database(url)
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0]
    return None


# --- scan ----------------------------------------------------------------------------------


@dataclass
class Scan:
    pending: int
    timings_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms)


@dataclass
class ScanResult:
    variant: str
    small: Scan
    large: Scan
    insert_seconds: float
    plan: list[str]

    @property
    def ratio(self) -> float:
        return self.large.median / self.small.median


def timer_rows(instance_id: int, dues: list[datetime], created: datetime) -> list[dict[str, Any]]:
    return [
        {
            "instance_id": instance_id,
            "spiff_task_id": "",
            "element_id": "t",
            "name": "warning: 审核",
            "kind": "sla",
            "purpose": "warning",
            "task_id": None,
            "interrupting": False,
            "attached_to": None,
            "due_at": due,
            "status": "waiting",
            "lease_owner": None,
            "lease_until": None,
            "created_at": created,
            "fired_at": None,
            "attempts": 0,
            "last_error": None,
        }  # fmt: skip
        for due in dues
    ]


def insert_pending(app: CaseClock, instance_id: int, first: int, last: int) -> None:
    """Pending timers number ``first``..``last - 1``, due 1 day to 1 year after SCAN_AT."""
    now = app.clock.now()
    base, spread = now + timedelta(days=1), 364 * 86_400
    for low in range(first, last, INSERT_BATCH):
        high = min(low + INSERT_BATCH, last)
        # A fixed stride through the year: spread out, not in insertion order.
        dues = [base + timedelta(seconds=(i * 7_919) % spread) for i in range(low, high)]
        with app.db.begin() as conn:
            conn.execute(insert(Timer), timer_rows(instance_id, dues, now))


def analyze(app: CaseClock) -> None:
    if app.db.dialect.name == "postgresql":
        with app.db.begin() as conn:
            conn.execute(text("ANALYZE timer"))


def time_scans(app: CaseClock, due: int, reps: int, batch: int) -> list[float]:
    timings = []
    for rep in range(WARMUP_REPS + reps):
        session = app.sessions()
        try:
            with session.begin():
                ctx = CommandContext(session, app.services, "bench", app.clock.now(), "acquire")
                started = time.perf_counter()
                ids = AcquireDueTimers("bench-scan", batch)(ctx)
                session.flush()  # the 50 leases, as the commit would
                elapsed = time.perf_counter() - started
                session.rollback()
        finally:
            session.close()
        if len(ids) != min(due, batch):
            raise RuntimeError(f"scan returned {len(ids)} timers, want {min(due, batch)}")
        if rep >= WARMUP_REPS:
            timings.append(elapsed * 1000)
    leased = app.read(lambda s: s.scalar(select(func.count()).where(Timer.lease_owner.isnot(None))))
    if leased:
        raise RuntimeError(f"{leased} leases survived the rollback")
    return timings


def explain(app: CaseClock, batch: int) -> list[str]:
    """The plan of the statement AcquireDueTimers issues, with its parameters inlined."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and "FROM timer" in statement:
            captured.append((statement, parameters))

    event.listen(app.db, "before_cursor_execute", capture)
    session = app.sessions()
    try:
        with session.begin():
            ctx = CommandContext(session, app.services, "bench", app.clock.now(), "acquire")
            AcquireDueTimers("bench-explain", batch)(ctx)
            session.rollback()
    finally:
        session.close()
        event.remove(app.db, "before_cursor_execute", capture)
    statement, parameters = captured[0]
    prefix = "EXPLAIN QUERY PLAN " if app.db.dialect.name == "sqlite" else "EXPLAIN "
    with app.db.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        conn.rollback()
    return [str(row[-1]) for row in rows]


def run_scan(label: str, url: str, small: int, pending: int, due: int, reps: int) -> ScanResult:
    app, clock = fresh_app(url, STARTED)
    try:
        instance_id = app.execute(StartInstance(PROCESS_KEY, business_key="scan")).id
        clock.set(SCAN_AT)
        now = clock.now()
        dues = [now - timedelta(seconds=due - i) for i in range(due)]
        with app.db.begin() as conn:
            conn.execute(insert(Timer), timer_rows(instance_id, dues, now))
        insert_pending(app, instance_id, 0, small)
        analyze(app)
        small_scan = Scan(small, time_scans(app, due, reps, BATCH))
        started = time.perf_counter()
        insert_pending(app, instance_id, small, pending)
        inserted = time.perf_counter() - started
        analyze(app)
        large_scan = Scan(pending, time_scans(app, due, reps, BATCH))
        plan = explain(app, BATCH)
    finally:
        app.close()
    return ScanResult(label, small_scan, large_scan, inserted, plan)


# --- drain ---------------------------------------------------------------------------------


@dataclass
class DrainResult:
    variant: str
    workers: int
    timers: int
    seconds: float
    setup_seconds: float
    statements: int
    commits: int
    per_worker: list[int]
    outbox: int

    @property
    def rate(self) -> float:
        return self.timers / self.seconds if self.seconds else float("inf")


def drain_worker(url: str, at: str, owner: str, barrier: Any, results: Any) -> None:
    """One worker process: its own engine, clock and connection pool; one pass."""
    app = CaseClock(Settings(database_url=url), clock=FrozenClock(datetime.fromisoformat(at)))
    counts = {"statements": 0, "commits": 0}

    def on_execute(*_args: Any) -> None:
        counts["statements"] += 1

    def on_commit(*_args: Any) -> None:
        counts["commits"] += 1

    try:
        app.read(lambda s: s.scalar(select(1)))  # connect before the clock starts
        event.listen(app.db, "before_cursor_execute", on_execute)
        event.listen(app.db, "commit", on_commit)
        worker = Worker(app, owner)
        gc.collect()
        barrier.wait(timeout=120)
        started = time.monotonic()
        result = worker.run_once()
        ended = time.monotonic()
        results.put((owner, result.fired, result.failed, started, ended, counts))
    except BaseException as exc:
        results.put((owner, -1, -1, 0.0, 0.0, {"error": repr(exc)}))
        raise
    finally:
        app.close()


def start_instances(app: CaseClock, n: int) -> None:
    for i in range(n):
        app.execute(StartInstance(PROCESS_KEY, business_key=f"drain-{i}"))


def run_drain(label: str, url: str, n: int, workers: int) -> DrainResult:
    app, _clock = fresh_app(url, STARTED)
    try:
        started = time.perf_counter()
        start_instances(app, n)
        setup = time.perf_counter() - started
    finally:
        app.close()

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=drain_worker,
            args=(url, DRAIN_AT.isoformat(), f"bench-w{i + 1}", barrier, results),
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    reports = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    failed = [r for r in reports if r[1] < 0 or r[2]]
    if failed or any(proc.exitcode for proc in procs):
        raise RuntimeError(f"{label}: worker failed: {failed}")
    seconds = max(r[4] for r in reports) - min(r[3] for r in reports)
    fired = sum(r[1] for r in reports)

    app = CaseClock(Settings(database_url=url), clock=FrozenClock(DRAIN_AT))
    try:
        outbox = check_drain(app, label, n, fired)
    finally:
        app.close()
    return DrainResult(
        label,
        workers,
        fired,
        seconds,
        setup,
        statements=sum(r[5]["statements"] for r in reports),
        commits=sum(r[5]["commits"] for r in reports),
        per_worker=[r[1] for r in sorted(reports)],
        outbox=outbox,
    )


def check_drain(app: CaseClock, label: str, n: int, fired: int) -> int:
    """Every warning fired exactly once, with its two outbox rows; no deadline fired."""

    def counts(s: Any) -> dict[str, int]:
        warnings = select(func.count()).where(Timer.kind == "sla", Timer.purpose == "warning")
        return {
            "fired": s.scalar(warnings.where(Timer.status == "fired")),
            "not fired": s.scalar(warnings.where(Timer.status != "fired")),
            "deadlines fired": s.scalar(
                select(func.count()).where(Timer.purpose == "deadline", Timer.status == "fired")
            ),
            "audit": s.scalar(select(func.count()).where(AuditEvent.command == "sla_warning")),
            "outbox": s.scalar(select(func.count()).select_from(OutboxMessage)),
            "keys": s.scalar(select(func.count(func.distinct(OutboxMessage.idempotency_key)))),
        }

    got = app.read(counts)
    want = {"fired": n, "not fired": 0, "deadlines fired": 0, "audit": n,
            "outbox": OUTBOX_PER_WARNING * n, "keys": OUTBOX_PER_WARNING * n}  # fmt: skip
    if got != want or fired != n:
        raise RuntimeError(f"{label}: workers reported {fired} fired; database {got}, want {want}")
    return got["outbox"]


# --- reporting -----------------------------------------------------------------------------


def print_scans(results: list[ScanResult], due: int) -> None:
    small, large = results[0].small.pending, results[0].large.pending
    print(f"due-timer scan (AcquireDueTimers, batch {BATCH} of {due} due; "
          f"median of the reps, ms)")  # fmt: skip
    head = (
        f"{'variant':<12}{f'{small:,} pending':>16}{f'{large:,} pending':>20}{'ratio':>8}"
        f"{'min..max (large)':>20}{'insert s':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        spread = f"{min(r.large.timings_ms):.2f}..{max(r.large.timings_ms):.2f}"
        print(
            f"{r.variant:<12}{r.small.median:>16.2f}{r.large.median:>20.2f}{r.ratio:>8.2f}"
            f"{spread:>20}{r.insert_seconds:>10.1f}"
        )
    for r in results:
        print(f"plan ({r.variant}, {large:,} pending):")
        for line in r.plan:
            print(f"    {line}")


def print_drains(results: list[DrainResult]) -> None:
    print("burst drain (SLA warnings, 2 outbox rows each)")
    head = (
        f"{'variant':<18}{'workers':>8}{'timers':>8}{'seconds':>9}{'fires/s':>9}"
        f"{'per worker':>14}{'stmts/fire':>12}{'commits/fire':>14}{'setup s':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        split = "/".join(str(x) for x in r.per_worker)
        print(
            f"{r.variant:<18}{r.workers:>8}{r.timers:>8}{r.seconds:>9.2f}{r.rate:>9.1f}"
            f"{split:>14}{r.statements / r.timers:>12.1f}{r.commits / r.timers:>14.2f}"
            f"{r.setup_seconds:>9.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pending", type=int, default=1_000_000, help="large schedule (1e6)")
    parser.add_argument("--small", type=int, default=1000, help="small schedule (1000)")
    parser.add_argument("--due", type=int, default=50, help="timers already due (50)")
    parser.add_argument("--reps", type=int, default=30, help="timed scans per size (30)")
    parser.add_argument("--drain", type=int, default=2000, help="due warnings per drain (2000)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"({DEFAULT_PG_URL})")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL variants")
    parser.add_argument("--no-scan", action="store_true", help="skip the scan")
    parser.add_argument("--no-drain", action="store_true", help="skip the drain")
    args = parser.parse_args(argv)
    if min(args.small, args.due, args.reps, args.drain) < 1 or args.pending <= args.small:
        parser.error("counts must be positive and --pending larger than --small")

    print(f"timers: scan {args.small:,} vs {args.pending:,} pending + {args.due} due, "
          f"drain {args.drain:,} warnings; python {sys.version.split()[0]}")  # fmt: skip
    failed = False
    pg = not args.no_pg
    if pg and (reason := pg_reachable(args.pg_url)) is not None:
        print(f"PostgreSQL variants not run: cannot reach {args.pg_url} ({reason}); "
              "use --pg-url or --no-pg", file=sys.stderr)  # fmt: skip
        pg, failed = False, True

    scans: dict[str, ScanResult] = {}
    drains: dict[str, DrainResult] = {}
    with tempfile.TemporaryDirectory(prefix="caseclock-bench-") as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'scan.db'}"
        if not args.no_scan:
            scans["sqlite"] = run_scan(
                "SQLite", sqlite_url, args.small, args.pending, args.due, args.reps
            )
            if pg:
                scans["pg"] = run_scan(
                    "PostgreSQL", args.pg_url, args.small, args.pending, args.due, args.reps
                )
        if not args.no_drain:
            drain_url = f"sqlite:///{Path(tmp) / 'drain.db'}"
            drains["sqlite_1w"] = run_drain("SQLite", drain_url, args.drain, 1)
            if pg:
                drains["pg_1w"] = run_drain("PostgreSQL", args.pg_url, args.drain, 1)
                drains["pg_2w"] = run_drain("PostgreSQL", args.pg_url, args.drain, 2)

    print()
    if scans:
        print_scans(list(scans.values()), args.due)
        print()
    if drains:
        print_drains(list(drains.values()))
        print()

    def ratio(key: str) -> str:
        return f"{scans[key].ratio:.2f}" if key in scans else "n/a"

    def rate(key: str) -> str:
        return f"{drains[key].rate:.0f}" if key in drains else "n/a"

    print(f"scan_ratio_sqlite={ratio('sqlite')} scan_ratio_pg={ratio('pg')} "
          f"drain_sqlite_1w={rate('sqlite_1w')} drain_pg_1w={rate('pg_1w')} "
          f"drain_pg_2w={rate('pg_2w')}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
