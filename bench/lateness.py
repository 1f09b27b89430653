"""Timer lateness at a steady rate, and the worker's memory over a long run (issue 3).

Lateness -- p99 firing lateness at a steady ``--rate`` due timers per second (goal < 2 s
at 50/s). One fresh database per engine (SQLite file; PostgreSQL: the bench database,
tables re-created) with the demo organisation and a one-task diagram whose SLA is far
away (``caseclock:limit="10 working days"``), so neither its warning nor its deadline
comes due during the bench. Instances are started through the engine with the real
system clock (``CaseClock(Settings(url))``, no frozen clock), then extra SLA warning
timers (``kind='sla'``, ``purpose='warning'``, ``status='waiting'``, task and instance
set, ``TIMERS_PER_TASK`` per open task) are inserted with Core, due ``--rate`` per second
(evenly spaced) over ``--window`` seconds of real time starting ``--lead`` seconds later,
once the worker is running (its start re-plans open clocks, see ``run_lateness``).
One worker process (``multiprocessing`` spawn, its own ``CaseClock`` on the system
clock) runs ``Worker(app, sender=<sends nothing>).start(interval=1.0)`` -- the worker's
real APScheduler loop with its default 1 s poll -- from before the first timer is due
until every timer has fired, then ``stop()``. Lateness of a timer = its ``fired_at``
(the firing command's ``now``) - its ``due_at``; p50/p95/p99/max over all timers.

Memory -- the worker's resident set over a long run. One fresh SQLite database with
``--fires`` SLA warnings already due (same diagram, ``TIMERS_PER_TASK`` per task,
inserted with Core); one worker process (spawn) calls ``Worker.run_once()`` in a loop
(a pass fires up to the whole backlog, batch after batch) and reads its own current RSS
(``/proc/self/statm``, not the monotonic ``ru_maxrss``) after every ``CHECKPOINT``
fires, counted in a wrapper around ``app.execute``. The ratio is RSS after ``--fires``
over RSS after 10,000 (goal <= 1.2 at 100,000). Nothing is sent (the outbox rows stay
pending) and nothing is collected by hand: the worker runs as in production.

Usage::

    .venv/bin/python bench/lateness.py [--rate 50] [--window 30] [--lead 15]
                                       [--fires 50000] [--pg-url URL] [--no-pg]
                                       [--no-lateness] [--no-memory]

The last line printed is always ``p99_sqlite=X.XXs p99_pg=Y.YYs rss_ratio=Z.ZZ``
(``n/a`` for a part that did not run).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ is first on sys.path when a script in it runs, and bench/calendar.py and
# bench/timers.py carry the names of the standard library's ``calendar`` and the
# engine's ``timers`` package: take bench/ off sys.path (spawned workers inherit it, and
# find _shared through the insert).
if __name__ in ("__main__", "__mp_main__"):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared

if __name__ in ("__main__", "__mp_main__"):
    _shared.take_bench_off_path()

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from engine.app import CaseClock
from engine.due_timers import FireTimer
from engine.runtime import StartInstance
from engine.services import Settings
from engine.store import Task, Timer
from timers.worker import Worker

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/caseclock_bench_lateness"
PROCESS_KEY = "bench_late"
TIMERS_PER_TASK = 50  # extra warnings per open task (each fire counts the task's fired ones)
CHECKPOINT = 10_000  # fires between RSS readings; the ratio's base is the first
POLL = 1.0  # Worker.start(interval): the worker's default

DIAGRAM = _shared.sla_diagram(PROCESS_KEY, "Bench lateness", "10 working days")


NoSender = _shared.NoSender  # the worker only fires


# --- set-up --------------------------------------------------------------------------------


def fresh_app(url: str) -> CaseClock:
    """An app on the system clock and an empty schema, with the demo organisation and the
    diagram deployed (PostgreSQL: the database created if missing, tables re-created)."""
    return _shared.fresh_app(url, [("bench_late.bpmn", DIAGRAM)])


def open_tasks(app: CaseClock, timers: int) -> list[tuple[int, int]]:
    """Start enough instances for ``timers`` extra warnings; their (instance, task) ids."""
    for i in range(-(-timers // TIMERS_PER_TASK)):
        app.execute(StartInstance(PROCESS_KEY, business_key=f"late-{i}"))
    rows = app.read(lambda s: s.execute(select(Task.instance_id, Task.id).order_by(Task.id)))
    return [(r[0], r[1]) for r in rows]


def insert_warnings(app: CaseClock, tasks: list[tuple[int, int]], dues: list[datetime]) -> None:
    """One waiting SLA warning per due time, ``TIMERS_PER_TASK`` to a task, round-robin."""
    now = app.clock.now()
    rows = [
        _shared.warning_row(now, instance_id=tasks[i % len(tasks)][0],
                            task_id=tasks[i % len(tasks)][1], due_at=due)
        for i, due in enumerate(dues)
    ]  # fmt: skip
    _shared.insert_timers(app, rows)


pg_reachable = _shared.pg_reachable


# --- lateness ------------------------------------------------------------------------------


@dataclass
class Lateness:
    variant: str
    timers: int
    late: list[float]  # seconds, one per fired timer
    ready_margin: float  # seconds between the worker being ready and the first due time
    setup_seconds: float

    def pct(self, p: float) -> float:
        ordered = sorted(self.late)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def polling_worker(url: str, ready: Any, stop: Any) -> None:
    """The worker as deployed: APScheduler ticks every POLL seconds until told to stop."""
    app = CaseClock(Settings(database_url=url))
    try:
        worker = Worker(app, "bench-late", sender=NoSender())  # type: ignore[arg-type]
        app.read(lambda s: s.scalar(select(func.count()).select_from(Timer)))  # connect
        worker.start(interval=POLL)
        ready.set()
        stop.wait()
        worker.stop()
    finally:
        app.close()


def run_lateness(label: str, url: str, rate: float, window: float, lead: float) -> Lateness:
    n = round(rate * window)
    started = time.perf_counter()
    app = fresh_app(url)
    try:
        tasks = open_tasks(app, n)
        setup = time.perf_counter() - started
        ctx = mp.get_context("spawn")
        ready, stop = ctx.Event(), ctx.Event()
        proc = ctx.Process(target=polling_worker, args=(url, ready, stop))
        proc.start()
        try:
            if not ready.wait(timeout=lead + 60):
                raise RuntimeError(f"{label}: the worker did not start")
            # Only now: Worker.start() re-plans every open task's pending warnings
            # (RecomputeClocks), which would move the earliest extra warning of each task.
            insert_started = time.perf_counter()
            first = app.clock.now() + timedelta(seconds=lead)
            dues = [first + timedelta(seconds=i / rate) for i in range(n)]
            insert_warnings(app, tasks, dues)
            setup += time.perf_counter() - insert_started
            margin = (first - datetime.now(timezone.utc)).total_seconds()
            time.sleep(max(0.0, (dues[-1] - datetime.now(timezone.utc)).total_seconds()))
            waiting = select(func.count()).where(
                Timer.status == "waiting", Timer.purpose == "warning", Timer.due_at <= dues[-1]
            )
            deadline = time.monotonic() + 120
            while app.read(lambda s: s.scalar(waiting)) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            stop.set()
            proc.join(timeout=60)
        rows = app.read(
            lambda s: s.execute(
                select(Timer.status, Timer.due_at, Timer.fired_at).where(
                    Timer.due_at >= dues[0], Timer.due_at <= dues[-1]
                )
            ).all()
        )
    finally:
        app.close()
    fired = [r for r in rows if r[0] == "fired" and r[2] is not None]
    if len(rows) != n or len(fired) != n:
        states = statistics.multimode([r[0] for r in rows])
        raise RuntimeError(
            f"{label}: {len(fired)} of {n} timers fired ({len(rows)} rows, {states})"
        )
    late = [(r[2] - r[1]).total_seconds() for r in fired]
    return Lateness(label, n, late, margin, setup)


# --- memory --------------------------------------------------------------------------------


def rss_mib() -> float:
    """Current resident set of this process (Linux), MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_worker(url: str, fires: int, results: Any) -> None:
    """Fire the backlog with ``run_once`` in a loop, reading RSS every CHECKPOINT fires."""
    app = CaseClock(Settings(database_url=url))
    try:
        worker = Worker(app, "bench-mem", sender=NoSender())  # type: ignore[arg-type]
        execute = app.execute
        fired, readings = [0], [(0, rss_mib(), 0.0)]
        began = time.perf_counter()

        def counting(command: Any, actor: str = "system") -> Any:
            done = execute(command, actor)
            if isinstance(command, FireTimer) and done:
                fired[0] += 1
                if fired[0] % CHECKPOINT == 0 or fired[0] == fires:
                    readings.append((fired[0], rss_mib(), time.perf_counter() - began))
            return done

        app.execute = counting  # type: ignore[method-assign]
        while fired[0] < fires:
            result = worker.run_once()
            if result.failed or not result.fired:
                raise RuntimeError(f"pass fired {result.fired}, failed {result.failed}")
        results.put({"readings": readings})
    except BaseException as exc:
        results.put({"error": repr(exc)})
        raise
    finally:
        app.close()


@dataclass
class Memory:
    fires: int
    readings: list[tuple[int, float, float]]  # (fires so far, RSS MiB, seconds)
    setup_seconds: float

    def at(self, fires: int) -> float:
        return next(r[1] for r in self.readings if r[0] == fires)

    @property
    def ratio(self) -> float:
        return self.at(self.fires) / self.at(CHECKPOINT)


def run_memory(url: str, fires: int) -> Memory:
    started = time.perf_counter()
    app = fresh_app(url)
    try:
        tasks = open_tasks(app, fires)
        now = app.clock.now()
        insert_warnings(
            app, tasks, [now - timedelta(hours=1, seconds=-i / 1000) for i in range(fires)]
        )
    finally:
        app.close()
    setup = time.perf_counter() - started
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=memory_worker, args=(url, fires, results))
    proc.start()
    try:
        report = results.get(timeout=3600)
    finally:
        proc.join(timeout=60)
    if "error" in report:
        raise RuntimeError(f"memory worker failed: {report['error']}")
    return Memory(fires, report["readings"], setup)


# --- reporting -----------------------------------------------------------------------------


def print_lateness(results: list[Lateness], rate: float) -> None:
    print(f"firing lateness at {rate:g} due/s (fired_at - due_at, s; worker poll {POLL:g} s)")
    head = (
        f"{'variant':<12}{'timers':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'min':>8}"
        f"{'ready s':>9}{'setup s':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.variant:<12}{r.timers:>8}{r.pct(50):>8.2f}{r.pct(95):>8.2f}{r.pct(99):>8.2f}"
            f"{max(r.late):>8.2f}{min(r.late):>8.2f}{r.ready_margin:>9.1f}{r.setup_seconds:>9.1f}"
        )


def print_memory(m: Memory) -> None:
    print(f"worker RSS, SQLite, run_once over {m.fires:,} due SLA warnings (/proc/self/statm)")
    head = f"{'fires':>8}{'RSS MiB':>10}{'x @10k':>8}{'seconds':>9}{'fires/s':>9}"
    print(head)
    print("-" * len(head))
    base = m.at(CHECKPOINT)
    for fires, rss, seconds in m.readings:
        rate = f"{fires / seconds:>9.0f}" if fires else f"{'-':>9}"
        print(f"{fires:>8}{rss:>10.1f}{rss / base:>8.3f}{seconds:>9.1f}{rate}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="due timers per second (50)")
    parser.add_argument("--window", type=float, default=30.0, help="seconds of due times (30)")
    parser.add_argument("--lead", type=float, default=15.0, help="seconds to the first (15)")
    parser.add_argument("--fires", type=int, default=50_000, help="memory run (50000)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"({DEFAULT_PG_URL})")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-lateness", action="store_true", help="skip the lateness part")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory part")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.window <= 0 or args.lead < 5 or args.fires < 2 * CHECKPOINT:
        parser.error(f"--rate/--window positive, --lead >= 5, --fires >= {2 * CHECKPOINT}")
    if args.fires % CHECKPOINT:
        parser.error(f"--fires must be a multiple of {CHECKPOINT}")

    print(f"lateness: {args.rate:g}/s for {args.window:g} s ({round(args.rate * args.window):,} "
          f"timers), memory: {args.fires:,} fires; python {sys.version.split()[0]}")  # fmt: skip
    failed = False
    pg = not args.no_pg and not args.no_lateness
    if pg and (reason := pg_reachable(args.pg_url)) is not None:
        print(f"PostgreSQL not run: cannot reach {args.pg_url} ({reason}); use --pg-url or "
              "--no-pg", file=sys.stderr)  # fmt: skip
        pg, failed = False, True

    late: dict[str, Lateness] = {}
    memory: Memory | None = None
    with tempfile.TemporaryDirectory(prefix="caseclock-bench-") as tmp:
        if not args.no_lateness:
            url = f"sqlite:///{Path(tmp) / 'lateness.db'}"
            late["sqlite"] = run_lateness("SQLite", url, args.rate, args.window, args.lead)
            if pg:
                late["pg"] = run_lateness(
                    "PostgreSQL", args.pg_url, args.rate, args.window, args.lead
                )
        if not args.no_memory:
            memory = run_memory(f"sqlite:///{Path(tmp) / 'memory.db'}", args.fires)

    print()
    if late:
        print_lateness(list(late.values()), args.rate)
        print()
    if memory:
        print_memory(memory)
        print()

    def p99(key: str) -> str:
        return f"{late[key].pct(99):.2f}s" if key in late else "n/a"

    ratio = f"{memory.ratio:.2f}" if memory else "n/a"
    print(f"p99_sqlite={p99('sqlite')} p99_pg={p99('pg')} rss_ratio={ratio}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
