"""The migrations and the models describe one schema: replaying every revision on an
empty database gives exactly what ``create_all`` gives, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from engine.errors import CaseClockError
from engine.store import Base, create_schema, make_engine
from engine.store.database import ensure_database
from engine.store.schema import alembic_config

from .conftest import PG_URL


@pytest.fixture
def empty_url(tmp_path):
    """An empty database of the kind under test."""
    if PG_URL is None:
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url = PG_URL.rsplit("/", 1)[0] + "/caseclock_migrations"
    ensure_database(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def differences(engine):
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)  # fmt: skip


def test_replaying_the_migrations_gives_the_models_schema(empty_url):
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert differences(engine) == []
    engine.dispose()


def test_a_new_database_is_stamped_and_an_existing_one_upgraded(empty_url):
    engine = make_engine(empty_url)
    create_schema(engine)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
    create_schema(engine)  # again: nothing to do, nothing lost
    assert differences(engine) == []
    engine.dispose()


def test_a_database_from_before_migrations_gets_a_clear_error(empty_url):
    engine = make_engine(empty_url)
    Base.metadata.create_all(engine)
    with pytest.raises(CaseClockError, match="created by a CaseClock build without migrations"):
        create_schema(engine)
    assert "alembic_version" not in inspect(engine).get_table_names()
    engine.dispose()


def test_the_baseline_downgrades_to_nothing(empty_url):
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_a_database_at_an_older_revision_is_upgraded_and_keeps_its_rows(empty_url):
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [r.revision for r in script.walk_revisions()][::-1]  # oldest first
    if len(revisions) < 2:
        pytest.skip("only one revision so far")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revisions[0])
        conn.execute(text("INSERT INTO person (key, name, active, digest) "
                          "VALUES ('li', '李窗口', true, false)"))  # fmt: skip
    create_schema(engine)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == revisions[-1]
        assert conn.scalar(text("SELECT name FROM person WHERE key = 'li'")) == "李窗口"
    assert differences(engine) == []
    engine.dispose()


def test_amounts_a_new_minor_unit_would_misread_stop_the_upgrade(empty_url):
    """KWD was kept in hundredths; from c3e5a7d9f1b2 on it is thousandths. A database
    holding KWD amounts is not upgraded (nothing is reread wrongly) and says why; one
    holding only CNY is."""
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "a1b9f325948f")
        conn.execute(text("INSERT INTO customer (key, name, credit_currency, blacklisted, "
                          "locale, created_at) VALUES ('c1', '张三', 'CNY', false, 'zh-CN', "
                          "CURRENT_TIMESTAMP)"))  # fmt: skip
        for key, currency in (("R-1", "CNY"), ("R-2", "kwd"), ("R-3", "KWD")):
            conn.execute(text(
                "INSERT INTO receivable (key, customer_id, product, principal_minor, currency, "
                "due_date, guarantee, grace_days, penalty_rate, day_count, rounding, "
                "allocation_order, carried_fees_minor, created_at, created_by) VALUES "
                "(:key, (SELECT id FROM customer), 'loan', 123456, :currency, '2026-03-05', "
                "'none', 0, '0', 'daily', 'half_up', 'fees,interest,principal', 0, "
                "CURRENT_TIMESTAMP, 'tests')"
            ), {"key": key, "currency": currency})  # fmt: skip
    with pytest.raises(CaseClockError, match=r"amounts in KWD \(2\) are stored in hundredths"):
        create_schema(engine)
    with engine.begin() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "a1b9f325948f"
        conn.execute(text("DELETE FROM receivable WHERE key <> 'R-1'"))
    create_schema(engine)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT principal_minor FROM receivable")) == 123456
    assert differences(engine) == []
    engine.dispose()
