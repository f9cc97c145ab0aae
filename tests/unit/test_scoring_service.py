"""behavior-scoring's live side without Kafka: the mapping, persistence, rollback, timers, REST."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from behavior_scoring.api import create_app
from behavior_scoring.consumers import subscription
from behavior_scoring.domain.instants import to_instant
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.live import LiveScoring
from behavior_scoring.mapping import map_event, resolved_for
from behavior_scoring.models import Base
from behavior_scoring.replay import replay_lines
from behavior_scoring.timers import TimerLoop
from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerResolved, CustomerUnmerged
from crm.events.scoring.v1.scoring_pb2 import ScoreChanged
from crm.events.touchpoint.v1 import touchpoint_pb2 as tp
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import PROTOBUF, CloudEvent
from crmkit.db import Database
from crmkit.errors import PoisonMessage
from crmkit.handlers import HandlerContext, Subscription
from fastapi.testclient import TestClient
from sqlalchemy import text

REGISTRY = load_registry()
RULES = load_rules()
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing time


class Clock:
    """An injected clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def record(event_id: str, kind: str, at: datetime, customer: str, **fields: Any) -> dict[str, Any]:
    """A replay-shaped event record."""
    return {"id": event_id, "type": kind, "at": at.isoformat(), "customer_id": customer, **fields}


def resolved(rec: dict[str, Any], offset: int = 0) -> CloudEvent:
    """The customer.resolved CloudEvent customer-master would emit for ``rec``."""
    return CloudEvent(
        id=f"res-{rec['id']}",
        source="/customer-master",
        type="crm.customer.resolved",
        time=T0,
        data=resolved_for(rec),
        topic="crm.customer.v1",
        partition=0,
        offset=offset,
    )


def raw_resolved(touchpoint: tp.Touchpoint, customer: str = "c1", event_id: str = "r1") -> CloudEvent:
    """A customer.resolved around a hand-built touchpoint."""
    data = CustomerResolved(touchpoint=touchpoint, customer_id=customer)
    return CloudEvent(id=event_id, source="/customer-master", type="crm.customer.resolved", time=T0, data=data)


def merged(event_id: str, at: datetime, survivor: str, absorbed: str) -> CloudEvent:
    """A customer.merged CloudEvent."""
    data = CustomerMerged(survivor_id=survivor, absorbed_id=absorbed, reason="same mobile")
    return CloudEvent(id=event_id, source="/customer-master", type="crm.customer.merged", time=at, data=data)


def unmerged(event_id: str, at: datetime, survivor: str, restored: str) -> CloudEvent:
    """A customer.unmerged CloudEvent."""
    data = CustomerUnmerged(survivor_id=survivor, restored_id=restored, merge_id="mrg_1", reason="two people")
    return CloudEvent(id=event_id, source="/customer-master", type="crm.customer.unmerged", time=at, data=data)


class Service:
    """One behavior-scoring database, engine and applier, as the runtime wires them."""

    def __init__(self, path: Path, clock: Clock, *, batch_wrapper: Callable[..., Any] | None = None) -> None:
        self.db = Database(f"sqlite:///{path}", Base.metadata)
        self.db.create_all()
        self.clock = clock
        self.live = LiveScoring(RULES, clock=clock, freeze_after_load=False)
        sub = subscription(self.live)
        if batch_wrapper is not None:
            sub = Subscription(
                group=sub.group, topics=sub.topics, handlers=sub.handlers, ignored=sub.ignored, batch=batch_wrapper(sub)
            )
        self.applier = EventApplier(
            db=self.db, registry=REGISTRY, subscription=sub, source="/behavior-scoring", content_type=PROTOBUF
        )
        self.timers = TimerLoop(live=self.live, db=self.db, source="/behavior-scoring", content_type=PROTOBUF)

    def apply(self, events: Sequence[CloudEvent]) -> None:
        result = self.applier.apply(events)
        assert result.error is None, result.error

    def outbox(self) -> list[ScoreChanged]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(text("SELECT payload FROM outbox ORDER BY seq")).scalars().all()
        return [ScoreChanged.FromString(row) for row in rows]

    def stored_views(self) -> dict[str, dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(text("SELECT customer_id, view FROM scoring_views")).all()
        return {c: json.loads(v) for c, v in rows}


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(days=1))


# ---- mapping ---------------------------------------------------------------------------


def test_every_rule_touchpoint_maps_to_its_engine_event() -> None:
    at = T0
    records = [
        record("e1", "page.viewed", at, "c1", page_category="new_product", page_id="p1"),
        record("e2", "product.favourited", at, "c1", product_id="sku-1"),
        record("e3", "wecom.contact_added", at, "c1", rep_userid="rep-1"),
        record("e4", "wecom.friend_accepted", at, "c1", rep_userid="rep-1"),
        record("e5", "order.created", at, "c1", order_id="o1", amount_fen=1200, client_ip="203.0.113.9"),
        record("e6", "order.paid", at, "c1", order_id="o1", amount_fen=1200),
        record("e7", "order.cancelled", at, "c1", order_id="o1"),
    ]
    for rec in records:
        mapped = map_event(resolved(rec))
        assert mapped.event is not None
        assert (mapped.event.id, mapped.event.type, mapped.event.customer_id) == (rec["id"], rec["type"], "c1")
        assert mapped.event.at == to_instant(at)
        assert dict(mapped.event.fields) == {
            k: v for k, v in rec.items() if k not in ("id", "type", "at", "customer_id")
        }
        assert mapped.behaviour_type is not None and mapped.behaviour_type.startswith("crm.")


def test_touchpoints_no_rule_reads_are_behaviour_only() -> None:
    touchpoint = tp.Touchpoint(event_id="t1", type="crm.miniprogram.logged_in", logged_in=tp.LoggedIn(nickname="x"))
    touchpoint.occurred_at.FromDatetime(T0)
    mapped = map_event(raw_resolved(touchpoint))
    assert mapped.event is None and mapped.behaviour_type == "crm.miniprogram.logged_in"


def test_merge_maps_to_customer_merged_at_its_event_time() -> None:
    mapped = map_event(merged("m1", T0, "c1", "c2"))
    assert mapped.event is not None and mapped.behaviour_type is None
    assert mapped.event.type == "customer.merged" and mapped.event.at == to_instant(T0)
    assert dict(mapped.event.fields) == {"absorbed_id": "c2", "survivor_id": "c1"}


def test_unmerge_maps_to_customer_unmerged_with_the_restored_customer_as_absorbed() -> None:
    mapped = map_event(unmerged("u1", T0, "c1", "c2"))
    assert mapped.event is not None and mapped.behaviour_type is None and mapped.correlation_id == "u1"
    assert (mapped.event.type, mapped.event.customer_id, mapped.event.at) == ("customer.unmerged", "c1", to_instant(T0))
    assert dict(mapped.event.fields) == {"absorbed_id": "c2", "survivor_id": "c1"}
    with pytest.raises(PoisonMessage, match=r"unmerge u2 rejected .*: customer.unmerged needs absorbed_id"):
        map_event(unmerged("u2", T0, "c1", ""))


@pytest.mark.parametrize(
    ("touchpoint", "reason"),
    [
        (tp.Touchpoint(event_id="t1", type="crm.miniprogram.product_favourited",
                       product_favourited=tp.ProductFavourited()), "product.favourited needs product_id"),
        (tp.Touchpoint(event_id="t2", type="crm.order.paid", order_paid=tp.OrderPaid()), "order.paid needs order_id"),
        (tp.Touchpoint(event_id="t3", type="crm.order.paid", page_viewed=tp.PageViewed()), "carries body page_viewed"),
    ],
)  # fmt: skip
def test_touchpoints_the_engine_rejects_are_poison(touchpoint: tp.Touchpoint, reason: str) -> None:
    touchpoint.occurred_at.FromDatetime(T0)
    with pytest.raises(PoisonMessage, match=reason):
        map_event(raw_resolved(touchpoint))


def test_a_touchpoint_without_an_occurred_time_is_poison() -> None:
    touchpoint = tp.Touchpoint(event_id="t1", type="crm.miniprogram.page_viewed", page_viewed=tp.PageViewed())
    with pytest.raises(PoisonMessage, match="missing occurred_at"):
        map_event(raw_resolved(touchpoint))


# ---- persistence, rollback, timers ------------------------------------------------------


def views_line(rec: dict[str, Any]) -> dict[str, Any]:
    """A stored view as the replay prints it."""
    return {
        "customer_id": rec["customer_id"],
        "score": rec["score"],
        "risk_tier": rec["risk_tier"],
        "pools": [p["name"] for p in rec["pools"]],
        "tags": [t["name"] for t in rec["tags"]],
    }


SCENARIO = [
    record("v1", "page.viewed", T0, "c1", page_category="new_product"),
    record("v2", "page.viewed", T0 + timedelta(hours=2), "c1", page_category="new_product"),
    record("f1", "product.favourited", T0, "c2", product_id="a"),
    record("f2", "product.favourited", T0 + timedelta(minutes=1), "c2", product_id="b"),
    record("f3", "product.favourited", T0 + timedelta(minutes=2), "c2", product_id="c"),
    *[
        rec
        for n in range(3)
        for rec in (
            record(f"oc{n}", "order.created", T0 + timedelta(hours=n), f"r{n}", order_id=f"o{n}", client_ip="1.2.3.4"),
            record(f"ox{n}", "order.cancelled", T0 + timedelta(hours=n, minutes=3), f"r{n}", order_id=f"o{n}"),
        )
    ],
]


def test_state_survives_a_restart_and_equals_the_replay(tmp_path: Path, clock: Clock) -> None:
    first = Service(tmp_path / "s.db", clock)
    events = [resolved(rec, n) for n, rec in enumerate(SCENARIO)]
    first.apply(events[:5])
    first.apply(events[5:])
    changed = {m.customer_id for m in first.outbox()}
    assert changed == {"c1", "c2", "r0", "r1", "r2"}
    second = Service(tmp_path / "s.db", clock)  # a restart: the engine is loaded from the tables
    second.apply([resolved(record("v3", "page.viewed", T0, "c9"), 99)])
    assert second.live.loads == 1
    assert second.live.engine is not None and first.live.engine is not None
    at = clock()
    assert [v.to_json() for v in second.live.views_at(at) if v.customer_id != "c9"] == [
        v.to_json() for v in first.live.views_at(at)
    ]
    lines = [json.dumps(rec) for rec in SCENARIO]
    replayed = {v.customer_id: v.to_json() for v in replay_lines(lines, rules=RULES, at=at).views}
    stored = {c: views_line(v) for c, v in second.stored_views().items() if c != "c9"}
    assert {c: {**v, "tags": [t["tag"] for t in v["tags"]]} for c, v in replayed.items()} == stored
    assert stored["r0"]["risk_tier"] == "L4" and stored["c2"]["pools"] == ["long_term_nurture"]


def test_a_rolled_back_transaction_does_not_leave_the_engine_ahead(tmp_path: Path, clock: Clock) -> None:
    calls = {"n": 0}

    def failing_once(sub: Subscription) -> Callable[[HandlerContext, Sequence[CloudEvent]], None]:
        def batch(ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
            assert sub.batch is not None
            sub.batch(ctx, events)  # the engine has applied the events …
            calls["n"] += 1
            if calls["n"] == 2:  # the second batch
                raise RuntimeError("the database went away")  # … and the transaction rolls back

        return batch

    flaky = Service(tmp_path / "flaky.db", clock, batch_wrapper=failing_once)
    clean = Service(tmp_path / "clean.db", clock)
    events = [resolved(rec, n) for n, rec in enumerate(SCENARIO)]
    for service in (flaky, clean):
        service.apply(events[:2])
        service.apply(events[2:])
    # the failed batch was replayed event by event in a fresh transaction after a reload
    assert calls["n"] == 2 and flaky.live.loads == 1 and clean.live.loads == 0
    assert [(m.customer_id, m.score, [t.tag for t in m.tags_added]) for m in flaky.outbox()] == [
        (m.customer_id, m.score, [t.tag for t in m.tags_added]) for m in clean.outbox()
    ]
    assert flaky.stored_views().keys() == clean.stored_views().keys()
    assert [views_line(v) for v in flaky.stored_views().values()] == [
        views_line(v) for v in clean.stored_views().values()
    ]


def test_a_poison_event_in_a_batch_goes_alone_and_the_rest_apply_once(tmp_path: Path, clock: Clock) -> None:
    service = Service(tmp_path / "s.db", clock)
    bad = tp.Touchpoint(event_id="bad", type="crm.order.paid", order_paid=tp.OrderPaid())
    bad.occurred_at.FromDatetime(T0)
    events = [resolved(SCENARIO[0], 0), raw_resolved(bad, event_id="poison"), resolved(SCENARIO[1], 2)]
    result = service.applier.apply(events)
    assert result.failed_at == 1 and isinstance(result.error, PoisonMessage)
    assert "order.paid needs order_id" in str(result.error)
    service.apply(events[2:])  # the runtime continues after the dead-lettered event
    [change] = service.outbox()
    assert (change.customer_id, change.score, list(change.tags_added[0].event_ids)) == ("c1", 15, ["v1", "v2"])
    with TestClient(create_app(db=service.db, rules=RULES, clock=clock)) as client:
        assert client.get("/stats").json()["behaviours"] == 2


def test_a_tag_expires_on_time_with_no_further_events(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(hours=2))
    service = Service(tmp_path / "s.db", clock)
    service.apply([resolved(SCENARIO[0], 0), resolved(SCENARIO[1], 1)])
    [added] = service.outbox()
    expiry = T0 + timedelta(hours=2 + 72)
    assert added.tags_added[0].expires_at.ToDatetime(tzinfo=UTC) == expiry
    clock.now = expiry - timedelta(microseconds=1)
    assert service.timers.fire_once() == 0
    clock.now = expiry + timedelta(seconds=1)  # the timer loop runs a second late
    assert service.timers.fire_once() == 1
    [_, removed] = service.outbox()
    assert (removed.customer_id, removed.score) == ("c1", 0)
    [tag] = removed.tags_removed
    assert (tag.tag, tag.reason, list(tag.event_ids)) == ("new_product_interest", "expired", ["v1", "v2"])
    with service.db.engine.connect() as conn:
        ce_time = conn.execute(text("SELECT ce_time FROM outbox ORDER BY seq DESC LIMIT 1")).scalar_one()
    assert ce_time.startswith(expiry.isoformat()[:19])  # stamped with the expiry instant, not the tick
    assert service.stored_views()["c1"]["score"] == 0
    assert service.timers.fire_once() == 0  # nothing more due


MERGING = [
    record("v1", "page.viewed", T0, "c1", page_category="new_product"),
    record("v2", "page.viewed", T0 + timedelta(hours=1), "c2", page_category="new_product"),
    record("f1", "product.favourited", T0, "c1", product_id="a"),
    record("f2", "product.favourited", T0 + timedelta(minutes=1), "c2", product_id="b"),
    record("f3", "product.favourited", T0 + timedelta(minutes=2), "c2", product_id="c"),
]


def test_merge_and_unmerge_publish_both_customers_with_reasons_and_triggers(tmp_path: Path, clock: Clock) -> None:
    service = Service(tmp_path / "s.db", clock)
    service.apply([resolved(rec, n) for n, rec in enumerate(MERGING)])
    assert service.outbox() == []  # neither customer has two views or three products alone
    service.apply([merged("m1", T0 + timedelta(hours=3), "c1", "c2")])
    by_customer = {m.customer_id: m for m in service.outbox()}
    survivor, absorbed = by_customer["c1"], by_customer["c2"]
    assert (survivor.trigger_event_id, survivor.score, survivor.merged_into) == ("m1", 15, "")
    [tag] = survivor.tags_added
    assert (tag.reason, list(tag.event_ids)) == ("rule:new_product_views", ["v1", "v2"])
    assert tag.set_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(hours=1)
    [pool] = survivor.pools_added
    assert (pool.pool, pool.reason, list(pool.event_ids)) == (
        "long_term_nurture",
        "rule:favourites_without_order",
        ["f1", "f2", "f3"],
    )
    assert pool.since.ToDatetime(tzinfo=UTC) == T0 + timedelta(minutes=2) and pool.expires_at.ToDatetime(
        tzinfo=UTC
    ) == T0 + timedelta(days=30)
    assert (absorbed.merged_into, absorbed.score, absorbed.trigger_event_id) == ("c1", 0, "m1")

    service.apply([unmerged("u1", T0 + timedelta(hours=5), "c1", "c2")])
    changes = service.outbox()[2:]
    assert sorted(m.customer_id for m in changes) == ["c1", "c2"]
    split = {m.customer_id: m for m in changes}
    assert {m.trigger_event_id for m in changes} == {"u1"}
    assert (split["c1"].score, list(split["c1"].pools), split["c1"].merged_into) == (0, [], "")
    assert [(t.tag, t.reason, list(t.event_ids)) for t in split["c1"].tags_removed] == [
        ("new_product_interest", "unmerged", ["u1"])
    ]
    assert [(p.pool, p.reason, list(p.event_ids)) for p in split["c1"].pools_removed] == [
        ("long_term_nurture", "unmerged", ["u1"])
    ]
    assert (split["c2"].merged_into, split["c2"].score, list(split["c2"].pools)) == ("", 0, [])
    lines = [json.dumps(rec) for rec in MERGING]
    lines += [
        json.dumps(record("m1", "customer.merged", T0 + timedelta(hours=3), "c1", absorbed_id="c2", survivor_id="c1"))
    ]
    lines += [
        json.dumps(record("u1", "customer.unmerged", T0 + timedelta(hours=5), "c1", absorbed_id="c2", survivor_id="c1"))
    ]
    replayed = {v.customer_id: v.to_json() for v in replay_lines(lines, rules=RULES, at=clock()).views}
    stored = service.stored_views()
    assert {c: views_line(v) for c, v in stored.items()} == {
        c: {**v, "tags": [t["tag"] for t in v["tags"]]} for c, v in replayed.items()
    }
    assert stored["c2"]["merged_into"] is None


def test_pools_entered_and_left_by_time_alone_carry_their_reason_and_events(tmp_path: Path) -> None:
    night = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 22:00 Beijing time
    clock = Clock(night)
    service = Service(tmp_path / "s.db", clock)
    service.apply([resolved(record("n1", "order.created", night, "c5", order_id="o9"), 0)])
    clock.now = night + timedelta(minutes=31)
    assert service.timers.fire_once() == 1
    [entered] = service.outbox()
    assert (entered.trigger_event_id, list(entered.pools)) == ("", ["instant_conversion"])
    [pool] = entered.pools_added
    assert (pool.reason, list(pool.event_ids)) == ("rule:night_order_unpaid", ["n1"])
    assert pool.expires_at.ToDatetime(tzinfo=UTC) == night + timedelta(minutes=30, hours=72)
    clock.now = night + timedelta(hours=73)
    assert service.timers.fire_once() == 1
    [_, left] = service.outbox()
    assert (left.trigger_event_id, list(left.pools), [p.pool for p in left.pools_removed]) == (
        "",
        [],
        ["instant_conversion"],
    )
    assert (left.pools_removed[0].reason, list(left.pools_removed[0].event_ids)) == ("expired", ["n1"])


# ---- REST --------------------------------------------------------------------------------


def test_rest_score_pools_stats_and_rules_validation(tmp_path: Path, clock: Clock) -> None:
    service = Service(tmp_path / "s.db", clock)
    logged_in = tp.Touchpoint(event_id="li", type="crm.miniprogram.logged_in", logged_in=tp.LoggedIn())
    logged_in.occurred_at.FromDatetime(T0)
    service.apply([*(resolved(rec, n) for n, rec in enumerate(SCENARIO)), raw_resolved(logged_in, event_id="x")])
    with TestClient(create_app(db=service.db, rules=RULES, clock=clock)) as client:
        score = client.get("/customers/c1/score").json()
        assert (score["score"], score["risk_tier"], score["pools"]) == (15, "L1", [])
        [tag] = score["tags"]
        assert tag["tag"] == "new_product_interest" and tag["weight"] == 15 and tag["because"] == ["v1", "v2"]
        assert tag["set_at"] == "2026-11-23T04:00:00Z" and tag["expires_at"] == "2026-11-26T04:00:00Z"
        assert client.get("/customers/r1/score").json()["risk_tier"] == "L4"
        assert client.get("/customers/nobody/score").json()["score"] == 0
        clock.now = T0 + timedelta(days=4)  # expired, even before the timer loop ran
        assert client.get("/customers/c1/score").json()["tags"] == []
        members = client.get("/pools/long_term_nurture/members").json()
        assert [m["customer_id"] for m in members["members"]] == ["c2"] and members["next"] is None
        later = client.get("/pools/long_term_nurture/members", params={"since": "2026-11-24T00:00:00+08:00"}).json()
        assert later["members"] == []
        assert client.get("/pools/nope/members").status_code == 404
        stats = client.get("/stats").json()
        assert stats["behaviours"] == len(SCENARIO) + 1
        assert stats["behaviours_by_type"]["crm.miniprogram.logged_in"] == 1
        text_ok = (Path(__file__).parents[2] / "services/behavior-scoring/rules/default.yaml").read_text()
        ok = client.post("/rules/validate", content=text_ok.encode())
        assert ok.status_code == 200 and ok.json()["warnings"] == []
        bad = client.post("/rules/validate", content=text_ok.replace("at_least: 2", "at_leest: 2").encode())
        assert bad.status_code == 422 and bad.json()["line"] > 0 and "at_leest" in bad.json()["error"]


def test_pool_members_page_with_a_cursor(tmp_path: Path, clock: Clock) -> None:
    service = Service(tmp_path / "s.db", clock)
    recs = [
        record(f"f{c}{p}", "product.favourited", T0 + timedelta(minutes=c), f"c{c}", product_id=f"p{p}")
        for c in range(5)
        for p in range(3)
    ]
    service.apply([resolved(rec, n) for n, rec in enumerate(recs)])
    with TestClient(create_app(db=service.db, rules=RULES, clock=clock)) as client:
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2}
        while True:
            page = client.get("/pools/long_term_nurture/members", params=params).json()
            seen += [m["customer_id"] for m in page["members"]]
            if page["next"] is None:
                break
            params["after"] = page["next"]
        assert seen == [f"c{c}" for c in range(5)]
