"""A service's own database: engine set-up, the processed-event ledger and the outbox table.

Both infrastructure tables are added to the service's own metadata, so each service's
database holds its state, its ledger and its outbox, and one transaction covers all three.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session

from crmkit.checkpoint import JOURNAL_SIZE_LIMIT_BYTES, WRITER_AUTOCHECKPOINT_PAGES
from crmkit.rawsql import RawSql

READ_ONLY = "crm_read_only"
"""Execution option: this connection only reads, so on SQLite it need not queue for the write lock."""

# SQLite has no BIGINT autoincrement; INTEGER PRIMARY KEY is its rowid, which is.
_SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class InfraTables:
    """The ledger and outbox tables inside one service's metadata."""

    ledger: Table
    outbox: Table


def add_infra_tables(metadata: MetaData) -> InfraTables:
    """Add ``processed_events`` and ``outbox`` to ``metadata`` (idempotent)."""
    if "outbox" in metadata.tables:
        return InfraTables(ledger=metadata.tables["processed_events"], outbox=metadata.tables["outbox"])
    ledger = Table(
        "processed_events",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_key", String(300), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    # Column names follow Debezium's outbox event router (id, aggregatetype, aggregateid,
    # type, payload); the ce_* columns become headers via table.fields.additional.placement.
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", _SEQ_TYPE, primary_key=True, autoincrement=True),
        # Ids are minted here (uuid4) and a row lives until the relay publishes it (about a second),
        # so no unique index: on a random key it was the most written B-tree of a touchpoint's
        # commit (1.84 WAL pages each, README "Why small commits stall"). seq is the primary key.
        Column("id", String(64), nullable=False),
        Column("aggregatetype", String(200), nullable=False),
        Column("aggregateid", String(200), nullable=False),
        Column("type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("ce_source", String(200), nullable=False),
        Column("ce_time", String(40), nullable=False),
        Column("ce_specversion", String(8), nullable=False, default="1.0"),
        Column("content_type", String(60), nullable=False),
        Column("correlation_id", Text, nullable=False, default=""),
        Column("created_at", DateTime(timezone=True), nullable=False),
        # SQLite reuses the highest rowid after a delete unless AUTOINCREMENT: the relay's
        # watermark needs seq to grow for ever.
        sqlite_autoincrement=True,
    )
    return InfraTables(ledger=ledger, outbox=outbox)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy issue BEGIN (savepoints work)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT_BYTES}")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: no deadlock between two writers. A connection
        # marked read-only (the outbox relay's reads) begins a plain WAL read that never waits.
        # On the DBAPI connection: a consumer begins hundreds of transactions a second, and the
        # Core execution path would cost ~10 µs more each.
        read_only = connection.get_execution_options().get(READ_ONLY)
        driver = connection.connection.driver_connection
        assert driver is not None  # the connection being begun is open
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _json_text(value: Any) -> str:
    """A JSON column's text: orjson's (a provenance map in ~1 µs where the standard library takes ~16)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


_JSON = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file (WAL, immediate transactions) or PostgreSQL; JSON columns through orjson."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, **_JSON)
        _sqlite_pragmas(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, **_JSON)


class Database:
    """One service's database: its metadata (state + ledger + outbox) and engine."""

    def __init__(self, url: str, metadata: MetaData) -> None:
        self.url = url
        self.metadata = metadata
        self.tables = add_infra_tables(metadata)
        self.engine = make_engine(url)

    def create_all(self) -> None:
        """Create missing tables (the embedded default; production runs migrations)."""
        self.metadata.create_all(self.engine)

    def session(self) -> Session:
        """A new ORM session on this database."""
        return Session(self.engine, expire_on_commit=False)

    def outbox_pending(self) -> int:
        """How many outbox rows wait for the relay."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.tables.outbox)).scalar_one())

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def already_processed(connection: Connection, ledger: Table, *, consumer: str, keys: Iterable[str]) -> set[str]:
    """The subset of ``keys`` this consumer has already applied (one query on the ledger's primary key)."""
    wanted = sorted(set(keys))
    query = f"SELECT event_key FROM {ledger.name} WHERE consumer = ? AND event_key IN ({{}})"
    return {row[0] for row in RawSql(connection).rows_in(query, wanted, consumer)}


LEDGER_COLUMNS = ("consumer", "event_key", "event_type", "topic", "partition", "offset", "processed_at")
"""The ledger row's columns, in the order :func:`record_processed` takes its tuples."""


def record_processed(connection: Connection, ledger: Table, rows: list[tuple[object, ...]]) -> None:
    """Write the ledger rows that make a redelivery of these events a no-op (one executemany).

    Each row holds the values of :data:`LEDGER_COLUMNS`, in order.
    """
    RawSql(connection).insert(ledger, LEDGER_COLUMNS, rows)


def delete_outbox_rows(engine: Engine, outbox: Table, seqs: list[int]) -> None:
    """Remove published rows (Debezium reads the WAL; the embedded relay deletes after the ack)."""
    with engine.begin() as conn:
        conn.execute(delete(outbox).where(outbox.c.seq.in_(seqs)))
