"""The consumer runtime against the real broker: at-least-once, ledger, retries, DLQ, breaker, outbox relay."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from aiokafka.partitioner import murmur2
from confluent_kafka import Consumer, Producer, TopicPartition
from crm.events.notify.v1.notify_pb2 import NotificationDelivered, NotificationRequested
from crm_cli.stack import create_topics
from crm_contracts import Registry
from crm_contracts.registry import EventSpec, TopicSpec
from crmkit.cloudevents import CloudEvent, encode_data, encode_headers
from crmkit.consumer import ConsumerRuntime
from crmkit.db import Database
from crmkit.handlers import HandlerContext, Subscription
from crmkit.outbox import Outbox, OutboxRelay
from crmkit.settings import ServiceSettings
from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel, select

pytestmark = [pytest.mark.kafka]


class RuntimeTestBase(SQLModel, registry=orm_registry()):
    """Metadata of the test service."""


class Ping(RuntimeTestBase, table=True):
    """How many times each event was applied (must end at exactly 1)."""

    __tablename__ = "pings"
    id: str = Field(primary_key=True)
    applied: int = 0


def make_registry(in_topic: str, out_topic: str) -> Registry:
    """A registry with one input and one output topic for the test."""

    def spec(event_type: str, cls: type, required: tuple[str, ...]) -> EventSpec:
        return EventSpec(
            type=event_type,
            schema=cls.DESCRIPTOR.full_name,
            message_class=cls,
            required=required,
            required_one_of=(),
            examples=(),
        )

    return Registry(
        topics={
            in_topic: TopicSpec(
                name=in_topic,
                partitions=3,
                key="test",
                producers=("test",),
                consumers=("test",),
                events={"test.ping": spec("test.ping", NotificationRequested, ("notification_id",))},
            ),
            out_topic: TopicSpec(
                name=out_topic,
                partitions=1,
                key="test",
                producers=("test",),
                consumers=(),
                events={"test.pong": spec("test.pong", NotificationDelivered, ())},
            ),
        }
    )


FAILURES: dict[str, int] = {}


def handle_ping(ctx: HandlerContext, event: CloudEvent) -> None:
    """Count the application; fail as the payload asks; emit a pong through the outbox."""
    ping = event.data_as(NotificationRequested)
    row = ctx.session.get(Ping, ping.notification_id) or Ping(id=ping.notification_id)
    row.applied += 1
    ctx.session.add(row)
    mode = ping.params.get("fail", "")
    if mode == "always" or (mode == "once" and FAILURES.setdefault(ping.notification_id, 0) == 0):
        FAILURES[ping.notification_id] = FAILURES.get(ping.notification_id, 0) + 1
        raise RuntimeError(f"simulated failure for {ping.notification_id}")
    ctx.outbox.emit(
        event_type="test.pong",
        key=ping.notification_id,
        correlation_id=event.id,
        data=NotificationDelivered(notification_id=ping.notification_id, status="delivered"),
    )


@dataclass
class Harness:
    """A running runtime with its database and the topics it uses."""

    broker: str
    in_topic: str
    out_topic: str
    db: Database
    runtime: ConsumerRuntime
    task: asyncio.Task[None]
    producer: Producer

    def send(
        self,
        *,
        event_id: str,
        notification_id: str = "",
        key: str = "k",
        fail: str = "",
        headers: list[tuple[str, bytes]] | None = None,
        value: bytes | None = None,
        event_type: str = "test.ping",
    ) -> None:
        """Produce one event (or raw bytes/headers for poison tests)."""
        data = NotificationRequested(notification_id=notification_id or event_id, params={"fail": fail} if fail else {})
        raw_headers = (
            headers if headers is not None else encode_headers(event_id=event_id, source="/test", event_type=event_type)
        )
        self.producer.produce(
            self.in_topic,
            key=key.encode(),
            value=value if value is not None else encode_data(data, "application/protobuf"),
            headers=list(raw_headers),
        )
        self.producer.flush(10)

    def applied(self) -> dict[str, int]:
        """Ping id → times applied."""
        with self.db.session() as session:
            return {row.id: row.applied for row in session.exec(select(Ping))}


def read_all(broker: str, topic: str, *, expect: int, timeout: float = 15.0) -> list[object]:
    """Every message on ``topic`` (waits until ``expect`` arrived)."""
    consumer = Consumer({"bootstrap.servers": broker, "group.id": f"r-{uuid.uuid4()}", "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    messages: list[object] = []
    deadline = time.monotonic() + timeout
    while len(messages) < expect and time.monotonic() < deadline:
        messages.extend(m for m in consumer.consume(100, 0.2) if not m.error())
    consumer.close()
    return messages


async def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def harness(broker: str, topic: str, sqlite_url: str) -> AsyncIterator[Harness]:
    """A runtime consuming ``topic`` into a fresh SQLite database, plus its relay."""
    out_topic = f"{topic}.out"
    create_topics(broker, {out_topic: 1})
    registry = make_registry(topic, out_topic)
    settings = ServiceSettings(
        service_name="test-svc",
        kafka_bootstrap=broker,
        consumer_session_timeout_ms=2000,
        handler_backoff_s=0.01,
        breaker_min_events=8,
        breaker_window=10,
    )
    db = Database(sqlite_url, RuntimeTestBase.metadata)
    db.create_all()
    relay = OutboxRelay(engine=db.engine, table=db.tables.outbox, bootstrap=broker, service="test-svc")
    subscription = Subscription(group=f"g-{uuid.uuid4().hex[:8]}", topics=(topic,), handlers={"test.ping": handle_ping})
    runtime = ConsumerRuntime(
        settings=settings, db=db, registry=registry, subscription=subscription, on_commit=lambda _n: relay.wake()
    )
    relay_task = asyncio.create_task(relay.run())
    task = asyncio.create_task(runtime.run())
    producer = Producer({"bootstrap.servers": broker, "enable.idempotence": False})
    yield Harness(broker, topic, out_topic, db, runtime, task, producer)
    runtime.stop()
    relay.stop()
    await asyncio.wait_for(asyncio.gather(task, relay_task), timeout=20)
    db.dispose()


async def test_redelivered_event_is_applied_once(harness: Harness) -> None:
    harness.send(event_id="a")
    harness.send(event_id="a")  # a producer retry: same ce_id
    harness.send(event_id="b")
    await wait_for(lambda: len(harness.applied()) == 2 and harness.runtime.progress.duplicates >= 1)
    assert harness.applied() == {"a": 1, "b": 1}


async def test_poison_messages_go_to_dlq_and_the_partition_keeps_flowing(harness: Harness) -> None:
    good = encode_headers(event_id="x", source="/test", event_type="test.ping", content_type="application/json")
    harness.send(event_id="p1", value=b"{not json", headers=good)
    harness.send(event_id="p2", headers=[("ce_id", b"p2"), ("ce_type", b"test.ping")])
    harness.send(event_id="p3", event_type="test.unknown")
    harness.send(event_id="p4", value=b'{"channel": "file"}', headers=good)  # no notification_id
    harness.send(event_id="ok")
    await wait_for(lambda: harness.applied() == {"ok": 1})
    dead = await asyncio.to_thread(read_all, harness.broker, f"{harness.in_topic}.dlq", expect=4)
    reasons = [dict(m.headers())["crm_dlq_error"].decode() for m in dead]  # type: ignore[attr-defined]
    assert len(reasons) == 4
    assert "not valid application/json" in reasons[0]
    assert "missing CloudEvents header(s): ce_source, ce_specversion" in reasons[1]
    assert "unknown event type 'test.unknown'" in reasons[2]
    assert "required field(s) missing: notification_id" in reasons[3]
    assert dead[0].value() == b"{not json"  # type: ignore[attr-defined]
    assert harness.runtime.progress.dead_lettered == 4


async def test_transient_failure_is_retried_and_applied_once(harness: Harness) -> None:
    harness.send(event_id="flaky", fail="once")
    harness.send(event_id="after")
    await wait_for(lambda: harness.applied() == {"flaky": 1, "after": 1})
    assert harness.runtime.progress.dead_lettered == 0


async def test_persistent_failure_is_dead_lettered_after_bounded_retries(harness: Harness) -> None:
    harness.send(event_id="broken", fail="always")
    harness.send(event_id="fine")
    await wait_for(lambda: harness.applied().get("fine") == 1)
    assert "broken" not in harness.applied()  # its partial writes were rolled back
    dead = await asyncio.to_thread(read_all, harness.broker, f"{harness.in_topic}.dlq", expect=1)
    headers = dict(dead[0].headers())  # type: ignore[attr-defined]
    assert headers["crm_dlq_attempts"] == b"3"
    assert headers["crm_dlq_error_type"] == b"RuntimeError"
    assert headers["ce_id"] == b"broken"


async def test_breaker_halts_instead_of_pouring_the_topic_into_the_dlq(harness: Harness) -> None:
    for n in range(12):
        harness.send(event_id=f"bad{n}", fail="always")
    await wait_for(lambda: harness.runtime.progress.state == "halted", timeout=30)
    health = harness.runtime.health()
    assert not health["ok"]
    assert "halted by breaker" in health["problems"][0]
    assert harness.runtime.progress.dead_lettered < 12


async def test_outbox_relay_publishes_the_debezium_outbox_shape(harness: Harness) -> None:
    harness.send(event_id="evt-1", notification_id="n-1")
    out = await asyncio.to_thread(read_all, harness.broker, harness.out_topic, expect=1)
    assert len(out) == 1
    message = out[0]
    headers = dict(message.headers())  # type: ignore[attr-defined]
    assert message.key() == b"n-1"  # type: ignore[attr-defined]
    assert headers["id"] == headers["ce_id"]
    assert headers["ce_type"] == b"test.pong"
    assert headers["ce_source"] == b"/test-svc"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"application/protobuf"
    assert headers["ce_correlationid"] == b"evt-1"
    assert NotificationDelivered.FromString(message.value()).notification_id == "n-1"  # type: ignore[attr-defined]
    await wait_for(lambda: harness.db.outbox_pending() == 0)  # published rows are deleted within ~a second


async def test_relay_partitions_keys_as_kafka_connect_would(broker: str, topic: str, sqlite_url: str) -> None:
    """Same key, same partition whether the embedded relay or Debezium (Java murmur2) publishes."""
    out_topic = f"{topic}.keyed"
    create_topics(broker, {out_topic: 6})
    registry = make_registry(topic, out_topic)
    db = Database(sqlite_url, RuntimeTestBase.metadata)
    db.create_all()
    keys = [f"cus_{n:04d}" for n in range(40)] + ["foobar"]
    outbox = Outbox(registry=registry, source="/test-svc", content_type="application/protobuf")
    for key in keys:
        outbox.emit(event_type="test.pong", key=key, data=NotificationDelivered(notification_id=key))
    with db.session() as session:
        session.begin()
        outbox.write(session, db.tables.outbox)
        session.commit()
    relay = OutboxRelay(engine=db.engine, table=db.tables.outbox, bootstrap=broker, service="test-svc")
    assert await asyncio.to_thread(relay.relay_once) == len(keys)
    consumer = Consumer({"bootstrap.servers": broker, "group.id": f"r-{uuid.uuid4()}", "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(out_topic, p, 0) for p in range(6)])
    placed: dict[bytes, int] = {}
    deadline = time.monotonic() + 15
    while len(placed) < len(keys) and time.monotonic() < deadline:
        placed.update((m.key(), m.partition()) for m in consumer.consume(100, 0.2) if not m.error())
    consumer.close()
    assert placed[b"foobar"] == (-790332482 & 0x7FFFFFFF) % 6  # Kafka's own murmur2 vector
    assert placed == {key.encode(): (murmur2(key.encode()) & 0x7FFFFFFF) % 6 for key in keys}
    assert await asyncio.to_thread(relay.relay_once) == 0  # past the watermark: nothing is sent twice
    relay.retire(force=True)
    assert db.outbox_pending() == 0
    # Rows written after the table was emptied get new, higher seqs, so the watermark passes none.
    later = Outbox(registry=registry, source="/test-svc", content_type="application/protobuf")
    for key in ("after-1", "after-2"):
        later.emit(event_type="test.pong", key=key, data=NotificationDelivered(notification_id=key))
    with db.session() as session:
        session.begin()
        later.write(session, db.tables.outbox)
        session.commit()
    assert await asyncio.to_thread(relay.relay_once) == 2
    db.dispose()
