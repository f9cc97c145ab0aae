"""Apply decoded events to a service's database: state, outbox and ledger in one transaction."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from crm_contracts import Registry
from sqlalchemy import Connection

from crmkit.cloudevents import CloudEvent
from crmkit.db import Database, already_processed, record_processed
from crmkit.handlers import HandlerContext, Subscription
from crmkit.outbox import Outbox
from crmkit.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplyResult:
    """How far a batch got: events applied and duplicates skipped (by topic), and the first failure."""

    applied: Counter[str]
    duplicates: Counter[str]
    emitted: int
    failed_at: int | None = None
    error: BaseException | None = None


_NOTHING: Counter[str] = Counter()


class EventApplier:
    """Applies events in order within one transaction and stops at the first failure.

    Optimistic: the whole batch runs in one transaction (through the subscription's batch
    handler when it has one, with one flush at the end). If it fails, it is rolled back and
    replayed event by event, each flushed, to find the failing event *k*; then events before
    *k* are applied again in a fresh transaction, so nothing of the failing event survives.
    No Kafka here: this is the handle → persist step.
    """

    def __init__(
        self,
        *,
        db: Database,
        registry: Registry,
        subscription: Subscription,
        source: str,
        content_type: str,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self._db = db
        self._registry = registry
        self._subscription = subscription
        self._source = source
        self._content_type = content_type
        self._on_commit = on_commit

    def apply(self, events: Sequence[CloudEvent]) -> ApplyResult:
        """Apply ``events``; a failure of the transaction itself propagates."""
        result = self._attempt(events)
        if result.failed_at is None:
            return result
        prefix = self._attempt(events[: result.failed_at]) if result.failed_at else ApplyResult(_NOTHING, _NOTHING, 0)
        if prefix.failed_at is not None:  # not deterministic: report the earlier failure
            return prefix
        return ApplyResult(prefix.applied, prefix.duplicates, prefix.emitted, result.failed_at, result.error)

    def _attempt(self, events: Sequence[CloudEvent]) -> ApplyResult:
        result = self._transaction(events, isolate=False)
        if result.failed_at is not None:
            log.warning(
                "%s: a run of %d events failed (%r); re-running them one by one",
                self._subscription.group,
                len(events),
                result.error,
            )
            return self._transaction(events, isolate=True)  # find which event made the run fail
        return result

    def _unprocessed(self, connection: Connection, events: Sequence[CloudEvent]) -> list[tuple[int, CloudEvent]]:
        """(index, event) of the events neither processed before nor repeated earlier in ``events``."""
        recorded_by_state = self._subscription.recorded_by_state
        if recorded_by_state is not None:
            seen = recorded_by_state(connection, events)
        else:
            keys = (e.dedupe_key for e in events)
            seen = already_processed(connection, self._db.tables.ledger, consumer=self._subscription.group, keys=keys)
        fresh: list[tuple[int, CloudEvent]] = []
        for index, event in enumerate(events):
            if event.dedupe_key not in seen:
                seen.add(event.dedupe_key)
                fresh.append((index, event))
        return fresh

    def _transaction(self, events: Sequence[CloudEvent], *, isolate: bool) -> ApplyResult:
        """One transaction: skip processed events, handle the rest, write ledger (unless the state records
        events) and outbox.

        Fast (``isolate=False``): the batch handler, or the per-event handlers with one flush
        at the end. Isolating: per-event handlers, each flushed, so a failure names its event.
        """
        consumer = self._subscription.group
        tables = self._db.tables
        outbox = Outbox(registry=self._registry, source=self._source, content_type=self._content_type)
        with self._db.engine.connect() as connection:
            connection.begin()
            context = HandlerContext(connection=connection, outbox=outbox)
            try:
                fresh = self._unprocessed(connection, events)
                failed_at = 0
                try:
                    if not isolate and self._subscription.batch is not None:
                        self._subscription.batch(context, [event for _, event in fresh])
                    else:
                        for index, event in fresh:
                            failed_at = index
                            self._subscription.handlers[event.type](context, event)
                            if isolate:
                                context.flush()
                    context.flush()
                except Exception as exc:  # noqa: BLE001 - any handler error is judged by the runtime
                    connection.rollback()
                    return ApplyResult(_NOTHING, _NOTHING, 0, failed_at=failed_at, error=exc)
                if self._subscription.recorded_by_state is None:
                    now = utcnow()
                    rows = [_ledger_row(consumer, event, now) for _, event in fresh]
                    record_processed(connection, tables.ledger, rows)
                emitted = outbox.write(connection, tables.outbox)
                connection.commit()
            finally:
                context.close()
        if emitted and self._on_commit is not None:
            self._on_commit(emitted)
        applied = Counter(event.topic for _, event in fresh)
        return ApplyResult(applied=applied, duplicates=Counter(e.topic for e in events) - applied, emitted=emitted)


def _ledger_row(consumer: str, event: CloudEvent, now: datetime) -> tuple[object, ...]:
    """The ledger row of ``event`` (:data:`crmkit.db.LEDGER_COLUMNS`)."""
    return (consumer, event.dedupe_key, event.type, event.topic, event.partition, event.offset, now)
