"""Hot-path statements handed to the database driver directly.

A Core ``execute`` of an already-cached statement still costs about 60 µs of Python per
call (execution context, parameter processing, result set-up), five times what the
driver itself takes for a one-row ``INSERT``; a command runs eight to ten such
statements. :class:`Prepared` compiles its statement once per dialect, keeps the SQL
text, the parameter order and the type processors SQLAlchemy would apply, and runs it on
the session's own DBAPI connection, inside the same transaction. It is for writes that
return at most one row and whose column defaults, if any, are constants, and for reads
of a few columns; an expanding ``IN`` (a list bound at run time) is not supported.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: Sequence[str]  # bind parameter names in the order the driver takes them
    positional: bool
    processors: dict[str, Callable[[Any], Any]]
    fixed: dict[str, Any]  # parameters the statement itself gives a value
    row: Callable[..., Any] | None  # a read's row type, with its columns' names
    results: list[_Processor]  # a read's column processors, in column order


class Prepared:
    """One statement, compiled on first use for each dialect and set of parameters."""

    def __init__(self, statement: UpdateBase | Select[Any]) -> None:
        self._statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def run(self, connection: Connection, values: dict[str, Any]) -> Any:
        """Execute with one row of ``values``; return the first column of the row it
        returns (``RETURNING``), if any."""
        compiled = self._for(connection, values)
        with _cursor(connection) as cursor:
            _execute(connection, cursor, compiled.sql, _parameters(compiled, values), many=False)
            row = cursor.fetchone() if cursor.description else None
        return row[0] if row is not None else None

    def run_many(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Execute once per row; every row names the same columns."""
        if not rows:
            return
        compiled = self._for(connection, rows[0])
        parameters = [_parameters(compiled, row) for row in rows]
        with _cursor(connection) as cursor:
            _execute(connection, cursor, compiled.sql, parameters, many=True)

    def rows(self, connection: Connection, values: dict[str, Any]) -> list[Any]:
        """A read's rows, as named tuples of its columns' values."""
        compiled = self._for(connection, values)
        with _cursor(connection) as cursor:
            _execute(connection, cursor, compiled.sql, _parameters(compiled, values), many=False)
            fetched = cursor.fetchall()
        assert compiled.row is not None, "rows() is for a SELECT"
        make, results = compiled.row, compiled.results
        if not any(results):
            return [make(*row) for row in fetched]
        return [
            make(*(v if p is None else p(v) for p, v in zip(results, row, strict=True)))
            for row in fetched
        ]

    def _for(self, connection: Connection, values: dict[str, Any]) -> _Compiled:
        dialect = connection.dialect
        key = (dialect.name, frozenset(values))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(self._statement, connection, list(values))
        return compiled


def _compile(
    statement: UpdateBase | Select[Any], connection: Connection, keys: list[str]
) -> _Compiled:
    dialect = connection.dialect
    compiler = statement.compile(dialect=dialect, column_keys=keys)
    assert isinstance(compiler, SQLCompiler)
    if any(bind.expanding for bind in compiler.bind_names):
        raise TypeError(f"{statement}: an expanding IN; compare with each value instead")
    # Values the statement gives itself (``.values(status="cancelled", lease_owner=None)``);
    # a bind without one (``bindparam("due")``) is the caller's to give.
    fixed = {
        name: bind.value
        for bind, name in compiler.bind_names.items()
        if name not in keys and not bind.required
    }
    for column in (*compiler.insert_prefetch, *compiler.update_prefetch):
        default = column.default
        if default is None or not default.is_scalar:
            raise TypeError(f"{column}: a computed default; give its value")
        fixed[column.key] = default.arg
    names = compiler.positiontup if compiler.positional else list(compiler.bind_names.values())
    binds = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect)
        for bind, name in compiler.bind_names.items()
    }
    columns = list(statement.selected_columns) if isinstance(statement, Select) else []
    return _Compiled(
        sql=compiler.string,
        names=list(names or ()),
        positional=compiler.positional,
        processors={name: processor for name, processor in binds.items() if processor},
        fixed=fixed,
        row=namedtuple("Row", [c.key for c in columns]) if columns else None,  # type: ignore[misc]
        results=[c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns],
    )


@contextmanager
def _cursor(connection: Connection) -> Iterator[Any]:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    finally:
        cursor.close()


def _execute(connection: Connection, cursor: Any, sql: str, parameters: Any, many: bool) -> None:
    """Run on the driver's cursor, telling the engine's cursor listeners as SQLAlchemy
    would (statement counters, query logs and tracing instrumentation listen there), and
    raising the driver's errors as SQLAlchemy's: the executor tells a lost race
    (``IntegrityError``) and a busy database (``OperationalError``) by them."""
    dispatch = connection.dispatch
    dispatch.before_cursor_execute(connection, cursor, sql, parameters, None, many)
    dialect = connection.dialect
    driver_error = dialect.loaded_dbapi.Error
    try:
        (cursor.executemany if many else cursor.execute)(sql, parameters)
    except driver_error as exc:
        # A lost connection goes back to the pool as dead, as SQLAlchemy's own would.
        lost = dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, parameters, exc, driver_error, connection_invalidated=lost, dialect=dialect,
            ismulti=many,
        ) from exc  # fmt: skip
    dispatch.after_cursor_execute(connection, cursor, sql, parameters, None, many)


def _parameters(compiled: _Compiled, values: dict[str, Any]) -> Any:
    processors = compiled.processors
    merged = {**compiled.fixed, **values} if compiled.fixed else values
    processed = {
        name: processors[name](merged[name]) if name in processors else merged[name]
        for name in compiled.names
    }
    return [processed[name] for name in compiled.names] if compiled.positional else processed
