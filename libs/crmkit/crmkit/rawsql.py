"""Plain DBAPI statements for hot paths (the applier's ledger and outbox, resolution): SQL text, tuples in and out.

SQLAlchemy Core spends more time per row on parameter and result handling than SQLite spends
storing the row. Here a row is a tuple, and only the columns whose type needs it (datetimes,
JSON, booleans) are converted, with the dialect's own converters, so what is stored and read
back is exactly what Core would store and read. SQLite datetimes (Core formats and parses them
in Python) are converted by faster equivalents, used only where they agree with Core on probes.
SQL is written with ``?`` placeholders and runs on SQLite (``qmark``) and psycopg (``%s``);
``{}`` in a query stands for an ``IN`` list.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Dialect, Table, TypeDecorator
from sqlalchemy.types import TypeEngine

Row = tuple[Any, ...]
Convert = Callable[[Any], Any]
_Converters = tuple[tuple[int, Convert], ...]
_BIND_PROBES = (
    datetime(2026, 12, 6, 5, 3, 29, 791547, tzinfo=UTC),
    datetime(2026, 1, 1, 8, 0, 0, tzinfo=timezone(timedelta(hours=8))),
    None,
)
_RESULT_PROBES = ("2026-12-06 05:03:29.791547", "2026-01-01 00:00:00.000000", "2026-01-01 00:00:00", None)


@functools.cache
def _binds(dialect: Dialect, columns: tuple[Column[Any], ...]) -> _Converters:
    """(position, converter) of the columns whose Python values the driver needs converted."""
    found = ((i, _bind_converter(column.type, dialect)) for i, column in enumerate(columns))
    return tuple((i, convert) for i, convert in found if convert is not None)


@functools.cache
def _results(dialect: Dialect, columns: tuple[Column[Any], ...]) -> _Converters:
    """(position, converter) of the columns whose driver values need converting to Python values."""
    found = ((i, _result_converter(column.type, dialect)) for i, column in enumerate(columns))
    return tuple((i, convert) for i, convert in found if convert is not None)


def _bind_converter(column_type: TypeEngine[Any], dialect: Dialect) -> Convert | None:
    """The dialect's bind processor, or a faster one for a SQLite datetime that gives the same text on probes."""
    core = column_type.dialect_impl(dialect).bind_processor(dialect)
    if core is None or dialect.name != "sqlite" or column_type._type_affinity is not DateTime:
        return core
    before = column_type.process_bind_param if isinstance(column_type, TypeDecorator) else None
    last: tuple[Any, Any] = (None, None)  # a batch's rows share their transaction's clock reading

    def wall_clock_text(value: Any) -> Any:
        nonlocal last
        seen = last
        if value is seen[0]:
            return seen[1]
        text = before(value, dialect) if before is not None else value
        text = None if text is None else text.isoformat(" ", "microseconds")[:26]
        last = (value, text)  # one rebinding: another thread sees the old pair or the new, never half
        return text

    return wall_clock_text if all(wall_clock_text(v) == core(v) for v in _BIND_PROBES) else core


def _result_converter(column_type: TypeEngine[Any], dialect: Dialect) -> Convert | None:
    """The dialect's result processor, or a faster one for a SQLite datetime that gives the same value on probes."""
    core = column_type.dialect_impl(dialect).result_processor(dialect, None)
    if core is None or dialect.name != "sqlite" or column_type._type_affinity is not DateTime:
        return core
    after = column_type.process_result_value if isinstance(column_type, TypeDecorator) else None

    def parsed(value: Any) -> Any:
        value = None if value is None else datetime.fromisoformat(value)
        return after(value, dialect) if after is not None else value

    return parsed if all(_same(parsed(v), core(v)) for v in _RESULT_PROBES) else core


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same time zone (aware and naive datetimes never compare equal otherwise)."""
    return a == b and getattr(a, "tzinfo", None) == getattr(b, "tzinfo", None)


def _converted(rows: Iterable[Sequence[Any]], converters: _Converters) -> list[Sequence[Any]]:
    """``rows`` with the values at the converters' positions converted."""
    if not converters:
        return list(rows)
    done: list[Sequence[Any]] = []
    for row in rows:
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        done.append(values)
    return done


@functools.cache
def _text(sql: str, mark: str, size: int) -> str:
    """``sql`` with the driver's placeholder, ``{}`` expanded to ``size`` of them."""
    if mark != "?":
        sql = sql.replace("?", mark)
    return sql.replace("{}", ", ".join([mark] * size))


def _padded(values: Sequence[Any]) -> Sequence[Any]:
    """``values`` with the last repeated up to a power of two: the ``IN`` list means the same, and few
    list lengths keep the statements few enough for the drivers' statement caches."""
    size = 8
    while size < len(values):
        size *= 2
    return [*values, *[values[-1]] * (size - len(values))]


class RawSql:
    """The DBAPI cursor of a transaction's connection, for statements written as text."""

    def __init__(self, connection: Connection) -> None:
        self._dialect = connection.dialect
        self._mark = _mark(self._dialect)
        self._cursor = connection.connection.cursor()

    def rows(self, sql: str, *params: Any) -> list[Row]:
        """Run a query without an ``IN`` list."""
        self._cursor.execute(_text(sql, self._mark, 0), params)
        return list(self._cursor.fetchall())

    def rows_in(self, sql: str, values: Sequence[Any], *params: Any) -> list[Row]:
        """Run a query: ``params`` fill its placeholders before its ``IN ({})`` list, ``values`` that list.

        No values, no query: the ``IN`` list would be empty, so no row.
        """
        if not values:
            return []
        values = _padded(values)
        self._cursor.execute(_text(sql, self._mark, len(values)), (*params, *values))
        return list(self._cursor.fetchall())

    def rows_in_each(self, sql: str, groups: Mapping[Any, Sequence[Any]]) -> list[Row]:
        """:meth:`rows_in` once per ``param → values`` group, as one statement (``UNION ALL``).

        ``sql`` takes one placeholder before its ``IN ({})`` list; rows should name their group.
        """
        parts: list[str] = []
        params: list[Any] = []
        for param, values in groups.items():
            if values:
                padded = _padded(values)
                parts.append(_text(sql, self._mark, len(padded)))
                params.extend((param, *padded))
        if not parts:
            return []
        self._cursor.execute(" UNION ALL ".join(parts), params)
        return list(self._cursor.fetchall())

    def select_in(self, sql: str, values: Sequence[Any], columns: Sequence[Column[Any]]) -> list[Row]:
        """:meth:`rows_in` of a query selecting ``columns``, each value converted as Core would."""
        rows = self.rows_in(sql, values)
        return [tuple(row) for row in _converted(rows, _results(self._dialect, tuple(columns)))]

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert rows of Python values for ``columns`` (one executemany)."""
        self._many(*_insert_statement(self._dialect, table, tuple(columns)), rows)

    def update(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Set ``columns`` of the rows whose ``id`` is the last value of each row (one executemany)."""
        self._many(*_update_statement(self._dialect, table, tuple(columns)), rows)

    def execute(self, sql: str, *params: Any) -> None:
        """Run one statement without an ``IN`` list."""
        self._cursor.execute(_text(sql, self._mark, 0), params)

    def _many(self, sql: str, converters: _Converters, rows: Iterable[Sequence[Any]]) -> None:
        batch = _converted(rows, converters)
        if batch:
            self._cursor.executemany(sql, batch)


@functools.cache
def _insert_statement(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[str, _Converters]:
    """The INSERT of ``columns`` into ``table`` in the driver's style, and its columns' converters (built once)."""
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
    return _text(sql, _mark(dialect), 0), _binds(dialect, tuple(table.c[name] for name in columns))


@functools.cache
def _update_statement(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[str, _Converters]:
    """The UPDATE of ``columns`` of ``table`` by ``id`` in the driver's style, and the converters (built once)."""
    assignments = ", ".join(f"{dialect.identifier_preparer.quote(name)} = ?" for name in columns)
    sql = f"UPDATE {table.name} SET {assignments} WHERE id = ?"
    return _text(sql, _mark(dialect), 0), _binds(dialect, (*(table.c[name] for name in columns), table.c.id))


def _mark(dialect: Dialect) -> str:
    """The driver's placeholder: ``?`` (SQLite) or ``%s`` (psycopg)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"
