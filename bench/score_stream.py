"""behavior-scoring through the broker: one service process, Tansu, customer.resolved in, score_changed out.

    .venv/bin/python bench/score_stream.py [--burst 30000] [--rate 1000] [--seconds 20]

Starts a Tansu broker and ONE ``python -m behavior_scoring`` process (SQLite, embedded outbox
relay, the CRM_* environment ``crm up`` gives it), waits for its consumer to join, then:

(a) **burst**: produces ``--burst`` customer.resolved events as fast as the producer can and
    times first produce → the service's /stats counting all of them recorded (events/s
    sustained through the one process, ledger + state + outbox in each batch's transaction);
(b) **latency**: produces at a fixed ``--rate`` for ``--seconds`` and measures, for every
    event that changes a score, its record timestamp on ``crm.customer.v1`` → the record
    timestamp of its ``crm.scoring.score_changed`` on ``crm.scoring.v1`` (both CreateTime,
    one clock): p50 / p99 / max.

Every event is a ``page.viewed`` (new_product) for a fresh customer, two per customer, the
second 1 s of event time after the first: the second sets ``new_product_interest`` (+15), so
half the events publish a ``score_changed``. Event times are the wall clock (no event late).
Targets (issue 6): >= 3,000 events/s per process; p99 <= 250 ms at 1,000 events/s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from behavior_scoring.mapping import resolved_for
from confluent_kafka import Consumer, Producer, TopicPartition
from crm.events.scoring.v1.scoring_pb2 import ScoreChanged
from crm_cli.stack import SERVICES, create_topics, free_port, service_env, start_broker
from crmkit.cloudevents import PROTOBUF, encode_data, encode_headers

IN_TOPIC = "crm.customer.v1"
OUT_TOPIC = "crm.scoring.v1"
SPEC = next(s for s in SERVICES if s.name == "behavior-scoring")


class Outputs:
    """Reads ``score_changed`` from the broker in a thread: per customer, the record timestamp (ms)."""

    def __init__(self, bootstrap: str, partitions: int) -> None:
        self.consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": "bench-reader", "enable.auto.commit": False}
        )
        self.consumer.assign([TopicPartition(OUT_TOPIC, p, 0) for p in range(partitions)])
        self.seen: dict[str, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            for message in self.consumer.consume(500, 0.05):
                if message.error():
                    continue
                change = ScoreChanged.FromString(message.value() or b"")
                self.seen.setdefault(change.customer_id, message.timestamp()[1])
        self.consumer.close()


def send(producer: Producer, n: int, customer: str, at: datetime) -> int:
    """Produce one customer.resolved (page.viewed new_product); returns its timestamp (ms)."""
    record: dict[str, object] = {
        "id": f"tp-{n}",
        "type": "page.viewed",
        "at": at.isoformat(),
        "customer_id": customer,
        "page_category": "new_product",
        "page_id": f"p{n % 50}",
    }
    headers: Any = list(
        encode_headers(event_id=f"ce-{n}", source="/customer-master", event_type="crm.customer.resolved", time=at)
    )
    stamp = int(time.time() * 1000)
    while True:
        try:
            producer.produce(
                IN_TOPIC,
                key=customer.encode(),
                value=encode_data(resolved_for(record), PROTOBUF),
                headers=headers,
                timestamp=stamp,
            )
            return stamp
        except BufferError:
            producer.poll(0.01)


def behaviours(client: httpx.Client, url: str) -> int:
    return int(client.get(f"{url}/stats").json()["behaviours"])


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def arguments(description: str) -> argparse.Namespace:
    """The workload options every variant of this benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--burst", type=int, default=30000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    return parser.parse_args()


def measure(*, bootstrap: str, recorded: Callable[[], int], burst: int, rate: int, seconds: float) -> None:
    """Run (a) the burst and (b) the fixed rate against a service already in its group; print both figures.

    ``recorded`` returns how many behaviours the service has recorded (its /stats).
    """
    outputs = Outputs(bootstrap, 6)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2, "enable.idempotence": False, "log_level": 0})

    # (a) burst
    base = recorded()
    now = datetime.now(UTC)
    started = time.monotonic()
    for n in range(burst):
        send(producer, n, f"b{n // 2}", now + timedelta(seconds=n % 2))
        if n % 1000 == 0:
            producer.poll(0)
    producer.flush()
    produced_s = time.monotonic() - started
    wait_for(lambda: recorded() >= base + burst, 600, "the burst to be recorded")
    burst_s = time.monotonic() - started
    wait_for(lambda: len(outputs.seen) >= burst // 2, 120, "the burst's score_changed")
    out_s = time.monotonic() - started
    print(
        f"burst: {burst} events produced in {produced_s:.2f} s, all recorded after {burst_s:.2f} s "
        f"-> {burst / burst_s:,.0f} events/s through one process; "
        f"{burst // 2} score_changed on the broker after {out_s:.2f} s",
        flush=True,
    )

    # (b) fixed rate
    total = int(rate * seconds)
    sent: dict[str, int] = {}
    tick = 0.01
    per_tick = max(1, round(rate * tick))
    start = time.monotonic()
    offset = burst
    for n in range(total):
        if n % per_tick == 0:
            due = start + (n // per_tick) * tick
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            producer.poll(0)
        customer = f"l{n // 2}"
        stamp = send(producer, offset + n, customer, datetime.now(UTC))
        if n % 2 == 1:
            sent[customer] = stamp
    producer.flush()
    achieved = total / (time.monotonic() - start)
    wait_for(lambda: all(c in outputs.seen for c in sent), 120, "every score_changed")
    latencies = [float(outputs.seen[c] - t) for c, t in sent.items()]
    print(
        f"latency at {achieved:,.0f} events/s offered for {seconds:.0f} s: {len(latencies)} score_changed, "
        f"event -> score_changed p50 {statistics.median(latencies):.0f} ms, "
        f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms",
        flush=True,
    )
    outputs.stop.set()
    outputs.thread.join(timeout=5)


def start_logged(
    command: list[str], *, env: dict[str, str], log_path: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(
    process: subprocess.Popen[bytes], client: httpx.Client, url: str, *, what: str, log_path: Path, timeout: float
) -> None:
    """Block until ``url``/health answers 200; exit naming the log if the process dies first."""

    def healthy() -> bool:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited; see {log_path}")
        try:
            return client.get(f"{url}/health").status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout, f"{what} /health")


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    args = arguments(__doc__.split("\n", 1)[0])
    var = Path(tempfile.mkdtemp(prefix="score-stream-"))
    broker_port, http_port = free_port(), free_port()
    bootstrap = f"127.0.0.1:{broker_port}"
    broker = start_broker(port=broker_port, log_path=var / "log" / "broker.log")
    service: subprocess.Popen[bytes] | None = None
    try:
        create_topics(bootstrap)
        env = service_env(SPEC, bootstrap=bootstrap, var=var, port=http_port, extra={"CRM_LOG_LEVEL": "WARNING"})
        log_path = var / "log" / "behavior-scoring.log"
        service = start_logged([sys.executable, "-m", SPEC.module], env=env, log_path=log_path)
        url = f"http://127.0.0.1:{http_port}"
        client = httpx.Client(timeout=5)
        wait_healthy(service, client, url, what="behavior-scoring", log_path=log_path, timeout=90)
        measure(
            bootstrap=bootstrap,
            recorded=lambda: behaviours(client, url),
            burst=args.burst,
            rate=args.rate,
            seconds=args.seconds,
        )
    finally:
        stop_process(service, 20)
        stop_process(broker, 10)
        print(f"(logs and database in {var})")


if __name__ == "__main__":
    main()
