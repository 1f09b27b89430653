"""The command line on a database that cannot serve it: one line saying why and what to
do, a non-zero exit code, no driver traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cli import main
from cli.database_errors import explain
from engine.store import make_engine
from engine.store.database import normalise_url

from .conftest import PG_URL

needs_pg = pytest.mark.skipif(not PG_URL, reason="CASECLOCK_TEST_DATABASE_URL is not set")


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args])


def assert_one_line(result: Result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [expected]
    assert isinstance(result.exception, SystemExit)  # sys.exit, not an escaped error


def other_pg_database(suffix: str) -> str:
    assert PG_URL is not None
    url = make_url(normalise_url(PG_URL))
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


@pytest.fixture
def empty_pg() -> Iterator[str]:
    """A PostgreSQL database with no tables, dropped afterwards."""
    url = other_pg_database("empty")
    admin = make_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.parametrize("args", [("tasks",), ("definitions",), ("instances",)])
def test_an_uninitialised_sqlite_database_is_one_line(tmp_path: Path, args: tuple[str, ...]):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert_one_line(
        run(url, *args), f"error: the database at {url} has no CaseClock tables; run caseclock init"
    )
    # And after the advice is followed, the same command works.
    assert run(url, "init").exit_code == 0
    assert run(url, *args).exit_code == 0


@needs_pg
def test_an_empty_postgresql_database_is_one_line(empty_pg: str):
    shown = make_url(empty_pg).render_as_string(hide_password=True)
    assert_one_line(
        run(empty_pg, "tasks"),
        f"error: the database at {shown} has no CaseClock tables; run caseclock init",
    )


@needs_pg
def test_a_missing_postgresql_database_is_one_line():
    url = other_pg_database("never_created")
    name = make_url(url).database
    result = run(url, "tasks")
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: cannot open the database at ")
    assert f'database "{name}" does not exist' in line and line.endswith("; run caseclock init")


def test_an_unreachable_server_is_one_line_without_the_password():
    url = "postgresql://caseclock:s3cret@127.0.0.1:1/caseclock"
    result = run(url, "tasks")
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: cannot open the database at postgresql://caseclock:***@")
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_an_older_schema_says_to_upgrade(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert run(url, "init").exit_code == 0
    assert explain(url) is None  # a database at the newest schema: nothing to explain
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '164c25626c25'"))
    engine.dispose()
    reason = explain(url)
    assert reason is not None
    assert reason.startswith(f"the database at {url} has an older CaseClock schema")
    assert reason.endswith("run caseclock init to upgrade it")
