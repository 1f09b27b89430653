"""What the per-case audit hash chain costs: commands/s with the chain as built vs with
its hashing switched off, on SQLite and PostgreSQL (1 and 4 processes).

The command mix is one case of ``bench/reference_case.bpmn`` (three sequential user
tasks of the reception group, each with a required one-field form and a PT4H boundary
timer) worked as an office would: start; claim (li), reassign to chen (by wang, the
head of the window), complete (chen); then claim + complete (li) twice — 8 commands per
case, every one its own committed transaction that appends one audit event to the
case's chain.

"chain on" is the engine as built: every event's SHA-256 over its JSON body, chained to
the previous event's hash (head kept on the instance row). "chain off" replaces
``engine.audit.row_hash`` **in the bench processes only** (a monkeypatch, no production
flag) with a constant: no JSON encoding, no SHA-256; the sequence and hash columns are
still written (they ride on the instance row's UPDATE that every command makes anyway).
The erasable-data digest (``private_sha256``, not part of the chain) is left as it is.

Each run gets a fresh database (SQLite: a file in a temporary directory; PostgreSQL: the
bench database, tables re-created) with the demo organisation and the diagram. Worker
processes (``multiprocessing`` spawn, each its own ``CaseClock``) work ``--warmup``
uncounted cases, wait at a barrier, then work ``--cases`` cases each, on their own
cases (per-case chains never contend). Rate = all counted commands / (last worker done -
first worker started); the table also shows the worker processes' CPU per command, which
a busy machine disturbs less than the wall clock, and (chain on) the time spent inside
``row_hash`` per command and as a share of that CPU. Variants alternate on/off for
``--rounds`` rounds and the median counts. Afterwards a "chain on" database must verify
clean (``audit_verify.verify``) and every counted event of a "chain off" run must carry
the constant hash.

Usage::

    .venv/bin/python bench/chain.py [--cases 100] [--warmup 5] [--rounds 3]
                                    [--pg-url URL] [--no-pg]

The last two lines printed are always ``hash_share_sqlite_1p=… hash_share_pg_1p=…
hash_share_pg_4p=…`` (time in ``row_hash`` / worker CPU, chain on) and
``chain_cost_sqlite_1p=X% chain_cost_pg_1p=Y% chain_cost_pg_4p=Z%`` (1 - on/off rate);
``n/a`` for a variant that did not run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Spawned workers re-run this file with bench/ already off sys.path: see _shared.
if __name__ in ("__main__", "__mp_main__"):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared

if __name__ in ("__main__", "__mp_main__"):
    _shared.take_bench_off_path()

import argparse
import multiprocessing as mp
import statistics
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine import audit
from engine.app import CaseClock
from engine.audit_verify import verify
from engine.executor import CommandContext
from engine.runtime import ClaimTask, CompleteTask, ReassignTask, StartInstance
from engine.services import Settings
from engine.store import AuditEvent, Task

DIAGRAM = _shared.BENCH / "reference_case.bpmn"
PROCESS_KEY = "reference_case"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/caseclock_bench_chain"
COMMANDS_PER_CASE = 8
FORM_FIELD = {"Task_register": "register_note", "Task_check": "check_note",
              "Task_close": "close_note"}  # fmt: skip
OFF_HASH = audit.GENESIS  # what every event gets with the hashing off


def disable_chain_hashing() -> None:
    """Bench only: every event's hash becomes a constant, so the chain costs nothing to
    compute. ``audit.append`` looks ``row_hash`` up in its module at each call."""
    audit.row_hash = lambda _row: OFF_HASH  # type: ignore[assignment]


class StartAndFindTask:
    """``StartInstance``, then the task row it opened, in the same transaction (one extra
    SELECT, the same in both variants)."""

    name = "start"

    def __init__(self, business_key: str) -> None:
        self.start = StartInstance(PROCESS_KEY, business_key=business_key)

    def __call__(self, ctx: CommandContext) -> Task:
        instance = self.start(ctx)
        return ctx.session.scalars(
            select(Task).where(Task.instance_id == instance.id, Task.state == "open")
        ).one()


def work_case(app: CaseClock, business_key: str) -> None:
    """The 8-command mix of one case."""
    task = app.execute(StartAndFindTask(business_key), actor="li")
    for step in range(3):
        data = {FORM_FIELD[task.element_id]: f"bench {business_key} {step}"}
        app.execute(ClaimTask(task.id, "li"), actor="li")
        holder = "li"
        if step == 0:
            app.execute(ReassignTask(task.id, "chen"), actor="wang")
            holder = "chen"
        opened = app.execute(CompleteTask(task.id, holder, data), actor=holder)
        if step < 2:
            [task] = opened


def time_chain_hashing() -> list[float]:
    """Bench only: accumulate the seconds spent in ``row_hash`` (chain on), a share of
    the command's CPU that a busy machine cannot blur the way it blurs two wall clocks."""
    spent = [0.0]
    real = audit.row_hash

    def timed(row: Mapping[str, Any]) -> str:
        started = time.perf_counter()
        try:
            return real(row)
        finally:
            spent[0] += time.perf_counter() - started

    audit.row_hash = timed  # type: ignore[assignment]
    return spent


def worker(
    url: str, chain: bool, name: str, cases: int, warmup: int, barrier: Any, results: Any
) -> None:
    """One process: its own engine; warm-up, barrier, the counted cases."""
    hashing = time_chain_hashing() if chain else [0.0]
    if not chain:
        disable_chain_hashing()
    app = CaseClock(Settings(database_url=url))
    try:
        for i in range(warmup):
            work_case(app, f"{name}-warm-{i}")
        barrier.wait(timeout=300)
        started, cpu, hashing[0] = time.monotonic(), time.process_time(), 0.0
        for i in range(cases):
            work_case(app, f"{name}-{i}")
        results.put({"name": name, "started": started, "ended": time.monotonic(),
                     "cpu": time.process_time() - cpu, "hashing": hashing[0]})  # fmt: skip
    except BaseException as exc:
        results.put({"name": name, "error": repr(exc)})
        raise
    finally:
        app.close()


@dataclass
class Run:
    commands: int
    seconds: float
    cpu: float  # seconds of CPU in the worker processes (not the database server)
    hashing: float  # seconds in row_hash (chain on only)

    @property
    def rate(self) -> float:
        return self.commands / self.seconds


def run_once(url: str, chain: bool, processes: int, cases: int, warmup: int) -> Run:
    if url.startswith("sqlite:///"):  # a fresh file (PostgreSQL: fresh_app drops tables)
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    _shared.fresh_app(url, [(DIAGRAM.name, DIAGRAM.read_bytes())]).close()
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(url, chain, f"p{i}", cases, warmup, barrier, results))
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    try:
        reports = [results.get(timeout=1800) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=60)
    if errors := [r for r in reports if "error" in r]:
        raise RuntimeError(f"worker failed: {errors}")
    check(url, chain, processes * (cases + warmup) * COMMANDS_PER_CASE)
    seconds = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    cpu, hashing = sum(r["cpu"] for r in reports), sum(r["hashing"] for r in reports)
    return Run(processes * cases * COMMANDS_PER_CASE, seconds, cpu, hashing)


def check(url: str, chain: bool, commands: int) -> None:
    """Chain on: every chain verifies. Chain off: the hashing really was off."""
    app = CaseClock(Settings(database_url=url))
    try:
        case_events = AuditEvent.chain_key.like("instance:%")
        count = app.read(lambda s: s.scalar(select(func.count()).where(case_events)))
        if count != commands:
            raise RuntimeError(f"{count} case events, want {commands}")
        if chain:
            if breaks := app.read(verify):
                raise RuntimeError(f"chain on, but verify found {breaks[:3]}")
            return
        constant = app.read(lambda s: s.scalar(
            select(func.count()).where(case_events, AuditEvent.hash == OFF_HASH)
        ))  # fmt: skip
        if constant != commands:
            raise RuntimeError(f"chain off, but {commands - constant} events were hashed")
    finally:
        app.close()


@dataclass
class Pair:
    variant: str
    processes: int
    on: list[Run]
    off: list[Run]

    @staticmethod
    def median(runs: list[Run]) -> float:
        return statistics.median(r.rate for r in runs)

    @property
    def cost(self) -> float:
        return 1 - self.median(self.on) / self.median(self.off)

    @property
    def hash_us(self) -> float:
        """µs in ``row_hash`` per command, chain on (median)."""
        return statistics.median(r.hashing / r.commands * 1e6 for r in self.on)

    @property
    def hash_share(self) -> float:
        """Hashing as a share of the worker CPU of a command, chain on (median)."""
        return statistics.median(r.hashing / r.cpu for r in self.on)

    @staticmethod
    def cpu_us(runs: list[Run]) -> float:
        """Worker CPU per command, µs (median): less sensitive to a busy machine."""
        return statistics.median(r.cpu / r.commands * 1e6 for r in runs)


def measure(variant: str, url: str, processes: int, cases: int, warmup: int, rounds: int) -> Pair:
    pair = Pair(variant, processes, [], [])
    for _ in range(rounds):  # alternating, so machine noise hits both alike
        pair.on.append(run_once(url, True, processes, cases, warmup))
        pair.off.append(run_once(url, False, processes, cases, warmup))
    return pair


def print_pairs(pairs: list[Pair]) -> None:
    head = (
        f"{'variant':<12}{'procs':>6}{'commands':>10}{'chain on cmd/s':>16}"
        f"{'chain off cmd/s':>17}{'cost':>8}{'cpu µs/cmd on':>15}{'off':>7}"
        f"{'hash µs/cmd':>13}{'hash/cpu':>10}{'on runs':>16}{'off runs':>16}"
    )
    print(head)
    print("-" * len(head))
    for p in pairs:
        on = "/".join(f"{r.rate:.0f}" for r in p.on)
        off = "/".join(f"{r.rate:.0f}" for r in p.off)
        print(
            f"{p.variant:<12}{p.processes:>6}{p.on[0].commands:>10}{p.median(p.on):>16.0f}"
            f"{p.median(p.off):>17.0f}{p.cost * 100:>7.1f}%{p.cpu_us(p.on):>15.0f}"
            f"{p.cpu_us(p.off):>7.0f}{p.hash_us:>13.1f}{p.hash_share * 100:>9.2f}%"
            f"{on:>16}{off:>16}"
        )


def hash_micros(samples: int = 2000) -> float:
    """The hashing alone: µs per ``row_hash`` of a typical complete event."""
    from datetime import datetime, timezone

    row = AuditEvent(chain_key="instance:123", chain_seq=7, prev_hash="a" * 64,
                     at=datetime.now(timezone.utc), actor="li", command="complete",
                     instance_id=123, task_id=456,
                     payload={"user": "li", "private_sha256": "b" * 64})  # fmt: skip
    started = time.perf_counter()
    for _ in range(samples):
        audit.event_hash(row)
    return (time.perf_counter() - started) / samples * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100, help="counted cases per process")
    parser.add_argument("--warmup", type=int, default=5, help="uncounted cases per process")
    parser.add_argument("--rounds", type=int, default=3, help="on/off rounds; median (3)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"({DEFAULT_PG_URL})")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    if min(args.cases, args.rounds) < 1 or args.warmup < 0:
        parser.error("--cases and --rounds must be at least 1, --warmup at least 0")
    print(f"audit chain cost: {COMMANDS_PER_CASE} commands per case, {args.cases} cases per "
          f"process, {args.rounds} rounds; row_hash alone {hash_micros():.1f} µs; "
          f"python {sys.version.split()[0]}")  # fmt: skip
    failed, pg = False, not args.no_pg
    if pg and (reason := _shared.pg_reachable(args.pg_url)) is not None:
        print(f"PostgreSQL not run: cannot reach {args.pg_url} ({reason}); use --pg-url or "
              "--no-pg", file=sys.stderr)  # fmt: skip
        pg, failed = False, True
    pairs: dict[str, Pair] = {}
    with tempfile.TemporaryDirectory(prefix="caseclock-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'chain.db'}"
        pairs["sqlite_1p"] = measure("SQLite", url, 1, args.cases, args.warmup, args.rounds)
    if pg:
        for n in (1, 4):
            pairs[f"pg_{n}p"] = measure(
                "PostgreSQL", args.pg_url, n, args.cases, args.warmup, args.rounds
            )
    print()
    print_pairs(list(pairs.values()))
    print()

    def cost(key: str) -> str:
        return f"{pairs[key].cost * 100:.1f}%" if key in pairs else "n/a"

    def share(key: str) -> str:
        return f"{pairs[key].hash_share * 100:.2f}%" if key in pairs else "n/a"

    print(f"hash_share_sqlite_1p={share('sqlite_1p')} hash_share_pg_1p={share('pg_1p')} "
          f"hash_share_pg_4p={share('pg_4p')}")  # fmt: skip
    print(f"chain_cost_sqlite_1p={cost('sqlite_1p')} chain_cost_pg_1p={cost('pg_1p')} "
          f"chain_cost_pg_4p={cost('pg_4p')}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
