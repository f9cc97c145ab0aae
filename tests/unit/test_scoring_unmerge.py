"""behavior-scoring's unmerge: merge then unmerge gives every customer back the state it would have had
without the merge (pure engine, replay and CLI), and the live path publishes both customers' changes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from behavior_scoring.domain.engine import Engine
from behavior_scoring.domain.events import Event, event_to_dict, parse_event
from behavior_scoring.domain.instants import MINUTE, Instant, format_instant, to_instant
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.domain.views import CustomerView, empty_view
from behavior_scoring.replay import replay_lines
from crm_cli.score import app
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

BJ = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=BJ)
RULES = load_rules()
LATENESS = RULES.allowed_lateness
CUSTOMERS = ("c1", "c2", "c3", "c4")
SPAN = 4 * 24 * 60
"""Behaviour, the merge and the unmerge fall within this many minutes after T0."""
KINDS = (
    "page.viewed",
    "page.viewed",
    "wecom.contact_added",
    "wecom.friend_accepted",
    "order.created",
    "order.created+cancelled",
    "order.created+cancelled",
    "order.paid",
    "product.favourited",
    "product.favourited",
    "membership.purchased",
)


def ev(event_id: str, kind: str, at: datetime | Instant, customer: str, **fields: Any) -> Event:
    """One validated event."""
    text = format_instant(at) if isinstance(at, int) else at.isoformat()
    return parse_event({"id": event_id, "type": kind, "at": text, "customer_id": customer, **fields})


def pair(kind: str, event_id: str, at: datetime | Instant, absorbed: str, survivor: str) -> Event:
    """A ``customer.merged`` or ``customer.unmerged`` of absorbed → survivor."""
    return ev(event_id, kind, at, survivor, absorbed_id=absorbed, survivor_id=survivor)


def behaviour(raw: list[tuple[int, int, int, int]]) -> list[Event]:
    """Drawn tuples (kind, minute, customer, small number) → valid behaviour events (no merges)."""
    events: list[Event] = []
    orders: list[str] = []
    for i, (kind_index, minutes, customer_index, n) in enumerate(raw):
        kind, at, customer = KINDS[kind_index], T0 + timedelta(minutes=minutes), CUSTOMERS[customer_index]
        if kind == "page.viewed":
            events.append(ev(f"e{i}", kind, at, customer, page_category="new_product" if n < 4 else "article"))
        elif kind.startswith("order.created"):
            orders.append(f"A{i}")
            events.append(ev(f"e{i}", "order.created", at, customer, order_id=f"A{i}", client_ip=f"10.0.0.{n % 2}"))
            if kind.endswith("+cancelled"):
                events.append(ev(f"x{i}", "order.cancelled", at + timedelta(minutes=n), customer, order_id=f"A{i}"))
        elif kind == "order.paid" and orders:
            events.append(ev(f"e{i}", kind, at, customer, order_id=orders[-1 - n % len(orders)]))
        elif kind == "product.favourited":
            events.append(ev(f"e{i}", kind, at, customer, product_id=f"p{n}"))
        elif kind == "membership.purchased":
            events.append(ev(f"e{i}", kind, at, customer, valid_until=(at + timedelta(days=3 * n + 1)).isoformat()))
        elif kind.startswith("wecom."):
            events.append(ev(f"e{i}", kind, at, customer))
    assume(events)
    return events


def replayed(events: list[Event], at: Instant) -> dict[str, dict[str, Any]]:
    """Each customer's replay output line at ``at``."""
    lines = (json.dumps(event_to_dict(e)) for e in events)
    return {v.customer_id: v.to_json() for v in replay_lines(lines, rules=RULES, at=at).views}


def relabelled(events: list[Event], absorbed: str, survivor: str) -> list[Event]:
    """The events with the absorbed customer's behaviour attributed to the survivor."""
    return [e._replace(customer_id=survivor) if e.customer_id == absorbed else e for e in events]


def empty(customer_id: str) -> dict[str, Any]:
    """A replay line with no tags and no pools."""
    return empty_view(customer_id, 0).to_json()


def shown(view: CustomerView | None, customer_id: str) -> tuple[object, ...]:
    """What a ``score_changed`` reports as changed: score, tier, tag and pool names, merge."""
    view = view or empty_view(customer_id, 0)
    return (view.score, view.risk_tier, [t.name for t in view.tags], view.pool_names(), view.merged_into)


raw_event = st.tuples(
    st.integers(0, len(KINDS) - 1), st.integers(0, SPAN), st.integers(0, len(CUSTOMERS) - 1), st.integers(0, 5)
)
customer_pair = st.lists(st.sampled_from(CUSTOMERS), min_size=2, max_size=2, unique=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(raw_event, min_size=1, max_size=40),
    customer_pair,
    st.integers(0, SPAN),
    st.integers(1, SPAN),
    st.integers(-SPAN, 2 * SPAN),
)
def test_merge_then_unmerge_gives_each_customer_the_state_it_would_have_had(
    raw: list[tuple[int, int, int, int]], customers: list[str], merge_minute: int, merged_for: int, minute: int
) -> None:
    events = behaviour(raw)
    absorbed, survivor = customers
    merged_at = to_instant(T0) + merge_minute * MINUTE
    unmerged_at = merged_at + merged_for * MINUTE
    at = to_instant(T0) + minute * MINUTE
    log = [*events, pair("customer.merged", "m", merged_at, absorbed, survivor)]
    log.append(pair("customer.unmerged", "u", unmerged_at, absorbed, survivor))
    actual = replayed(log, at)
    while_merged = merged_at <= at < unmerged_at
    expected = replayed(relabelled(events, absorbed, survivor) if while_merged else events, at)
    assert set(expected) <= set(actual)
    assert actual == {c: expected.get(c, empty(c)) for c in actual}
    if while_merged:
        assert absorbed not in actual and survivor in actual


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(raw_event, min_size=1, max_size=40),
    customer_pair,
    st.integers(0, SPAN),
    st.integers(1, SPAN),
    st.lists(st.integers(0, LATENESS), min_size=1, max_size=20),
)
def test_live_unmerge_publishes_both_customers_and_ends_where_no_merge_would(
    raw: list[tuple[int, int, int, int]],
    customers: list[str],
    merge_minute: int,
    merged_for: int,
    delays: list[int],
) -> None:
    events = behaviour(raw)
    absorbed, survivor = customers
    merged_at = to_instant(T0) + merge_minute * MINUTE
    merge = pair("customer.merged", "m", merged_at, absorbed, survivor)
    unmerge = pair("customer.unmerged", "u", merged_at + merged_for * MINUTE, absorbed, survivor)
    log = [*events, merge, unmerge]
    arrivals = sorted((e.at + delays[i % len(delays)], i, e) for i, e in enumerate(log))
    engine = Engine(RULES)
    for arrived, _, event in arrivals:
        now = max(arrived, engine.watermark or arrived)
        if event is not unmerge:
            engine.apply(event, now=now)
            continue
        engine.advance(now)
        before = {c: shown(engine.published.get(c), c) for c in customers}
        diffs = {d.customer_id: d for d in engine.apply(event, now=now)}
        assert {d.trigger for d in diffs.values()} <= {"u"}
        for customer in customers:
            assert (customer in diffs) == (before[customer] != shown(engine.published.get(customer), customer))
        for diff in diffs.values():
            assert diff.after.merged_into is None
            assert all((c.reason, c.event_ids) == ("unmerged", ("u",)) for c in diff.tags_removed + diff.pools_removed)
    end = max(arrived for arrived, _, _ in arrivals) + 3 * 24 * 60 * MINUTE
    engine.advance(end)
    expected = replayed(events, end)
    assert {c: engine.published[c].to_json() for c in expected} == expected
    for customer in customers:
        assert engine.published[customer].to_json() == expected.get(customer, empty(customer))


# ---- examples


def views(customer: str, *hours: int) -> list[Event]:
    """New-product page views by ``customer`` at T0 + each hour."""
    return [
        ev(f"{customer}-v{h}", "page.viewed", T0 + timedelta(hours=h), customer, page_category="new_product")
        for h in hours
    ]


def test_behaviour_arriving_while_merged_goes_back_to_its_own_customer() -> None:
    events = [
        *views("c1", 0),
        *views("c2", 1),
        pair("customer.merged", "m", T0 + timedelta(hours=2), "c2", "c1"),
        *views("c2", 3),
        pair("customer.unmerged", "u", T0 + timedelta(hours=4), "c2", "c1"),
    ]
    during = replayed(events, to_instant(T0 + timedelta(hours=3)))
    assert set(during) == {"c1"} and during["c1"]["tags"][0]["because"] == ["c2-v1", "c2-v3"]
    after = replayed(events, to_instant(T0 + timedelta(hours=4)))
    assert after["c1"]["score"] == 0
    assert after["c2"]["score"] == 15 and after["c2"]["tags"][0]["because"] == ["c2-v1", "c2-v3"]


def test_unmerging_a_chain_one_link_at_a_time() -> None:
    events = [
        *views("c1", 0),
        *views("c2", 1),
        *views("c3", 2),
        pair("customer.merged", "m1", T0 + timedelta(hours=3), "c3", "c2"),
        pair("customer.merged", "m2", T0 + timedelta(hours=4), "c2", "c1"),
        pair("customer.unmerged", "u2", T0 + timedelta(hours=5), "c2", "c1"),
        pair("customer.unmerged", "u1", T0 + timedelta(hours=6), "c3", "c2"),
    ]
    chained = replayed(events, to_instant(T0 + timedelta(hours=4)))
    assert set(chained) == {"c1"} and chained["c1"]["tags"][0]["because"] == ["c2-v1", "c3-v2"]
    first = replayed(events, to_instant(T0 + timedelta(hours=5)))
    assert (first["c1"]["score"], first["c2"]["score"], set(first)) == (0, 15, {"c1", "c2"})
    second = replayed(events, to_instant(T0 + timedelta(hours=6)))
    assert [second[c]["score"] for c in ("c1", "c2", "c3")] == [0, 0, 0]


def test_an_unmerge_of_a_pair_never_merged_changes_nothing() -> None:
    events = [*views("c1", 0, 1), pair("customer.unmerged", "u", T0 + timedelta(hours=2), "c2", "c1")]
    at = to_instant(T0 + timedelta(hours=3))
    assert replayed(events, at) == {"c1": replayed(events[:2], at)["c1"], "c2": empty("c2")}


def test_live_unmerge_diffs_name_the_unmerge_and_restore_the_absorbed() -> None:
    engine = Engine(RULES)
    for event in [*views("c1", 0), *views("c2", 1), *views("c2", 2)]:
        engine.apply(event, now=event.at)
    merged_at, unmerged_at = T0 + timedelta(hours=3), T0 + timedelta(hours=4)
    merge = {d.customer_id: d for d in engine.apply(pair("customer.merged", "m", merged_at, "c2", "c1"), now=merged_at)}
    assert merge["c2"].after.merged_into == "c1" and merge["c2"].tags_removed[0].reason == "merged"
    assert merge["c1"].after.score == 15 and merge["c1"].trigger == "m"
    split = engine.apply(pair("customer.unmerged", "u", unmerged_at, "c2", "c1"), now=unmerged_at)
    diffs = {d.customer_id: d for d in split}
    [removed] = diffs["c1"].tags_removed
    assert (diffs["c1"].after.score, removed.reason, removed.event_ids) == (0, "unmerged", ("u",))
    [added] = diffs["c2"].tags_added
    assert diffs["c2"].after.merged_into is None and diffs["c2"].trigger == "u"
    assert (added.name, added.event_ids, diffs["c2"].after.score) == ("new_product_interest", ("c2-v1", "c2-v2"), 15)
    restored = Engine.restore(RULES, json.loads(json.dumps(engine.snapshot())))
    later = T0 + timedelta(hours=80)
    assert [v.to_json() for v in restored.views(later)] == [v.to_json() for v in engine.views(later)]


def test_cli_replay_of_a_merged_and_unmerged_log(tmp_path: Path) -> None:
    log = [
        *views("c1", 0),
        *views("c2", 1),
        pair("customer.merged", "m", T0 + timedelta(hours=2), "c2", "c1"),
        pair("customer.unmerged", "u", T0 + timedelta(hours=4), "c2", "c1"),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(event_to_dict(e)) + "\n" for e in log))

    def run(at: datetime) -> list[dict[str, Any]]:
        result = CliRunner().invoke(app, ["replay", str(path), "--at", at.isoformat(), "--quiet"])
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    [merged] = run(T0 + timedelta(hours=3))
    assert (merged["customer_id"], merged["score"]) == ("c1", 15)
    assert merged["tags"][0]["because"] == ["c1-v0", "c2-v1"]
    assert run(T0 + timedelta(hours=4)) == [empty("c1"), empty("c2")]
