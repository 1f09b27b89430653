"""The aging report (账龄) over many receivables, on SQLite and PostgreSQL (issue 6).

Goal: ``caseclock report aging`` over 1,000,000 receivables in under 5 s.

One scratch database per engine (a SQLite file in a temporary directory; the PostgreSQL
database ``caseclock_bench_aging``, its tables dropped and created again) is seeded with
``--rows`` receivables straight through the driver -- ``executemany`` in batches on
SQLite, ``COPY`` on PostgreSQL -- not through the import command, which validates and
audits row by row. The seed is deterministic and varied: three products, eight
departments, forty collectors (some receivables have none), due dates from two years
ago to four months ahead (every bucket), one in five on a three-instalment schedule,
2 % in USD and 1 % opened after the report day (both left out by the report), and
payments: a third partly paid (some also with fees), 4 % paid off, 3 % paid only after
the report day (ignored). The seed time is printed, but it is not the measured figure.

Measured: :func:`engine.collection.aging.aging`, the function ``caseclock report aging``
calls, ``--by product``, ``department`` and ``collector`` in turn, ``--reps`` times each
(p50 and max), and beside it in the same run the floor: a plain ``GROUP BY`` of the
receivable table by the same column in raw SQL (one scan, no instalments, no payments).
Each report's totals are checked against the totals the seed computed in Python.

Usage::

    .venv/bin/python bench/aging.py [--rows 1000000] [--reps 5] [--pg-url URL] [--no-pg]

The last line printed is ``aging_sqlite_s=X.XX aging_pg_s=Y.YY``: the slowest of the
three groupings' p50 (``n/a`` for an engine that did not run).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ is first on sys.path when a script in it runs, and bench/calendar.py and
# bench/timers.py carry the names of the standard library's ``calendar`` and the engine's
# ``timers`` package: take bench/ off sys.path once _shared is imported.
if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared

if __name__ == "__main__":
    _shared.take_bench_off_path()

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from engine.collection.aging import GROUP_COLUMNS, AgingReport, aging
from engine.store import Base, make_engine

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/caseclock_bench_aging"
AS_OF = date(2026, 6, 30)
BATCH = 50_000
GOAL_S = 5.0
PRODUCTS = ("loan", "credit_card", "trade_receivable")
DEPARTMENTS = tuple(f"dept-{n}" for n in range(1, 9))
COLLECTORS = tuple(f"collector-{n:02d}" for n in range(1, 41))
CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)

COLUMNS = {
    "customer": ("id", "key", "name", "credit_currency", "blacklisted", "created_at"),
    "receivable": (
        "id", "key", "customer_id", "product", "principal_minor", "currency", "due_date",
        "opened_on", "department_key", "collector_key", "guarantee", "grace_days",
        "penalty_rate", "day_count", "rounding", "allocation_order", "carried_fees_minor",
        "created_at", "created_by",
    ),
    "instalment": ("id", "receivable_id", "seq", "due_date", "principal_minor", "interest_minor"),
    "payment": (
        "id", "receivable_id", "paid_on", "amount_minor", "currency", "recorded_at", "recorded_by",
    ),
    "payment_allocation": (
        "id", "payment_id", "receivable_id", "instalment_id", "component", "amount_minor",
        "paid_on",
    ),
}  # fmt: skip


@dataclass
class Expected:
    """What the report must show in total, computed from the seed in Python."""

    count: int = 0
    outstanding_minor: int = 0
    overdue_minor: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))


@dataclass
class Portfolio:
    """Rows of every table for one batch of receivables (tuples in ``COLUMNS`` order)."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {table: [] for table in COLUMNS}
    )


class Seeder:
    """Deterministic receivables, instalments, payments and their allocations."""

    def __init__(self, as_of: date, seed: int = 6) -> None:
        self.as_of = as_of
        self.rng = random.Random(seed)
        self.expected = Expected()
        self.ids = dict.fromkeys(COLUMNS, 0)

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        self.expected.rows[table] += 1
        return self.ids[table]

    def batches(self, total: int, size: int = BATCH) -> Iterator[Portfolio]:
        for low in range(0, total, size):
            batch = Portfolio()
            for _ in range(low, min(total, low + size)):
                self._receivable(batch)
            yield batch

    def _receivable(self, batch: Portfolio) -> None:
        rng, as_of, rows = self.rng, self.as_of, batch.rows
        n = self._id("receivable")
        if n % 2 == 1:  # two receivables per customer
            customer = self._id("customer")
            rows["customer"].append((customer, f"C{customer:07d}", f"客户{customer}", "CNY",
                                     False, CREATED))  # fmt: skip
        customer = self.ids["customer"]
        principal = rng.randrange(100_000, 20_000_000)
        due = as_of + timedelta(days=rng.randrange(-730, 121))
        currency = "USD" if rng.random() < 0.02 else "CNY"
        opened = as_of + timedelta(days=5) if rng.random() < 0.01 else due - timedelta(days=365)
        if opened > as_of and due <= opened:
            due = opened + timedelta(days=30)
        collector = None if rng.random() < 0.03 else rng.choice(COLLECTORS)
        rows["receivable"].append((
            n, f"R{n:08d}", customer, rng.choice(PRODUCTS), principal, currency, due, opened,
            rng.choice(DEPARTMENTS), collector, "none", 0, "0.0005", "daily", "half_up",
            "fees,interest,principal", 0, CREATED, "bench",
        ))  # fmt: skip
        if rng.random() < 0.2:  # a schedule of three, the last on the due date
            third = principal // 3
            parts = [(due - timedelta(days=60), third), (due - timedelta(days=30), third),
                     (due, principal - 2 * third)]  # fmt: skip
        else:
            parts = [(due, principal)]
        instalments = []
        for seq, (day, amount) in enumerate(parts, start=1):
            inst = self._id("instalment")
            rows["instalment"].append((inst, n, seq, day, amount, 0))
            instalments.append([inst, day, amount, 0])  # id, due, principal, paid by as_of
        self._payments(batch, n, currency, instalments)
        if currency != "CNY" or opened > as_of:
            return
        outstanding = sum(amount - paid for _, _, amount, paid in instalments)
        if outstanding > 0:
            self.expected.count += 1
            self.expected.outstanding_minor += outstanding
            self.expected.overdue_minor += sum(
                amount - paid for _, day, amount, paid in instalments if day < as_of
            )

    def _payments(
        self, batch: Portfolio, receivable: int, currency: str, instalments: list[list[Any]]
    ) -> None:
        """A third partly paid (earliest instalment first), 4 % paid off, 3 % paid late."""
        rng, as_of = self.rng, self.as_of
        draw = rng.random()
        if draw < 0.04:
            paid_on, share = as_of - timedelta(days=rng.randrange(1, 200)), 1.0
        elif draw < 0.07:
            paid_on, share = as_of + timedelta(days=rng.randrange(1, 30)), 0.5
        elif draw < 0.40:
            paid_on, share = as_of - timedelta(days=rng.randrange(0, 200)), rng.random() * 0.9
        else:
            return
        payment = self._id("payment")
        fees = rng.randrange(1, 5_000) if rng.random() < 0.1 else 0
        allocations: list[tuple[int | None, str, int]] = [(None, "fees", fees)] if fees else []
        principal = sum(inst[2] for inst in instalments)
        left = principal if share == 1.0 else max(1, int(principal * share))
        for inst in instalments:
            part = min(left, inst[2])
            if part <= 0:
                break
            allocations.append((inst[0], "principal", part))
            left -= part
            if paid_on <= as_of:
                inst[3] += part
        total = sum(amount for _, _, amount in allocations)
        batch.rows["payment"].append(
            (payment, receivable, paid_on, total, currency, CREATED, "bench")
        )
        for inst_id, component, amount in allocations:
            batch.rows["payment_allocation"].append(
                (
                    self._id("payment_allocation"),
                    payment,
                    receivable,
                    inst_id,
                    component,
                    amount,
                    paid_on,
                )
            )


def create_tables(url: str) -> Engine:
    """A scratch database with the current schema: tables dropped and created again."""
    _shared.reset_database(url)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    return engine


def write(engine: Engine, batch: Portfolio) -> None:
    """One batch in one transaction: COPY on PostgreSQL, ``executemany`` on SQLite."""
    with engine.begin() as conn:
        for table, rows in batch.rows.items():
            if not rows:
                continue
            columns = COLUMNS[table]
            if engine.dialect.name == "postgresql":
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for values in rows:
                        copy.write_row(values)
            else:
                marks = ", ".join("?" for _ in columns)
                conn.exec_driver_sql(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(_sqlite(v) for v in values) for values in rows],
                )


def _sqlite(value: Any) -> Any:
    """As SQLAlchemy stores it on SQLite: dates as ISO text, instants as naive UTC text."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def seed(engine: Engine, rows: int, as_of: date = AS_OF) -> Expected:
    seeder = Seeder(as_of)
    for batch in seeder.batches(rows):
        write(engine, batch)
    with engine.begin() as conn:  # fresh statistics, as a database in use has
        conn.exec_driver_sql("ANALYZE")
    return seeder.expected


def report(engine: Engine, by: str | None, as_of: date = AS_OF) -> AgingReport:
    """The aging report exactly as ``caseclock report aging --by BY`` computes it."""
    with Session(engine) as session:
        return aging(session, as_of, by=by)  # type: ignore[arg-type]


def check(result: AgingReport, expected: Expected) -> None:
    total = result.total
    assert total is not None
    got = (total.count, total.outstanding_minor,
           sum(c.overdue_minor for c in total.cells.values()))  # fmt: skip
    want = (expected.count, expected.outstanding_minor, expected.overdue_minor)
    if got != want:
        raise AssertionError(f"report totals {got} != seeded totals {want}")


def floor(engine: Engine, by: str) -> None:
    """The plain GROUP BY of the receivable table by the same column (raw SQL)."""
    column = GROUP_COLUMNS[by].key  # type: ignore[index]
    with engine.connect() as conn:
        conn.execute(
            text(
                f"SELECT {column}, count(*), sum(principal_minor) FROM receivable "
                f"WHERE currency = 'CNY' GROUP BY {column}"
            )
        ).all()


@dataclass
class Timing:
    engine: str
    by: str
    report: list[float]
    floor: list[float]


def run(name: str, url: str, rows: int, reps: int) -> list[Timing]:
    engine = create_tables(url)
    try:
        started = time.perf_counter()
        expected = seed(engine, rows)
        seeded = time.perf_counter() - started
        counts = ", ".join(f"{t} {n:,}" for t, n in expected.rows.items())
        print(f"{name}: seeded in {seeded:.1f} s ({counts})", flush=True)
        timings = []
        for by in GROUP_COLUMNS:
            timing = Timing(name, by, [], [])
            for _ in range(reps):
                started = time.perf_counter()
                result = report(engine, by)
                timing.report.append(time.perf_counter() - started)
                check(result, expected)
                started = time.perf_counter()
                floor(engine, by)
                timing.floor.append(time.perf_counter() - started)
            print(f"{name}: --by {by:<10} report p50 {statistics.median(timing.report):.2f} s "
                  f"max {max(timing.report):.2f} s; plain GROUP BY p50 "
                  f"{statistics.median(timing.floor):.3f} s", flush=True)  # fmt: skip
            timings.append(timing)
        return timings
    finally:
        engine.dispose()


def print_table(timings: list[Timing]) -> None:
    print("| engine | --by | report p50 s | report max s | plain GROUP BY p50 s |")
    print("|---|---|---:|---:|---:|")
    for t in timings:
        print(f"| {t.engine} | {t.by} | {statistics.median(t.report):.2f} | {max(t.report):.2f} "
              f"| {statistics.median(t.floor):.3f} |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="receivables (1000000)")
    parser.add_argument("--reps", type=int, default=5, help="reports per grouping (5)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"({DEFAULT_PG_URL})")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.reps < 1:
        parser.error("--rows and --reps must be at least 1")
    print(f"aging as of {AS_OF}: {args.rows:,} receivables, {args.reps} reports per grouping; "
          f"python {sys.version.split()[0]}", flush=True)  # fmt: skip
    failed = False
    pg = not args.no_pg
    if pg and (reason := _shared.pg_reachable(args.pg_url)) is not None:
        print(f"PostgreSQL not run: cannot reach {args.pg_url} ({reason}); use --pg-url or "
              "--no-pg", file=sys.stderr)  # fmt: skip
        pg, failed = False, True
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="caseclock-aging-") as tmp:
        timings += run("SQLite", f"sqlite:///{Path(tmp) / 'aging.db'}", args.rows, args.reps)
    if pg:
        timings += run("PostgreSQL", args.pg_url, args.rows, args.reps)
    print()
    print_table(timings)
    print()

    def worst(engine: str) -> str:
        p50s = [statistics.median(t.report) for t in timings if t.engine == engine]
        return f"{max(p50s):.2f}" if p50s else "n/a"

    print(f"aging_sqlite_s={worst('SQLite')} aging_pg_s={worst('PostgreSQL')}")
    slow = [t for t in timings if statistics.median(t.report) >= GOAL_S]
    return 1 if failed or slow else 0


if __name__ == "__main__":
    sys.exit(main())
