"""Adding N working days: CaseClock's working-day index vs. a naive chinese_calendar loop.

Both sides answer the same question for the same random (start, N) pairs: the deadline
of a limit of N working days (1 <= N <= 250) that starts at an instant between 2004 and
2025, by the convention of ``WorkingCalendar.add_working_days`` (the start day does not
count; the deadline is the end of the N-th working day's last period, 17:30 by default).

* ``index``  -- ``WorkingCalendar().add_working_days(start, n)``: a bisect over a sorted
  index of working-day ordinals (built once per year on first use; the build over
  2004-2026 is timed separately and not counted in the rate).
* ``naive``  -- a day-by-day loop built directly on ``chinese_calendar.is_workday``: step
  one day at a time from the start day and count working days until N.

Every pair is checked: both must give the same instant. The index is timed as the median
of ``--rounds`` passes over all pairs (one pass takes milliseconds, hence noisy); the naive
loop, at ~3.5 ms a call, once (a pass takes seconds). Default run: ~20 s.

Usage::

    .venv/bin/python bench/calendar.py [--pairs 5000] [--rounds 5] [--seed 2026]

The last line printed is always ``speedup=X.X`` (index calls/s divided by naive calls/s).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# This file's name is the standard library's ``calendar``. Whenever a script in bench/ runs
# (this one, throughput.py, ...), bench/ is first on sys.path, so ``import calendar`` (as in
# SpiffWorkflow and the email package) would find this file. Imported under that name, it
# hands the real module over at once; run as a script, it takes bench/ off sys.path. The
# module body (and _shared's) imports nothing else outside the standard library (the bench
# imports its dependencies in main()), so the hand-over is safe in the middle of any import.
import _shared

if __name__ == "calendar":
    _shared.hand_over("calendar", _shared.without_bench())
elif __name__ == "__main__":
    _shared.take_bench_off_path()

FIRST_START = date(2004, 1, 1)
# 250 working days need at most ~370 calendar days: every walk ends inside 2026, the last
# year chinese_calendar knows (the naive loop raises NotImplementedError beyond it).
LAST_START = date(2025, 9, 30)
MAX_N = 250


@dataclass
class Result:
    variant: str
    calls: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else float("inf")


def make_pairs(count: int, seed: int, zone: ZoneInfo) -> list[tuple[datetime, int]]:
    """Random local starts (any minute of any day, weekends and holidays included)."""
    rng = random.Random(seed)
    span = (LAST_START - FIRST_START).days
    pairs = []
    for _ in range(count):
        day = FIRST_START + timedelta(days=rng.randrange(span + 1))
        minute = rng.randrange(24 * 60)
        start = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
        pairs.append((start, rng.randint(1, MAX_N)))
    return pairs


def naive_add_working_days(
    start: datetime, n: int, end_of_day: tuple[int, int], is_workday: Callable[[date], bool]
) -> datetime:
    """The reference: walk day by day, asking chinese_calendar (``is_workday``) about each."""
    day = start.date()
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return datetime(day.year, day.month, day.day, *end_of_day, tzinfo=start.tzinfo)


def time_variant(
    name: str,
    fn: Callable[[datetime, int], datetime],
    pairs: list[tuple[datetime, int]],
    rounds: int,
) -> tuple[Result, list[datetime]]:
    results: list[datetime] = []
    timings = []
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        results = [fn(start, n) for start, n in pairs]
        timings.append(time.perf_counter() - started)
    return Result(name, len(pairs), statistics.median(timings)), results


def print_table(results: list[Result]) -> None:
    head = f"{'variant':<34}{'calls':>8}{'seconds':>10}{'calls/s':>12}{'us/call':>10}"
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.variant:<34}{r.calls:>8}{r.seconds:>10.3f}{r.rate:>12.0f}"
            f"{r.seconds / r.calls * 1e6:>10.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5000, help="random (start, N) pairs")
    parser.add_argument(
        "--rounds", type=int, default=5, help="timed passes of the index; median (5)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.rounds < 1:
        parser.error("--pairs and --rounds must be at least 1")
    import chinese_calendar

    from engine.calendar import WorkingCalendar

    calendar = WorkingCalendar()
    pairs = make_pairs(args.pairs, args.seed, calendar.zone)
    end = calendar.periods[-1].end
    end_of_day = (end // 60, end % 60)
    print(f"add N working days, {args.pairs} random pairs, starts {FIRST_START}..{LAST_START}, "
          f"1 <= N <= {MAX_N}, index median of {args.rounds} passes; chinese_calendar "
          f"{getattr(chinese_calendar, '__version__', '?')}, "
          f"python {sys.version.split()[0]}")  # fmt: skip

    started = time.perf_counter()
    calendar.add_working_days(datetime(2004, 1, 1, tzinfo=calendar.zone), 1)  # loads 2004
    calendar.add_working_days(datetime(2026, 1, 1, tzinfo=calendar.zone), 1)  # ... to 2026
    build = time.perf_counter() - started
    years = calendar.loaded_years

    index, got = time_variant("WorkingCalendar (index + bisect)",
                              calendar.add_working_days, pairs, args.rounds)  # fmt: skip
    naive, want = time_variant(
        "naive chinese_calendar day loop",
        lambda start, n: naive_add_working_days(start, n, end_of_day, chinese_calendar.is_workday),
        pairs,
        1,
    )
    mismatches = [(p, g, w) for p, g, w in zip(pairs, got, want, strict=True) if g != w]

    print()
    print_table([index, naive])
    print(f"index build for {years.start}-{years.stop - 1} (once per calendar, not in the "
          f"rate): {build * 1000:.1f} ms")  # fmt: skip
    mean_n = statistics.mean(n for _, n in pairs)
    print(f"mean N {mean_n:.1f}; results agree on {len(pairs) - len(mismatches)}/{len(pairs)}")
    for (start, n), g, w in mismatches[:5]:
        print(f"  MISMATCH start={start.isoformat()} n={n}: index {g.isoformat()} "
              f"naive {w.isoformat()}", file=sys.stderr)  # fmt: skip
    print(f"speedup={index.rate / naive.rate:.1f}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
