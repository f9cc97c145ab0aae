"""The transactional outbox: write events with state in one transaction; a relay publishes them.

Rows have Debezium's outbox-router shape (topic = aggregatetype, key = aggregateid,
header ``id``), and the embedded relay publishes exactly what the router would, so
production can swap the relay for Debezium without touching a consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple, TypeAlias

from confluent_kafka import KafkaError, Producer
from crm_contracts import Registry
from google.protobuf.message import Message
from sqlalchemy import Connection, Engine, Table, bindparam, delete, select
from sqlalchemy.orm import Session

from crmkit import metrics
from crmkit.cloudevents import SPECVERSION, encode_data, new_event_id
from crmkit.db import READ_ONLY, delete_outbox_rows
from crmkit.rawsql import RawSql
from crmkit.timeutil import to_rfc3339, utcnow

log = logging.getLogger(__name__)
Row: TypeAlias = tuple[Any, ...]


class OutboxRow(NamedTuple):
    """One queued outbox row, in the table's column order (``seq`` is the database's)."""

    id: str
    aggregatetype: str
    aggregateid: str
    type: str
    payload: bytes
    ce_source: str
    ce_time: str
    ce_specversion: str
    content_type: str
    correlation_id: str
    created_at: datetime


class Outbox:
    """Collects the events a transaction emits; the applier inserts them with its ledger rows."""

    def __init__(self, *, registry: Registry, source: str, content_type: str) -> None:
        self._registry = registry
        self._source = source
        self._content_type = content_type
        self.rows: list[OutboxRow] = []
        self._now: tuple[datetime, str] | None = None

    def _clock(self) -> tuple[datetime, str]:
        """The transaction's time and its RFC 3339 text: read once, so its events share one time."""
        if self._now is None:
            now = utcnow()
            self._now = now, to_rfc3339(now)
        return self._now

    def emit(
        self,
        *,
        event_type: str,
        key: str,
        data: Message,
        correlation_id: str = "",
        event_id: str | None = None,
        time: datetime | None = None,
    ) -> str:
        """Queue one event for its registry topic; returns the event id.

        ``time`` is the event's time; without it, the transaction's (the first emit's clock reading).
        """
        topic = self._registry.topic_of(event_type)
        expected = topic.events[event_type].message_class
        if not isinstance(data, expected):
            raise TypeError(f"{event_type} needs {expected.__name__}, got {type(data).__name__}")
        event_id = event_id or new_event_id()
        now, now_text = self._clock()
        self.rows.append(
            OutboxRow(
                id=event_id,
                aggregatetype=topic.name,
                aggregateid=key,
                type=event_type,
                payload=encode_data(data, self._content_type),
                ce_source=self._source,
                ce_time=to_rfc3339(time) if time else now_text,
                ce_specversion=SPECVERSION,
                content_type=self._content_type,
                correlation_id=correlation_id,
                created_at=now,
            )
        )
        return event_id

    def write(self, transaction: Session | Connection, table: Table) -> int:
        """Insert the queued rows in a session's or connection's transaction (one executemany on the DBAPI cursor)."""
        connection = transaction.connection() if isinstance(transaction, Session) else transaction
        RawSql(connection).insert(table, OutboxRow._fields, self.rows)
        return len(self.rows)


_COLUMNS = (
    "seq",
    "id",
    "aggregatetype",
    "aggregateid",
    "type",
    "payload",
    "ce_source",
    "ce_time",
    "ce_specversion",
    "content_type",
    "correlation_id",
)


class PublishError(Exception):
    """The broker did not acknowledge every row of a relay batch; the rows stay in the outbox."""


def _headers(row: Row) -> list[tuple[str, str | bytes | None]]:
    """The headers Debezium's outbox router (with our additional placements) would send."""
    _seq, event_id, _topic, _key, event_type, _payload, source, time, specversion, content_type, correlation = row
    return [
        ("id", event_id.encode()),
        ("ce_id", event_id.encode()),
        ("ce_type", event_type.encode()),
        ("ce_source", source.encode()),
        ("ce_time", time.encode()),
        ("ce_specversion", specversion.encode()),
        ("content-type", content_type.encode()),
        # Always present (maybe empty), exactly as Debezium's additional placement sends it.
        ("ce_correlationid", (correlation or "").encode()),
    ]


def _seq_only_grows(engine: Engine, table: Table) -> bool:
    """True on SQLite with an AUTOINCREMENT ``seq``: serialised writers and never a reused id."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as conn:
        ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?", (table.name,)).scalar()
    return "AUTOINCREMENT" in str(ddl or "").upper()


class OutboxRelay:
    """Publishes outbox rows in commit order, then deletes them (at-least-once).

    The producer is librdkafka's (confluent-kafka) with the Java client's murmur2
    partitioner, so a key lands on the partition Debezium's Kafka Connect would pick.

    On SQLite, writers are serialised, so ``seq`` order is commit order: the relay reads
    past a watermark and deletes what it published at most every ``delete_every_s``, in
    one range delete, instead of taking the write lock after every batch. After a crash
    the undeleted rows are published again (consumers' ledgers absorb them). Elsewhere
    (PostgreSQL: a lower ``seq`` can commit later) each batch is deleted by its ids.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        table: Table,
        bootstrap: str,
        service: str,
        batch_size: int = 2000,
        idle_poll_s: float = 1.0,
        delete_every_s: float = 1.0,
        min_interval_s: float = 0.0,
    ) -> None:
        self._engine = engine
        self._table = table
        self._service = service
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": False,
                "linger.ms": 2,
                "socket.nagle.disable": True,
                "partitioner": "murmur2_random",
                "client.id": f"{service}-outbox-relay",
            }
        )
        self._fetch_query = (
            select(*(table.c[name] for name in _COLUMNS))
            .where(table.c.seq > bindparam("after"))
            .order_by(table.c.seq)
            .limit(batch_size)
        )
        self._ordered_commits: bool | None = None  # decided on first use, when the table exists
        self._delete_every_s = delete_every_s
        self._min_interval_s = min_interval_s
        self._last_publish = 0.0
        self._published_up_to = 0  # highest seq published and not yet deleted (ordered commits only)
        self._last_delete = time.monotonic()
        self._busy = threading.Lock()  # one publisher at a time: the committing thread or the task
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0

    def wake(self) -> None:
        """Tell the relay a transaction with outbox rows just committed (safe from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def publish_now(self) -> None:
        """Publish from the thread that just committed outbox rows (no hand-off, no wake-up delay).

        If another publish is running, or this one fails, the relay task takes over.
        """
        if self._due_in() > 0 or not self._busy.acquire(blocking=False):
            self.wake()
            return
        try:
            while self.relay_once():
                pass
        except PublishError:
            log.exception("outbox publish failed; the relay task retries")
            self.wake()
        finally:
            self._busy.release()

    def _due_in(self) -> float:
        """Seconds until the next publish may start (each publish makes a record batch per partition)."""
        return self._last_publish + self._min_interval_s - time.monotonic()

    def _relay_when_free(self) -> int:
        with self._busy:
            return self.relay_once()

    def stop(self) -> None:
        """Finish the current batch and return from run()."""
        self._stopping.set()
        self._wakeup.set()

    async def run(self) -> None:
        """Relay until stopped; a failed publish is retried, never skipped."""
        self._loop = asyncio.get_running_loop()
        try:
            while True:
                self._wakeup.clear()
                if (delay := self._due_in()) > 0:
                    await asyncio.sleep(delay)
                try:
                    relayed = await asyncio.to_thread(self._relay_when_free)
                except PublishError:
                    log.exception("outbox publish failed; retrying the same rows")
                    await asyncio.sleep(1.0)
                    continue
                if relayed:
                    continue
                if self._stopping.is_set():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self._idle_poll_s)
        finally:
            await asyncio.to_thread(self._producer.flush, 10.0)
            await asyncio.to_thread(self.retire, force=True)

    def relay_once(self) -> int:
        """Publish the oldest batch of unpublished rows, wait for every ack, retire them; returns how many."""
        # a plain read: SQLite runs one writer at a time, so no snapshot misses a lower seq
        with self._engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            rows = [tuple(row) for row in conn.execute(self._fetch_query, {"after": self._published_up_to})]
        metrics.OUTBOX_PENDING.labels(self._service).set(len(rows))
        if not rows:
            self.retire(force=False)
            return 0
        self._last_publish = time.monotonic()
        failures: list[str] = []

        def delivered(error: KafkaError | None, _message: object) -> None:
            if error is not None:
                failures.append(str(error))

        for row in rows:
            self._produce(row, delivered)
        remaining = self._producer.flush(30.0)
        if failures or remaining:
            raise PublishError(f"{len(failures)} row(s) not acknowledged, {remaining} still queued: {failures[:3]}")
        if self._ordered_commits is None:
            self._ordered_commits = _seq_only_grows(self._engine, self._table)
        if self._ordered_commits:
            self._published_up_to = int(rows[-1][0])
            self.retire(force=False)
        else:
            delete_outbox_rows(self._engine, self._table, [row[0] for row in rows])
        self.published += len(rows)
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    def retire(self, *, force: bool) -> None:
        """Delete the rows published past the watermark (when due, or now if ``force``)."""
        if not self._published_up_to:
            return
        if not force and time.monotonic() - self._last_delete < self._delete_every_s:
            return
        with self._engine.begin() as conn:
            conn.execute(delete(self._table).where(self._table.c.seq <= self._published_up_to))
        self._last_delete = time.monotonic()

    def _produce(self, row: Row, on_delivery: Callable[[KafkaError | None, object], None]) -> None:
        while True:
            try:
                self._producer.produce(
                    row[2], key=row[3].encode(), value=row[5], headers=_headers(row), on_delivery=on_delivery
                )
                return
            except BufferError:  # local queue full: let deliveries drain, then go on
                self._producer.poll(0.1)
