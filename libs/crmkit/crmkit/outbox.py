"""The transactional outbox: write events with state in one transaction; a relay publishes them.

Rows have Debezium's outbox-router shape (topic = aggregatetype, key = aggregateid,
header ``id``), and the embedded relay publishes exactly what the router would, so
production can swap the relay for Debezium without touching a consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from aiokafka import AIOKafkaProducer
from crm_contracts import Registry
from google.protobuf.message import Message
from sqlalchemy import Engine, Table, insert, select
from sqlmodel import Session

from crmkit import metrics
from crmkit.cloudevents import SPECVERSION, encode_data, new_event_id
from crmkit.db import delete_outbox_rows
from crmkit.timeutil import to_rfc3339, utcnow

log = logging.getLogger(__name__)


class Outbox:
    """Collects the events a transaction emits; the applier inserts them with its ledger rows."""

    def __init__(self, *, registry: Registry, source: str, content_type: str) -> None:
        self._registry = registry
        self._source = source
        self._content_type = content_type
        self.rows: list[dict[str, object]] = []

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
        """Queue one event for its registry topic; returns the event id."""
        topic = self._registry.topic_of(event_type)
        expected = topic.events[event_type].message_class
        if not isinstance(data, expected):
            raise TypeError(f"{event_type} needs {expected.__name__}, got {type(data).__name__}")
        event_id = event_id or new_event_id()
        now = utcnow()
        self.rows.append(
            {
                "id": event_id,
                "aggregatetype": topic.name,
                "aggregateid": key,
                "type": event_type,
                "payload": encode_data(data, self._content_type),
                "ce_source": self._source,
                "ce_time": to_rfc3339(time or now),
                "ce_specversion": SPECVERSION,
                "content_type": self._content_type,
                "correlation_id": correlation_id,
                "created_at": now,
            }
        )
        return event_id

    def write(self, session: Session, table: Table) -> int:
        """Insert the queued rows in the session's transaction (one executemany)."""
        if self.rows:
            session.connection().execute(insert(table), self.rows)
        return len(self.rows)


def _headers(row: dict[str, object]) -> list[tuple[str, bytes]]:
    headers = [
        ("id", str(row["id"]).encode()),
        ("ce_id", str(row["id"]).encode()),
        ("ce_type", str(row["type"]).encode()),
        ("ce_source", str(row["ce_source"]).encode()),
        ("ce_time", str(row["ce_time"]).encode()),
        ("ce_specversion", str(row["ce_specversion"]).encode()),
        ("content-type", str(row["content_type"]).encode()),
        # Always present (maybe empty), exactly as Debezium's additional placement sends it.
        ("ce_correlationid", str(row["correlation_id"] or "").encode()),
    ]
    return headers


class OutboxRelay:
    """Publishes outbox rows in commit order, then deletes them (at-least-once)."""

    def __init__(
        self,
        *,
        engine: Engine,
        table: Table,
        bootstrap: str,
        service: str,
        batch_size: int = 1000,
        idle_poll_s: float = 0.05,
    ) -> None:
        self._engine = engine
        self._table = table
        self._bootstrap = bootstrap
        self._service = service
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0

    def wake(self) -> None:
        """Tell the relay a transaction with outbox rows just committed (safe from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def stop(self) -> None:
        """Finish the current batch and return from run()."""
        self._stopping.set()
        self._wakeup.set()

    def _fetch(self) -> list[dict[str, object]]:
        query = select(self._table).order_by(self._table.c.seq).limit(self._batch_size)
        with self._engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    async def run(self) -> None:
        """Relay until stopped; a failed publish is retried, never skipped."""
        self._loop = asyncio.get_running_loop()
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", linger_ms=2, enable_idempotence=False
        )
        await producer.start()
        try:
            while True:
                rows = await asyncio.to_thread(self._fetch)
                metrics.OUTBOX_PENDING.labels(self._service).set(len(rows))
                if rows:
                    await self._publish(producer, rows)
                    continue
                if self._stopping.is_set():
                    return
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self._idle_poll_s * 20)
        finally:
            await producer.stop()

    async def _publish(self, producer: AIOKafkaProducer, rows: list[dict[str, object]]) -> None:
        try:
            futures = [
                await producer.send(
                    str(row["aggregatetype"]),
                    key=str(row["aggregateid"]).encode(),
                    value=row["payload"],
                    headers=_headers(row),
                )
                for row in rows
            ]
            await asyncio.gather(*futures)
        except Exception:
            log.exception("outbox publish failed; retrying the same %d rows", len(rows))
            await asyncio.sleep(1.0)
            return
        await asyncio.to_thread(delete_outbox_rows, self._engine, self._table, [int(str(r["seq"])) for r in rows])
        self.published += len(rows)
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
