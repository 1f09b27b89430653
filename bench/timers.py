"""Timers at volume: the due-timer scan against a large schedule, and a burst drain.

Scan -- how the worker's acquisition query scales with the number of *pending* (not yet
due) timers. Two fresh databases per engine (PostgreSQL: the bench database and the same
name + ``_small``), each with the demo organisation, a one-task diagram with an SLA
(``caseclock:limit="1 working hours"``, ``caseclock:warnings="1/2"``) and one instance
started through the engine; then, with Core bulk inserts (``executemany``), ``--due``
timers already due plus ``--small`` (in one) or ``--pending`` (in the other) pending SLA
warning timers (``kind='sla'``, ``purpose='warning'``, ``status='waiting'``, due between
one day and a year ahead) attached to that instance. ``AcquireDueTimers(owner,
limit=50)`` is timed as the worker runs it (``app.execute``: the locking SELECT, the 50
leases, COMMIT), then the 50 leases are cleared by id (untimed), so every run finds the
same state. The two databases are measured in alternating rounds (so machine
noise hits both alike) and the median of ``--reps`` runs each counts. PostgreSQL gets an
``ANALYZE`` after the bulk insert, as autovacuum would do; SQLite is left as the engine
leaves it (no ANALYZE). The plan of the statement on the large schedule is printed.

Drain -- how fast due SLA warnings are fired. One fresh database per variant;
``--drain`` instances of the SLA diagram are started through the engine (one command
each) with the engine clock frozen at Monday 2026-03-02 09:00 (Asia/Shanghai), so each
open task has a real warning timer due at 09:30 and a deadline at 10:00. Then 1 or 2
worker processes (``multiprocessing`` spawn, each with its own ``CaseClock`` on the
database and a ``FrozenClock`` at 09:45: warnings due, deadlines not) run
``timers.worker.Worker(app, owner).run_once()`` after a barrier. Every warning writes
two outbox rows (in-app and e-mail to the head of the reviewers' department).
``run_once`` fires the due timers and sends the outbox, batch after batch; unless
``--send`` the bench gives the worker a sender that sends nothing (the outbox rows stay
pending), with ``--send`` the real ``OutboxSender`` delivers the e-mails to a local
aiosmtpd server (in-app notices need no delivery). The rate is warnings fired / (the end
of the last ``FireTimer`` of any worker - the first worker's start), so with ``--send``
it includes the sending interleaved with the firing; "pass s" is the whole pass.
Per fire the table also shows the statements, commits and CPU time (the worker's and,
on PostgreSQL, its server backend's, from /proc) spent in ``AcquireDueTimers`` and
``FireTimer``, whatever else the pass does. Afterwards the bench checks
every warning fired exactly once (timer status, one ``sla_warning`` audit event each),
no deadline fired, two outbox rows per warning with distinct idempotency keys, and with
``--send`` every row sent and one e-mail per warning received. Variants: SQLite with 1
worker (a single writer), PostgreSQL with 1 and 2 workers.

Usage::

    .venv/bin/python bench/timers.py [--pending 1000000] [--small 1000] [--due 50]
                                     [--reps 30] [--drain 2000] [--pg-url URL] [--no-pg]
                                     [--no-scan] [--no-drain] [--send]

The last line printed is always ``scan_ratio_sqlite=X.XX scan_ratio_pg=Y.YY
drain_sqlite_1w=A drain_pg_1w=B drain_pg_2w=C`` (scan ms with ``--pending`` divided by
scan ms with ``--small``; drain in warnings fired per second; ``n/a`` for a variant that
did not run).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file's name is the engine's ``timers`` package. Whenever a script in bench/ runs,
# bench/ is first on sys.path, so ``import timers.worker`` would find this file (and
# ``import calendar`` bench/calendar.py, which hands the real module over itself). Imported
# under that name, this file hands the real package over at once; run as a script, it
# takes bench/ off sys.path (spawned workers inherit the corrected path, and find
# _shared through the insert below).
if __name__ in ("__main__", "__mp_main__"):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared

if __name__ == "timers":
    _shared.hand_over("timers", [str(_shared.ROOT), *_shared.without_bench()])
elif __name__ in ("__main__", "__mp_main__"):
    _shared.take_bench_off_path()

import argparse
import contextlib
import email
import email.policy
import gc
import multiprocessing as mp
import os
import socket
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select, text, update
from sqlalchemy.engine import make_url

from engine.app import CaseClock
from engine.clock import FrozenClock
from engine.due_timers import AcquireDueTimers, FireTimer
from engine.executor import CommandContext
from engine.runtime import StartInstance
from engine.services import Settings
from engine.store import AuditEvent, OutboxMessage, Timer
from timers.sender import OutboxSender, SenderConfig
from timers.worker import BATCH, Worker

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/caseclock_bench_timers"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday, 09:00
SCAN_AT = datetime(2026, 3, 2, 9, 15, tzinfo=SHANGHAI)  # the real instance's timers: later
DRAIN_AT = datetime(2026, 3, 2, 9, 45, tzinfo=SHANGHAI)  # warnings (09:30) due, not deadlines
PROCESS_KEY = "bench_sla"
INSERT_BATCH = _shared.INSERT_BATCH
WARMUP_REPS = 3  # per round
SCAN_OWNER = "bench-scan"
SCAN_ROUNDS = 10
OUTBOX_PER_WARNING = 2  # in-app + e-mail to liu, head of the reviewers' department

DIAGRAM = _shared.sla_diagram(PROCESS_KEY, "Bench SLA", "1 working hours")


# --- databases -----------------------------------------------------------------------------


def fresh_app(url: str, at: datetime) -> tuple[CaseClock, FrozenClock]:
    """An app on an empty schema (PostgreSQL: created if missing, tables re-created) with
    the demo organisation and the SLA diagram deployed."""
    clock = FrozenClock(at)
    app = _shared.fresh_app(url, [("bench_sla.bpmn", DIAGRAM)], clock)
    return app, clock


pg_reachable = _shared.pg_reachable


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
    """Waiting SLA warnings of the scan instance (no task: the scan never fires them)."""
    return [_shared.warning_row(created, instance_id=instance_id, due_at=due) for due in dues]


def insert_pending(app: CaseClock, instance_id: int, first: int, last: int) -> None:
    """Pending timers number ``first``..``last - 1``, due 1 day to 1 year after SCAN_AT."""
    now = app.clock.now()
    base, spread = now + timedelta(days=1), 364 * 86_400
    for low in range(first, last, INSERT_BATCH):
        high = min(low + INSERT_BATCH, last)
        # A fixed stride through the year: spread out, not in insertion order.
        dues = [base + timedelta(seconds=(i * 7_919) % spread) for i in range(low, high)]
        _shared.insert_timers(app, timer_rows(instance_id, dues, now))


def analyze(app: CaseClock) -> None:
    if app.db.dialect.name == "postgresql":
        with app.db.begin() as conn:
            conn.execute(text("ANALYZE timer"))


def time_scans(app: CaseClock, due: int, reps: int, batch: int) -> list[float]:
    """``reps`` timed runs of the worker's acquisition command, each handed back at once.

    The command runs as the worker runs it (``app.execute``: its own transaction, the
    locking SELECT, the 50 leases flushed, COMMIT), so PostgreSQL sees it as in
    production: psycopg prepares it server-side after 5 runs on a connection (a rollback
    would reset that). The leases are then cleared by id, untimed, so every run finds the
    same state. (Not with the engine's ``ReleaseLeases``: it filters on ``lease_owner``,
    which has no index, so it reads the whole table and would evict the cache.)
    """
    timings = []
    for rep in range(WARMUP_REPS + reps):
        started = time.perf_counter()
        ids = app.execute(AcquireDueTimers(SCAN_OWNER, batch), actor="worker")
        elapsed = time.perf_counter() - started
        with app.db.begin() as conn:
            released = conn.execute(
                update(Timer)
                .where(Timer.id.in_(ids), Timer.lease_owner == SCAN_OWNER)
                .values(lease_owner=None, lease_until=None)
            ).rowcount
        if len(ids) != min(due, batch) or released != len(ids):
            raise RuntimeError(f"scan leased {len(ids)} timers, released {released}, "
                               f"want {min(due, batch)}")  # fmt: skip
        if rep >= WARMUP_REPS:
            timings.append(elapsed * 1000)
    return timings


def explain(app: CaseClock, batch: int) -> list[str]:
    """The plan of the statement AcquireDueTimers issues, with its parameters inlined;
    on PostgreSQL also which plans the server used for it while it was timed."""
    plan_counts = None
    if app.db.dialect.name == "postgresql":
        # psycopg prepares a statement server-side after its 5th run on a connection;
        # PostgreSQL then picks custom (parameter-aware) or generic plans for it. The
        # pool's one connection is the one the timed scans ran on. Read this first: a
        # rollback (below) makes psycopg forget its prepared statements.
        with app.db.connect() as conn:
            plan_counts = conn.execute(
                text(
                    "SELECT custom_plans, generic_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE :pattern"
                ),
                {"pattern": "%FROM timer%SKIP LOCKED%"},
            ).first()
            conn.commit()
    captured: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
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
        plan = [str(row[-1]) for row in conn.exec_driver_sql(prefix + statement, parameters)]
        conn.rollback()
    if app.db.dialect.name == "postgresql":
        plan.append(
            "timed runs, prepared by psycopg: custom plans {}, generic plans {}".format(
                *plan_counts
            )
            if plan_counts
            else "timed runs: not prepared server-side"
        )
    return plan


def scan_database(url: str, pending: int, due: int) -> tuple[CaseClock, float]:
    """A fresh database with one SLA instance, ``due`` due and ``pending`` pending timers;
    the app's clock at SCAN_AT. Returns the app and the seconds the bulk insert took."""
    app, clock = fresh_app(url, STARTED)
    try:
        instance_id = app.execute(StartInstance(PROCESS_KEY, business_key="scan")).id
        clock.set(SCAN_AT)
        now = clock.now()
        dues = [now - timedelta(seconds=due - i) for i in range(due)]
        _shared.insert_timers(app, timer_rows(instance_id, dues, now))
        started = time.perf_counter()
        insert_pending(app, instance_id, 0, pending)
        inserted = time.perf_counter() - started
        analyze(app)
    except BaseException:
        app.close()
        raise
    return app, inserted


def run_scan(
    label: str, urls: tuple[str, str], small: int, pending: int, due: int, reps: int
) -> ScanResult:
    """Both schedule sizes in their own database, measured in alternating rounds so that
    noise from the machine (and the settling after a bulk insert) hits both alike."""
    small_app, _ = scan_database(urls[0], small, due)
    try:
        large_app, inserted = scan_database(urls[1], pending, due)
        try:
            small_ms: list[float] = []
            large_ms: list[float] = []
            rounds = max(1, min(SCAN_ROUNDS, reps))
            for i in range(rounds):
                share = reps // rounds + (1 if i < reps % rounds else 0)
                small_ms += time_scans(small_app, due, share, BATCH)
                large_ms += time_scans(large_app, due, share, BATCH)
            plan = explain(large_app, BATCH)
        finally:
            large_app.close()
    finally:
        small_app.close()
    return ScanResult(label, Scan(small, small_ms), Scan(pending, large_ms), inserted, plan)


def small_pg_url(url: str) -> str:
    """The database for the small schedule: the bench database's name + ``_small``."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_small").render_as_string(hide_password=False)


# --- drain ---------------------------------------------------------------------------------


@dataclass
class DrainResult:
    variant: str
    workers: int
    timers: int
    seconds: float  # the firing phase: first worker started .. last worker done firing
    setup_seconds: float
    statements: int  # during the firing phase
    commits: int
    per_worker: list[int]
    outbox: int
    worker_cpu: float = 0.0  # seconds of CPU in the worker processes while firing
    db_cpu: float | None = None  # PostgreSQL: seconds of CPU in their server backends
    pass_seconds: float | None = None  # with --send: .. last worker done sending
    sent: int | None = None

    @property
    def rate(self) -> float:
        return self.timers / self.seconds if self.seconds else float("inf")


NoSender = _shared.NoSender


class FiringMeter:
    """Wraps the worker's ``app.execute``: the statements, commits and CPU (the worker's,
    and its PostgreSQL backend's) spent in ``AcquireDueTimers`` and ``FireTimer``, and when
    the last ``FireTimer`` ended, however the worker interleaves firing and sending."""

    def __init__(self, app: CaseClock, counts: dict[str, int], backend: int | None) -> None:
        self.counts, self.backend = counts, backend
        self.spent = {"statements": 0, "commits": 0, "cpu": 0.0, "db_cpu": 0.0}
        self.db_cpu_known = backend is None or process_cpu(backend) is not None
        self.last_fire = 0.0
        self._execute = app.execute
        app.execute = self  # type: ignore[method-assign]

    def __call__(self, command: Any, actor: str = "system") -> Any:
        if not isinstance(command, AcquireDueTimers | FireTimer):
            return self._execute(command, actor)
        before = (dict(self.counts), time.process_time(), process_cpu(self.backend))
        try:
            return self._execute(command, actor)
        finally:
            for key in ("statements", "commits"):
                self.spent[key] += self.counts[key] - before[0][key]
            self.spent["cpu"] += time.process_time() - before[1]
            after = process_cpu(self.backend)
            if before[2] is not None and after is not None:
                self.spent["db_cpu"] += after - before[2]
            if isinstance(command, FireTimer):
                self.last_fire = time.monotonic()


def process_cpu(pid: int | None) -> float | None:
    """User + system CPU seconds of a process on this host (Linux), None if unknown."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pid(app: CaseClock) -> int | None:
    """The server process behind the (single, reused) pooled connection: PostgreSQL only."""
    if app.db.dialect.name != "postgresql":
        return None
    return app.read(lambda s: s.scalar(text("SELECT pg_backend_pid()")))


def drain_worker(
    url: str, at: str, owner: str, smtp_port: int | None, barrier: Any, results: Any
) -> None:
    """One worker process: its own engine, clock and connection pool; one pass."""
    app = CaseClock(Settings(database_url=url), clock=FrozenClock(datetime.fromisoformat(at)))
    counts = {"statements": 0, "commits": 0}

    def on_execute(*_args: Any) -> None:
        counts["statements"] += 1

    def on_commit(*_args: Any) -> None:
        counts["commits"] += 1

    try:
        sender: Any = NoSender()
        if smtp_port is not None:
            config = SenderConfig(smtp_host="127.0.0.1", smtp_port=smtp_port)
            sender = OutboxSender(app, config=config, owner=f"{owner}-outbox")
        worker = Worker(app, owner, sender=sender)
        backend = backend_pid(app)  # also connects before the clock starts
        event.listen(app.db, "before_cursor_execute", on_execute)
        event.listen(app.db, "commit", on_commit)
        meter = FiringMeter(app, counts, backend)
        gc.collect()
        barrier.wait(timeout=120)
        started = time.monotonic()
        result = worker.run_once()
        ended = time.monotonic()
        # The CPU of the backend is only attributable if the pool kept one connection.
        same_backend = backend is None or backend_pid(app) == backend
        results.put({
            "owner": owner, "fired": result.fired, "failed": result.failed,
            "sent": result.sent, "send_failed": result.send_failed, "started": started,
            "fired_at": meter.last_fire, "ended": ended, **meter.spent,
            "db_cpu_known": backend is not None and same_backend and meter.db_cpu_known,
        })  # fmt: skip
    except BaseException as exc:
        results.put({"owner": owner, "error": repr(exc)})
        raise
    finally:
        app.close()


class SmtpSink:
    """A local SMTP server (aiosmtpd) that counts what it accepts, for ``--send``."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller  # a test dependency: only with --send

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.message_ids: list[str] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.message_ids.append(str(parsed["Message-ID"]))
        return "250 OK"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()


def start_instances(app: CaseClock, n: int) -> None:
    for i in range(n):
        app.execute(StartInstance(PROCESS_KEY, business_key=f"drain-{i}"))


def run_drain(label: str, url: str, n: int, workers: int, send: bool) -> DrainResult:
    app, _clock = fresh_app(url, STARTED)
    try:
        started = time.perf_counter()
        start_instances(app, n)
        setup = time.perf_counter() - started
    finally:
        app.close()

    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(SmtpSink()) if send else None
        reports = run_workers(url, workers, sink.port if sink else None)
        received = len(set(sink.message_ids)) if sink else None
    errors = [r for r in reports if "error" in r or r["failed"] or r["send_failed"]]
    if errors:
        raise RuntimeError(f"{label}: worker failed: {errors}")
    fired = sum(r["fired"] for r in reports)
    first = min(r["started"] for r in reports)

    app = CaseClock(Settings(database_url=url), clock=FrozenClock(DRAIN_AT))
    try:
        outbox = check_drain(app, label, n, fired, send)
    finally:
        app.close()
    if send and received != n:
        raise RuntimeError(f"{label}: the SMTP sink received {received} e-mails, want {n}")
    return DrainResult(
        label,
        workers,
        fired,
        max(r["fired_at"] for r in reports) - first,
        setup,
        statements=sum(r["statements"] for r in reports),
        commits=sum(r["commits"] for r in reports),
        per_worker=[r["fired"] for r in sorted(reports, key=lambda r: r["owner"])],
        outbox=outbox,
        worker_cpu=sum(r["cpu"] for r in reports),
        db_cpu=sum(r["db_cpu"] for r in reports)
        if all(r["db_cpu_known"] for r in reports)
        else None,
        pass_seconds=max(r["ended"] for r in reports) - first if send else None,
        sent=sum(r["sent"] for r in reports) if send else None,
    )


def run_workers(url: str, workers: int, smtp_port: int | None) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=drain_worker,
            args=(url, DRAIN_AT.isoformat(), f"bench-w{i + 1}", smtp_port, barrier, results),
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        return [results.get(timeout=900) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=60)


def check_drain(app: CaseClock, label: str, n: int, fired: int, sent: bool) -> int:
    """Every warning fired exactly once, with its two outbox rows; no deadline fired."""

    def counts(s: Any) -> dict[str, int]:
        warnings = select(func.count()).where(Timer.kind == "sla", Timer.purpose == "warning")
        outbox = select(func.count()).select_from(OutboxMessage)
        return {
            "fired": s.scalar(warnings.where(Timer.status == "fired")),
            "not fired": s.scalar(warnings.where(Timer.status != "fired")),
            "deadlines fired": s.scalar(
                select(func.count()).where(Timer.purpose == "deadline", Timer.status == "fired")
            ),
            "audit": s.scalar(select(func.count()).where(AuditEvent.command == "sla_warning")),
            "outbox": s.scalar(outbox),
            "keys": s.scalar(select(func.count(func.distinct(OutboxMessage.idempotency_key)))),
            "outbox sent": s.scalar(outbox.where(OutboxMessage.status == "sent")),
        }

    got = app.read(counts)
    rows = OUTBOX_PER_WARNING * n
    want = {"fired": n, "not fired": 0, "deadlines fired": 0, "audit": n, "outbox": rows,
            "keys": rows, "outbox sent": rows if sent else 0}  # fmt: skip
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
    print(f"burst drain (SLA warnings, {OUTBOX_PER_WARNING} outbox rows each; "
          "seconds = the firing phase)")  # fmt: skip
    send = any(r.sent is not None for r in results)
    head = (
        f"{'variant':<12}{'workers':>8}{'timers':>8}{'seconds':>9}{'fires/s':>9}"
        f"{'per worker':>12}{'stmts/fire':>12}{'commits/fire':>14}{'cpu ms/f':>10}"
        f"{'db ms/f':>8}{'setup s':>9}"
    )
    head += f"{'sent':>7}{'pass s':>8}{'sent/s':>8}" if send else ""
    print(head)
    print("-" * len(head))
    for r in results:
        split = "/".join(str(x) for x in r.per_worker)
        db_cpu = "-" if r.db_cpu is None else f"{r.db_cpu / r.timers * 1000:.2f}"
        line = (
            f"{r.variant:<12}{r.workers:>8}{r.timers:>8}{r.seconds:>9.2f}{r.rate:>9.1f}"
            f"{split:>12}{r.statements / r.timers:>12.1f}{r.commits / r.timers:>14.2f}"
            f"{r.worker_cpu / r.timers * 1000:>10.2f}{db_cpu:>8}{r.setup_seconds:>9.1f}"
        )
        if r.sent is not None and r.pass_seconds is not None:
            line += f"{r.sent:>7}{r.pass_seconds:>8.2f}{r.sent / r.pass_seconds:>8.1f}"
        print(line)


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
    parser.add_argument(
        "--send",
        action="store_true",
        help="let the workers also send the outbox (e-mail to a local aiosmtpd server)",
    )
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
        if not args.no_scan:
            urls = (
                f"sqlite:///{Path(tmp) / 'scan_small.db'}",
                f"sqlite:///{Path(tmp) / 'scan.db'}",
            )
            scans["sqlite"] = run_scan(
                "SQLite", urls, args.small, args.pending, args.due, args.reps
            )
            if pg:
                urls = (small_pg_url(args.pg_url), args.pg_url)
                scans["pg"] = run_scan(
                    "PostgreSQL", urls, args.small, args.pending, args.due, args.reps
                )
        if not args.no_drain:
            drain_url = f"sqlite:///{Path(tmp) / 'drain.db'}"
            drains["sqlite_1w"] = run_drain("SQLite", drain_url, args.drain, 1, args.send)
            if pg:
                drains["pg_1w"] = run_drain("PostgreSQL", args.pg_url, args.drain, 1, args.send)
                drains["pg_2w"] = run_drain("PostgreSQL", args.pg_url, args.drain, 2, args.send)

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
