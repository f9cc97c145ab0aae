"""lead-router on a real broker: sustained leads/s through routing, and lead → decision latency.

Starts a Tansu broker and ONE ``python -m lead_router`` process (settings by environment,
as the embedded stack does), then produces ``crm.lead.created`` CloudEvents (protobuf,
key = customer id) straight onto ``crm.lead.v1`` — no customer-master in front.

Phase 1 (burst): ``--burst`` leads as fast as the producer can; the rate is first lead
produced → last decision (``crm.lead.assigned`` / ``crm.lead.returned_to_pool``) on the broker.
Phase 2 (steady): ``--rate`` leads/s for ``--seconds``; latency per lead is the create time of
its ``lead.created`` record → the create time of its decision record, p50/p95/p99/max.

The mix: regions the default rules route (Shanghai, Jiangsu, Zhejiang, Beijing, Guangdong,
the orthopaedics rule) and some they pool (Sichuan, no region); a fifth of the leads are
repeat customers (existing-owner path). Every lead must end assigned or pooled.
Run: ``.venv/bin/python bench/route_stream.py [--burst N] [--rate R --seconds S] [--var DIR] [--env CRM_X=V]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from confluent_kafka import Producer
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crm_cli.demo import percentile
from crm_cli.observe import Observer
from crm_cli.stack import SERVICES, Stack, create_topics, free_ports, start_broker
from crmkit.cloudevents import PROTOBUF, encode_data, encode_headers
from crmkit.timeutil import to_timestamp, utcnow

TOPIC = "crm.lead.v1"
SPEC = next(s for s in SERVICES if s.name == "lead-router")
# (region code, industry, product) — routed by the default rules unless marked "pool".
MIX = [
    ("310000", "", "SaaS"),  # east-shanghai, weighted
    ("310104", "Q", "骨科耗材"),  # east-ortho-hospitals
    ("320500", "C", ""),  # east-jiangsu-zhejiang, least_loaded
    ("330100", "", "冷链设备"),  # east-jiangsu-zhejiang
    ("110000", "I", ""),  # north-beijing, round robin
    ("440300", "F", ""),  # south-guangdong (one rep on leave)
    ("510100", "C", ""),  # pool: no rule for Sichuan
    ("", "", ""),  # pool: no region, nothing to impute from
]


def make_leads(count: int, rng: random.Random, customers: list[str]) -> list[LeadCreated]:
    """``count`` new leads; a fifth reuse an earlier customer (existing owner first)."""
    leads = []
    for _ in range(count):
        region, industry, product = rng.choice(MIX)
        if customers and rng.random() < 0.2:
            customer = rng.choice(customers)
        else:
            customer = f"cus-{uuid.uuid4().hex[:16]}"
            customers.append(customer)
        leads.append(
            LeadCreated(
                lead_id=f"lead-{uuid.uuid4().hex}",
                customer_id=customer,
                source_event_id=f"tp-{uuid.uuid4().hex[:16]}",
                region_code=region,
                industry=industry,
                product_interest=product,
                dwell_seconds=rng.randint(0, 600),
            )
        )
    return leads


def produce(producer: Producer, leads: list[LeadCreated], *, rate: float | None) -> float:
    """Send ``leads`` at ``rate``/s (None: as fast as possible); returns seconds taken."""
    began = time.perf_counter()
    for i, lead in enumerate(leads, 1):
        if rate:
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        lead.submitted_at.CopyFrom(to_timestamp(utcnow()))
        headers: list[tuple[str, str | bytes | None]] = [
            *encode_headers(
                event_id=lead.lead_id,
                source="/bench/route-stream",
                event_type="crm.lead.created",
                correlation_id=lead.lead_id,
            )
        ]
        while True:
            try:
                producer.produce(
                    TOPIC, key=lead.customer_id.encode(), value=encode_data(lead, PROTOBUF), headers=headers
                )
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    return time.perf_counter() - began


def decided(observer: Observer, ids: set[str]) -> set[str]:
    """The leads of ``ids`` with a decision on the broker."""
    seen = observer.seen
    return ids & (seen.assigned | set(seen.pooled))


def wait_decided(observer: Observer, ids: set[str], *, timeout: float) -> int:
    """Wait until every lead of ``ids`` has a decision (or the timeout); returns how many do."""
    deadline = time.monotonic() + timeout
    while len(decided(observer, ids)) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(decided(observer, ids))


def outcome_at(observer: Observer, lead_id: str) -> float:
    """Create time of the lead's decision record (seconds)."""
    first = observer.seen.first_seen
    times = [first.get(t, {}).get(lead_id) for t in ("crm.lead.assigned", "crm.lead.returned_to_pool")]
    return min(t for t in times if t is not None)


def summary(observer: Observer, ids: set[str]) -> str:
    """Assigned / pooled (by reason) among ``ids``."""
    seen = observer.seen
    reasons = Counter(seen.pooled[i] for i in ids if i in seen.pooled)
    assigned = len(ids & seen.assigned)
    return f"assigned {assigned}, pooled {sum(reasons.values())} " + str(dict(reasons.most_common()))


def burst(observer: Observer, producer: Producer, leads: list[LeadCreated]) -> None:
    """Phase 1: all at once; sustained rate through routing."""
    ids = {lead.lead_id for lead in leads}
    began = time.time()
    produce_s = produce(producer, leads, rate=None)
    done = wait_decided(observer, ids, timeout=600)
    created = observer.seen.first_seen.get("crm.lead.created", {})
    first = min((created[i] for i in ids if i in created), default=began)
    last = max(outcome_at(observer, i) for i in decided(observer, ids))
    print(
        f"burst: {len(leads)} leads produced in {produce_s:.1f}s ({len(leads) / produce_s:.0f}/s); "
        f"decided {done}/{len(leads)} in {last - first:.1f}s → {done / (last - first):.0f} leads/s sustained"
    )
    print(f"  {summary(observer, ids)}")


def steady(observer: Observer, producer: Producer, leads: list[LeadCreated], rate: float) -> None:
    """Phase 2: fixed rate; lead.created → decision latency from record create times."""
    ids = {lead.lead_id for lead in leads}
    produce_s = produce(producer, leads, rate=rate)
    done = wait_decided(observer, ids, timeout=120)
    created = observer.seen.first_seen.get("crm.lead.created", {})
    pairs = [
        (created[i], (outcome_at(observer, i) - created[i]) * 1000) for i in decided(observer, ids) if i in created
    ]
    latencies = sorted(latency for _, latency in pairs)
    print(
        f"steady: {len(leads)} leads at {len(leads) / produce_s:.0f}/s for {produce_s:.1f}s; "
        f"decided {done}/{len(leads)}; "
        f"lead.created → assigned/pooled p50 {percentile(latencies, 50):.0f} ms, "
        f"p95 {percentile(latencies, 95):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
        f"max {max(latencies, default=0):.0f} ms"
    )
    print(f"  {summary(observer, ids)}")
    began = min((at for at, _ in pairs), default=0.0)
    worst: dict[int, float] = {}
    for at, latency in pairs:
        second = int(at - began)
        worst[second] = max(worst.get(second, 0.0), latency)
    slowest = sorted(worst.items(), key=lambda item: -item[1])[:5]
    print("  slowest seconds of the run (second: max ms): " + ", ".join(f"{s}: {ms:.0f}" for s, ms in sorted(slowest)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--var", type=Path, default=None, help="keep the broker/service logs and database here")
    parser.add_argument(
        "--env", action="append", default=[], metavar="CRM_X=V", help="an extra lead-router setting (repeatable)"
    )
    args = parser.parse_args()
    var = (args.var or Path(tempfile.mkdtemp(prefix="route-stream-"))).resolve()
    var.mkdir(parents=True, exist_ok=True)
    broker_port, http_port = free_ports(2)
    extra = dict(item.split("=", 1) for item in args.env)
    stack = Stack(var=var, broker_port=broker_port, ports={SPEC.name: http_port}, extra_env=extra)
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; var {var}; env {extra}")
    stack.broker = start_broker(port=broker_port, log_path=var / "log" / "broker.log")
    try:
        create_topics(stack.bootstrap)
        stack.start_service(SPEC)
        stack.wait_healthy(timeout=90, services=[SPEC.name])
        observer = Observer(stack.bootstrap, topics=(TOPIC,))
        producer = Producer(
            {"bootstrap.servers": stack.bootstrap, "linger.ms": 5, "socket.nagle.disable": True, "acks": 1}
        )
        rng = random.Random(args.seed)
        customers: list[str] = []
        warm = make_leads(200, rng, customers)  # first connections, first transactions
        produce(producer, warm, rate=None)
        wait_decided(observer, {lead.lead_id for lead in warm}, timeout=60)
        if args.burst:
            burst(observer, producer, make_leads(args.burst, rng, customers))
        if args.rate and args.seconds:
            steady(observer, producer, make_leads(int(args.rate * args.seconds), rng, customers), args.rate)
        print(f"duplicates seen on the broker: {observer.seen.duplicates}")
        observer.close()
    finally:
        stack.stop(timeout=30)
        if args.var is None:
            shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
