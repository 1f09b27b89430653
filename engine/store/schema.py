"""The database schema and its migrations (Alembic, in ``engine/store/migrations``).

A new database is created straight from the models and stamped with the newest
revision (faster than replaying history, and the same result: a test checks it). An
existing one is upgraded by the migrations it has not run yet. A schema change is a
model change plus a revision: ``scripts/new-migration.sh "what changed"``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect

from ..errors import CaseClockError
from .base import Base

MIGRATIONS = Path(__file__).with_name("migrations")
# A table every CaseClock database has had since the first build.
CORE_TABLE = "process_instance"


class LegacyDatabase(CaseClockError):
    """Created by a build before migrations existed: its revision is unknown."""

    code = "legacy_database"
    http_status = 503


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url)
    config.attributes["connection"] = connection
    return config


def create_schema(engine: Engine) -> None:
    """Create (new database) or upgrade (existing one) to the newest revision."""
    with engine.begin() as connection:
        tables = set(inspect(connection).get_table_names())
        config = alembic_config(connection)
        if CORE_TABLE not in tables:
            Base.metadata.create_all(connection)
            command.stamp(config, "head")
        elif "alembic_version" in tables:
            command.upgrade(config, "head")
        else:
            raise LegacyDatabase(
                "this database was created by a CaseClock build without migrations; "
                "recreate it (`caseclock demo --fresh` for the demo database)"
            )
