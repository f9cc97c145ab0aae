"""customer-master's streaming resolution against a large master: touchpoints/s and per-touchpoint p99.

    .venv/bin/python bench/resolve_stream.py [--master 1000000] [--rate 3000] [--seconds 20]

Builds (once per schema, cached under ``var/bench/``) a customer-master SQLite database holding
``--master`` customers with their identity keys, blocking keys and one source record
each, copies it, and feeds it touchpoints shaped like the load generator's (80% from
people already in the master, 20% new) through the consumer's real apply path
(``EventApplier``: ledger + state + outbox in one transaction per batch, on the service's
own database set-up, ``customer_master.storage.open_database``, with its WAL checkpointer
process, ``crmkit.checkpoint.checkpointing``), without Kafka. The pre-built stream stands in
for the broker, so it is kept out of the garbage collector's walks (``--collect-stream`` lets
them walk it, as before 2026-12).

Two phases:

* **capacity**: touchpoints as fast as the process takes them, in batches of ``--batch``:
  touchpoints/s and CPU µs per touchpoint.
* **paced**: an open-loop schedule of ``--rate`` touchpoints/s; the loop takes every
  touchpoint that has arrived (up to ``--batch``), applies them and commits. A touchpoint's
  latency is commit time minus its scheduled arrival, so queueing behind a slow batch
  counts. Prints achieved rate and p50/p99/max, and how busy the process was and its CPU
  per touchpoint (a p99 far above p50 with the process near 100% busy is queueing).

Before the phases it prints an interpreter-speed gauge (a plain Python loop), so that figures
from a slower VM can be told from slower code.

The broker's own hop (produce → fetch, relay → topic) is measured by ``bench/pipeline.py``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crm_cli.loadgen import COMPANIES, GIVEN, SURNAMES, Person, touchpoints
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.checkpoint import checkpointing
from crmkit.cloudevents import PROTOBUF, CloudEvent
from crmkit.db import Database, add_infra_tables
from crmkit.runner import tune_interpreter
from customer_master.consumers import subscription
from customer_master.domain import load_pinyin_tables
from customer_master.domain.blocking import block_keys
from customer_master.models import Base
from customer_master.settings import Settings
from customer_master.storage import open_database
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

REGION_CODES = ["310000", "320000", "330000", "110000", "440000", "510000", ""]
CACHE = Path("var/bench")
NEW_SHARE = 0.2
"""Share of the stream's people who are not in the master yet."""
WORLDS = ("realistic", "loadgen")
"""Who the people are. ``realistic``: a surname and one or two given characters (~33,000 names) at
~430 organisations, so namesakes at one employer are few, as in a real master. ``loadgen``: the load
generator's 300 names at 5 organisations (the figures before 2026-12-06): every name + employer
block of a million customers is full, and each of a person's forms brings a new e-mail, so
each form is compared with up to 50 namesakes."""
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰志红建国文斌辉鹏宇浩然婷雪梅琳晨"
ORGANISATIONS = tuple(
    f"{city}{trade}{industry}有限公司"
    for city in ("上海", "北京", "杭州", "苏州", "成都", "广州")
    for trade in ("华信", "博远", "恒通", "中科", "瑞丰", "天成", "新锐", "远航", "同创", "嘉和", "金石", "云帆")
    for industry in ("科技", "贸易", "医疗器械", "信息技术", "物流", "生物医药")
)


def person_name(rng: random.Random, world: str) -> str:
    """A person's name in ``world``."""
    if world == "loadgen":
        return rng.choice(SURNAMES) + rng.choice(GIVEN)
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN_CHARS, k=rng.choice((1, 2, 2))))


def organisation(rng: random.Random, world: str) -> str:
    """An employer in ``world``."""
    return rng.choice(COMPANIES if world == "loadgen" else ORGANISATIONS)


def master_person(index: int, world: str) -> Person:
    """The ``index``-th customer of the master."""
    rng = random.Random(index)
    return Person(
        name=person_name(rng, world),
        phone=f"139{index:08d}",
        unionid=f"oU-m-{index}",
        openid=f"oM-m-{index}",
        external_userid=f"wm-m-{index}",
        company=organisation(rng, world) if rng.random() < 0.6 else "",
        region=rng.choice(REGION_CODES),
    )


def _master_rows(
    count: int, world: str
) -> Iterator[tuple[tuple[object, ...], list[tuple[str, str, str]], list[tuple[str, str]]]]:
    """(customer row, identity keys, blocking keys) per master customer."""
    created = "2026-01-01 00:00:00.000000"
    for index in range(count):
        person = master_person(index, world)
        customer_id = f"cus_m{index:023d}"
        phone = f"+86{person.phone}"
        provenance = {
            "phone_e164": {
                "record_id": f"seed-{index}",
                "type": "crm.import",
                "source": "/bench",
                "observed_at": "2026-01-01T00:00:00+00:00",
                "rule": "only",
            }
        }
        row = (
            customer_id,
            "",
            person.name,
            phone,
            "",
            person.company,
            person.region,
            "",
            0,
            1,
            "",
            json.dumps(provenance),
            created,
            created,
        )
        keys = [("unionid", person.unionid, customer_id), ("phone", phone, customer_id)]
        blocks = sorted(block_keys(name=person.name, company=person.company, email="", phone_e164=phone))
        yield row, keys, blocks


def schema_digest() -> str:
    """A short digest of the service's DDL (tables and indexes): a cached master built for another schema is rebuilt."""
    add_infra_tables(Base.metadata)  # the ledger and outbox, as every service database holds them
    dialect = sqlite.dialect()
    ddl = [str(CreateTable(table).compile(dialect=dialect)) for table in Base.metadata.sorted_tables]
    ddl += sorted(
        str(CreateIndex(index).compile(dialect=dialect)) for t in Base.metadata.sorted_tables for index in t.indexes
    )
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()[:8]


def build_master(path: Path, count: int, world: str) -> None:
    """Write a customer-master database with ``count`` customers (a few minutes for a million)."""
    began = time.perf_counter()
    db = Database(f"sqlite:///{path}", Base.metadata)
    db.create_all()
    db.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    customers: list[tuple[object, ...]] = []
    keys: list[tuple[str, str, str, object]] = []
    blocks: list[tuple[str, str, object]] = []
    sources: list[tuple[object, ...]] = []
    for index, (row, key_rows, block_rows) in enumerate(_master_rows(count, world)):
        customers.append(row)
        keys.extend((kind, value, owner, row[-1]) for kind, value, owner in key_rows)
        blocks.extend((kind, value, row[0]) for kind, value in block_rows)
        sources.append((f"seed-{index}", row[0], "/bench", "crm.import", row[-1], json.dumps({"phone_e164": row[3]})))
        if len(customers) == 50_000 or index == count - 1:
            conn.executemany(
                "INSERT INTO customers (id, account_id, name, phone_e164, email, company, region_code,"
                " industry, junk, version, merged_into, provenance, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                customers,
            )
            conn.executemany("INSERT INTO identity_keys (kind, value, customer_id, created_at) VALUES (?,?,?,?)", keys)
            conn.executemany("INSERT INTO block_keys (kind, value, customer_id) VALUES (?,?,?)", blocks)
            conn.executemany(
                "INSERT INTO source_records (id, customer_id, source, type, observed_at, fields, account_id)"
                " VALUES (?,?,?,?,?,?,'')",
                sources,
            )
            conn.commit()
            customers, keys, blocks, sources = [], [], [], []
            print(f"\r  master: {index + 1:,}/{count:,} customers", end="", flush=True)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    print(f"\n  master built in {time.perf_counter() - began:.0f} s ({path.stat().st_size / 2**20:.0f} MiB)")


def stream(count: int, master: int, *, seed: int, world: str) -> list[CloudEvent]:
    """``count`` touchpoint events from people of the master and new people."""
    rng = random.Random(seed)
    known = [master_person(rng.randrange(master), world) for _ in range(max(10, int(count * (1 - NEW_SHARE) / 4)))]
    fresh = [
        Person(
            name=person_name(rng, world),
            phone=f"158{n:08d}",
            unionid=f"oU-n-{seed}-{n}",
            openid=f"oM-n-{seed}-{n}",
            external_userid=f"wm-n-{seed}-{n}",
            company=organisation(rng, world),
            region=rng.choice(REGION_CODES),
        )
        for n in range(max(10, int(count * NEW_SHARE / 4)))
    ]
    now = datetime.now(UTC)
    return [
        CloudEvent(
            id=touch.event_id,
            source="/bench/loadgen",
            type=touch.event_type,
            time=now + timedelta(microseconds=n),
            data=touch.data,
            topic=touch.topic,
            partition=n % 6,
            offset=n,
        )
        for n, touch in enumerate(touchpoints(count, seed=seed, crowd=known + fresh))
    ]


def copy_settled(source: Path, target: Path) -> None:
    """Copy the master and flush the copy to disk, so that its gigabyte of dirty pages is not written
    back during the measurement (the service's first checkpoint fsyncs the file)."""
    shutil.copyfile(source, target)
    with target.open("rb") as copied:
        os.fsync(copied.fileno())


@contextmanager
def outside_the_collector() -> Iterator[None]:
    """What exists now (the whole stream, standing in for the broker) is left out of garbage collections.

    The service holds one poll's events at a time; every full collection here would otherwise walk
    tens of thousands of pre-built events and charge the service for them.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the checkpointer is counted once it has exited)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _applier(db: Database) -> EventApplier:
    return EventApplier(
        db=db, registry=load_registry(), subscription=subscription(), source="/customer-master", content_type=PROTOBUF
    )


def capacity(db: Database, events: Sequence[CloudEvent], batch: int) -> None:
    """Apply ``events`` back to back; print touchpoints/s."""
    applier = _applier(db)
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(events), batch):
        result = applier.apply(events[start : start + batch])
        assert result.error is None, result.error
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"capacity: {len(events):,} touchpoints in batches of {batch}: {len(events) / wall:,.0f} touchpoints/s, "
        f"{cpu / len(events) * 1e6:.0f} µs CPU each"
    )


def paced(db: Database, events: Sequence[CloudEvent], *, rate: float, batch: int, warmup_s: float) -> None:
    """Open-loop schedule at ``rate``/s; print achieved rate and latency percentiles.

    Percentiles are of the touchpoints scheduled after ``warmup_s`` (the steady state: a fresh
    process starts with cold caches and an empty page cache of its copy); the whole run's p99
    is printed beside them.
    """
    applier = _applier(db)
    latencies: list[float] = []
    sizes: list[int] = []
    busy = 0.0
    cpu = time.process_time()
    began = time.perf_counter()
    taken = 0
    while taken < len(events):
        now = time.perf_counter()
        due = min(len(events), int((now - began) * rate) + 1)
        if due <= taken:
            time.sleep((taken / rate) - (now - began))
            continue
        end = min(due, taken + batch)
        result = applier.apply(events[taken:end])
        assert result.error is None, result.error
        done = time.perf_counter()
        busy += done - now
        latencies.extend(done - (began + n / rate) for n in range(taken, end))
        sizes.append(end - taken)
        taken = end
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu
    ordered = sorted(latencies[int(warmup_s * rate) :])
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
    whole = sorted(latencies)[int(len(latencies) * 0.99)]
    ok = "✓" if p99 <= 0.020 else "✗"
    print(
        f"paced at {rate:,.0f}/s: {len(events) / wall:,.0f} touchpoints/s achieved; after {warmup_s:g} s of warm-up "
        f"latency p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms {ok} (target ≤ 20 ms), "
        f"max {ordered[-1] * 1000:.1f} ms (whole run p99 {whole * 1000:.1f} ms); "
        f"batches {len(sizes):,}, mean size {statistics.fmean(sizes):.1f}"
    )
    print(
        f"  busy {busy / wall:.0%} of the run, {cpu / len(events) * 1e6:.0f} µs CPU per touchpoint "
        "(near 100%, the tail is queueing behind a saturated process)"
    )


def interpreter_speed() -> float:
    """Seconds for a 10,000,000-step Python loop, the best of three: a gauge of the machine's speed at the time
    of the run, to tell a slower VM from slower code when figures from different days are compared."""
    best = float("inf")
    for _ in range(3):
        began, total = time.perf_counter(), 0
        for step in range(10_000_000):
            total += step
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    """Build or reuse the master, then run the capacity and paced phases on copies."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--master", type=int, default=1_000_000, help="customers already in the master")
    parser.add_argument("--rate", type=float, default=3000, help="paced phase: touchpoints/s")
    parser.add_argument("--seconds", type=float, default=20, help="paced phase length, after the warm-up")
    parser.add_argument("--warmup", type=float, default=2, help="paced phase: seconds left out of the percentiles")
    parser.add_argument("--capacity-count", type=int, default=30_000, help="touchpoints in the capacity phase")
    parser.add_argument("--batch", type=int, default=500, help="most touchpoints per transaction")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--world", choices=WORLDS, default="realistic", help="who the people are (see WORLDS)")
    parser.add_argument("--collect-stream", action="store_true", help="let garbage collections walk the stream")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"master-{args.master}-{args.world}-{schema_digest()}.db"
    if not cached.exists():
        for stale in CACHE.glob(f"master-{args.master}-{args.world}-*.db"):  # built for an earlier schema
            stale.unlink()
        partial = cached.with_suffix(".building")
        partial.unlink(missing_ok=True)
        build_master(partial, args.master, args.world)
        partial.rename(cached)
    print(f"master: {args.master:,} customers, {args.world} world ({cached})")
    print(f"interpreter speed: a 10,000,000-step loop in {interpreter_speed():.2f} s (best of three)")
    load_pinyin_tables()  # as the service does at start
    tune_interpreter(Settings())  # the service's GIL interval and collector thresholds, as its runner sets them
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        for phase in ("capacity", "paced"):
            copy = Path(tmp) / f"{phase}.db"
            copy_settled(cached, copy)
            db = open_database(f"sqlite:///{copy}")
            if phase == "capacity":
                events = stream(args.capacity_count, args.master, seed=args.seed, world=args.world)
            else:
                events = stream(
                    int(args.rate * (args.warmup + args.seconds)), args.master, seed=args.seed + 1, world=args.world
                )
            collector = nullcontext() if args.collect_stream else outside_the_collector()
            before = children_cpu()
            with checkpointing(copy), collector:
                if phase == "capacity":
                    capacity(db, events, args.batch)
                else:
                    paced(db, events, rate=args.rate, batch=args.batch, warmup_s=args.warmup)
            spent = children_cpu() - before
            print(
                f"  its WAL checkpointer process: {spent:.1f} s CPU, {spent / len(events) * 1e6:.0f} µs per touchpoint"
            )
            db.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
