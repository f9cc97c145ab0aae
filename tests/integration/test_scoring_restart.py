"""behavior-scoring SIGKILLed mid-stream and started again on the same SQLite file: no event lost, none applied twice.

The real ``python -m behavior_scoring`` process runs against a Tansu broker of this module's own with
its own SQLite file. 3,167 ``crm.customer.resolved`` events, as customer-master emits them
(keyed by customer over the topic's six partitions), stream in at ~130/s over 300 customers:
new-product and article page views, favourites, WeCom contacts added and accepted, and orders
from 15 client IPs shared between customers, most of them cancelled (the ``risk_l4`` rule joins
customers through the IP). Event times trail the wall clock by 30 s and span ~25 s, well inside
the rules' 10-minute allowed lateness, so the arrival order across partitions does not matter.
The process is SIGKILLed twice while events are flowing (no final commit, no relay drain) and
started again each time; offsets are committed every 2 s, so each restarted process is handed
events it had already applied before the kill (the test checks that some were, skipped by the ledger). After the stream:

* every event was applied exactly once: the processed-event ledger holds one row per produced
  event and no other, the behaviour counts per touchpoint type equal what was produced, each
  customer's retained behaviour holds each of its events once, and the engine's own counters
  saw each event once (no duplicate, nothing late);
* the stored per-customer view (score, risk tier, pools, tags with their events) equals
  ``behavior_scoring.replay`` of the same events at an instant T after the stream; no stored
  view has a change due at or before T (the nearest timers are 30 minutes and 72 hours away),
  so the service's last write and T see the same state;
* the last ``score_changed`` each customer has on ``crm.scoring.v1`` carries its stored score,
  risk tier and pools (a customer never published is still at the empty view).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from behavior_scoring.domain.instants import to_instant
from behavior_scoring.domain.ruleset import DEFAULT_TIER
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.domain.views import CustomerView
from behavior_scoring.mapping import resolved_for
from behavior_scoring.replay import replay_lines
from confluent_kafka import Consumer, Producer, TopicPartition
from crm.events.scoring.v1.scoring_pb2 import ScoreChanged
from crm_cli.stack import create_topics, running_broker
from crmkit.cloudevents import PROTOBUF, encode_data, encode_headers, new_event_id
from service_process import END_MARKER_KEY, ServiceProcess, append_end_markers, high_watermarks, wait_until
from sqlalchemy import Engine, create_engine, text

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

IN_TOPIC = "crm.customer.v1"
OUT_TOPIC = "crm.scoring.v1"
GROUP = "behavior-scoring"
SOURCE = "/customer-master"
CUSTOMERS = 300
RATE = 130.0
LAG = timedelta(seconds=30)
"""Event times trail the wall clock by this much (never in the future of the service's clock)."""
IPS = [f"10.7.{n}.{n + 1}" for n in range(15)]
UNCANCELLED_IPS = set(IPS[12:])
"""On these IPs one order stays uncancelled: no risk_l4 through them."""
TYPE_OF = {
    "page.viewed": "crm.miniprogram.page_viewed",
    "product.favourited": "crm.miniprogram.product_favourited",
    "wecom.contact_added": "crm.wecom.contact_added",
    "wecom.friend_accepted": "crm.wecom.friend_accepted",
    "order.created": "crm.order.created",
    "order.cancelled": "crm.order.cancelled",
}
"""Engine event type → the touchpoint type behavior-scoring counts it as."""

Record = dict[str, Any]


def stream(run: str, base: datetime) -> list[Record]:
    """3,167 replay-shaped records in send order, the i-th at ``base + i / RATE`` seconds."""
    rng = random.Random(20261123)
    customers = [f"cus-{run}-{n:03d}" for n in range(CUSTOMERS)]
    kinds: list[Record] = []
    kinds += [
        {"type": "page.viewed", "page_category": "new_product", "page_id": f"np-{rng.randrange(30)}"}
        for _ in range(1100)
    ]
    kinds += [
        {"type": "page.viewed", "page_category": "article", "page_id": f"a-{rng.randrange(30)}"} for _ in range(300)
    ]
    kinds += [{"type": "product.favourited", "product_id": f"sku-{rng.randrange(12)}"} for _ in range(600)]
    for kind in kinds:
        kind["customer_id"] = rng.choice(customers)
    pairs: list[tuple[Record, Record | None]] = []
    for n in range(220):  # WeCom: a contact added, accepted for about half of them
        customer = rng.choice(customers)
        added = {"type": "wecom.contact_added", "customer_id": customer, "rep_userid": f"rep-{n % 7}"}
        accepted = {"type": "wecom.friend_accepted", "customer_id": customer, "rep_userid": f"rep-{n % 7}"}
        pairs.append((added, accepted if n % 2 else None))
    uncancelled: set[str] = set()
    for n in range(420):  # orders from shared IPs, all cancelled except one on each of UNCANCELLED_IPS
        ip = IPS[n % len(IPS)]
        customer = rng.choice(customers)
        order_id = f"o-{run}-{n}"
        created: Record = {"type": "order.created", "customer_id": customer, "order_id": order_id, "client_ip": ip}
        created["amount_fen"] = 1000 + rng.randrange(90_000)
        cancelled: Record | None = {"type": "order.cancelled", "customer_id": customer, "order_id": order_id}
        if ip in UNCANCELLED_IPS and ip not in uncancelled:
            uncancelled.add(ip)
            cancelled = None
        pairs.append((created, cancelled))
    kinds += [first for first, _ in pairs] + [second for _, second in pairs if second is not None]
    rng.shuffle(kinds)
    position = {id(kind): i for i, kind in enumerate(kinds)}
    for first, second in pairs:  # the follow-up after its cause in the stream, hence in event time
        if second is not None and position[id(second)] < position[id(first)]:
            i, j = position[id(first)], position[id(second)]
            kinds[i], kinds[j] = second, first
            position[id(first)], position[id(second)] = j, i
    step = timedelta(seconds=1 / RATE)
    return [{"id": f"tp-{run}-{i:05d}", "at": (base + i * step).isoformat(), **kind} for i, kind in enumerate(kinds)]


@dataclass
class Feed:
    """Produces the records as customer-master's relay would, at ``RATE``/s, in a thread."""

    broker: str
    records: list[Record]
    sent: int = 0
    event_ids: dict[str, str] = field(default_factory=dict)
    """Touchpoint id → the CloudEvent id of its ``customer.resolved``."""

    def __post_init__(self) -> None:
        self.event_ids = {str(r["id"]): new_event_id() for r in self.records}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        producer = Producer({"bootstrap.servers": self.broker, "linger.ms": 5, "partitioner": "murmur2_random"})
        began = time.perf_counter()
        for i, record in enumerate(self.records, 1):
            delay = began + i / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            headers: list[tuple[str, str | bytes | None]] = [
                *encode_headers(
                    event_id=self.event_ids[record["id"]],
                    source=SOURCE,
                    event_type="crm.customer.resolved",
                    correlation_id=record["id"],
                )
            ]
            value = encode_data(resolved_for(record), PROTOBUF)
            producer.produce(IN_TOPIC, key=str(record["customer_id"]).encode(), value=value, headers=headers)
            producer.poll(0)
            self.sent = i
        producer.flush(30)


def skipped_as_duplicates(service: ServiceProcess) -> int:
    """Events the running process's consumer found in the ledger already (redelivered) and skipped."""
    components = service.health()["components"]
    assert isinstance(components, list)
    return sum(int(part.get("duplicates", 0)) for part in components)


def last_changes(broker: str, start: dict[int, int], prefix: str) -> dict[str, ScoreChanged]:
    """Our customers' latest ``score_changed`` on the scoring topic, from ``start`` to end markers appended now."""
    markers = append_end_markers(broker, OUT_TOPIC)
    consumer = Consumer({"bootstrap.servers": broker, "group.id": f"r-{uuid.uuid4()}", "enable.auto.commit": False})
    consumer.assign([TopicPartition(OUT_TOPIC, p, offset) for p, offset in start.items()])
    position = dict(start)
    last: dict[str, ScoreChanged] = {}
    deadline = time.monotonic() + 30
    try:
        while any(position[p] <= markers[p] for p in markers) and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.2):
                if message.error():
                    continue
                position[message.partition() or 0] = (message.offset() or 0) + 1
                if message.key() == END_MARKER_KEY:
                    continue
                change = ScoreChanged.FromString(message.value() or b"")
                if change.customer_id.startswith(prefix):
                    last[change.customer_id] = change  # one customer's changes are on one partition, in order
    finally:
        consumer.close()
    assert all(position[p] > markers[p] for p in markers), "could not read the scoring topic to its end"
    return last


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own: behavior-scoring's topics and group are fixed names, and
    other tests' services (their relays may still be draining) publish customer events on the
    session broker's ``crm.customer.v1`` while this test counts every event its service applied."""
    with running_broker(log_path=tmp_path_factory.mktemp("scoring-restart-broker") / "tansu.log") as bootstrap:
        yield bootstrap


@pytest.fixture
def scoring(broker: str, sqlite_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    """behavior-scoring's settings for this module's broker, its own SQLite file, default rules."""
    create_topics(broker)  # every registry topic (kept if another test made them)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        {
            "CRM_KAFKA_BOOTSTRAP": broker,
            "CRM_DATABASE_URL": sqlite_url,
            "CRM_CONSUMER_SESSION_TIMEOUT_MS": "2000",  # the killed member leaves the group sooner
            # offsets trail the transactions by up to 2 s: a kill leaves applied events to redeliver
            "CRM_CONSUMER_COMMIT_INTERVAL_MS": "2000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    process = ServiceProcess("behavior_scoring", env=env, log_path=tmp_path / "behavior-scoring.log")
    try:
        yield process
    finally:
        process.stop()


def test_sigkill_mid_stream_loses_no_event_and_applies_none_twice(
    broker: str, sqlite_url: str, scoring: ServiceProcess
) -> None:
    run = uuid.uuid4().hex[:8]
    prefix = f"cus-{run}-"
    records = stream(run, datetime.now(UTC) - LAG)
    total = len(records)
    feed = Feed(broker, records)
    db: Engine = create_engine(sqlite_url)

    def applied() -> int:
        with db.connect() as connection:
            found = connection.execute(text("SELECT coalesce(sum(count), 0) FROM scoring_behaviour_counts"))
            return int(found.scalar_one())

    start_out = high_watermarks(broker, OUT_TOPIC)
    scoring.start()
    feed.thread.start()
    kills: list[tuple[int, int]] = []  # (applied, sent) at each SIGKILL
    redelivered = 0  # events a restarted process met in the ledger and skipped
    try:
        for more in (500, 800):  # two crashes, each while events still arrive
            target = (kills[-1][0] if kills else 0) + more

            def reached(target: int = target) -> bool:
                return applied() >= target

            wait_until(reached, timeout=60, what=f"{target} events applied")
            redelivered += skipped_as_duplicates(scoring) if kills else 0
            scoring.kill()
            kills.append((applied(), feed.sent))
            scoring.start()
        feed.thread.join(timeout=60)
        assert not feed.thread.is_alive()
        wait_until(lambda: applied() >= total, timeout=60, what="every event applied")
        time.sleep(0.5)  # a redelivery applied twice would show now
        redelivered += skipped_as_duplicates(scoring)
    finally:
        scoring.stop()  # graceful: the relay drains the outbox
    at = datetime.now(UTC)

    with db.connect() as connection:
        ledger = connection.execute(
            text("SELECT event_key, event_type FROM processed_events WHERE consumer = :c"), {"c": GROUP}
        ).all()
        counts = {
            str(t): int(n) for t, n in connection.execute(text("SELECT type, count FROM scoring_behaviour_counts"))
        }
        customer_rows = [
            (str(c), str(r)) for c, r in connection.execute(text("SELECT customer_id, record FROM scoring_customers"))
        ]
        view_rows = [
            (str(c), str(v)) for c, v in connection.execute(text("SELECT customer_id, view FROM scoring_views"))
        ]
        state = json.loads(connection.execute(text("SELECT record FROM scoring_state")).scalar_one())
        outbox_left = connection.execute(text("SELECT count(*) FROM outbox")).scalar_one()
    db.dispose()

    # the kills happened mid-stream, and the process came back each time
    assert kills[0][0] < kills[1][0] < total and kills[1][1] < total, f"kills not mid-stream: {kills}"
    assert scoring.starts == 3
    assert redelivered > 0, "no event was redelivered after a kill: the ledger was not put to the test"
    print(f"kills at (applied, sent) {kills}; {redelivered} events redelivered and skipped")

    # exactly once: ledger, behaviour counts, retained behaviour, engine counters
    keys = [str(key) for key, _ in ledger]
    assert len(keys) == len(set(keys))
    assert sorted(keys) == sorted(f"{SOURCE}#{event_id}" for event_id in feed.event_ids.values())
    assert {str(kind) for _, kind in ledger} == {"crm.customer.resolved"}
    assert counts == dict(Counter(TYPE_OF[str(r["type"])] for r in records))
    retained: dict[str, list[str]] = defaultdict(list)
    for customer, record in customer_rows:
        retained[customer] += [str(e["id"]) for e in json.loads(record)["events"]]
    expected: dict[str, list[str]] = defaultdict(list)
    for r in records:
        expected[str(r["customer_id"])].append(str(r["id"]))
    assert {c: sorted(ids) for c, ids in retained.items() if ids} == {c: sorted(ids) for c, ids in expected.items()}
    engine_counts = state["counters"]
    assert (engine_counts["events"], engine_counts["stored"]) == (total, total)
    assert (engine_counts["duplicates"], engine_counts["late"]) == (0, 0)
    assert outbox_left == 0

    # the stored state is the replay's at T, and nothing was due between the last write and T
    stored = {str(c): CustomerView.from_dict(json.loads(v)) for c, v in view_rows}
    due = [v.next_change for v in stored.values() if v.next_change is not None]
    assert not due or min(due) > to_instant(at), "a timer was due before the comparison instant"
    replayed = replay_lines([json.dumps(r) for r in records], rules=load_rules(), at=at)
    assert (replayed.stats.duplicates, replayed.stats.late, replayed.stats.after_at) == (0, 0, 0)
    expected_views = {v.customer_id: v.to_json() for v in replayed.views}
    assert {c: v.to_json() for c, v in stored.items()} == expected_views
    tags = Counter(t["tag"] for v in expected_views.values() for t in v["tags"])
    pools = Counter(p for v in expected_views.values() for p in v["pools"])
    assert tags["new_product_interest"] > 0 and tags["risk_l4"] > 0 and pools["long_term_nurture"] > 0, (tags, pools)
    assert sum(1 for v in expected_views.values() if v["risk_tier"] == "L4") < len(expected_views)

    # what went out: each customer's last score_changed is its stored view
    last = last_changes(broker, start_out, prefix)
    for customer, view in stored.items():
        change = last.get(customer)
        if change is None:
            assert (view.score, view.risk_tier, view.pools) == (0, DEFAULT_TIER, ()), customer
        else:
            assert (change.score, change.risk_tier, list(change.pools)) == (
                view.score,
                view.risk_tier,
                view.pool_names(),
            ), customer
