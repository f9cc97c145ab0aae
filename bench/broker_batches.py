"""How the embedded broker's CPU grows with the record batches it stores (a script, not a test).

Tansu's in-memory engine answers a fetch by walking the stored batches of the partition, so
the cost of every fetch that returns data grows with the number of batches written so far.
A producer that sends tiny batches (short linger, many partitions) makes the broker slower
minute by minute; the same records in fewer, larger batches keep it flat. This script starts
a fresh broker per linger setting, keeps one reader at the tail of a 6-partition topic and
produces at a fixed rate, printing the broker's CPU (cores) in each interval.

Run: `.venv/bin/python bench/broker_batches.py [--rate 1000] [--seconds 60] [--lingers 5,50]`
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from crm_cli.stack import create_topics, free_port, start_broker

TOPIC = "bench.batches"
PARTITIONS = 6


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_tail(bootstrap: str, stop: threading.Event, counter: list[int]) -> None:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "tail", "enable.auto.commit": False, "fetch.wait.max.ms": 50}
    )
    consumer.assign([TopicPartition(TOPIC, p, -1) for p in range(PARTITIONS)])
    while not stop.is_set():
        counter[0] += len(consumer.consume(1000, 0.1))
    consumer.close()


def run(*, linger_ms: int, rate: float, seconds: float, every: float) -> list[dict[str, float]]:
    """One fresh broker: produce at ``rate`` with ``linger_ms``; broker cores per interval."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(port=port, log_path=Path(tmp) / "broker.log")
        bootstrap = f"127.0.0.1:{port}"
        stop = threading.Event()
        read = [0]
        try:
            create_topics(bootstrap, {TOPIC: PARTITIONS})
            reader = threading.Thread(target=_read_tail, args=(bootstrap, stop, read), daemon=True)
            reader.start()
            time.sleep(2)
            producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": linger_ms, "enable.idempotence": False})
            rows: list[dict[str, float]] = []
            began = mark = time.monotonic()
            cpu_mark = _cpu_seconds(broker.pid)
            sent = 0
            while (now := time.monotonic()) - began < seconds:
                producer.produce(TOPIC, key=str(sent).encode(), value=b"x" * 300)
                producer.poll(0)
                sent += 1
                if (delay := began + sent / rate - time.monotonic()) > 0:
                    time.sleep(delay)
                if now - mark >= every:
                    cpu = _cpu_seconds(broker.pid)
                    rows.append(
                        {"at_s": round(now - began), "produced": sent, "read": read[0],
                         "broker_cores": round((cpu - cpu_mark) / (now - mark), 3)}
                    )  # fmt: skip
                    print(f"linger {linger_ms:>3} ms  {rows[-1]}", flush=True)
                    mark, cpu_mark = now, cpu
            producer.flush(30)
            return rows
        finally:
            stop.set()
            broker.terminate()
            broker.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000.0, help="records/s produced")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration per linger setting")
    parser.add_argument("--every", type=float, default=10.0, help="report interval (s)")
    parser.add_argument("--lingers", default="5,50", help="producer linger.ms values to compare")
    args = parser.parse_args()
    results = {
        f"linger_{linger}ms": run(linger_ms=int(linger), rate=args.rate, seconds=args.seconds, every=args.every)
        for linger in args.lingers.split(",")
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
