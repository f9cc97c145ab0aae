"""Which stored batches slow the embedded broker's fetches: the fetched topic's own, or any topic's?

Starts a fresh Tansu broker per case, optionally writes ``--prefill`` one-record batches to a
topic, then for ``--seconds`` produces small batches to topic ``hot`` while one reader sits at
its tail (fetch wait 50 ms), and prints the broker's CPU in cores. Measured 2026-12-06 (2 vCPU):
no prefill 0.14 cores; 30,000 batches in another topic 0.16; 30,000 in ``hot`` itself 0.23 —
a fetch pays for its own topic's stored batches only.

Run: `.venv/bin/python bench/broker_topics.py [--prefill 30000] [--seconds 15]`
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from crm_cli.stack import create_topics, free_port, start_broker

PARTITIONS = 6


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tail(bootstrap: str, stop: threading.Event) -> None:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "tail", "enable.auto.commit": False, "fetch.wait.max.ms": 50}
    )
    consumer.assign([TopicPartition("hot", p, -1) for p in range(PARTITIONS)])
    while not stop.is_set():
        consumer.consume(1000, 0.1)
    consumer.close()


def measure(*, prefill_topic: str, prefill: int, seconds: float) -> float:
    """Broker cores while ``hot`` is written and tailed, after ``prefill`` batches in ``prefill_topic``."""
    port = free_port()
    broker = start_broker(port=port, log_path=Path(tempfile.mkdtemp()) / "tansu.log")
    bootstrap = f"127.0.0.1:{port}"
    try:
        create_topics(bootstrap, {"hot": PARTITIONS, "other": PARTITIONS})
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        for i in range(prefill):
            producer.produce(prefill_topic, value=b"x" * 100, partition=i % PARTITIONS)
            if i % 200 == 0:
                producer.flush()
        producer.flush()
        stop = threading.Event()
        reader = threading.Thread(target=_tail, args=(bootstrap, stop))
        reader.start()
        time.sleep(2)
        cpu_before, began = _cpu_seconds(broker.pid), time.monotonic()
        while time.monotonic() - began < seconds:
            for partition in range(PARTITIONS):
                producer.produce("hot", value=b"y" * 100, partition=partition)
            producer.flush()
            time.sleep(0.02)
        cores = (_cpu_seconds(broker.pid) - cpu_before) / (time.monotonic() - began)
        stop.set()
        reader.join()
        return cores
    finally:
        broker.terminate()
        broker.wait(timeout=10)


def main() -> None:
    """Print the broker's cores for: no prefill, prefill elsewhere, prefill in the fetched topic."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill", type=int, default=30_000, help="one-record batches written first")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    for topic, count in (("other", 0), ("other", args.prefill), ("hot", args.prefill)):
        cores = measure(prefill_topic=topic, prefill=count, seconds=args.seconds)
        print(f"{count:>6} batches stored in {topic!r}: broker {cores:.2f} cores while 'hot' is written and tailed")


if __name__ == "__main__":
    main()
