"""Watch the output topics from "now" on and account for every touchpoint produced after that."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from confluent_kafka import TIMESTAMP_CREATE_TIME, Consumer, TopicPartition
from crm.events.customer.v1.customer_pb2 import CustomerResolved
from crm.events.lead.v1.lead_pb2 import LeadAssigned, LeadCreated, LeadReturnedToPool
from crm_contracts import load_registry
from crmkit.cloudevents import decode
from crmkit.errors import PoisonMessage

from crm_cli.stack import topic_partitions

T = TypeVar("T")
WATCHED = ("crm.customer.v1", "crm.lead.v1", "crm.notify.v1", "crm.scoring.v1", "crm.contract.v1")


@dataclass
class Observed:
    """What the pipeline produced, by the originating touchpoint (correlation id)."""

    resolved: set[str] = field(default_factory=set)
    customers_created: set[str] = field(default_factory=set)
    leads: dict[str, str] = field(default_factory=dict)  # lead id → touchpoint id
    assigned: set[str] = field(default_factory=set)
    pooled: dict[str, str] = field(default_factory=dict)  # lead id → reason
    delivered: set[str] = field(default_factory=set)  # touchpoint ids with a delivered notification
    scores: int = 0
    payments: int = 0
    duplicates: int = 0
    undecodable: int = 0
    first_resolved_at: float = 0.0
    last_resolved_at: float = 0.0
    delivered_at: dict[str, float] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)
    # event type → originating touchpoint id → when the first such event was seen (per-hop latency)
    first_seen: dict[str, dict[str, float]] = field(default_factory=dict)


class Observer:
    """A background consumer (confluent-kafka) of the output topics, starting at their current ends."""

    def __init__(self, bootstrap: str, *, topics: Iterable[str] = WATCHED) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"observer-{time.time_ns()}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                # Events are timed by their records' create time, so the observer's own fetch
                # wait does not count; 50 ms keeps its polling light on the broker.
                "fetch.wait.max.ms": 50,
                "socket.nagle.disable": True,
            }
        )
        registry = load_registry()
        assignment = []
        for topic in topics:
            for partition in range(topic_partitions(self._consumer, topic)):
                _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                assignment.append(TopicPartition(topic, partition, high))
        self._consumer.assign(assignment)
        self._registry = registry
        self._seen = Observed()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="observer", daemon=True)
        self._thread.start()

    def snapshot(self) -> Observed:
        """A copy of the figures so far, taken between two consumed batches."""
        with self._lock:
            return copy.deepcopy(self._seen)

    def read(self, view: Callable[[Observed], T]) -> T:
        """``view`` of the figures so far, computed while the consumer thread waits (cheaper than a snapshot)."""
        with self._lock:
            return view(self._seen)

    def close(self) -> None:
        """Stop consuming."""
        self._stop.set()
        self._thread.join(timeout=10)
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            messages = self._consumer.consume(num_messages=1000, timeout=0.05)
            with self._lock:  # readers see whole batches, never a set or dict mid-update
                for message in messages:
                    if message.error():
                        continue
                    kind, stamp = message.timestamp()
                    at = stamp / 1000 if kind == TIMESTAMP_CREATE_TIME else time.time()
                    self._observe(message.topic() or "", message.value(), _header_list(message.headers()), at=at)

    def _observe(self, topic: str, value: bytes | None, headers: list[tuple[str, bytes]] | None, *, at: float) -> None:
        """Account for one event; ``at`` is when its producer sent it (the record's create time)."""
        try:
            event = decode(registry=self._registry, topic=topic, value=value, headers=headers)
        except PoisonMessage:
            self._seen.undecodable += 1
            return
        now = at
        seen = self._seen
        if event.id in seen.seen_ids:
            seen.duplicates += 1
            return
        seen.seen_ids.add(event.id)
        origin = event.correlation_id
        seen.first_seen.setdefault(event.type, {}).setdefault(origin, now)
        match event.type:
            case "crm.customer.resolved":
                resolved: CustomerResolved = event.data_as(CustomerResolved)
                seen.resolved.add(resolved.touchpoint.event_id)
                if resolved.created:
                    seen.customers_created.add(resolved.customer_id)
                seen.first_resolved_at = seen.first_resolved_at or now
                seen.last_resolved_at = now
            case "crm.lead.created":
                seen.leads[event.data_as(LeadCreated).lead_id] = origin
            case "crm.lead.assigned":
                seen.assigned.add(event.data_as(LeadAssigned).lead_id)
            case "crm.lead.returned_to_pool":
                pooled: LeadReturnedToPool = event.data_as(LeadReturnedToPool)
                seen.pooled[pooled.lead_id] = pooled.reason_code
            case "crm.notify.delivered":
                seen.delivered.add(origin)
                seen.delivered_at.setdefault(origin, now)
            case "crm.scoring.score_changed":
                seen.scores += 1
            case "crm.contract.payment_received":
                seen.payments += 1


def _header_list(headers: object) -> list[tuple[str, bytes]]:
    """confluent-kafka headers as (name, bytes) pairs."""
    if not isinstance(headers, list):
        return []
    return [(str(name), value if isinstance(value, bytes) else str(value or "").encode()) for name, value in headers]
