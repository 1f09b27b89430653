"""Helpers the bench scripts share: sys.path hygiene, PostgreSQL checks, fresh apps with
the demo organisation, one-task SLA diagrams, bulk timer rows, a sender that sends nothing.

The name starts with an underscore so that it shadows nothing: bench/calendar.py and
bench/timers.py already carry the names of the standard library's ``calendar`` and the
engine's ``timers`` package (see :func:`hand_over`).

Importing this module imports only the standard library (everything else is imported
inside the functions), so bench/calendar.py can use it while it stands in for
``calendar`` in the middle of someone else's import.

A script uses it like this (spawned worker processes re-run the script with the
parent's sys.path, from which bench/ has been taken off, hence the insert)::

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _shared
    _shared.take_bench_off_path()
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.app import CaseClock
    from engine.clock import Clock
    from timers.sender import SendResult

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
ORG_FILE = ROOT / "demo" / "org.yaml"
INSERT_BATCH = 10_000

# --- sys.path -------------------------------------------------------------------------------


def without_bench() -> list[str]:
    """sys.path without bench/ (a script's own directory comes first when it runs)."""
    return [p for p in sys.path if Path(p or ".").resolve() != BENCH]


def take_bench_off_path() -> None:
    """For a script run from bench/ (and its spawned workers): so that ``import calendar``
    and ``import timers`` find the real modules, not bench/calendar.py or bench/timers.py."""
    sys.path[:] = without_bench()


def hand_over(name: str, search_path: Sequence[str]) -> None:
    """Put the real module ``name`` (found on ``search_path``) in ``sys.modules``: what a
    bench file imported under that name does, so the importing statement receives the
    real module."""
    spec = importlib.machinery.PathFinder.find_spec(name, list(search_path))
    if spec is None or spec.loader is None:
        raise ImportError(f"the real {name} module was not found")
    real = importlib.util.module_from_spec(spec)
    sys.modules[name] = real
    spec.loader.exec_module(real)


# --- databases ------------------------------------------------------------------------------


def pg_reachable(url: str) -> str | None:
    """None if PostgreSQL answers (the database is created if missing), else one line."""
    from sqlalchemy.exc import OperationalError

    from engine.store.database import ensure_database

    try:
        ensure_database(url)
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0]
    return None


def reset_database(url: str) -> None:
    """PostgreSQL: create the database if missing and drop every table (SQLite files are
    fresh per run already)."""
    if url.startswith("sqlite"):
        return
    from engine.store import Base, make_engine
    from engine.store.database import ensure_database

    ensure_database(url)
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    engine.dispose()


def fresh_app(
    url: str, diagrams: Iterable[tuple[str, bytes]], clock: Clock | None = None
) -> CaseClock:
    """An app on an empty schema with the demo organisation and ``diagrams`` deployed."""
    from engine.app import CaseClock
    from engine.definitions import DeployDiagrams
    from engine.org import ImportOrg, parse_org_file
    from engine.services import Settings

    reset_database(url)
    app = CaseClock(Settings(database_url=url), clock=clock)
    app.init_schema()
    app.execute(ImportOrg(parse_org_file(ORG_FILE.name, ORG_FILE.read_bytes())))
    app.execute(DeployDiagrams(list(diagrams)), actor="bench")
    return app


# --- diagrams and rows ----------------------------------------------------------------------


def sla_diagram(process_key: str, name: str, limit: str, warnings: str = "1/2") -> bytes:
    """One user task 审核 for the reviewers group with an SLA (``caseclock:limit``)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:caseclock="http://caseclock.dev/schema/1.0" id="Defs" targetNamespace="bench">'
        f'<bpmn:process id="{process_key}" name="{name}" isExecutable="true">'
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:userTask id="t" name="审核" camunda:candidateGroups="reviewers" '
        f'caseclock:limit="{limit}" caseclock:warnings="{warnings}"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def warning_row(created: datetime, **columns: Any) -> dict[str, Any]:
    """A waiting SLA warning timer of element ``t`` (``instance_id``, ``task_id`` and
    ``due_at`` come in ``columns``), as the engine would write it."""
    row = {
        "spiff_task_id": "", "element_id": "t", "name": "warning: 审核", "kind": "sla",
        "purpose": "warning", "task_id": None, "interrupting": False, "attached_to": None,
        "status": "waiting", "lease_owner": None, "lease_until": None, "created_at": created,
        "fired_at": None, "attempts": 0, "last_error": None,
    }  # fmt: skip
    return {**row, **columns}


def insert_timers(app: CaseClock, rows: Sequence[dict[str, Any]]) -> None:
    """Core bulk inserts (``executemany``), ``INSERT_BATCH`` rows per transaction."""
    from sqlalchemy import insert

    from engine.store import Timer

    for low in range(0, len(rows), INSERT_BATCH):
        with app.db.begin() as conn:
            conn.execute(insert(Timer), list(rows[low : low + INSERT_BATCH]))


class NoSender:
    """Stands in for the worker's outbox sender: the worker only fires and the outbox rows
    stay pending. Provides both entry points the worker calls (``run_once`` after firing,
    ``send_batch`` between batches)."""

    def run_once(self) -> SendResult:
        from timers.sender import SendResult

        return SendResult()

    def send_batch(self, _result: SendResult) -> bool:
        return False
