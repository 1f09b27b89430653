"""The aging benchmark's seed and measurement at a small size: the report's totals equal
what the seed wrote (so the figures in docs/benchmarks.md are of a correct report)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ..conftest import ROOT


def load(name: str, path: Path) -> ModuleType:
    """Import a bench script without putting bench/ on sys.path (its calendar.py and
    timers.py would shadow the real modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    load("_shared", ROOT / "bench" / "_shared.py")
    return load("bench_aging", ROOT / "bench" / "aging.py")


def test_the_seeded_portfolio_is_what_the_report_counts(bench, tmp_path):
    engine = bench.create_tables(f"sqlite:///{tmp_path / 'aging.db'}")
    try:
        expected = bench.seed(engine, 2_000)
        assert expected.rows["receivable"] == 2_000
        assert expected.rows["instalment"] > 2_000 and expected.rows["payment"] > 0
        for by in ("product", "department", "collector"):
            report = bench.report(engine, by)
            bench.check(report, expected)  # count, outstanding and overdue all agree
            assert len(report.groups) > 1
        buckets = {label: cell.count for label, cell in report.total.cells.items()}
        assert all(buckets.values()), buckets  # every bucket has receivables
        # Left out: USD, opened after the day, paid off by then.
        assert 0 < expected.count < 2_000
    finally:
        engine.dispose()
