"""Pipeline benchmark on the embedded stack (a script, not a test).

Phase 1 pushes touchpoints as fast as the producer can and reports the sustained rate
through customer-master (first produced → last `customer.resolved` seen). Phase 2 produces
at a fixed rate and reports end-to-end latency, form touchpoint produced → notification
delivered, p50/p95/p99. Run: `.venv/bin/python bench/pipeline.py [--burst N] [--rate R --seconds S]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from crm_cli.demo import Expected, accounted, is_complete, percentile
from crm_cli.loadgen import TouchpointProducer, produce_at_rate, touchpoints
from crm_cli.observe import Observer
from crm_cli.stack import Stack, start_stack


def _expected(touches: list) -> Expected:  # type: ignore[type-arg]
    return Expected(
        touch_ids={t.event_id for t in touches},
        form_ids={t.event_id for t in touches if isinstance(t.data, LeadFormSubmitted)},
    )


def burst(stack: Stack, count: int, seed: int) -> dict[str, float]:
    """Phase 1: as fast as possible; sustained touchpoints/s through customer-master."""
    touches = list(touchpoints(count, seed=seed))
    expected = _expected(touches)
    observer = Observer(stack.bootstrap)
    producer = TouchpointProducer(stack.bootstrap)
    began = time.time()
    produce_seconds = produce_at_rate(producer, touches, rate=None)
    deadline = time.monotonic() + 600
    while accounted(observer.seen, expected)["resolved"] < count and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = observer.seen
    observer.close()
    resolved = accounted(seen, expected)["resolved"]
    return {
        "touchpoints": count,
        "resolved": resolved,
        "produce_s": round(produce_seconds, 2),
        "resolved_s": round(seen.last_resolved_at - began, 2),
        "touchpoints_per_s": round(resolved / max(seen.last_resolved_at - began, 1e-9), 1),
    }


def steady(stack: Stack, rate: float, seconds: float, seed: int) -> dict[str, float]:
    """Phase 2: fixed rate; form produced → notification delivered latency."""
    touches = list(touchpoints(int(rate * seconds), seed=seed))
    expected = _expected(touches)
    observer = Observer(stack.bootstrap)
    producer = TouchpointProducer(stack.bootstrap)
    produce_at_rate(producer, touches, rate=rate)
    deadline = time.monotonic() + 300
    while not is_complete(accounted(observer.seen, expected), expected) and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = observer.seen
    observer.close()
    latencies = sorted(
        (seen.delivered_at[t] - producer.sent_at[t]) * 1000 for t in expected.form_ids if t in seen.delivered_at
    )
    return {
        "rate_per_s": rate,
        "touchpoints": len(touches),
        "forms": len(expected.form_ids),
        "notified": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "complete": is_complete(accounted(seen, expected), expected),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=10_000, help="touchpoints in phase 1")
    parser.add_argument("--rate", type=float, default=500.0, help="touchpoints/s in phase 2")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of phase 2")
    parser.add_argument("--var", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    shutil.rmtree(args.var, ignore_errors=True)
    stack = start_stack(var=args.var)
    try:
        result = {
            "machine": f"{platform.machine()} cores={os.cpu_count()} python={platform.python_version()}",
            "burst": burst(stack, args.burst, seed=101),
            "steady": steady(stack, args.rate, args.seconds, seed=202),
        }
    finally:
        stack.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
