"""Apply decoded events to a service's database: state, outbox and ledger in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crm_contracts import Registry

from crmkit.cloudevents import CloudEvent
from crmkit.db import Database, already_processed, record_processed
from crmkit.handlers import HandlerContext, Subscription
from crmkit.outbox import Outbox


@dataclass(frozen=True)
class ApplyResult:
    """How far a batch got: events applied, duplicates skipped, and the first failure."""

    applied: int
    duplicates: int
    emitted: int
    failed_at: int | None = None
    error: BaseException | None = None


class EventApplier:
    """Applies events in order within one transaction and stops at the first failure.

    The events before a failure are committed; the failing event's partial writes are
    rolled back to its savepoint. No Kafka here: this is the handle → persist step.
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
        ledger = self._db.tables.ledger
        consumer = self._subscription.group
        applied = duplicates = 0
        failed_at: int | None = None
        error: BaseException | None = None
        with self._db.session() as session, session.begin():
            outbox = Outbox(
                session=session,
                table=self._db.tables.outbox,
                registry=self._registry,
                source=self._source,
                content_type=self._content_type,
            )
            context = HandlerContext(session=session, outbox=outbox)
            seen = already_processed(session, ledger, consumer=consumer, keys=(e.dedupe_key for e in events))
            for index, event in enumerate(events):
                if event.dedupe_key in seen:
                    duplicates += 1
                    continue
                try:
                    with session.begin_nested():
                        self._subscription.handlers[event.type](context, event)
                        session.flush()
                        record_processed(
                            session,
                            ledger,
                            consumer=consumer,
                            key=event.dedupe_key,
                            event_type=event.type,
                            topic=event.topic,
                            partition=event.partition,
                            offset=event.offset,
                        )
                except Exception as exc:  # noqa: BLE001 - any handler error is judged by the runtime
                    failed_at, error = index, exc
                    break
                seen.add(event.dedupe_key)
                applied += 1
            emitted = outbox.emitted
        if emitted and self._on_commit is not None:
            self._on_commit(emitted)
        return ApplyResult(applied=applied, duplicates=duplicates, emitted=emitted, failed_at=failed_at, error=error)
