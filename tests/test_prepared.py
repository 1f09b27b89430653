"""Prepared hot-path writes behave as the same statements run through SQLAlchemy would:
same types on the way in, same transaction, same listeners told."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from engine.app import CaseClock
from engine.errors import Conflict
from engine.executor import CommandContext
from engine.store.base import BigId
from engine.store.prepared import Prepared
from engine.store.types import UtcDateTime

from .conftest import SHANGHAI

metadata = MetaData()
rows = Table(
    "prepared_probe",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime()),
    Column("payload", JSON()),
    Column("flag", Boolean, default=True),
    Column("attempts", Integer, default=0),
    Column("status", String(20)),
)
INSERT = Prepared(rows.insert().returning(rows.c.id))
INSERT_MANY = Prepared(rows.insert())
CANCEL = Prepared(update(rows).where(rows.c.id == bindparam("row_id")).values(status="cancelled"))
# As a timer's move clears its lease: a new value bound, others the statement's own.
RESET = Prepared(
    update(rows)
    .where(rows.c.id == bindparam("row_id"))
    .values(at=bindparam("new_at"), payload=None, status=None)
)
WAITING = Prepared(
    select(rows.c.id, rows.c.at, rows.c.payload)
    .where(rows.c.status == "waiting", rows.c.attempts < bindparam("most"))
    .order_by(rows.c.id)
)
AT = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def probe(app: CaseClock) -> Iterator[CaseClock]:
    metadata.create_all(app.db)
    yield app
    metadata.drop_all(app.db)


def _write(values: dict[str, Any]) -> Any:
    def command(ctx: CommandContext) -> Any:
        return INSERT.run(ctx.session.connection(), values)

    return command


def _all(app: CaseClock) -> list[Any]:
    return app.read(lambda s: s.execute(select(rows).order_by(rows.c.id)).all())


def test_values_go_in_as_their_column_types_say(probe: CaseClock) -> None:
    new_id = probe.execute(_write({"at": AT, "payload": {"n": [1, "二"]}, "status": "waiting"}))
    [row] = _all(probe)
    assert row.id == new_id
    # Stored as the UTC instant, read back aware; JSON as JSON; constant defaults filled in.
    assert row.at == AT and row.at.tzinfo == timezone.utc
    assert row.payload == {"n": [1, "二"]}
    assert (row.flag, row.attempts, row.status) == (True, 0, "waiting")


def test_column_type_checks_still_apply(probe: CaseClock) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        probe.execute(_write({"at": datetime(2026, 3, 2, 9, 0), "status": "waiting"}))
    assert _all(probe) == []


def test_a_write_is_part_of_the_command_and_rolls_back_with_it(probe: CaseClock) -> None:
    def fails(ctx: CommandContext) -> None:
        INSERT.run(ctx.session.connection(), {"at": AT, "status": "waiting"})
        raise Conflict("changed my mind")

    with pytest.raises(Conflict):
        probe.execute(fails)
    assert _all(probe) == []


def test_many_rows_and_a_value_the_statement_gives(probe: CaseClock) -> None:
    def write(ctx: CommandContext) -> None:
        INSERT_MANY.run_many(ctx.session.connection(), [
            {"at": AT, "status": "waiting", "flag": False},
            {"at": AT, "status": "waiting", "flag": True},
            {"at": AT, "status": "waiting", "flag": False},
        ])  # fmt: skip

    probe.execute(write)
    first, second, third = _all(probe)
    assert [row.flag for row in (first, second, third)] == [False, True, False]

    def cancel(ctx: CommandContext) -> None:
        rows_to_cancel = [{"row_id": first.id}, {"row_id": third.id}]
        CANCEL.run_many(ctx.session.connection(), rows_to_cancel)

    probe.execute(cancel)
    assert [row.status for row in _all(probe)] == ["cancelled", "waiting", "cancelled"]


def test_engine_listeners_see_the_statements(probe: CaseClock) -> None:
    seen: list[tuple[str, bool]] = []

    def watch(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool):
        seen.append((statement.split()[0], many))

    event.listen(probe.db, "before_cursor_execute", watch)
    try:
        probe.execute(_write({"at": AT, "status": "waiting"}))
    finally:
        event.remove(probe.db, "before_cursor_execute", watch)
    assert ("INSERT", False) in seen


def test_a_computed_default_is_refused_before_anything_runs(probe: CaseClock) -> None:
    stamped = Table(
        "prepared_probe_stamped",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UtcDateTime(), default=lambda: AT),
    )

    def write(ctx: CommandContext) -> None:
        Prepared(stamped.insert()).run(ctx.session.connection(), {"id": 1})

    with pytest.raises(TypeError, match="computed default"):
        probe.execute(write)


def test_a_read_gives_named_rows_with_values_as_their_types_read_them(probe: CaseClock) -> None:
    first = probe.execute(_write({"at": AT, "payload": {"n": 1}, "status": "waiting"}))
    probe.execute(_write({"at": AT, "status": "cancelled"}))
    probe.execute(_write({"at": AT, "status": "waiting", "attempts": 5}))
    found = probe.read(lambda s: WAITING.rows(s.connection(), {"most": 3}))
    assert [(row.id, row.at, row.payload) for row in found] == [(first, AT, {"n": 1})]
    assert found[0].at.tzinfo == timezone.utc


def test_an_expanding_in_is_refused(probe: CaseClock) -> None:
    listed = Prepared(select(rows.c.id).where(rows.c.status.in_(["waiting", "paused"])))
    with pytest.raises(TypeError, match="expanding IN"):
        probe.read(lambda s: listed.rows(s.connection(), {}))


def test_a_refused_write_is_sqlalchemy_s_error_so_the_executor_knows_a_lost_race(
    probe: CaseClock,
) -> None:
    taken = probe.execute(_write({"at": AT, "status": "waiting"}))
    with pytest.raises(Conflict, match="a concurrent change won"):
        probe.execute(_write({"id": taken, "at": AT, "status": "waiting"}))

    with probe.db.connect() as connection, pytest.raises(IntegrityError) as refused:
        INSERT.run(connection, {"id": taken, "at": AT, "status": "waiting"})
    assert "INSERT INTO prepared_probe" in str(refused.value)
    assert [row.id for row in _all(probe)] == [taken]


def test_values_the_statement_gives_include_null(probe: CaseClock) -> None:
    first = probe.execute(_write({"at": AT, "payload": {"n": 1}, "status": "waiting"}))
    later = datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)
    moved = {"row_id": first, "new_at": later}
    probe.execute(lambda ctx: RESET.run(ctx.session.connection(), moved))
    [row] = _all(probe)
    assert (row.at, row.payload, row.status) == (later, None, None)
