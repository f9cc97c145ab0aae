"""Which stored batches slow the embedded broker's fetches: the fetched topic's, the fetched partition's, or any?

Starts a fresh Tansu broker per case, optionally writes ``--prefill`` records to a topic, then for
``--seconds`` produces small batches to topic ``hot`` while one reader sits at its tail (fetch
wait 50 ms), and prints the broker's CPU in cores, the reader's fetch requests/s, the broker CPU
per fetch, and (``--census``) how many record batches the broker really stores where prefilled
(read back with a raw Fetch v4, which shows batch boundaries librdkafka hides).

``--layout topics`` (default): no prefill / prefill in another topic / prefill in ``hot`` itself.
First measured 2026-12-06 (2 vCPU): no prefill 0.14 cores; 30,000 records in another topic 0.16;
in ``hot`` itself 0.23. That prefill (linger 0, flush every 200 records over 6 partitions) stores
~8-20 records per batch (census: 1,507-3,558 batches, not 30,000). With ``--single-batches`` (one
record per batch, 30,000 batches): 0.15 / 0.18 / 0.72 cores, i.e. 3.0 / 3.5 / 18.6 ms of broker
CPU per fetch — about 0.5 us per stored batch of the fetched topic, per fetch.

``--layout partitions``: ``hot`` is written and tailed on partitions 1..5 only; the prefill goes
to partition 0 (fetched by the reader, never written during the measurement) or is spread over
partitions 1..5. If a fetch pays per topic both cost the same; if per partition, only the second.
Measured 2026-12-06, ``--single-batches``: no prefill 0.13 cores (2.8 ms/fetch); 30,000 batches in
p0 0.16 (3.3 ms); spread over p1-5 0.62 (16.8 ms). A fetch pays for the stored batches of each
partition it gets new data from (Tansu's memory engine lists that partition's batch objects),
not for the topic's other partitions.

Run: `.venv/bin/python bench/broker_topics.py [--layout topics|partitions] [--prefill 30000]
[--single-batches] [--census] [--seconds 15]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from crm_cli.stack import create_topics, free_port, start_broker

PARTITIONS = 6


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_batches(
    bootstrap: str,
    topic: str,
    partitions: list[int],
    *,
    classify: Callable[[dict[str, str]], str] | None = None,
    kinds: dict[int, Counter[str]] | None = None,
) -> dict[int, tuple[int, int]]:
    """(record batches, records) stored per partition, read from offset 0 with raw Fetch v4 requests.

    librdkafka does not expose batch boundaries, so this uses aiokafka's protocol classes: each
    Fetch answer is parsed batch by batch. Meant for after a run (every fetch here walks the log).
    ``classify`` maps a batch's first record's headers to a label; ``kinds[partition]`` counts them.
    """
    from aiokafka.client import AIOKafkaClient
    from aiokafka.protocol.fetch import FetchRequest, FetchRequest_v4
    from aiokafka.record.memory_records import MemoryRecords

    class FetchV4(FetchRequest):  # type: ignore[misc]  # aiokafka ships no types
        def prepare(self, versions: object) -> FetchRequest_v4:
            return self.build(FetchRequest_v4)

    async def census() -> dict[int, tuple[int, int]]:
        client = AIOKafkaClient(bootstrap_servers=bootstrap)
        await client.bootstrap()
        node = client.get_random_node()
        counts: dict[int, tuple[int, int]] = {}
        try:
            for partition in partitions:
                offset = batches = records = 0
                while True:
                    for _attempt in range(5):  # an empty answer (no topic in it) is asked again
                        response = await client.send(
                            node, FetchV4(100, 0, 4 << 20, 0, [(topic, [(partition, offset, 4 << 20)])])
                        )
                        if response.topics and response.topics[0][1]:
                            break
                        await asyncio.sleep(0.2)
                    else:
                        raise RuntimeError(f"no answer for {topic}/{partition} at offset {offset}")
                    answer = response.topics[0][1][0]
                    high, data = answer[2], answer[-1]
                    got = 0
                    parsed = MemoryRecords(bytes(data or b""))
                    while (batch := parsed.next_batch()) is not None:
                        rows = list(batch)
                        got, batches, records = got + 1, batches + 1, records + len(rows)
                        if rows:
                            offset = rows[-1].offset + 1
                            if classify is not None and kinds is not None:
                                headers = {k: bytes(v or b"").decode(errors="replace") for k, v in rows[0].headers}
                                kinds.setdefault(partition, Counter())[classify(headers)] += 1
                    if not got or offset >= high:
                        break
                counts[partition] = (batches, records)
        finally:
            await client.close()
        return counts

    return asyncio.run(census())


def _tail(bootstrap: str, partitions: list[int], stop: threading.Event, fetches: list[int]) -> None:
    def stats(raw: str) -> None:
        brokers = json.loads(raw).get("brokers", {})
        fetches[0] = sum(int(b.get("req", {}).get("Fetch", 0)) for b in brokers.values())

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "tail",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 50,
            "statistics.interval.ms": 1000,
            "stats_cb": stats,
        }
    )
    consumer.assign([TopicPartition("hot", p, -1) for p in partitions])
    while not stop.is_set():
        consumer.consume(1000, 0.1)
    consumer.close()


def prefill_topic(bootstrap: str, topic: str, partitions: list[int], count: int, *, single: bool) -> None:
    """Write ``count`` 100-byte records round-robin over ``partitions``.

    ``single``: one record per batch (batch.num.messages=1); otherwise as the first version of this
    script did (linger 0, flush every 200 records), which stores tens of records per batch.
    """
    config: dict[str, object] = {"bootstrap.servers": bootstrap, "linger.ms": 0}
    if single:
        config["batch.num.messages"] = 1
    producer = Producer(config)
    for i in range(count):
        while True:
            try:
                producer.produce(topic, value=b"x" * 100, partition=partitions[i % len(partitions)])
                break
            except BufferError:
                producer.poll(0.05)
        if i % 200 == 0:
            producer.flush() if not single else producer.poll(0)
    producer.flush()


def measure(
    *,
    prefill_topic_name: str,
    prefill_partitions: list[int],
    live: list[int],
    prefill: int,
    seconds: float,
    single: bool,
    census: bool,
) -> dict[str, object]:
    """Broker cores while ``hot``'s ``live`` partitions are written and tailed, after the prefill."""
    port = free_port()
    broker = start_broker(port=port, log_path=Path(tempfile.mkdtemp()) / "tansu.log")
    bootstrap = f"127.0.0.1:{port}"
    try:
        create_topics(bootstrap, {"hot": PARTITIONS, "other": PARTITIONS})
        if prefill:
            prefill_topic(bootstrap, prefill_topic_name, prefill_partitions, prefill, single=single)
        stored = count_batches(bootstrap, prefill_topic_name, prefill_partitions) if census and prefill else {}
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        stop = threading.Event()
        fetches = [0]
        reader = threading.Thread(target=_tail, args=(bootstrap, list(range(PARTITIONS)), stop, fetches))
        reader.start()
        time.sleep(2.5)
        fetches_before, cpu_before, began = fetches[0], _cpu_seconds(broker.pid), time.monotonic()
        while time.monotonic() - began < seconds:
            for partition in live:
                producer.produce("hot", value=b"y" * 100, partition=partition)
            producer.flush()
            time.sleep(0.02)
        elapsed = time.monotonic() - began
        cores = (_cpu_seconds(broker.pid) - cpu_before) / elapsed
        time.sleep(1.1)  # one more stats report
        fetch_rate = (fetches[0] - fetches_before) / (elapsed + 1.1)
        stop.set()
        reader.join()
        return {
            "cores": round(cores, 3),
            "fetches_per_s": round(fetch_rate, 1),
            "ms_cpu_per_fetch": round(cores * 1000 / fetch_rate, 2) if fetch_rate else None,
            "stored_batches": sum(b for b, _ in stored.values()) if stored else None,
            "stored_records": sum(r for _, r in stored.values()) if stored else None,
        }
    finally:
        broker.terminate()
        broker.wait(timeout=10)


def main() -> None:
    """Print the broker's cost for each case of the chosen layout."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--layout", choices=("topics", "partitions"), default="topics")
    parser.add_argument("--prefill", type=int, default=30_000, help="records written first")
    parser.add_argument("--single-batches", action="store_true", help="one record per prefilled batch")
    parser.add_argument("--census", action="store_true", help="count the prefilled batches the broker stores")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    everything = list(range(PARTITIONS))
    if args.layout == "topics":
        cases = [
            ("no prefill", "other", everything, everything, 0),
            ("prefill in 'other'", "other", everything, everything, args.prefill),
            ("prefill in 'hot'", "hot", everything, everything, args.prefill),
        ]
    else:
        written = everything[1:]
        cases = [
            ("no prefill; hot p1-5 written", "hot", [0], written, 0),
            ("prefill in hot p0 (fetched, not written)", "hot", [0], written, args.prefill),
            ("prefill spread over hot p1-5 (written)", "hot", written, written, args.prefill),
        ]
    for label, topic, where, live, count in cases:
        result = measure(
            prefill_topic_name=topic,
            prefill_partitions=where,
            live=live,
            prefill=count,
            seconds=args.seconds,
            single=args.single_batches,
            census=args.census,
        )
        print(f"{count:>6} records, {label}: {json.dumps(result)}", flush=True)


if __name__ == "__main__":
    main()
