"""The declarative base and the type aliases every model uses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, mapped_column

from .types import UtcDateTime

# Stable constraint names so that future Alembic migrations can address them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but INTEGER on SQLite so the column aliases ROWID and
# autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")

pk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
short_str = Annotated[str, mapped_column(String(200))]
key_str = Annotated[str, mapped_column(String(100))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }
