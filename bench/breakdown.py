"""Where a durable reference-case instance spends its wall-clock time, per engine function.

Runs the same scenario as ``bench/throughput.py`` (SQLite by default) with light
timing wrappers around the engine functions that matter, and prints exclusive time
per instance (time in a function minus time in the wrapped functions it calls), so
the rows add up to the whole. Much less distortion than cProfile, which doubles the
run time of SQLAlchemy-heavy code. Also reports the time spent inside the database
driver's ``cursor.execute``.

Usage::

    .venv/bin/python bench/breakdown.py [--n 200] [--url sqlite:///... | postgresql://...]
                                        [--separate-claim]

Wrappers are installed by attribute name; a function the engine no longer has is
reported and skipped.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

# ``python bench/breakdown.py`` puts bench/ on sys.path, so the benchmark module imports.
import throughput
from sqlalchemy import event

from engine import audit, executor, org, projection, runtime
from engine.serialization import WorkflowSerializer

_exclusive: dict[str, float] = defaultdict(float)
_calls: dict[str, int] = defaultdict(int)
_stack: list[list[Any]] = []

# (owner, attribute, label); module-level functions are patched where they are looked up.
TARGETS: list[tuple[Any, str, str]] = [
    (executor.CommandExecutor, "execute", "executor: session, BEGIN, flush at commit, COMMIT"),
    (runtime.StartInstance, "__call__", "StartInstance (own code)"),
    (runtime.ClaimTask, "__call__", "ClaimTask (own code)"),
    (runtime.CompleteTask, "__call__", "CompleteTask (own code)"),
    (runtime, "latest_definition_id", "runtime.latest_definition_id"),
    (runtime, "lock_task", "runtime.lock_task (instance + task in one query)"),
    (runtime, "lock_instance", "runtime.lock_instance (SELECT ... FOR UPDATE)"),
    (runtime, "_apply_form", "runtime._apply_form (own code, lazy loads)"),
    (runtime, "load_workflow", "runtime.load_workflow (cache hit)"),
    (runtime, "run_engine", "runtime.run_engine (SpiffWorkflow steps)"),
    (projection, "sync", "projection.sync (own code)"),
    (projection, "_sync_tasks", "projection._sync_tasks"),
    (projection, "_sync_timers", "projection._sync_timers"),
    (projection, "_sync_subscriptions", "projection._sync_subscriptions"),
    (WorkflowSerializer, "state_to_json", "serializer.state_to_json"),
    (WorkflowSerializer, "data_to_json_safe", "serializer.data_to_json_safe"),
    (audit, "append", "audit.append (Core INSERT)"),
    (org.OrgCache, "snapshot", "org.OrgCache.snapshot (stamp query, first of the tx)"),
]


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        _stack.append([label, 0.0])
        try:
            return fn(*args, **kwargs)
        finally:
            _, nested = _stack.pop()
            spent = time.perf_counter() - started
            _exclusive[label] += spent - nested
            _calls[label] += 1
            if _stack:
                _stack[-1][1] += spent

    return wrapper


def install() -> None:
    for owner, attribute, label in TARGETS:
        fn = getattr(owner, attribute, None)
        if fn is None:
            print(f"(skipped {label}: not found in the engine)", file=sys.stderr)
            continue
        setattr(owner, attribute, _timed(label, fn))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--url", help="database URL (default: a fresh temporary SQLite file)")
    parser.add_argument(
        "--separate-claim", action="store_true", help="as in throughput.py (7 commands, not 4)"
    )
    args = parser.parse_args(argv)

    install()
    with tempfile.TemporaryDirectory(prefix="caseclock-breakdown-") as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if url.startswith("postgres"):
            throughput.fresh_pg_database(url)
        runner = throughput.DurableRunner("breakdown", url, args.separate_claim)
        driver = {"seconds": 0.0, "statements": 0}

        def before(conn: Any, *_args: Any) -> None:
            conn.info["bench_t0"] = time.perf_counter()

        def after(conn: Any, *_args: Any) -> None:
            driver["seconds"] += time.perf_counter() - conn.info.pop("bench_t0")
            driver["statements"] += 1

        try:
            for _ in range(args.warmup):
                runner.one()
            _exclusive.clear()
            _calls.clear()
            event.listen(runner.app.db, "before_cursor_execute", before)
            event.listen(runner.app.db, "after_cursor_execute", after)
            started = time.perf_counter()
            for _ in range(args.n):
                runner.one()
            seconds = time.perf_counter() - started
        finally:
            runner.close()

    n = args.n
    accounted = sum(_exclusive.values())
    print(f"{url.split(':', 1)[0]}: {1000 * seconds / n:.2f} ms per instance, N={n}")
    print(f"{'function (exclusive time)':<58}{'ms/inst':>9}{'share':>8}{'calls/inst':>12}")
    for label, spent in sorted(_exclusive.items(), key=lambda kv: -kv[1]):
        print(
            f"{label:<58}{1000 * spent / n:>9.2f}{100 * spent / seconds:>7.1f}%"
            f"{_calls[label] / n:>12.1f}"
        )
    rest = seconds - accounted
    print(
        f"{'bench loop and unwrapped code':<58}{1000 * rest / n:>9.2f}{100 * rest / seconds:>7.1f}%"
    )
    print(
        f"inside the driver's cursor.execute (part of the rows above): "
        f"{1000 * driver['seconds'] / n:.2f} ms/inst over "
        f"{driver['statements'] / n:.1f} statements"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
