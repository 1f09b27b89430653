"""Fixtures: one CaseClock per test, on SQLite (default) or PostgreSQL.

Set ``CASECLOCK_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/caseclock_test``
to run the whole suite on PostgreSQL; the database is created if missing and every
test starts from empty tables. When that variable is set and PostgreSQL is not
reachable the tests fail, they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from engine.app import CaseClock
from engine.clock import FrozenClock
from engine.definitions import DeployDiagrams
from engine.org import ImportOrg, parse_org_file
from engine.scripting import Sandbox
from engine.services import Settings
from engine.store import Base, create_schema, make_engine
from engine.store.database import ensure_database

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ROOT / "tests" / "diagrams"
SHIPPED = ROOT / "bpmn"
CORPUS = ROOT.parent / "shared" / "corpus"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PG_URL = os.environ.get("CASECLOCK_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    ensure_database(PG_URL)
    engine = make_engine(PG_URL)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:  # an earlier run may have stamped another revision
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    create_schema(engine)
    engine.dispose()
    yield PG_URL


@pytest.fixture
def database_url(pg_schema: str | None, tmp_path: Path) -> str:
    if pg_schema is None:
        return f"sqlite:///{tmp_path / 'caseclock.db'}"
    engine = make_engine(pg_schema)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return pg_schema


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox()
    yield box
    box.close()


@pytest.fixture
def clock() -> FrozenClock:
    # Monday 2 March 2026, 09:00 in Shanghai.
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
def app(database_url: str, clock: FrozenClock, sandbox: Sandbox) -> Iterator[CaseClock]:
    engine = CaseClock(Settings(database_url=database_url), clock=clock, sandbox=sandbox)
    engine.init_schema()
    yield engine
    engine.close()


@pytest.fixture
def org_app(app: CaseClock) -> CaseClock:
    """An app with the demo organisation imported."""
    path = ROOT / "demo" / "org.yaml"
    app.execute(ImportOrg(parse_org_file(path.name, path.read_bytes())))
    return app


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run ``caseclock`` as a user types it, on this test's (initialised) database."""
    monkeypatch.setenv("CASECLOCK_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result

    run("init")
    return run


def deploy(app: CaseClock, *paths: Path) -> list:
    return app.execute(DeployDiagrams([(p.name, p.read_bytes()) for p in paths]), actor="tester")
