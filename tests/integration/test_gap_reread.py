"""Producers racing on one Tansu partition: a live consumer that reads gaps again misses nothing.

Tansu advances the high watermark before it stores a batch, so a fetch racing a producer
can return a later batch first; a plain reader then skips the earlier one for good. The
same reading through :func:`crmkit.gaps.poll_contiguous` (what every service's consumer
does) must end with every acknowledged record.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from confluent_kafka import Producer
from crm_cli.stack import create_topics
from crmkit.gaps import GapGuard, poll_contiguous

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SECONDS = float(os.environ.get("CRM_RACE_SECONDS", "8"))  # longer runs race more often
PRODUCERS = 3


def race(broker: str, topic: str, name: str, linger_ms: int, acked: set[str], stop: threading.Event) -> None:
    """Produce bursts of 1–7 records every few milliseconds until ``stop``; remember what was acknowledged."""
    producer = Producer({"bootstrap.servers": broker, "linger.ms": linger_ms, "acks": "all"})

    def delivered(error: object, message: object) -> None:
        if error is None:
            acked.add(message.value().decode())  # type: ignore[attr-defined]

    i = 0
    while not stop.is_set():
        for _ in range(1 + i % 7):
            producer.produce(topic, value=f"{name}-{i}".encode(), on_delivery=delivered)
            i += 1
        producer.poll(0)
        time.sleep(0.003)
    producer.flush(30)


async def read_live(broker: str, topic: str, guard: GapGuard | None, seen: set[str], done: asyncio.Event) -> None:
    """Read from the start while producers race, then on to the partition's end once they are ``done``."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker,
        group_id=f"g-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    tp = TopicPartition(topic, 0)
    end: int | None = None
    try:
        while end is None or await consumer.position(tp) < end:
            if guard is None:
                batches = await consumer.getmany(timeout_ms=200, max_records=500)
                records = [record for part in batches.values() for record in part]
            else:
                records = await poll_contiguous(consumer, guard, max_records=500)
            seen.update(record.value.decode() for record in records if record.value is not None)
            if end is None and done.is_set():
                end = (await consumer.end_offsets([tp]))[tp]  # Tansu: the last batch's first offset + 1
    finally:
        await consumer.stop()


async def test_a_live_consumer_reads_every_acknowledged_record_while_producers_race(broker: str) -> None:
    topic = f"test.race.{uuid.uuid4().hex[:10]}"
    create_topics(broker, {topic: 1})
    acked: set[str] = set()
    guarded: set[str] = set()
    plain: set[str] = set()
    stop, done = threading.Event(), asyncio.Event()
    guard = GapGuard(rereads=3)
    readers = [
        asyncio.create_task(read_live(broker, topic, guard, guarded, done)),
        asyncio.create_task(read_live(broker, topic, None, plain, done)),
    ]
    producers = [
        threading.Thread(target=race, args=(broker, topic, f"p{n}", (0, 2, 5)[n % 3], acked, stop))
        for n in range(PRODUCERS)
    ]
    for thread in producers:
        thread.start()
    await asyncio.sleep(SECONDS)
    stop.set()
    await asyncio.to_thread(lambda: [thread.join() for thread in producers])
    done.set()
    await asyncio.wait_for(asyncio.gather(*readers), timeout=120)

    missed = acked - guarded
    print(f"{len(acked)} acknowledged; plain reader missed {len(acked - plain)}, guarded reader {len(missed)}")
    assert len(acked) > 1000
    assert not missed, f"the guarded reader missed {len(missed)} acknowledged records, e.g. {sorted(missed)[:5]}"
