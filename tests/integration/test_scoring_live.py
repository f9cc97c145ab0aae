"""behavior-scoring live through the real broker: the stored state equals ``replay`` on the same events.

Events go in as customer-master would emit them (customer.resolved around each touchpoint,
customer.merged, customer.unmerged), keyed by customer over three partitions; the consumer
runtime applies them with the service's subscription; the relay publishes score_changed.
Then the service's tables are compared with the replay of the same events at the same
instant, and a tag is expired by the timer loop with no further event.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from behavior_scoring.consumers import subscription
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.domain.views import CustomerView
from behavior_scoring.live import LiveScoring
from behavior_scoring.mapping import resolved_for
from behavior_scoring.models import Base
from behavior_scoring.replay import replay_lines
from behavior_scoring.timers import TimerLoop
from confluent_kafka import Consumer, Producer, TopicPartition
from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerUnmerged
from crm.events.scoring.v1.scoring_pb2 import ScoreChanged
from crm_cli.stack import create_topics
from crm_contracts import Registry, load_registry
from crmkit.cloudevents import PROTOBUF, encode_data, encode_headers
from crmkit.consumer import ConsumerRuntime
from crmkit.db import Database
from crmkit.handlers import Subscription
from crmkit.outbox import OutboxRelay
from crmkit.settings import ServiceSettings
from sqlalchemy import text

pytestmark = [pytest.mark.kafka]

RULES = load_rules()
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)


class Clock:
    """The service's injected clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rec(event_id: str, kind: str, at: datetime, customer: str, **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "type": kind, "at": at.isoformat(), "customer_id": customer, **fields}


def scenario() -> list[dict[str, Any]]:
    """Every rule of the default file, an IP shared by three customers, and behaviour for the merges."""
    events = [
        rec("v1", "page.viewed", T0, "c1", page_category="new_product", page_id="p1"),
        rec("v2", "page.viewed", T0 + timedelta(hours=2), "c1", page_category="new_product", page_id="p2"),
        rec("v3", "page.viewed", T0 + timedelta(hours=1), "c1", page_category="article"),
        rec("w1", "wecom.contact_added", T0 - timedelta(days=4), "c3", rep_userid="rep-1"),
        rec("w2", "wecom.contact_added", T0, "c4", rep_userid="rep-1"),
        rec("w3", "wecom.friend_accepted", T0 + timedelta(hours=5), "c4", rep_userid="rep-1"),
        rec("n1", "order.created", datetime(2026, 11, 22, 14, 0, tzinfo=UTC), "c5", order_id="night", amount_fen=3900),
        rec("x5", "page.viewed", T0 - timedelta(days=2), "c6", page_category="new_product"),
        rec("x6", "page.viewed", T0 - timedelta(days=1), "c7", page_category="new_product"),
        rec("y1", "page.viewed", T0 - timedelta(hours=1), "c8", page_category="new_product"),
        rec("y2", "page.viewed", T0 + timedelta(hours=1), "c9", page_category="new_product"),
        rec("y3", "page.viewed", T0 + timedelta(hours=5), "c9", page_category="new_product"),  # while merged
    ]
    events += [
        rec(f"f{n}", "product.favourited", T0 + timedelta(minutes=n), "c2", product_id=f"sku-{n}") for n in range(3)
    ]
    for n in range(3):
        events.append(
            rec(f"oc{n}", "order.created", T0 + timedelta(hours=n), f"r{n}", order_id=f"o{n}", client_ip="1.2.3.4")
        )
        events.append(rec(f"ox{n}", "order.cancelled", T0 + timedelta(hours=n, minutes=3), f"r{n}", order_id=f"o{n}"))
    return events


PAIRS = [
    rec("m1", "customer.merged", T0 + timedelta(hours=6), "c6", absorbed_id="c7", survivor_id="c6"),
    rec("m2", "customer.merged", T0 + timedelta(hours=3), "c8", absorbed_id="c9", survivor_id="c8"),
    rec("u2", "customer.unmerged", T0 + timedelta(hours=8), "c8", absorbed_id="c9", survivor_id="c8"),
]
"""c7 merged into c6 for good; c9 merged into c8 and split back."""


def customer_event(record: dict[str, Any]) -> tuple[str, Any]:
    """The ce_type and payload customer-master emits for a replay-shaped record."""
    if record["type"] == "customer.merged":
        return "crm.customer.merged", CustomerMerged(
            reason="same mobile", survivor_id=record["survivor_id"], absorbed_id=record["absorbed_id"]
        )
    if record["type"] == "customer.unmerged":
        return "crm.customer.unmerged", CustomerUnmerged(
            reason="two people", survivor_id=record["survivor_id"], restored_id=record["absorbed_id"], merge_id="mrg-1"
        )
    return "crm.customer.resolved", resolved_for(record)


def derived_registry(in_topic: str, out_topic: str) -> Registry:
    """The real contracts for crm.customer.v1 and crm.scoring.v1, under this test's topic names."""
    real = load_registry()
    return Registry(
        topics={
            in_topic: replace(real.topic("crm.customer.v1"), name=in_topic),
            out_topic: replace(real.topic("crm.scoring.v1"), name=out_topic),
        }
    )


@dataclass
class Live:
    """The service's consumer, relay and timer loop on this test's topics."""

    broker: str
    in_topic: str
    out_topic: str
    db: Database
    clock: Clock
    runtime: ConsumerRuntime
    timers: TimerLoop
    producer: Producer

    def send(self, record: dict[str, Any]) -> None:
        """Produce the event customer-master would emit for ``record``."""
        kind, data = customer_event(record)
        at = T0 if kind == "crm.customer.resolved" else datetime.fromisoformat(record["at"])
        key = str(record["customer_id"])
        headers: list[tuple[str, str | bytes | None]] = list(
            encode_headers(event_id=f"ce-{record['id']}", source="/customer-master", event_type=kind, time=at)
        )
        self.producer.produce(self.in_topic, key=key.encode(), value=encode_data(data, PROTOBUF), headers=headers)

    def stored_views(self) -> dict[str, CustomerView]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(text("SELECT customer_id, view FROM scoring_views")).all()
        return {c: CustomerView.from_dict(json.loads(v)) for c, v in rows}

    def behaviours(self) -> int:
        with self.db.engine.connect() as conn:
            return int(conn.execute(text("SELECT coalesce(sum(count), 0) FROM scoring_behaviour_counts")).scalar_one())


def read_out(
    broker: str, topic: str, *, expect: Callable[[list[ScoreChanged]], bool], timeout: float = 20.0
) -> list[ScoreChanged]:
    """score_changed messages on ``topic`` until ``expect`` holds."""
    consumer = Consumer({"bootstrap.servers": broker, "group.id": f"r-{uuid.uuid4()}", "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    found: list[ScoreChanged] = []
    deadline = time.monotonic() + timeout
    while not expect(found) and time.monotonic() < deadline:
        for message in consumer.consume(100, 0.2):
            if not message.error():
                assert dict(message.headers() or [])["ce_type"] == b"crm.scoring.score_changed"
                found.append(ScoreChanged.FromString(message.value() or b""))
    consumer.close()
    return found


def restored(found: list[ScoreChanged]) -> bool:
    """True when c9's latest ``score_changed`` is its own state after the unmerge (score 15, not merged)."""
    last = [m for m in found if m.customer_id == "c9"][-1:]
    return bool(last) and (last[0].score, last[0].merged_into) == (15, "")


async def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def live(broker: str, topic: str, sqlite_url: str) -> AsyncIterator[Live]:
    out_topic = f"{topic}.scoring"
    create_topics(broker, {out_topic: 1})
    registry = derived_registry(topic, out_topic)
    settings = ServiceSettings(
        service_name="behavior-scoring", kafka_bootstrap=broker, consumer_session_timeout_ms=2000
    )
    db = Database(sqlite_url, Base.metadata)
    db.create_all()
    clock = Clock(NOW)
    scoring = LiveScoring(RULES, clock=clock, freeze_after_load=False)
    base = subscription(scoring)
    sub = Subscription(
        group=f"scoring-{uuid.uuid4().hex[:8]}",
        topics=(topic,),
        handlers=base.handlers,
        ignored=base.ignored,
        batch=base.batch,
    )
    relay = OutboxRelay(engine=db.engine, table=db.tables.outbox, bootstrap=broker, service="behavior-scoring")
    runtime = ConsumerRuntime(
        settings=settings, db=db, registry=registry, subscription=sub, on_commit=lambda _n: relay.wake()
    )
    timers = TimerLoop(
        live=scoring, db=db, source="/behavior-scoring", content_type=PROTOBUF, wake=relay.wake, registry=registry
    )
    relay_task = asyncio.create_task(relay.run())
    task = asyncio.create_task(runtime.run())
    producer = Producer({"bootstrap.servers": broker, "enable.idempotence": False})
    yield Live(broker, topic, out_topic, db, clock, runtime, timers, producer)
    runtime.stop()
    relay.stop()
    await asyncio.wait_for(asyncio.gather(task, relay_task), timeout=20)
    db.dispose()


async def test_live_state_equals_the_replay_and_a_tag_expires_on_time(live: Live) -> None:
    records = scenario()
    for record in records:
        live.send(record)
    live.producer.flush(10)
    # merges go to other partitions than the behaviour they re-key: send them once it is in,
    # so the service sees the arrival order the replay reads
    await wait_for(lambda: live.runtime.progress.handled == len(records))
    for record in PAIRS:
        live.send(record)
    live.send(records[0])  # a redelivery by customer-master's relay: the ledger absorbs it
    live.producer.flush(10)
    await wait_for(lambda: live.runtime.progress.handled == len(records) + len(PAIRS))
    await wait_for(lambda: live.runtime.progress.duplicates >= 1)
    assert live.behaviours() == len(records)

    lines = [json.dumps(r) for r in [*records, *PAIRS]]
    replayed = {v.customer_id: v.to_json() for v in replay_lines(lines, rules=RULES, at=NOW).views}
    stored = {c: v.to_json() for c, v in live.stored_views().items() if v.merged_into is None}
    assert stored == replayed
    assert live.stored_views()["c7"].merged_into == "c6" and live.stored_views()["c9"].merged_into is None
    assert stored["c6"]["score"] == 15 and stored["c8"]["score"] == 0
    assert stored["c9"]["score"] == 15 and stored["c9"]["tags"][0]["because"] == ["y2", "y3"]
    assert stored["c1"]["score"] == 15 and stored["c3"]["score"] == -20 and stored["r2"]["risk_tier"] == "L4"
    assert stored["c2"]["pools"] == ["long_term_nurture"] and stored["c5"]["pools"] == ["instant_conversion"]

    published = await asyncio.to_thread(
        read_out,
        live.broker,
        live.out_topic,
        expect=lambda found: {"c1", "c2", "c3", "r0"} <= {m.customer_id for m in found} and restored(found),
    )
    last = {m.customer_id: m for m in published}
    assert last["c9"].merged_into == "" and last["c9"].tags_added[0].event_ids == ["y2", "y3"]
    for customer, view in stored.items():
        if customer in last:
            assert (last[customer].score, last[customer].risk_tier) == (view["score"], view["risk_tier"])
    assert [t.tag for t in last["c1"].tags_added] == ["new_product_interest"]

    # c1's tag was set by the view at T0 + 2h: it expires at T0 + 74h with no further event
    live.clock.now = T0 + timedelta(hours=74, seconds=1)
    changed = await asyncio.to_thread(live.timers.fire_once)
    assert changed >= 1
    expired = await asyncio.to_thread(
        read_out,
        live.broker,
        live.out_topic,
        expect=lambda found: any(m.customer_id == "c1" and m.tags_removed for m in found),
    )
    [gone] = [m for m in expired if m.customer_id == "c1" and m.tags_removed]
    assert gone.score == 0 and gone.tags_removed[0].reason == "expired"
    assert list(gone.tags_removed[0].event_ids) == ["v1", "v2"]
    replayed_later = {v.customer_id: v.to_json() for v in replay_lines(lines, rules=RULES, at=live.clock.now).views}
    assert {c: v.to_json() for c, v in live.stored_views().items() if v.merged_into is None} == replayed_later
