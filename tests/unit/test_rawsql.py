"""crmkit.rawsql: the faster SQLite datetime converters store and read exactly what SQLAlchemy Core does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from crmkit.rawsql import RawSql, _bind_converter, _result_converter
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite
from sqlmodel.sql.sqltypes import UTCDateTime

DIALECT = sqlite.dialect()
TYPES = (UTCDateTime(), DateTime(timezone=True), DateTime())
ZONES = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
AWARE = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9998, 12, 30), timezones=ZONES)


def test_sqlite_datetimes_get_the_fast_converters() -> None:
    for column_type in TYPES:
        assert _bind_converter(column_type, DIALECT).__name__ == "wall_clock_text"  # type: ignore[union-attr]
        assert _result_converter(column_type, DIALECT).__name__ == "parsed"  # type: ignore[union-attr]


@given(value=AWARE)
def test_datetimes_are_stored_and_read_as_core_does(value: datetime) -> None:
    for column_type in TYPES:
        impl = column_type.dialect_impl(DIALECT)
        core_bind, core_result = impl.bind_processor(DIALECT), impl.result_processor(DIALECT, None)
        fast_bind, fast_result = _bind_converter(column_type, DIALECT), _result_converter(column_type, DIALECT)
        assert core_bind is not None and core_result is not None and fast_bind and fast_result
        stored = core_bind(value)
        assert fast_bind(value) == stored == fast_bind(value)  # the second time from its memo
        read, core_read = fast_result(stored), core_result(stored)
        assert read == core_read and read.tzinfo == core_read.tzinfo


def test_reserved_column_names_are_quoted_and_rows_match_core() -> None:
    engine = create_engine("sqlite://")
    table = Table(
        "ledger",
        MetaData(),
        Column("key", String, primary_key=True),
        Column("offset", BigInteger),
        Column("at", DateTime(timezone=True)),
    )
    table.metadata.create_all(engine)
    at = datetime(2026, 12, 6, 5, 0, 1, 5, tzinfo=UTC)
    with engine.begin() as conn:
        RawSql(conn).insert(table, ("key", "offset", "at"), [("raw", 7, at)])
        conn.execute(insert(table), [{"key": "core", "offset": 7, "at": at}])
        stored = conn.exec_driver_sql('SELECT "offset", at FROM ledger ORDER BY key').all()
        assert stored[0] == stored[1] == (7, "2026-12-06 05:00:01.000005")
        assert RawSql(conn).select_in("SELECT at FROM ledger WHERE key IN ({})", ["raw"], [table.c.at]) == [
            tuple(conn.execute(select(table.c.at).where(table.c.key == "core")).one())
        ]
