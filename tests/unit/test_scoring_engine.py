"""behavior-scoring's engine as the live service uses it: injected clock, timers, diffs, state, lateness."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from behavior_scoring.domain.engine import Engine
from behavior_scoring.domain.events import Event, event_to_dict, parse_event
from behavior_scoring.domain.instants import to_instant
from behavior_scoring.domain.rulesfile import load_rules, parse_rules
from behavior_scoring.replay import replay_lines

BJ = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=BJ)
US = timedelta(microseconds=1)
RULES = load_rules()


def ev(event_id: str, kind: str, at: datetime, customer: str, **fields: Any) -> Event:
    """One validated event."""
    return parse_event({"id": event_id, "type": kind, "at": at.isoformat(), "customer_id": customer, **fields})


def view_(event_id: str, at: datetime, customer: str = "c1") -> Event:
    """A new-product page view."""
    return ev(event_id, "page.viewed", at, customer, page_category="new_product")


def test_a_tag_expires_on_time_with_no_further_events() -> None:
    engine = Engine(RULES)
    assert engine.apply(view_("v1", T0), now=T0) == []
    [diff] = engine.apply(view_("v2", T0 + timedelta(hours=1)), now=T0 + timedelta(hours=1))
    assert diff.changed and diff.trigger == "v2" and diff.after.score == 15
    [added] = diff.tags_added
    assert (added.name, added.weight, added.reason, added.event_ids) == (
        "new_product_interest",
        15,
        "rule:new_product_views",
        ("v1", "v2"),
    )
    expiry = T0 + timedelta(hours=73)
    assert engine.next_due() == to_instant(expiry)
    assert engine.advance(expiry - US) == []
    [gone] = engine.advance(expiry + timedelta(hours=5))
    assert gone.at == to_instant(expiry) and gone.trigger is None
    assert gone.before.score == 15 and gone.after.score == 0
    [removed] = gone.tags_removed
    assert (removed.name, removed.reason, removed.event_ids) == ("new_product_interest", "expired", ("v1", "v2"))
    assert engine.next_due() is None
    assert engine.counters.expirations == 1


def test_a_refresh_updates_the_published_view_but_is_not_a_change() -> None:
    engine = Engine(RULES)
    for i in range(2):
        engine.apply(view_(f"v{i}", T0 + i * timedelta(hours=1)), now=T0 + i * timedelta(hours=1))
    assert engine.apply(view_("v2", T0 + timedelta(hours=2)), now=T0 + timedelta(hours=2)) == []
    tag = engine.published["c1"].tags[0]
    assert tag.because == ("v1", "v2") and tag.set_at == to_instant(T0 + timedelta(hours=2))
    assert engine.next_due() == to_instant(T0 + timedelta(hours=74))


def test_absence_timer_fires_at_added_plus_72h_and_a_later_acceptance_clears_it() -> None:
    engine = Engine(RULES)
    engine.apply(ev("add", "wecom.contact_added", T0, "c1"), now=T0)
    fires = T0 + timedelta(hours=72)
    assert engine.next_due() == to_instant(fires)
    [diff] = engine.advance(fires)
    assert diff.after.score == -20 and diff.tags_added[0].event_ids == ("add",)
    [cleared] = engine.apply(
        ev("ok", "wecom.friend_accepted", fires + timedelta(hours=1), "c1"), now=fires + timedelta(hours=1)
    )
    [removed] = cleared.tags_removed
    assert (removed.reason, removed.event_ids, cleared.after.score) == ("cleared", ("ok",), 0)


def test_an_acceptance_arriving_within_lateness_after_the_timer_fired_gives_the_in_order_state() -> None:
    engine = Engine(RULES)
    engine.apply(ev("add", "wecom.contact_added", T0, "c1"), now=T0)
    fires = T0 + timedelta(hours=72)
    assert engine.advance(fires + timedelta(minutes=1))[0].after.score == -20
    accepted = ev("ok", "wecom.friend_accepted", fires - timedelta(minutes=5), "c1")
    [diff] = engine.apply(accepted, now=fires + timedelta(minutes=2))
    assert diff.after.score == 0 and diff.tags_removed[0].reason == "recomputed"
    assert engine.counters.late == 0


def test_ip_rule_changes_every_customer_behind_the_orders() -> None:
    engine = Engine(RULES)
    diffs = []
    for i, customer in enumerate(("c1", "c2", "c3")):
        at = T0 + i * timedelta(hours=1)
        engine.apply(ev(f"o{i}", "order.created", at, customer, order_id=f"A{i}", client_ip="9.9.9.9"), now=at)
        diffs = engine.apply(
            ev(f"x{i}", "order.cancelled", at + timedelta(minutes=1), customer, order_id=f"A{i}"),
            now=at + timedelta(minutes=1),
        )
    assert sorted(d.customer_id for d in diffs) == ["c1", "c2", "c3"]
    assert {d.after.risk_tier for d in diffs} == {"L4"} and {d.before.risk_tier for d in diffs} == {"L1"}
    assert all(d.trigger == "x2" for d in diffs)


def test_merge_diffs_remove_the_absorbed_and_recompute_the_survivor() -> None:
    engine = Engine(RULES)
    engine.apply(view_("v1", T0, "c1"), now=T0)
    engine.apply(view_("v2", T0 + timedelta(hours=1), "c2"), now=T0 + timedelta(hours=1))
    merged = ev("m", "customer.merged", T0 + timedelta(hours=2), "c1", absorbed_id="c2", survivor_id="c1")
    diffs = {d.customer_id: d for d in engine.apply(merged, now=T0 + timedelta(hours=2))}
    assert diffs["c1"].after.score == 15 and diffs["c1"].tags_added[0].event_ids == ("v1", "v2")
    assert "c2" not in diffs or diffs["c2"].after.merged_into == "c1"
    unmerged = ev("u", "customer.unmerged", T0 + timedelta(hours=3), "c1", absorbed_id="c2", survivor_id="c1")
    diffs = {d.customer_id: d for d in engine.apply(unmerged, now=T0 + timedelta(hours=3))}
    assert diffs["c1"].after.score == 0 and diffs["c1"].tags_removed[0].reason == "unmerged"
    assert engine.view("c2", T0 + timedelta(hours=3)).merged_into is None


def test_merge_of_a_published_customer_publishes_its_removal() -> None:
    engine = Engine(RULES)
    engine.apply(view_("v1", T0, "c2"), now=T0)
    engine.apply(view_("v2", T0 + timedelta(hours=1), "c2"), now=T0 + timedelta(hours=1))
    merged = ev("m", "customer.merged", T0 + timedelta(hours=2), "c1", absorbed_id="c2", survivor_id="c1")
    diffs = {d.customer_id: d for d in engine.apply(merged, now=T0 + timedelta(hours=2))}
    assert diffs["c2"].after.merged_into == "c1" and diffs["c2"].tags_removed[0].reason == "merged"
    assert diffs["c1"].after.score == 15


def test_late_events_are_counted_recorded_and_applied_where_they_still_can_be() -> None:
    engine = Engine(RULES)
    engine.apply(ev("add", "wecom.contact_added", T0, "c1"), now=T0)
    engine.apply(view_("x", T0 + timedelta(hours=80), "c9"), now=T0 + timedelta(hours=80))
    assert engine.view("c1", T0 + timedelta(hours=80)).score == -20
    # an acceptance 2 hours before the watermark: late, recorded, and it still clears the tag
    late = ev("ok", "wecom.friend_accepted", T0 + timedelta(hours=78), "c1")
    engine.apply(late, now=T0 + timedelta(hours=80))
    assert engine.counters.late == 1 and engine.late[-1].event_id == "ok" and engine.late[-1].applied
    assert engine.view("c1", T0 + timedelta(hours=80)).score == 0
    # a view 20 days old can no longer change anything: recorded as late, not applied
    engine.apply(view_("old", T0 - timedelta(days=20)), now=T0 + timedelta(hours=80))
    assert engine.counters.late == 2 and engine.counters.late_not_applied == 1 and not engine.late[-1].applied


def test_duplicates_apply_nothing_twice() -> None:
    engine = Engine(RULES)
    engine.apply(view_("v1", T0), now=T0)
    assert engine.apply(view_("v1", T0), now=T0 + timedelta(minutes=1)) == []
    assert engine.view("c1", T0 + timedelta(minutes=1)).score == 0
    assert engine.counters.duplicates == 1


def test_state_survives_a_json_round_trip_with_its_timers() -> None:
    engine = Engine(RULES)
    engine.apply(ev("add", "wecom.contact_added", T0, "c1"), now=T0)
    engine.apply(view_("v1", T0, "c2"), now=T0)
    engine.apply(view_("v2", T0 + timedelta(hours=1), "c2"), now=T0 + timedelta(hours=1))
    merged = ev("m", "customer.merged", T0 + timedelta(hours=2), "c3", absorbed_id="c2", survivor_id="c3")
    engine.apply(merged, now=T0 + timedelta(hours=2))
    dirty, global_dirty = engine.take_dirty()
    assert {"c1", "c2", "c3"} <= dirty and global_dirty
    restored = Engine.restore(RULES, json.loads(json.dumps(engine.snapshot())))
    assert restored.next_due() == engine.next_due() == to_instant(T0 + timedelta(hours=72))
    later = T0 + timedelta(hours=72)
    assert [v.to_json() for v in restored.views(later)] == [v.to_json() for v in engine.views(later)]
    assert [d.customer_id for d in restored.advance(later)] == [d.customer_id for d in engine.advance(later)]


def test_per_customer_records_rebuild_the_engine() -> None:
    engine = Engine(RULES)
    for i in range(2):
        engine.apply(view_(f"v{i}", T0 + i * timedelta(hours=1)), now=T0 + i * timedelta(hours=1))
    rows = [json.loads(json.dumps(engine.customer_record(c))) for c in engine.customers()]
    loaded = Engine.load(RULES, json.loads(json.dumps(engine.global_record())), rows)
    assert loaded.published["c1"] == engine.published["c1"]
    assert loaded.view("c1", T0 + timedelta(hours=2)) == engine.view("c1", T0 + timedelta(hours=2))


def test_prune_drops_only_what_can_no_longer_matter() -> None:
    engine = Engine(RULES)
    engine.apply(view_("old", T0), now=T0)
    engine.apply(ev("f", "product.favourited", T0, "c1", product_id="p"), now=T0)
    engine.apply(view_("new", T0 + timedelta(days=7)), now=T0 + timedelta(days=7))
    assert engine.prune() == 1
    assert [e["id"] for e in engine.customer_record("c1")["events"]] == ["f", "new"]


RETIRING = """
version: "2"
tags:
  new_product_interest: {weight: 15, ttl: 72h}
rules:
  - id: views_v1
    tag: new_product_interest
    effective_from: "2026-01-01T00:00:00+08:00"
    retired_from: "2026-11-23T12:00:00+08:00"
    count: {event: page.viewed, where: {page_category: new_product}, at_least: 2, within: 3d}
  - id: views_v2
    tag: new_product_interest
    effective_from: "2026-11-23T12:00:00+08:00"
    count: {event: page.viewed, where: {page_category: new_product}, at_least: 3, within: 3d}
"""


def test_a_changed_rule_takes_effect_from_its_effective_from() -> None:
    rules = parse_rules(RETIRING)
    events = [view_(f"v{i}", T0 + i * timedelta(hours=1)) for i in range(4)]
    engine = Engine(rules)
    for e in events:
        engine.ingest(e)
    # v0, v1 at 10:00/11:00 fire under v1 (2 views); v2 at 12:00 needs 3 under v2: v0..v2 qualify
    tag = engine.view("c1", T0 + timedelta(hours=3)).tags[0]
    assert tag.rule == "views_v2" and tag.because == ("v1", "v2", "v3")
    assert engine.view("c1", T0 + timedelta(hours=1)).tags[0].rule == "views_v1"


def test_set_rules_is_recorded_and_recomputes() -> None:
    engine = Engine(RULES)
    for i in range(2):
        engine.apply(view_(f"v{i}", T0 + i * timedelta(hours=1)), now=T0 + i * timedelta(hours=1))
    stricter = parse_rules(RETIRING.replace("2026-11-23T12:00:00+08:00", "2026-11-01T00:00:00+08:00"))
    [diff] = engine.set_rules(stricter, now=T0 + timedelta(hours=2))
    assert diff.after.score == 0 and diff.tags_removed[0].reason == "rules_changed"
    assert [(c.version, c.at) for c in engine.rules_log] == [("2", to_instant(T0 + timedelta(hours=2)))]


def test_replay_and_live_engine_agree_on_a_mixed_log() -> None:
    events = [
        view_("v1", T0),
        view_("v2", T0 + timedelta(days=1)),
        ev("add", "wecom.contact_added", T0, "c2"),
        ev("o", "order.created", T0 + timedelta(hours=12), "c3", order_id="N", client_ip="1.1.1.1"),
        ev("f1", "product.favourited", T0, "c4", product_id="a"),
        ev("f2", "product.favourited", T0, "c4", product_id="b"),
        ev("f3", "product.favourited", T0 + timedelta(days=1), "c4", product_id="c"),
    ]
    at = T0 + timedelta(days=3)
    engine = Engine(RULES)
    for e in events:
        engine.apply(e, now=max(e.at, engine.watermark or e.at))
    engine.advance(at)
    replayed = replay_lines((json.dumps(event_to_dict(e)) for e in events), rules=RULES, at=at)
    assert len(replayed.views) == 4
    assert [engine.published[v.customer_id].to_json() for v in replayed.views] == [v.to_json() for v in replayed.views]


def test_re_merging_an_absorbed_customer_elsewhere_refreshes_its_old_survivor() -> None:
    engine = Engine(RULES)
    engine.apply(view_("v1", T0, "c1"), now=T0)
    engine.apply(view_("v3", T0, "c3"), now=T0)
    first = ev("m1", "customer.merged", T0, "c1", absorbed_id="c3", survivor_id="c1")
    assert [d.after.score for d in engine.apply(first, now=T0) if d.customer_id == "c1"] == [15]
    second = ev("m2", "customer.merged", T0, "c4", absorbed_id="c3", survivor_id="c4")
    diffs = {d.customer_id: d for d in engine.apply(second, now=T0)}
    assert diffs["c1"].after.score == 0 and diffs["c1"].tags_removed[0].reason == "merged"
    assert engine.published["c1"] == engine.view("c1", T0)
