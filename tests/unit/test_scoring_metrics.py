"""behavior-scoring's Prometheus metrics: gauges follow the engine, counters count once, the dashboard uses them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from behavior_scoring import metrics
from behavior_scoring.consumers import subscription
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.live import LiveScoring
from behavior_scoring.mapping import resolved_for
from behavior_scoring.models import Base
from behavior_scoring.timers import TimerLoop
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import PROTOBUF, CloudEvent
from crmkit.db import Database
from prometheus_client import REGISTRY as PROMETHEUS

REGISTRY = load_registry()
RULES = load_rules()
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
DASHBOARD = Path(__file__).resolve().parents[2] / "deploy/grafana/dashboards/behavior-scoring.json"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def value(metric: str, **labels: str) -> float:
    return PROMETHEUS.get_sample_value(metric, labels) or 0.0


def resolved(event_id: str, kind: str, at: datetime, customer: str, offset: int, **fields: Any) -> CloudEvent:
    rec = {"id": event_id, "type": kind, "at": at.isoformat(), "customer_id": customer, **fields}
    return CloudEvent(
        id=f"res-{event_id}",
        source="/customer-master",
        type="crm.customer.resolved",
        time=at,
        data=resolved_for(rec),
        topic="crm.customer.v1",
        partition=0,
        offset=offset,
    )


class Service:
    def __init__(self, path: Path, clock: Clock) -> None:
        self.db = Database(f"sqlite:///{path}", Base.metadata)
        self.db.create_all()
        self.live = LiveScoring(RULES, clock=clock, freeze_after_load=False)
        self.applier = EventApplier(
            db=self.db,
            registry=REGISTRY,
            subscription=subscription(self.live),
            source="/behavior-scoring",
            content_type=PROTOBUF,
        )
        self.timers = TimerLoop(live=self.live, db=self.db, source="/behavior-scoring", content_type=PROTOBUF)

    def apply(self, events: list[CloudEvent]) -> None:
        result = self.applier.apply(events)
        assert result.error is None, result.error


def test_tags_pools_expirations_late_events_and_latency(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=3))
    service = Service(tmp_path / "s.db", clock)
    evaluated = value("crm_scoring_events_evaluated_total")
    batches = value("crm_scoring_evaluation_seconds_count", path="events")
    expired = value("crm_scoring_expirations_total", kind="tag", name="new_product_interest")
    late = value("crm_scoring_late_events_total")
    service.apply(
        [
            resolved("v1", "page.viewed", T0, "c1", 0, page_category="new_product", page_id="p1"),
            resolved("v2", "page.viewed", T0 + timedelta(hours=2), "c1", 1, page_category="new_product", page_id="p2"),
            *(
                resolved(
                    f"f{n}", "product.favourited", T0 + timedelta(hours=2, minutes=n), "c2", 2 + n, product_id=f"p{n}"
                )
                for n in range(3)
            ),
        ]
    )
    assert value("crm_scoring_active_tags", tag="new_product_interest") == 1
    assert value("crm_scoring_active_tags", tag="risk_l4") == 0  # every rules-file name is shown, at 0
    assert value("crm_scoring_pool_members", pool="long_term_nurture") == 1
    assert value("crm_scoring_pool_members", pool="value_harvest") == 0
    assert value("crm_scoring_events_evaluated_total") - evaluated == 5
    assert value("crm_scoring_evaluation_seconds_count", path="events") - batches == 1

    # an event an hour older than the watermark (lateness 10 min): counted late, once
    service.apply([resolved("v0", "page.viewed", T0 - timedelta(hours=1), "c3", 10, page_category="x", page_id="q")])
    assert value("crm_scoring_late_events_total") - late == 1

    # a restart loads the engine from the tables: the gauges are set in full, late not counted again
    clock.now = T0 + timedelta(hours=3)
    again = Service(tmp_path / "s.db", clock)
    again.apply([resolved("v9", "page.viewed", T0 + timedelta(hours=3), "c9", 11, page_category="x", page_id="q")])
    assert again.live.loads == 1
    assert value("crm_scoring_active_tags", tag="new_product_interest") == 1
    assert value("crm_scoring_pool_members", pool="long_term_nurture") == 1
    assert value("crm_scoring_late_events_total") - late == 1

    # the 72 h shelf life runs out with no further event: the timer loop expires the tag
    clock.now = T0 + timedelta(hours=2 + 72, seconds=1)
    timer_rounds = value("crm_scoring_evaluation_seconds_count", path="timers")
    assert again.timers.fire_once() >= 1
    assert value("crm_scoring_active_tags", tag="new_product_interest") == 0
    assert value("crm_scoring_expirations_total", kind="tag", name="new_product_interest") - expired == 1
    assert value("crm_scoring_evaluation_seconds_count", path="timers") - timer_rounds == 1


def test_late_counts_follow_a_high_water_mark() -> None:
    from behavior_scoring.domain.engine import Counters

    before = value("crm_scoring_late_events_total")
    mark = metrics.LateCounts()
    mark.baseline(Counters(late=5))
    mark.sync(Counters(late=7))  # two new
    mark.sync(Counters(late=6))  # a reload after a rollback: lower again
    mark.sync(Counters(late=7))  # the same late event applied again: not counted twice
    mark.sync(Counters(late=8))
    assert value("crm_scoring_late_events_total") - before == 3


def test_the_dashboard_charts_every_scoring_metric() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    referenced = {m for e in exprs for m in re.findall(r"\bcrm_scoring_[a-z_]+", e)}
    referenced = {re.sub(r"_(bucket|sum|count|total)$", "", m) for m in referenced}
    defined = {
        m._name
        for m in vars(metrics).values()
        if hasattr(m, "_name") and str(getattr(m, "_name", "")).startswith("crm_scoring_")
    }
    assert defined and referenced == defined
    assert all(t["datasource"]["uid"] == "crm-prometheus" for p in dashboard["panels"] for t in p.get("targets", []))
    assert "histogram_quantile(0.99" in "\n".join(exprs)
