"""behavior-scoring's consumer path without Kafka: N touchpoints as customer.resolved through EventApplier.

    .venv/bin/python bench/score_apply.py [--count 5000] [--batches 25 500]

Builds the CloudEvents customer-master would emit for ``crm_cli.loadgen.touchpoints`` (one
customer per person, event times 2 ms apart ending now), applies them in batches to a fresh
SQLite database exactly as the runtime does (ledger + outbox + state in one transaction per
batch), and prints CPU and wall µs per event, score_changed rows emitted and the reload time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from behavior_scoring.consumers import subscription
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.live import LiveScoring
from behavior_scoring.models import Base
from crm.events.customer.v1.customer_pb2 import CustomerResolved
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from crm_cli.loadgen import touchpoints
from crm_contracts import load_registry
from crm_contracts.touchpoints import touchpoint_identity, wrap_touchpoint
from crmkit.applier import EventApplier
from crmkit.cloudevents import PROTOBUF, CloudEvent
from crmkit.db import Database
from crmkit.outbox import Outbox
from crmkit.timeutil import utcnow


def resolved_events(count: int) -> list[CloudEvent]:
    """The customer.resolved events for ``count`` synthetic touchpoints."""
    end = utcnow()
    events = []
    for n, touch in enumerate(touchpoints(count, seed=11)):
        occurred = end - timedelta(milliseconds=2 * (count - n))
        if isinstance(touch.data, LeadFormSubmitted):
            who = touch.data.phone
        else:
            identity = touchpoint_identity(touch.data)
            who = identity.unionid or identity.phone or identity.wecom_external_userid
        customer = f"cus-{abs(hash(who)) % 10**8:08d}"
        wrapped = wrap_touchpoint(
            event_id=touch.event_id, event_type=touch.event_type, source="/bench", occurred_at=occurred, body=touch.data
        )
        events.append(
            CloudEvent(
                id=f"res-{n}",
                source="/customer-master",
                type="crm.customer.resolved",
                time=occurred,
                data=CustomerResolved(touchpoint=wrapped, customer_id=customer),
                correlation_id=touch.event_id,
                topic="crm.customer.v1",
                partition=n % 6,
                offset=n,
            )
        )
    return events


def run(events: list[CloudEvent], batch: int, directory: Path) -> None:
    """Apply ``events`` in batches of ``batch`` to a fresh database; print the figures."""
    db = Database(f"sqlite:///{directory / f'scoring-{batch}.db'}", Base.metadata)
    db.create_all()
    live = LiveScoring(load_rules())
    applier = EventApplier(
        db=db,
        registry=load_registry(),
        subscription=subscription(live),
        source="/behavior-scoring",
        content_type=PROTOBUF,
    )
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(events), batch):
        result = applier.apply(events[start : start + batch])
        assert result.error is None, result.error
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    with db.engine.connect() as conn:
        emitted = conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one()
        customers = conn.exec_driver_sql("SELECT count(*) FROM scoring_customers").scalar_one()
    fresh = LiveScoring(load_rules(), freeze_after_load=False)
    began = time.perf_counter()
    with db.session() as session:
        session.begin()
        fresh.tick(session.connection(), Outbox(registry=load_registry(), source="/bench", content_type=PROTOBUF))
        session.rollback()
    reload_ms = (time.perf_counter() - began) * 1000
    n = len(events)
    print(
        f"batch {batch:>4}: {n} events, {cpu / n * 1e6:6.1f} µs CPU/event, {wall / n * 1e6:6.1f} µs wall/event, "
        f"{emitted} score_changed, {customers} customers, reload {reload_ms:.0f} ms"
    )
    db.dispose()


def main() -> None:
    """Parse arguments and run each batch size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--batches", type=int, nargs="+", default=[25, 500])
    args = parser.parse_args()
    events = resolved_events(args.count)
    with tempfile.TemporaryDirectory() as tmp:
        for batch in args.batches:
            run(events, batch, Path(tmp))


if __name__ == "__main__":
    main()
