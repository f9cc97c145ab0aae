"""behavior-scoring's consumer as a faust-streaming worker (for bench/score_stream_faust.py only).

    python bench/faust_scoring_app.py worker --loglevel warning     (CRM_* environment as ``crm up`` gives)

The streaming side is faust; everything that decides anything is the service's own code:

* ONE agent, ``concurrency=1``, on ``crm.customer.v1`` as raw bytes, reading
  ``stream.take_events(500, within=…)`` batches (``take`` with the events, which carry the
  headers, key, partition and offset the CloudEvents decoder and the ledger need);
* each batch is decoded with ``crmkit.cloudevents.decode`` and applied by
  ``crmkit.applier.EventApplier`` with behavior-scoring's own subscription (its batch handler
  ``LiveScoring.handle_batch``): ledger + state + outbox in one SQLite transaction, so a
  re-delivered event applies nothing twice;
* after each transaction the agent publishes the outbox rows with ``OutboxRelay.relay_once``
  (librdkafka producer, rows deleted only after every ack) — not faust's producer;
* a faust timer fires the engine's timers (``TimerLoop.fire_once``) and re-tries the outbox;
* faust's web server answers ``/health`` (200 once the group's first rebalance completed) and
  ``/stats`` (behavior_scoring.service.stats).

Every exception is caught inside the agent: a poison record is logged and skipped (the runtime
would dead-letter it), a failing transaction is retried until it commits (nothing is acked
unapplied). No faust table holds state: ``store="memory://"`` and no tables at all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import faust
from behavior_scoring import service
from behavior_scoring.consumers import subscription
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.live import LiveScoring
from behavior_scoring.models import Base
from behavior_scoring.settings import Settings
from behavior_scoring.timers import TimerLoop
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import CloudEvent, decode, header_map
from crmkit.db import Database
from crmkit.errors import PoisonMessage
from crmkit.outbox import OutboxRelay, PublishError
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import EventT
from faust.types.core import HeadersArg
from faust.web import Request, Response, View

log = logging.getLogger("faust_scoring")

BATCH = 500
WITHIN_S = float(os.environ.get("SCORE_FAUST_WITHIN_S", "0.02"))
"""How long ``take`` waits for a batch to fill before it hands over what it has."""
FETCH_MAX_WAIT_MS = int(os.environ.get("SCORE_FAUST_FETCH_MAX_WAIT_MS") or 0)
"""aiokafka's fetch_max_wait_ms for faust's consumer; 0: faust's own, a fixed 1500 no setting changes."""


class _FetchWaitConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """faust's aiokafka consumer thread with ``fetch_max_wait_ms`` = FETCH_MAX_WAIT_MS.

    faust-streaming 0.15.3 builds its AIOKafkaConsumer with ``fetch_max_wait_ms=1500``
    hard-coded; on Tansu a fetch waits that long before returning new records, which is most
    of an event's latency. The attribute is read when the consumer starts, after this.
    """

    def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class _FetchWaitConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _FetchWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)


class FetchWaitTransport(faust_aiokafka.Transport):
    """``kafka-fetchwait://``: faust's aiokafka transport, but for the fetch wait (registered below)."""

    Consumer = _FetchWaitConsumer


TRANSPORTS.aliases["kafka-fetchwait"] = f"{__name__}:FetchWaitTransport"


def _headers(raw: HeadersArg | None) -> list[tuple[str, bytes | None]]:
    """faust hands headers as a sequence of pairs (or a mapping); crmkit's decoder takes pairs of bytes."""
    pairs = raw.items() if isinstance(raw, Mapping) else (raw or ())
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in pairs]


class Worker:
    """The Kafka-free part: decode, apply in one transaction, publish the outbox. Runs in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.registry = load_registry()
        self.db = Database(settings.database_url, Base.metadata)
        self.live = LiveScoring(load_rules(settings.scoring_rules_file))
        self.subscription = subscription(self.live)
        try:
            self.subscription.check_against(self.registry)
        except ValueError as exc:  # the runtime refuses to start here; the bench only says so
            log.warning("%s", exc)
        source = f"/{settings.service_name}"
        self.applier = EventApplier(
            db=self.db,
            registry=self.registry,
            subscription=self.subscription,
            source=source,
            content_type=settings.event_content_type,
        )
        self.timers = TimerLoop(
            live=self.live,
            db=self.db,
            source=source,
            content_type=settings.event_content_type,
            prune_every_s=settings.scoring_prune_every_seconds,
            registry=self.registry,
        )
        self.relay = OutboxRelay(
            engine=self.db.engine,
            table=self.db.tables.outbox,
            bootstrap=settings.kafka_bootstrap,
            service=f"{settings.service_name}-faust",
        )
        self._relaying = threading.Lock()
        self.applied = 0
        self.duplicates = 0
        self.skipped = 0

    def decode_all(self, events: Sequence[EventT[Any]]) -> list[CloudEvent]:
        """CloudEvents from a faust batch; ignored types skipped, poison logged and skipped."""
        decoded: list[CloudEvent] = []
        ignored = self.subscription.ignored
        for event in events:
            message = event.message
            headers = _headers(message.headers)
            if ignored and header_map(headers).get("ce_type") in ignored:
                continue
            try:
                decoded.append(
                    decode(
                        registry=self.registry,
                        topic=message.topic,
                        value=message.value,
                        headers=headers,
                        key=message.key,
                        partition=message.partition,
                        offset=message.offset,
                    )
                )
            except PoisonMessage as poison:
                self.skipped += 1
                where = f"{message.topic}[{message.partition}]@{message.offset}"
                log.warning("poison record %s skipped: %s", where, poison)
        return decoded

    def handle(self, events: Sequence[EventT[Any]]) -> None:
        """Apply one batch (isolating a failing event), then publish what it emitted."""
        pending = self.decode_all(events)
        attempt = 0
        while pending:
            try:
                result = self.applier.apply(pending)
            except Exception:  # the transaction itself failed (disk, lock): retry, never skip
                attempt += 1
                log.exception("transaction failed (attempt %d); retrying the batch", attempt)
                time.sleep(min(5.0, 0.1 * 2**attempt))
                continue
            self.applied += sum(result.applied.values())
            self.duplicates += sum(result.duplicates.values())
            if result.failed_at is None:
                break
            bad = pending[result.failed_at]
            self.skipped += 1
            log.warning("event %s (%s) failed and is skipped: %r", bad.id, bad.type, result.error)
            pending = pending[result.failed_at + 1 :]
        self.publish()

    def publish(self) -> int:
        """Publish every committed outbox row (one relay at a time); a failure is left to the next call."""
        published = 0
        with self._relaying:
            try:
                while relayed := self.relay.relay_once():
                    published += relayed
            except PublishError:
                log.exception("outbox publish failed; retried by the next batch or the timer")
        return published

    def fire_timers(self) -> None:
        self.timers.fire_once()
        self.publish()

    def stats(self) -> dict[str, Any]:
        with self.db.engine.connect() as connection:
            return service.stats(connection=connection)


def build(settings: Settings) -> faust.App:
    """The faust app: one agent, one timer, two pages."""
    worker = Worker(settings)
    started = time.monotonic()
    joined: list[float] = []
    var = Path(os.environ.get("SCORE_FAUST_VAR", "var"))
    app = faust.App(
        settings.service_name,  # the consumer group id
        broker=f"{'kafka-fetchwait' if FETCH_MAX_WAIT_MS else 'kafka'}://{settings.kafka_bootstrap}",
        broker_session_timeout=2.0,
        store="memory://",
        processing_guarantee="at_least_once",
        datadir=str(var / "faust"),
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_port=settings.http_port,
    )
    topic = app.topic(*subscription().topics, key_serializer="raw", value_serializer="raw")

    @app.agent(topic, concurrency=1)
    async def score(stream: faust.StreamT[bytes]) -> None:
        # take_events is on faust.Stream, not on the StreamT protocol the agent is typed with
        async for events in cast("faust.Stream[bytes]", stream).take_events(BATCH, within=WITHIN_S):
            try:
                await asyncio.to_thread(worker.handle, events)
            except Exception:  # the agent must never die: log, go on with the next batch
                log.exception("batch of %d failed", len(events))

    @app.timer(interval=settings.scoring_timer_check_seconds)  # type: ignore[untyped-decorator]
    async def timers() -> None:
        try:
            await asyncio.to_thread(worker.fire_timers)
        except Exception:  # due timers stay due and are fired next round
            log.exception("firing scoring timers failed")

    # mode's handler type (mypy_extensions VarArg/NamedArg) rejects every async def signature mypy can write
    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def on_joined(_sender: Any, *_args: Any, signal: Any, **_kwargs: Any) -> None:
        if not joined:
            joined.append(time.monotonic() - started)
            assigned = len(app.assignor.assigned_actives())
            log.warning("group joined %.2f s after start (%d partitions)", joined[0], assigned)

    @app.page("/health")
    async def health(web: View, _request: Request) -> Response:
        ok = bool(joined)
        body = {
            "ok": ok,
            "joined_after_s": joined[0] if joined else None,
            "applied": worker.applied,
            "fetch_max_wait_ms": FETCH_MAX_WAIT_MS or 1500,
            "within_s": WITHIN_S,
        }
        return web.json(body, status=200 if ok else 503)

    @app.page("/stats")
    async def stats(web: View, _request: Request) -> Response:
        return web.json(await asyncio.to_thread(worker.stats))

    worker.db.create_all()
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    build(Settings()).main()


if __name__ == "__main__":
    main()
