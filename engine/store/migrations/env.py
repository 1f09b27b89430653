"""Alembic environment: runs on the connection :func:`engine.store.database.create_schema`
hands over (``config.attributes["connection"]``), or on ``sqlalchemy.url`` when a
developer runs ``scripts/new-migration.sh``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from engine.store import Base
from engine.store.types import UtcDateTime


def render_item(kind: str, item: object, autogen_context: object) -> str | bool:
    # Generated revisions name our column type by its module, which they import.
    if kind == "type" and isinstance(item, UtcDateTime):
        autogen_context.imports.add("import engine.store.types")  # type: ignore[attr-defined]
        return "engine.store.types.UtcDateTime()"
    return False


def run() -> None:
    options = {"target_metadata": Base.metadata, "render_as_batch": True,
               "compare_type": True, "render_item": render_item}  # fmt: skip
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()


run()
