"""Benchmark the behaviour-scoring replay: N synthetic events (JSONL) through the engine to every customer's state.

Run: .venv/bin/python bench/score_replay.py [--events 1000000] [--customers 100000] [--days 14]

The events are written to a temporary JSONL file first by a child process (not timed, and
not in the measuring process's heap or peak memory), roughly in time order with up to 10
minutes of jitter and 0.1% arriving hours late. The timed part is what ``crm score replay``
does: read and validate every line, run the engine, compute every customer's state at T and
serialise the output lines.
Target: >= 50,000 events/s and < 2 GB peak RSS for 1,000,000 events.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.replay import replay_file

START = datetime(2026, 11, 1, tzinfo=UTC)
BJ = "+08:00"
KINDS = [
    ("page.viewed", 45),
    ("product.favourited", 12),
    ("wecom.contact_added", 5),
    ("wecom.friend_accepted", 3),
    ("order.created", 13),
    ("order.paid", 9),
    ("order.cancelled", 3),
    ("membership.purchased", 1),
]


def stamp(at: datetime) -> str:
    """ISO-8601 in Beijing time, as upstream systems send it."""
    return (at + timedelta(hours=8)).replace(tzinfo=None).isoformat(timespec="milliseconds") + BJ


def generate(path: Path, *, events: int, customers: int, days: int, seed: int) -> datetime:
    """Write ``events`` JSONL lines to ``path``; return the latest event time."""
    rng = random.Random(seed)
    kinds = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    span = timedelta(days=days)
    recent_orders: list[tuple[str, str]] = []
    latest = START
    with path.open("w", encoding="utf-8") as out:
        for i in range(events):
            at = START + span * (i / events) - timedelta(seconds=rng.uniform(0, 600))
            if rng.random() < 0.001:
                at -= timedelta(hours=rng.uniform(1, 48))  # late beyond the allowed lateness
            latest = max(latest, at)
            number = rng.randrange(customers)
            customer = f"c{number}"
            if rng.random() < 0.0005:
                other = f"c{rng.randrange(customers)}"
                record: dict[str, object] = {"type": "customer.merged", "absorbed_id": other, "survivor_id": customer}
            else:
                kind = rng.choices(kinds, weights)[0]
                record = {"type": kind}
                if kind == "page.viewed":
                    category = "new_product" if rng.random() < 0.3 else rng.choice(("article", "promotion"))
                    record |= {"page_category": category, "page_id": f"pg{rng.randrange(500)}"}
                elif kind == "product.favourited":
                    record["product_id"] = f"p{rng.randrange(200)}"
                elif kind == "order.created":
                    order = f"o{i}"
                    # mostly the customer's own address; 5% from 500 shared ones (offices, NAT, order farms)
                    n = number if rng.random() < 0.95 else customers + rng.randrange(500)
                    ip = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
                    record |= {"order_id": order, "amount_fen": rng.randrange(500, 50_000), "client_ip": ip}
                    recent_orders.append((order, customer))
                    if len(recent_orders) > 5_000:
                        del recent_orders[: len(recent_orders) - 5_000]
                elif kind in ("order.paid", "order.cancelled"):
                    if not recent_orders:
                        continue
                    order, customer = recent_orders[-1 - int(rng.expovariate(1 / 300)) % len(recent_orders)]
                    record["order_id"] = order
                elif kind == "membership.purchased":
                    record["valid_until"] = stamp(at + timedelta(days=rng.choice((7, 20, 30, 365))))
            record |= {"id": f"e{i}", "at": stamp(at), "customer_id": customer}
            out.write(json.dumps(record, separators=(",", ":")))
            out.write("\n")
    return latest


def main() -> None:
    """Generate, replay, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only is not None:
        latest = generate(
            args.generate_only, events=args.events, customers=args.customers, days=args.days, seed=args.seed
        )
        print(latest.isoformat())
        return
    rules = load_rules()
    with tempfile.TemporaryDirectory(prefix="score-replay-") as tmp:
        path = Path(tmp) / "events.jsonl"
        t0 = time.perf_counter()
        command = [sys.executable, __file__, "--generate-only", str(path), "--events", str(args.events)]
        command += ["--customers", str(args.customers), "--days", str(args.days), "--seed", str(args.seed)]
        child = subprocess.run(command, check=True, capture_output=True, text=True)
        latest = datetime.fromisoformat(child.stdout.strip())
        generated = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        at = latest + timedelta(hours=1)
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = replay_file(path, at=at, rules=rules)
        with open(os.devnull, "w", encoding="utf-8") as sink:
            for line in result.lines():
                sink.write(line)
                sink.write("\n")
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts: Counter[str] = Counter()
    for view in result.views:
        counts.update(t.name for t in view.tags)
        counts.update(f"pool:{p.name}" for p in view.pools)
        counts[f"tier:{view.risk_tier}"] += 1
    stats = result.stats
    print(f"generated {args.events:,} events ({size_mb:.0f} MB JSONL) in {generated:.1f} s, not timed")
    print(
        f"replay: {stats.events:,} events in {elapsed:.2f} s = {stats.events / elapsed:,.0f} events/s; "
        f"{stats.customers:,} customers at {at.isoformat()}"
    )
    print(f"CPU time {cpu:.2f} s = {stats.events / cpu:,.0f} events/CPU-s; load average {os.getloadavg()[0]:.1f}")
    print(f"peak RSS (maxrss): {rss:,.0f} MB (before the replay: {rss_before:,.0f} MB)")
    print(
        f"late {stats.late:,} (not applicable {stats.late_not_applied:,}), duplicates {stats.duplicates:,}, "
        f"after T {stats.after_at:,}"
    )
    print("state: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    ok = stats.events / elapsed >= 50_000 and rss < 2048
    print("target (>= 50,000 events/s, < 2 GB):", "met" if ok else "NOT met")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
