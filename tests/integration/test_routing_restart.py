"""lead-router killed mid-stream and started again on the same SQLite file: no SLA timer lost, none fired twice.

The real ``python -m lead_router`` process runs against the session's Tansu broker with a
routing file whose ``not_viewed`` SLA is 2 seconds (the due time is injected through the
rules file; the timer code is the service's own), and the timer loop looks every 0.1 s.
Leads stream in at ~100/s; the process is SIGKILLed twice — each time while timers are
firing and leads are still arriving — and started again on the same database. At the end
every assigned lead's ``not_viewed`` timer has ``fired_at`` set, and the broker holds exactly
one ``crm.lead.sla_breached`` event (by event id) per timer; a record the relay published
again after a kill carries the same event id, which consumers' ledgers absorb.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from confluent_kafka import Consumer, Producer, TopicPartition
from crm.events.lead.v1.lead_pb2 import LeadCreated, LeadSlaBreached
from crm_cli.stack import create_topics
from crm_contracts import load_registry
from crmkit.cloudevents import PROTOBUF, decode, encode_data, encode_headers
from lead_router.domain.sla import TimerKind
from lead_router.settings import DEFAULT_ROUTING
from service_process import (
    END_MARKER_KEY,
    ServiceProcess,
    append_end_markers,
    high_watermarks,
    start_group_at,
    wait_until,
)
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.kafka]

TOPIC = "crm.lead.v1"
NOT_VIEWED_S = 2
LEADS = 1500
RATE = 100.0
NOT_VIEWED = TimerKind.NOT_VIEWED.value
REGIONS = ["310000", "320500", "110000", "440300", "510100"]  # the last pools (no rule)


def produce_leads(broker: str, leads: list[LeadCreated], *, rate: float) -> None:
    """``lead.created`` CloudEvents at ``rate``/s, keyed by customer id."""
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 5})
    began = time.perf_counter()
    for i, lead in enumerate(leads, 1):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        headers: list[tuple[str, str | bytes | None]] = [
            *encode_headers(
                event_id=lead.lead_id,
                source="/test/restart",
                event_type="crm.lead.created",
                correlation_id=lead.lead_id,
            )
        ]
        producer.produce(TOPIC, key=lead.customer_id.encode(), value=encode_data(lead, PROTOBUF), headers=headers)
        producer.poll(0)
    producer.flush(30)


class Scan(NamedTuple):
    """What the lead topic holds from the test's start to its end."""

    breaches: dict[str, list[tuple[str, str]]]  # lead → [(event id, correlation id)] of its sla_breached records
    created: set[str]  # our leads whose lead.created is on the broker
    gaps: list[tuple[int, int, int]]  # (partition, after offset, next offset read): offsets the broker skipped


def breaches_since(broker: str, start: dict[int, int], lead_ids: set[str]) -> Scan:
    """Read the lead topic from ``start`` to end markers appended now: our leads' breaches, lead.created, gaps."""
    markers = append_end_markers(broker, TOPIC)
    registry = load_registry()
    consumer = Consumer({"bootstrap.servers": broker, "group.id": f"r-{uuid.uuid4()}", "enable.auto.commit": False})
    consumer.assign([TopicPartition(TOPIC, p, offset) for p, offset in start.items()])
    position = dict(start)
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    created: set[str] = set()
    gaps: list[tuple[int, int, int]] = []
    deadline = time.monotonic() + 30
    try:
        while any(position[p] <= markers[p] for p in markers) and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.2):
                if message.error():
                    continue
                partition, offset = message.partition() or 0, message.offset() or 0
                if offset != position[partition]:
                    gaps.append((partition, position[partition] - 1, offset))
                position[partition] = offset + 1
                if message.key() == END_MARKER_KEY:
                    continue
                raw = message.headers()
                headers = [
                    (str(k), v if isinstance(v, bytes) else None) for k, v in (raw if isinstance(raw, list) else [])
                ]
                event = decode(registry=registry, topic=TOPIC, value=message.value(), headers=headers)
                if event.type == "crm.lead.created" and event.id in lead_ids:
                    created.add(event.id)
                if event.type != "crm.lead.sla_breached":
                    continue
                breach = event.data_as(LeadSlaBreached)
                if breach.lead_id in lead_ids:
                    assert breach.sla == NOT_VIEWED
                    found[breach.lead_id].append((event.id, event.correlation_id))
    finally:
        consumer.close()
    assert all(position[p] > markers[p] for p in markers), "could not read the lead topic to its end"
    return Scan(found, created, gaps)


@pytest.fixture
def router(broker: str, sqlite_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    """lead-router settings for the session broker: 2 s ``not_viewed`` SLA, timers looked for every 0.1 s."""
    create_topics(broker)  # every registry topic (kept if another test made them)
    rules = yaml.safe_load(DEFAULT_ROUTING.read_text(encoding="utf-8"))
    rules["sla"]["not_viewed"] = NOT_VIEWED_S  # seconds; no_contact (24 h) and idle (3 d) stay far off
    routing = tmp_path / "routing.yaml"
    routing.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        {
            "CRM_KAFKA_BOOTSTRAP": broker,
            "CRM_DATABASE_URL": sqlite_url,
            "CRM_ROUTING_FILE": str(routing),
            "CRM_SLA_CHECK_SECONDS": "0.1",
            "CRM_CONSUMER_SESSION_TIMEOUT_MS": "2000",  # the killed member leaves the group sooner
            "CRM_NOTIFY_FILE": str(tmp_path / "deliveries.jsonl"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    process = ServiceProcess("lead_router", env=env, log_path=tmp_path / "lead-router.log")
    try:
        yield process
    finally:
        process.stop()


def test_restart_mid_stream_neither_loses_nor_repeats_a_timer(
    broker: str, sqlite_url: str, router: ServiceProcess
) -> None:
    leads = [
        LeadCreated(
            lead_id=f"lead-{uuid.uuid4().hex}",
            customer_id=f"cus-{uuid.uuid4().hex[:12]}",
            region_code=REGIONS[i % len(REGIONS)],
        )
        for i in range(LEADS)
    ]
    lead_ids = {lead.lead_id for lead in leads}
    engine = create_engine(sqlite_url)

    def count(sql: str) -> int:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())

    def fired() -> int:
        return count("SELECT count(*) FROM sla_timers WHERE fired_at IS NOT NULL")

    start = high_watermarks(broker, TOPIC)
    start_group_at(broker, "lead-router", TOPIC, start)  # leads other tests left on the session broker are not ours
    router.start()
    producer = threading.Thread(target=produce_leads, args=(broker, leads), kwargs={"rate": RATE}, daemon=True)
    producer.start()
    fired_at_kill: list[int] = []
    try:
        for more in (40, 100):  # two crashes, each while timers fire and leads still arrive
            target = (fired_at_kill[-1] if fired_at_kill else 0) + more

            def reached(target: int = target) -> bool:
                return fired() >= target

            wait_until(reached, timeout=60, what=f"{target} timers fired")
            router.kill()
            fired_at_kill.append(fired())
            router.start()
        producer.join(timeout=60)
        assert not producer.is_alive()
        wait_until(lambda: count("SELECT count(*) FROM leads") == LEADS, timeout=60, what="every lead routed")
        assigned = count("SELECT count(*) FROM leads WHERE status = 'assigned'")
        wait_until(
            lambda: (
                count(f"SELECT count(*) FROM sla_timers WHERE kind = '{NOT_VIEWED}' AND fired_at IS NOT NULL")
                >= assigned
            ),
            timeout=60,
            what="every due timer fired",
        )
        time.sleep(1.5)  # let the relay publish the last breaches
    finally:
        router.stop()  # graceful: the relay drains the outbox

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, lead_id, kind, due_at, fired_at FROM sla_timers ORDER BY id")).all()
        statuses = {str(i): str(s) for i, s in connection.execute(text("SELECT id, status FROM leads"))}
        outbox_left = connection.execute(text("SELECT count(*) FROM outbox")).scalar_one()
    engine.dispose()

    assert set(statuses) == lead_ids, "a lead was lost or invented across the restarts"
    assigned_ids = {lead_id for lead_id, status in statuses.items() if status == "assigned"}
    assert len(assigned_ids) > LEADS // 2 and len(assigned_ids) < LEADS  # routed and pooled both happened
    not_viewed = {row.id: row for row in rows if row.kind == NOT_VIEWED}
    assert {row.lead_id for row in not_viewed.values()} == assigned_ids
    assert len(not_viewed) == len(assigned_ids), "one not_viewed timer per assignment"
    assert all(row.fired_at is not None for row in not_viewed.values()), "a due timer was lost"
    assert all(str(row.fired_at) >= str(row.due_at) for row in not_viewed.values()), "a timer fired early"
    assert all(row.fired_at is None for row in rows if row.kind != NOT_VIEWED), "a timer fired before due"
    assert 0 < fired_at_kill[0] < fired_at_kill[1] < len(not_viewed), f"kills not mid-stream: {fired_at_kill}"
    assert outbox_left == 0

    scan = breaches_since(broker, start, lead_ids)
    found = scan.breaches
    repeated = {lead: ids for lead, ids in found.items() if len({event_id for event_id, _ in ids}) != 1}
    assert not repeated, f"a timer fired twice: {list(repeated.items())[:3]}"
    unpublished = assigned_ids - set(found)
    assert not unpublished, (
        f"{len(unpublished)} fired timer(s) have no sla_breached event on the broker, e.g. {sorted(unpublished)[:3]}; "
        f"the broker holds {len(scan.created)} of our {LEADS} lead.created and skipped offsets at {scan.gaps[:10]}"
    )
    correlations = {correlation for ids in found.values() for _, correlation in ids}
    assert correlations == set(not_viewed), "each breach names the timer that fired it"
    assert router.starts == 3
