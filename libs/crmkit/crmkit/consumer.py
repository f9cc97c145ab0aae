"""The consumer runtime every service uses: decode → validate → handle → persist → commit.

At-least-once: offsets are committed only after the handler's transaction (state, outbox
and ledger) committed and after any dead-letter write was acknowledged. Redeliveries are
absorbed by the ledger. Poison messages go to ``<topic>.dlq`` with the original bytes and
the error as headers; transient failures are retried with backoff first; a breaker halts
the consumer when most events fail.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from crm_contracts import Registry

from crmkit import metrics
from crmkit.applier import EventApplier
from crmkit.breaker import FailureBreaker
from crmkit.cloudevents import CloudEvent, decode
from crmkit.db import Database
from crmkit.errors import PoisonMessage
from crmkit.gaps import GapGuard, poll_contiguous
from crmkit.handlers import Subscription
from crmkit.settings import ServiceSettings

log = logging.getLogger(__name__)
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


class ConsumerHalted(Exception):
    """Raised inside the loop when the breaker trips; the consumer stops fetching."""


@dataclass
class Progress:
    """What /health reports for one consumer: progress, not mere liveness."""

    state: str = "starting"
    halt_reason: str = ""
    last_poll: float = 0.0
    last_commit: float = 0.0
    handled: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    lag: int = 0
    assigned: int = 0


class ConsumerRuntime:
    """Runs one :class:`Subscription` against Kafka for one service."""

    def __init__(
        self,
        *,
        settings: ServiceSettings,
        db: Database,
        registry: Registry,
        subscription: Subscription,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        subscription.check_against(registry)
        self._settings = settings
        self._registry = registry
        self._subscription = subscription
        self._service = settings.service_name
        self._applier = EventApplier(
            db=db,
            registry=registry,
            subscription=subscription,
            source=f"/{settings.service_name}",
            content_type=settings.event_content_type,
            on_commit=on_commit,
        )
        self._breaker = FailureBreaker(
            window=settings.breaker_window, min_events=settings.breaker_min_events, ratio=settings.breaker_failure_ratio
        )
        self._stopping = asyncio.Event()
        self._committed: dict[TopicPartition, int] = {}
        self._gaps = GapGuard(rereads=settings.consumer_gap_rereads, service=settings.service_name)
        self._last_commit_attempt = 0.0
        self.progress = Progress()

    # --- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the batch in hand, commit it, leave the group."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until stopped or halted by the breaker."""
        consumer = AIOKafkaConsumer(
            *self._subscription.topics,
            bootstrap_servers=self._settings.kafka_bootstrap,
            group_id=self._subscription.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=max(100, self._settings.consumer_session_timeout_ms // 6),
            fetch_max_wait_ms=self._settings.consumer_fetch_max_wait_ms,
            max_poll_records=self._settings.consumer_batch_size,
        )
        dlq = AIOKafkaProducer(bootstrap_servers=self._settings.kafka_bootstrap, acks="all", enable_idempotence=False)
        await dlq.start()
        await consumer.start()
        self.progress.state = "running"
        try:
            await self._loop(consumer, dlq)
        except ConsumerHalted as halt:
            self.progress.state, self.progress.halt_reason = "halted", str(halt)
            metrics.BREAKER_OPEN.labels(self._service).set(1)
            log.error("consumer %s halted: %s", self._subscription.group, halt)
            await self._stopping.wait()
        finally:
            await consumer.stop()
            await dlq.stop()
            if self.progress.state != "halted":
                self.progress.state = "stopped"

    async def _loop(self, consumer: AIOKafkaConsumer, dlq: AIOKafkaProducer) -> None:
        """Poll, handle, and commit what is handled at most every ``consumer_commit_interval_ms``.

        Deferring the offset commit is safe: it still follows the transactions (and DLQ
        writes) it covers, and whatever a crash re-delivers is absorbed by the ledger.
        """
        handled: dict[TopicPartition, int] = {}
        interval = self._settings.consumer_commit_interval_ms / 1000
        try:
            while not self._stopping.is_set():
                records = await self._poll(consumer)
                self.progress.last_poll = time.time()
                self.progress.assigned = len(consumer.assignment())
                if records:
                    halted_at = await self._handle_records(dlq, records)
                    handled.update(next_offsets(records, halted_at))
                    if halted_at is not None:
                        raise ConsumerHalted(self.progress.halt_reason)
                if handled and time.time() - self._last_commit_attempt >= interval:
                    handled = await self._commit(consumer, handled)
                self._update_lag(consumer)
        finally:
            if handled:
                await self._commit(consumer, handled)

    # --- steps -----------------------------------------------------------------------

    async def _poll(self, consumer: AIOKafkaConsumer) -> list[Record]:
        """Up to a batch of records, grouped by partition in offset order, none past an unread gap."""
        return await poll_contiguous(consumer, self._gaps, max_records=self._settings.consumer_batch_size)

    def _decode(self, record: Record) -> CloudEvent | PoisonMessage:
        try:
            return decode(
                registry=self._registry,
                topic=record.topic,
                value=record.value,
                headers=record.headers,
                key=record.key,
                partition=record.partition,
                offset=record.offset,
            )
        except PoisonMessage as poison:
            return poison

    async def _handle_records(self, dlq: AIOKafkaProducer, records: Sequence[Record]) -> int | None:
        """Handle one poll's records (each partition in order) in few transactions; returns the index halted at."""
        pending: list[tuple[int, Record, CloudEvent]] = []
        ignored = self._subscription.ignored
        for index, record in enumerate(records):
            if ignored and _ce_type(record) in ignored:  # skip before paying for the payload
                self.progress.ignored += 1
                metrics.EVENTS_IGNORED.labels(self._service, record.topic).inc()
                continue
            decoded = self._decode(record)
            if isinstance(decoded, PoisonMessage):
                halted_at = await self._apply_in_order(dlq, pending)
                pending.clear()
                if halted_at is not None:
                    return halted_at
                if not await self._fail(dlq, record, decoded, attempts=1):
                    return index
            else:
                pending.append((index, record, decoded))
        return await self._apply_in_order(dlq, pending)

    async def _apply_in_order(self, dlq: AIOKafkaProducer, items: list[tuple[int, Record, CloudEvent]]) -> int | None:
        """Apply events, isolating and retrying a failing one; returns the record index halted at."""
        start = 0
        while start < len(items):
            events = [event for _, _, event in items[start:]]
            began = time.perf_counter()
            try:
                result = await asyncio.to_thread(self._applier.apply, events)
                failed_at, error = result.failed_at, result.error
                self._count_applied(result.applied, result.duplicates)
            except Exception as exc:  # noqa: BLE001 - the transaction itself failed: retry the head
                failed_at, error = 0, exc
            metrics.HANDLER_SECONDS.labels(self._service, events[0].topic).observe(time.perf_counter() - began)
            if failed_at is None:
                return None
            index, record, event = items[start + failed_at]
            if not await self._retry_or_dead_letter(dlq, record, event, error):
                return index
            start += failed_at + 1
        return None

    async def _retry_or_dead_letter(
        self, dlq: AIOKafkaProducer, record: Record, event: CloudEvent, error: BaseException | None
    ) -> bool:
        """Retry one event with backoff; dead-letter it when retries run out. False means halt."""
        metrics.EVENTS_FAILED.labels(self._service, record.topic).inc()
        attempts = 1
        while not isinstance(error, PoisonMessage) and attempts < self._settings.handler_max_attempts:
            await asyncio.sleep(self._settings.handler_backoff_s * 2 ** (attempts - 1))
            attempts += 1
            try:
                result = await asyncio.to_thread(self._applier.apply, [event])
            except Exception as exc:  # noqa: BLE001
                error = exc
            else:
                if result.failed_at is None:
                    self._count_applied(result.applied, result.duplicates)
                    return True
                error = result.error
            metrics.EVENTS_FAILED.labels(self._service, record.topic).inc()
        log.warning("event %s (%s) failed after %d attempt(s): %s", event.id, event.type, attempts, _describe(error))
        return await self._fail(dlq, record, error, attempts=attempts)

    async def _fail(self, dlq: AIOKafkaProducer, record: Record, error: BaseException | None, *, attempts: int) -> bool:
        """Count a failure; dead-letter the record unless the breaker trips. False means halt."""
        self._breaker.record(failed=True)
        if self._breaker.tripped:
            self.progress.halt_reason = (
                f"{self._breaker.failure_ratio:.0%} of recent events failed; last: {_describe(error)} "
                f"at {record.topic}[{record.partition}]@{record.offset}"
            )
            return False
        await self._dead_letter(dlq, record, error, attempts=attempts)
        return True

    async def _dead_letter(
        self, dlq: AIOKafkaProducer, record: Record, error: BaseException | None, *, attempts: int
    ) -> None:
        """Write the original bytes and the error to ``<topic>.dlq``; waits for the ack."""
        headers = [
            *(record.headers or ()),
            ("crm_dlq_error", _describe(error).encode()[:2000]),
            ("crm_dlq_error_type", type(error).__name__.encode()),
            ("crm_dlq_consumer", self._subscription.group.encode()),
            ("crm_dlq_topic", record.topic.encode()),
            ("crm_dlq_partition", str(record.partition).encode()),
            ("crm_dlq_offset", str(record.offset).encode()),
            ("crm_dlq_attempts", str(attempts).encode()),
        ]
        while True:
            try:
                await dlq.send_and_wait(f"{record.topic}.dlq", value=record.value, key=record.key, headers=headers)
                break
            except KafkaError:
                log.exception("DLQ write failed; retrying (offset not committed)")
                await asyncio.sleep(1.0)
        self.progress.dead_lettered += 1
        metrics.EVENTS_DEAD_LETTERED.labels(self._service, record.topic).inc()

    def _count_applied(self, applied: Counter[str], duplicates: Counter[str]) -> None:
        self.progress.handled += applied.total()
        self.progress.duplicates += duplicates.total()
        self._breaker.record(failed=False, count=applied.total() + duplicates.total())
        for topic, count in applied.items():
            metrics.EVENTS_HANDLED.labels(self._service, topic).inc(count)
        for topic, count in duplicates.items():
            metrics.EVENTS_DUPLICATE.labels(self._service, topic).inc(count)

    async def _commit(
        self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """Commit every partition's next offset in one request; returns what is left to commit.

        A failed commit is kept for the next attempt, except for partitions no longer assigned
        (their new owner re-reads from the last commit and the ledger absorbs the repeats).
        """
        self._last_commit_attempt = time.time()
        assigned = consumer.assignment()
        changed = {tp: o for tp, o in offsets.items() if self._committed.get(tp) != o and tp in assigned}
        if not changed:
            return {}
        try:
            await consumer.commit(changed)
        except (CommitFailedError, KafkaError) as exc:
            log.warning("offset commit for %s failed (%s); retrying with the next commit", sorted(changed), exc)
            return changed
        self._committed.update(changed)
        self.progress.last_commit = time.time()
        metrics.LAST_COMMIT.labels(self._service).set(self.progress.last_commit)
        return {}

    def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        assignment = consumer.assignment()
        total = 0
        for tp in assignment:
            highwater = consumer.highwater(tp)
            done = self._committed.get(tp)
            if highwater is None or done is None:
                continue
            lag = max(0, highwater - done)
            total += lag
            metrics.CONSUMER_LAG.labels(self._service, tp.topic, str(tp.partition)).set(lag)
        self.progress.lag = total

    # --- health ----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Progress figures and a verdict: stalled when lag waits without commits."""
        now = time.time()
        p = self.progress
        poll_age = now - p.last_poll if p.last_poll else None
        commit_age = now - p.last_commit if p.last_commit else None
        stall = self._settings.stall_after_s
        problems = []
        if p.state == "running" and p.assigned == 0:
            problems.append("no partitions assigned yet (joining the group)")
        if p.state == "halted":
            problems.append(f"halted by breaker: {p.halt_reason}")
        if p.state == "running" and poll_age is not None and poll_age > stall:
            problems.append(f"no poll for {poll_age:.0f}s")
        if p.lag > 0 and (commit_age is None or commit_age > stall) and poll_age is not None and poll_age > 1:
            problems.append(f"lag {p.lag} with no commit for {commit_age or 0:.0f}s")
        return {
            "group": self._subscription.group,
            "state": p.state,
            "ok": not problems and p.state == "running",
            "problems": problems,
            "lag": p.lag,
            "assigned_partitions": p.assigned,
            "last_poll_age_s": None if poll_age is None else round(poll_age, 3),
            "last_commit_age_s": None if commit_age is None else round(commit_age, 3),
            "handled": p.handled,
            "duplicates": p.duplicates,
            "ignored": p.ignored,
            "dead_lettered": p.dead_lettered,
        }


def next_offsets(records: Sequence[Record], halted_at: int | None) -> dict[TopicPartition, int]:
    """The offset to commit for each partition: past every record handled, at the first one not handled."""
    offsets: dict[TopicPartition, int] = {}
    for index, record in enumerate(records):
        tp = TopicPartition(record.topic, record.partition)
        if halted_at is None or index < halted_at:
            offsets[tp] = int(record.offset) + 1
        else:
            offsets.setdefault(tp, int(record.offset))
    return offsets


def _ce_type(record: Record) -> str | None:
    """The record's ``ce_type`` header as text, or None (then full decoding judges it)."""
    for name, value in record.headers or ():
        if name == "ce_type":
            return value.decode(errors="replace") if value is not None else None
    return None


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    if isinstance(error, PoisonMessage):
        return error.reason
    return f"{type(error).__name__}: {error}"
