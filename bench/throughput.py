"""Throughput of the reference case: raw SpiffWorkflow in memory vs. CaseClock, durably.

One instance of ``bench/reference_case.bpmn`` is: start, then complete each of its three
user tasks (each with a required one-field form and a non-interrupting PT4H boundary
timer). The tasks are group tasks: by default each is claimed and completed in one command,
``CompleteTask(..., claim=True)`` (the Tasklist's "complete" on a group task; both the
claim and the completion are still audited), so an instance is 4 commands; with
``--separate-claim`` each is a ``ClaimTask`` then a ``CompleteTask``, 7 commands. The same
scenario runs N times in three variants:

* ``raw``     -- SpiffWorkflow alone, in memory: the floor CaseClock is measured against
  (median of five timed passes of N, since one pass takes well under a second). The
  passes are interleaved with five chunks of the durable run they are compared with, so
  on a shared machine both see the same load; each durable variant gets its own raw
  figure and its ratio is taken against that.
* ``sqlite``  -- CaseClock, every command its own committed transaction, on a fresh
  SQLite file in a temporary directory.
* ``postgres``-- the same on PostgreSQL (the database is created if missing and its
  tables dropped and re-created first).

Two floors run in the same pass, each against its own raw figure: ``floor`` (SpiffWorkflow,
CaseClock's serializer and one committed SQLAlchemy Core statement per step, nothing else)
and, on SQLite, ``minimal`` (only the changed tasks written, one task-projection row and
one audit row per step, through SQLAlchemy and through the standard library's ``sqlite3``):
see their classes. A third, ``required``, is the minimal engine plus the rows and reads
CaseClock's projections, audit chain and caches cannot do without (stdlib ``sqlite3``):
its ratio bounds what any engine writing CaseClock's rows reaches here. It runs twice: as
is, and writing no workflow state at all (``required_no_state``, the bound of an engine
that would rebuild workflows by replaying its audit log).

Each variant is warmed up with a few instances that are not counted. For the durable
variants SQL statements (SQLAlchemy ``before_cursor_execute``, so ``BEGIN IMMEDIATE``
and ``PRAGMA`` count too) and commits are counted per instance, and per command.

Usage::

    .venv/bin/python bench/throughput.py [--n 200] [--pg-url URL] [--no-pg] [--separate-claim]
                                         [--profile {sqlite,postgres}] [--profile-out FILE]

The last four lines are ``minimal_sqlalchemy=… minimal_sqlite3=…``,
``required_sqlite3=… required_no_state=…``, ``floor_sqlite=… floor_pg=…`` and always,
last, ``ratio_sqlite=X.XX ratio_pg=Y.YY`` (durable instances/s divided by raw
instances/s; ``n/a`` for a variant that did not run).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import pstats
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, event, text
from sqlalchemy.exc import OperationalError

from engine import audit
from engine.app import CaseClock
from engine.clock import SystemClock
from engine.definitions import DeployDiagrams
from engine.executor import CommandContext
from engine.org import ImportOrg, parse_org_file
from engine.parser import CaseClockParser
from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.services import Settings
from engine.store import Base, Task, create_schema, make_engine
from engine.store.database import ensure_database
from engine.timer_events import TIMER_CLASSES

ROOT = Path(__file__).resolve().parent.parent
DIAGRAM = Path(__file__).resolve().parent / "reference_case.bpmn"
ORG_FILE = ROOT / "demo" / "org.yaml"
PROCESS_KEY = "reference_case"
TASKS = 3
USER = "li"  # in group "reception" in demo/org.yaml
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/caseclock_bench"
TIMEZONE = "Asia/Shanghai"
RAW_ROUNDS = 5


@dataclass
class Result:
    variant: str
    instances: int
    seconds: float
    statements: int | None = None
    commits: int | None = None
    by_command: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.instances / self.seconds if self.seconds else float("inf")


# --- raw SpiffWorkflow -------------------------------------------------------------------


def _form_data(element_id: str) -> dict[str, str]:
    field_id = {
        "Task_register": "register_note",
        "Task_check": "check_note",
        "Task_close": "close_note",
    }[element_id]
    return {field_id: f"bench value for {element_id}"}


class RawRunner:
    """The scenario on SpiffWorkflow alone; the diagram is parsed once."""

    def __init__(self) -> None:
        parser = CaseClockParser()
        parser.add_bpmn_file(str(DIAGRAM))
        self.spec = parser.get_spec(PROCESS_KEY)
        self.subprocess_specs = parser.get_subprocess_specs(PROCESS_KEY)
        self.script_engine = PythonScriptEngine()
        # Our timer classes read "now" and the zone from the script engine.
        self.script_engine.clock = SystemClock()
        self.script_engine.timezone = zoneinfo.ZoneInfo(TIMEZONE)

    def one(self) -> None:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        workflow.do_engine_steps()
        done = 0
        while True:
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            task = ready[0]
            task.data.update(_form_data(task.task_spec.bpmn_id))
            task.run()
            workflow.do_engine_steps()
            done += 1
        if done != TASKS or not workflow.is_completed():
            raise RuntimeError(
                f"raw run completed {done} tasks, finished={workflow.is_completed()}"
            )

    def timed_pass(self, n: int) -> float:
        gc.collect()
        started = time.perf_counter()
        for _ in range(n):
            self.one()
        return time.perf_counter() - started


# --- CaseClock, durable ------------------------------------------------------------------


class StartAndFindTask:
    """``StartInstance``, then the task row it opened, in the same transaction.

    The projection writes the task row and attaches an object for it to the session; a
    session listener keeps it, so finding it costs no extra statement and no extra
    transaction.
    """

    name = "start"

    def __init__(self, business_key: str) -> None:
        self.start = StartInstance(PROCESS_KEY, business_key=business_key)

    def __call__(self, ctx: CommandContext) -> Task:
        added: list[Task] = []

        def keep(_session: Any, obj: Any) -> None:
            if isinstance(obj, Task):
                added.append(obj)

        event.listen(ctx.session, "detached_to_persistent", keep)
        try:
            self.start(ctx)
        finally:
            event.remove(ctx.session, "detached_to_persistent", keep)
        if len(added) != 1:
            raise RuntimeError(f"expected one task opened by start, found {len(added)}")
        return added[0]


class StatementCounter:
    """Counts statements and commits on an engine, attributed to the running command."""

    def __init__(self, db: Any) -> None:
        self.statements = 0
        self.commits = 0
        self.command = "setup"
        self.by_command: Counter[str] = Counter()
        event.listen(db, "before_cursor_execute", self._on_execute)
        event.listen(db, "commit", self._on_commit)

    def _on_execute(self, *_args: Any) -> None:
        self.statements += 1
        self.by_command[self.command] += 1

    def _on_commit(self, *_args: Any) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements = self.commits = 0
        self.by_command.clear()


class DurableRunner:
    def __init__(self, label: str, url: str, separate_claim: bool) -> None:
        self.label = label
        self.separate_claim = separate_claim
        self.app = CaseClock(Settings(database_url=url, timezone=TIMEZONE))
        self.app.init_schema()
        self.app.execute(ImportOrg(parse_org_file(ORG_FILE.name, ORG_FILE.read_bytes())))
        self.app.execute(DeployDiagrams([(DIAGRAM.name, DIAGRAM.read_bytes())]), actor="bench")
        self.counter = StatementCounter(self.app.db)
        self.serial = 0

    def _run(self, name: str, command: Callable[[CommandContext], Any]) -> Any:
        self.counter.command = name
        return self.app.execute(command, actor=USER)

    def one(self) -> None:
        self.serial += 1
        # Task rows come back detached but loaded (expire_on_commit=False): no re-read.
        task = self._run("start", StartAndFindTask(f"bench-{self.serial}"))
        for step in range(TASKS):
            task_id, data = task.id, _form_data(task.element_id)
            if self.separate_claim:
                self._run("claim", ClaimTask(task_id, USER))
            complete = CompleteTask(task_id, USER, data, claim=not self.separate_claim)
            opened = self._run("complete", complete)
            if step < TASKS - 1:
                if len(opened) != 1:
                    raise RuntimeError(f"expected one task opened by complete, got {opened}")
                task = opened[0]
            elif opened:
                raise RuntimeError(f"the last complete opened tasks: {opened}")

    def run(
        self, n: int, warmup: int, raw: RawRunner, profile: cProfile.Profile | None = None
    ) -> tuple[Result, Result]:
        """N durable instances against raw (see :func:`interleaved`)."""
        raw_result, seconds = interleaved(self.one, self.counter.reset, n, warmup, raw, profile)
        result = Result(
            self.label,
            n,
            seconds,
            statements=self.counter.statements,
            commits=self.counter.commits,
            by_command=dict(self.counter.by_command),
        )
        self._check(n + warmup)
        return Result(f"raw ({self.label})", n, raw_result), result

    def _check(self, expected: int) -> None:
        completed = self.app.read(
            lambda s: s.scalar(
                text("SELECT count(*) FROM process_instance WHERE state = 'completed'")
            )
        )
        if completed != expected:
            raise RuntimeError(f"{self.label}: {completed} completed instances, want {expected}")

    def close(self) -> None:
        self.app.close()


def interleaved(
    one: Callable[[], None],
    reset: Callable[[], None],
    n: int,
    warmup: int,
    raw: RawRunner,
    profile: cProfile.Profile | None = None,
) -> tuple[float, float]:
    """Run ``one`` N times in ``RAW_ROUNDS`` chunks with a raw pass of N before each.

    Returns (raw seconds for N: the median pass, durable seconds: the sum of the chunks).
    """
    for _ in range(warmup):
        one()
        raw.one()
    reset()
    raw_timings, seconds = [], 0.0
    for chunk in _chunks(n, RAW_ROUNDS):
        raw_timings.append(raw.timed_pass(n))
        gc.collect()
        if profile is not None:
            profile.enable()
        started = time.perf_counter()
        for _ in range(chunk):
            one()
        seconds += time.perf_counter() - started
        if profile is not None:
            profile.disable()
    return statistics.median(raw_timings), seconds


# --- the floor: what any durable engine on these parts does per step ----------------------


class FloorRunner:
    """SpiffWorkflow, CaseClock's serializer and one committed SQLAlchemy Core statement
    per step (start: INSERT the state; each completion: UPDATE it) on the same database
    settings as CaseClock, and nothing else: no projections, audit, org, SLA or locking.

    No engine that keeps the state durably after every step with these libraries can be
    faster than this, so its ratio bounds what CaseClock's ratio can reach.
    """

    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self.raw = RawRunner()
        self.app = CaseClock(Settings(database_url=url, timezone=TIMEZONE))
        self.serializer = self.app.services.serializer
        metadata = MetaData()
        self.table = Table(
            "bench_floor", metadata,
            Column("id", Integer, primary_key=True), Column("state", Text, nullable=False),
        )  # fmt: skip
        metadata.drop_all(self.app.db)
        metadata.create_all(self.app.db)
        self.insert = self.table.insert().returning(self.table.c.id)
        self.update = self.table.update().where(self.table.c.id == bindparam("row_id"))
        self.counter = StatementCounter(self.app.db)

    def _commit(self, statement: Any, values: dict[str, Any]) -> Any:
        """One statement in its own transaction; the value it returns, if any."""
        with self.app.db.begin() as connection:
            result = connection.execute(statement, values)
            return result.scalar_one() if result.returns_rows else None

    def one(self) -> None:
        workflow = BpmnWorkflow(
            self.raw.spec, self.raw.subprocess_specs, script_engine=self.raw.script_engine
        )
        workflow.do_engine_steps()
        state = self.serializer.state_to_json(workflow)
        row_id = self._commit(self.insert, {"state": state})
        while ready := workflow.get_tasks(state=TaskState.READY, manual=True):
            task = ready[0]
            task.data.update(_form_data(task.task_spec.bpmn_id))
            task.run()
            workflow.do_engine_steps()
            state = self.serializer.state_to_json(workflow)
            self._commit(self.update, {"state": state, "row_id": row_id})

    def run(self, n: int, warmup: int, raw: RawRunner) -> tuple[Result, Result]:
        raw_seconds, seconds = interleaved(self.one, self.counter.reset, n, warmup, raw)
        result = Result(self.label, n, seconds, self.counter.statements, self.counter.commits)
        return Result(f"raw ({self.label})", n, raw_seconds), result

    def close(self) -> None:
        self.app.close()


class MinimalEngineRunner:
    """The issue's best configuration, made as cheap as it can be, on SQLite only.

    Per step, in one ``BEGIN IMMEDIATE`` transaction with CaseClock's pragmas: only the
    SpiffWorkflow tasks whose state changed in the step are converted and upserted (the
    workflow's data goes in the instance row), then one task-projection upsert per changed
    user task and one audit row. No locking, no timer projection, no SLA, no org, no
    hash-chain read: the least an engine can write and still claim "projections and the
    audit log included". Tasks whose only change is a new child are not rewritten, so this
    writes less than a correct engine would: a ceiling on what such an engine reaches, not
    a design.

    The same statements go either through SQLAlchemy's thinnest path (``exec_driver_sql``
    on CaseClock's own engine) or straight to the standard library's ``sqlite3``.
    """

    def __init__(self, label: str, path: Path, through_sqlalchemy: bool) -> None:
        self.label = label
        self.raw = RawRunner()
        # Tasks and data convert alike in every configuration: SpiffWorkflow's default.
        self.registry = BpmnWorkflowSerializer.configure()
        self.statements = self.commits = 0
        if through_sqlalchemy:
            self.db = make_engine(f"sqlite:///{path}")  # BEGIN IMMEDIATE, WAL, pragmas
            self.connection: Any = self.db.connect()
            self.connection.exec_driver_sql("SELECT 1").close()  # the pragmas run
            self.connection.commit()
            raw_connection = self.db.raw_connection()
            raw_connection.driver_connection.executescript(_MINIMAL_SCHEMA)
            raw_connection.close()
        else:
            self.db = None
            self.connection = sqlite3.connect(path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                self.connection.execute(f"PRAGMA {pragma}")
            self.connection.executescript(_MINIMAL_SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[Callable[[str, Any], Any]]:
        """One committed transaction; yields ``execute(sql, params)`` (a list: many rows)."""
        if self.db is not None:
            with self.connection.begin():
                yield self._counted(self.connection.exec_driver_sql)
        else:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._counted(self._stdlib_execute)
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")
        self.statements += 2  # BEGIN and COMMIT, as CaseClock's figures count them
        self.commits += 1

    def _stdlib_execute(self, sql: str, params: Any) -> sqlite3.Cursor:
        many = isinstance(params, list)
        return (self.connection.executemany if many else self.connection.execute)(sql, params)

    def _counted(self, execute: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
        def counted(sql: str, params: Any) -> Any:
            self.statements += 1
            return execute(sql, params)

        return counted

    def _step(self, instance_id: int | None, workflow: BpmnWorkflow, since: float) -> int:
        changed = [t for t in workflow.tasks.values() if t.last_state_change >= since]
        data = json.dumps(self.registry.convert(workflow.data))
        with self._transaction() as execute:
            if instance_id is None:
                found = execute("INSERT INTO m_instance (data) VALUES (?)", (data,))
                instance_id = int(found.lastrowid)
            else:
                execute("UPDATE m_instance SET data = ? WHERE id = ?", (data, instance_id))
            states = [(instance_id, str(t.id), json.dumps(self.registry.convert(t)))
                      for t in changed]  # fmt: skip
            execute(_UPSERT_STATE, states)
            users = [(str(t.id), instance_id, t.task_spec.bpmn_id, t.state)
                     for t in changed if t.task_spec.manual]  # fmt: skip
            if users:
                execute(_UPSERT_TASK, users)
            execute("INSERT INTO m_audit (instance_id, command) VALUES (?, 'step')", (instance_id,))
        return instance_id

    def one(self) -> None:
        workflow = BpmnWorkflow(
            self.raw.spec, self.raw.subprocess_specs, script_engine=self.raw.script_engine
        )
        workflow.do_engine_steps()
        instance_id = self._step(None, workflow, 0.0)
        while ready := workflow.get_tasks(state=TaskState.READY, manual=True):
            since = time.time()
            task = ready[0]
            task.data.update(_form_data(task.task_spec.bpmn_id))
            task.run()
            workflow.do_engine_steps()
            self._step(instance_id, workflow, since)

    def _reset(self) -> None:
        self.statements = self.commits = 0

    def run(self, n: int, warmup: int, raw: RawRunner) -> tuple[Result, Result]:
        raw_seconds, seconds = interleaved(self.one, self._reset, n, warmup, raw)
        result = Result(self.label, n, seconds, self.statements, self.commits)
        return Result(f"raw ({self.label})", n, raw_seconds), result

    def close(self) -> None:
        self.connection.close()
        if self.db is not None:
            self.db.dispose()


class RequiredRowsRunner(MinimalEngineRunner):
    """The minimal engine plus the rows and reads CaseClock cannot do without, on the
    standard library's ``sqlite3`` (the fastest configuration above).

    Per step, on top of the minimal engine's writes: the instance and task are read
    under the lock (one statement), the org chain head is read (one statement; every
    configuration cache is stamped with it), the task row carries the inbox's columns
    and indexes, a new user task gets its candidate-group row, its boundary timer is
    inserted into the timer projection and the finished task's timer is cancelled, the
    claim and the completion are two hash-chained audit events (one statement), and the
    form data goes to the erasable audit part. Changed tasks are found in memory, so
    nothing else is read: a lower bound on CaseClock's cost, whatever its code.

    With ``stores_state=False`` no SpiffWorkflow task is converted or written at all: the
    bound of a design that keeps the workflow only in memory and rebuilds it after a
    restart by replaying the commands its audit events record (event sourcing).
    """

    def __init__(self, label: str, path: Path, stores_state: bool = True) -> None:
        super().__init__(label, path, through_sqlalchemy=False)
        self.stores_state = stores_state
        self.connection.executescript(_REQUIRED_SCHEMA)
        self.connection.execute(
            "INSERT INTO r_audit VALUES (NULL, 'org', 1, NULL, 'deploy', '{}', ?)", (audit.GENESIS,)
        )

    def _step(self, instance_id: int | None, workflow: BpmnWorkflow, since: float) -> int:
        changed = [t for t in workflow.tasks.values() if t.last_state_change >= since]
        data = json.dumps(self.registry.convert(workflow.data))
        with self._transaction() as execute:
            execute("SELECT coalesce(max(chain_seq), 0) FROM r_audit WHERE chain_key = 'org'", ())
            if instance_id is None:
                found = execute(
                    "INSERT INTO m_instance (data, seq, head) VALUES (?, 0, ?)",
                    (data, audit.GENESIS),
                )
                instance_id, seq, head, events = int(found.lastrowid), 0, audit.GENESIS, ["start"]
            else:
                seq, head, _task = execute(_LOCK_INSTANCE, (instance_id,)).fetchone()
                events = ["claim", "complete"]
            if self.stores_state:
                states = [(instance_id, str(t.id), json.dumps(self.registry.convert(t)))
                          for t in changed]  # fmt: skip
                execute(_UPSERT_STATE, states)
            self._projections(execute, instance_id, changed)
            rows = []
            for command in events:
                seq += 1
                body = json.dumps([f"instance:{instance_id}", seq, head, command, USER])
                head = hashlib.sha256(body.encode()).hexdigest()
                rows.append((instance_id, f"instance:{instance_id}", seq, command, body, head))
            execute(_INSERT_AUDIT, rows)
            if events[-1] == "complete":
                private = json.dumps(workflow.last_task.data if workflow.last_task else {})
                execute(
                    _INSERT_PRIVATE,
                    (f"instance:{instance_id}", seq, secrets.token_hex(16), private),
                )
            execute("UPDATE m_instance SET data = ?, seq = ?, head = ? WHERE id = ?",
                    (data, seq, head, instance_id))  # fmt: skip
        return instance_id

    def _projections(
        self, execute: Callable[[str, Any], Any], instance_id: int, changed: list[Any]
    ) -> None:
        now = datetime.now(timezone.utc).isoformat()
        users = [t for t in changed if t.task_spec.manual]
        ended = [(USER, now, str(t.id)) for t in users if t.state != TaskState.READY]
        if ended:
            execute(_END_TASK, ended)
        for task in (t for t in users if t.state == TaskState.READY):
            spec = task.task_spec
            values = (str(task.id), instance_id, spec.bpmn_id, spec.bpmn_name or "", now, now)
            task_id = execute(_INSERT_REQUIRED_TASK, values).lastrowid
            execute("INSERT INTO r_candidate VALUES (?, 'reception')", (task_id,))
        timers = [t for t in changed if type(getattr(t.task_spec, "event_definition", None))
                  in TIMER_CLASSES.values()]  # fmt: skip
        waiting = [(instance_id, str(t.id), t.task_spec.bpmn_id, now) for t in timers
                   if t.state == TaskState.WAITING]  # fmt: skip
        if waiting:
            execute(_INSERT_TIMER, waiting)
        gone = [(str(t.id),) for t in timers if t.state != TaskState.WAITING]
        if gone:
            execute("UPDATE r_timer SET status = 'cancelled' WHERE spiff_task_id = ?", gone)


_MINIMAL_SCHEMA = """
CREATE TABLE m_instance (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE m_state (instance_id INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
                      PRIMARY KEY (instance_id, id));
CREATE TABLE m_task (id TEXT PRIMARY KEY, instance_id INTEGER NOT NULL, element TEXT NOT NULL,
                     state INTEGER NOT NULL);
CREATE TABLE m_audit (id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, command TEXT NOT NULL);
"""
_REQUIRED_SCHEMA = """
ALTER TABLE m_instance ADD COLUMN seq INTEGER;
ALTER TABLE m_instance ADD COLUMN head TEXT;
CREATE TABLE r_task (id INTEGER PRIMARY KEY, spiff_task_id TEXT NOT NULL UNIQUE,
                     instance_id INTEGER NOT NULL, element TEXT NOT NULL, name TEXT NOT NULL,
                     state TEXT NOT NULL, assignee TEXT, candidate_groups TEXT NOT NULL,
                     created_at TEXT NOT NULL, due_at TEXT, ended_at TEXT);
CREATE INDEX r_task_instance ON r_task (instance_id, state);
CREATE INDEX r_task_mine ON r_task (assignee, state, due_at, id);
CREATE INDEX r_task_pool ON r_task (state, due_at, id);
CREATE TABLE r_candidate (task_id INTEGER NOT NULL, group_key TEXT NOT NULL,
                          PRIMARY KEY (task_id, group_key));
CREATE INDEX r_candidate_group ON r_candidate (group_key);
CREATE TABLE r_timer (id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL,
                      spiff_task_id TEXT NOT NULL, element TEXT NOT NULL, due_at TEXT NOT NULL,
                      status TEXT NOT NULL DEFAULT 'waiting');
CREATE INDEX r_timer_due ON r_timer (due_at) WHERE status = 'waiting';
CREATE INDEX r_timer_instance ON r_timer (instance_id);
CREATE INDEX r_timer_task ON r_timer (spiff_task_id);
CREATE TABLE r_audit (id INTEGER PRIMARY KEY, chain_key TEXT NOT NULL, chain_seq INTEGER NOT NULL,
                      instance_id INTEGER, command TEXT NOT NULL, payload TEXT NOT NULL,
                      hash TEXT NOT NULL, UNIQUE (chain_key, chain_seq));
CREATE INDEX r_audit_instance ON r_audit (instance_id);
CREATE TABLE r_private (chain_key TEXT NOT NULL, chain_seq INTEGER NOT NULL, salt TEXT NOT NULL,
                        data TEXT NOT NULL, PRIMARY KEY (chain_key, chain_seq));
"""
_LOCK_INSTANCE = (
    "SELECT i.seq, i.head, t.id FROM m_instance i "
    "JOIN r_task t ON t.instance_id = i.id AND t.state = 'open' WHERE i.id = ?"
)
_INSERT_REQUIRED_TASK = (
    "INSERT INTO r_task (spiff_task_id, instance_id, element, name, state, candidate_groups, "
    "created_at, due_at) VALUES (?, ?, ?, ?, 'open', '[\"reception\"]', ?, ?)"
)
_END_TASK = (
    "UPDATE r_task SET state = 'completed', assignee = ?, ended_at = ? WHERE spiff_task_id = ?"
)
_INSERT_TIMER = (
    "INSERT INTO r_timer (instance_id, spiff_task_id, element, due_at) VALUES (?, ?, ?, ?)"
)
_INSERT_AUDIT = (
    "INSERT INTO r_audit (instance_id, chain_key, chain_seq, command, payload, hash) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_PRIVATE = "INSERT INTO r_private VALUES (?, ?, ?, ?)"
_UPSERT_STATE = (
    "INSERT INTO m_state VALUES (?, ?, ?) "
    "ON CONFLICT (instance_id, id) DO UPDATE SET body = excluded.body"
)
_UPSERT_TASK = (
    "INSERT INTO m_task VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state"
)


def _chunks(n: int, parts: int) -> list[int]:
    """``n`` split into ``parts`` near-equal positive sizes (fewer parts if n is small)."""
    parts = min(parts, n)
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def fresh_pg_database(url: str) -> None:
    """Create the database if missing, then empty it."""
    ensure_database(url)
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    create_schema(engine)
    engine.dispose()


# --- reporting ---------------------------------------------------------------------------


def print_table(results: list[Result]) -> None:
    head = (
        f"{'variant':<32}{'instances':>10}{'seconds':>10}{'inst/s':>10}"
        f"{'stmts/inst':>12}{'commits/inst':>14}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        stmts = f"{r.statements / r.instances:.1f}" if r.statements is not None else "-"
        commits = f"{r.commits / r.instances:.1f}" if r.commits is not None else "-"
        print(
            f"{r.variant:<32}{r.instances:>10}{r.seconds:>10.2f}{r.rate:>10.1f}"
            f"{stmts:>12}{commits:>14}"
        )
    for r in results:
        if r.by_command:
            parts = ", ".join(
                f"{name} {count / r.instances:.1f}" for name, count in sorted(r.by_command.items())
            )
            print(f"statements/instance by command ({r.variant}): {parts}")


def print_profile(profile: cProfile.Profile, out: str | None) -> None:
    if out:
        profile.dump_stats(out)
        print(f"profile written to {out} (read with: python -m pstats {out})")
    buffer = io.StringIO()
    stats = pstats.Stats(profile, stream=buffer).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    print(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="instances per variant (200)")
    parser.add_argument("--warmup", type=int, default=10, help="uncounted instances first (10)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"({DEFAULT_PG_URL})")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL variant")
    parser.add_argument(
        "--separate-claim",
        action="store_true",
        help="claim each task in its own command before completing it (7 commands, not 4)",
    )
    parser.add_argument(
        "--profile",
        choices=("sqlite", "postgres"),
        help="run that durable variant under cProfile and print the top functions",
    )
    parser.add_argument("--profile-out", help="also write the raw cProfile stats here")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    steps = "claim + complete" if args.separate_claim else "complete with claim"
    print(f"reference case: start + {TASKS} x ({steps}), N={args.n}, "
          f"warm-up {args.warmup}; python {sys.version.split()[0]}")  # fmt: skip
    results: list[Result] = []
    profile = cProfile.Profile() if args.profile else None
    raw = RawRunner()

    floors: dict[str, float] = {}

    def floor(runner: FloorRunner | MinimalEngineRunner, key: str) -> None:
        """Run a floor against raw; add its rows; keep its ratio under ``key``."""
        try:
            pair = runner.run(args.n, args.warmup, raw)
        finally:
            runner.close()
        results.extend(pair)
        floors[key] = pair[1].rate / pair[0].rate

    def measure(label: str, url: str, variant: str) -> float:
        """Run the floor and one durable variant against raw; add the rows; return the
        durable variant's ratio (the floor's goes to ``floors``)."""
        floor(FloorRunner(f"floor {label.split()[-1]}", url), variant)
        runner = DurableRunner(label, url, args.separate_claim)
        try:
            profiled = profile if args.profile == variant else None
            pair = runner.run(args.n, args.warmup, raw, profiled)
        finally:
            runner.close()
        results.extend(pair)
        return pair[1].rate / pair[0].rate

    with tempfile.TemporaryDirectory(prefix="caseclock-bench-") as tmp:
        for through_sqlalchemy, name in ((True, "minimal SQLAlchemy"), (False, "minimal sqlite3")):
            path = Path(tmp) / f"{name[8:]}.db"
            floor(MinimalEngineRunner(name, path, through_sqlalchemy), name)
        required = RequiredRowsRunner("required rows sqlite3", Path(tmp) / "required.db")
        floor(required, "required")
        replayed = RequiredRowsRunner("required rows, no state", Path(tmp) / "replayed.db", False)
        floor(replayed, "no state")
        ratio_sqlite = measure("CaseClock SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite")

    ratio_pg: float | None = None
    failed = False
    if not args.no_pg:
        try:
            fresh_pg_database(args.pg_url)
        except OperationalError as exc:
            failed = True
            print(f"PostgreSQL variant not run: cannot reach {args.pg_url} "
                  f"({str(exc.orig).strip().splitlines()[0]}); use --pg-url or --no-pg",
                  file=sys.stderr)  # fmt: skip
        else:
            ratio_pg = measure("CaseClock PostgreSQL", args.pg_url, "postgres")

    print()
    print_table(results)
    if profile is not None:
        print()
        print_profile(profile, args.profile_out)
    pg_floor = f"{floors['postgres']:.2f}" if "postgres" in floors else "n/a"
    print(f"minimal_sqlalchemy={floors['minimal SQLAlchemy']:.2f} "
          f"minimal_sqlite3={floors['minimal sqlite3']:.2f}   (changed tasks only, one "
          "projection row and one audit row per step; SQLite)")  # fmt: skip
    print(f"required_sqlite3={floors['required']:.2f} required_no_state={floors['no state']:.2f}"
          "   (the minimal engine plus the rows and reads CaseClock's projections, audit chain "
          "and caches need; without any workflow state written; SQLite)")  # fmt: skip
    print(f"floor_sqlite={floors['sqlite']:.2f} floor_pg={pg_floor}   "
          "(SpiffWorkflow + serialize + one committed statement per step)")  # fmt: skip
    pg_text = f"{ratio_pg:.2f}" if ratio_pg is not None else "n/a"
    print(f"ratio_sqlite={ratio_sqlite:.2f} ratio_pg={pg_text}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
