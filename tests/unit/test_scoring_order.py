"""Arrival order does not matter: any permutation within the lateness (indeed any at all) gives the
same state at T, the live path (apply/advance with a clock) gives the replay's state, and a restart
from persisted state mid-stream changes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from behavior_scoring.domain.engine import Engine
from behavior_scoring.domain.events import Event, event_to_dict, parse_event
from behavior_scoring.domain.instants import MINUTE, Instant, to_instant
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.replay import replay_lines
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

BJ = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=BJ)
RULES = load_rules()
LATENESS = RULES.allowed_lateness
CUSTOMERS = ("c1", "c2", "c3", "c4")
KINDS = (
    "page.viewed",
    "page.viewed",
    "wecom.contact_added",
    "wecom.friend_accepted",
    "order.created",
    "order.created+cancelled",
    "order.created+cancelled",
    "order.paid",
    "order.cancelled",
    "product.favourited",
    "product.favourited",
    "product.favourited",
    "membership.purchased",
    "customer.merged",
    "customer.unmerged",
)

# (kind index, minutes after T0, customer index, a small number for the kind's field)
raw_event = st.tuples(
    st.integers(0, len(KINDS) - 1),
    st.integers(0, 4 * 24 * 60),
    st.integers(0, len(CUSTOMERS) - 1),
    st.integers(0, 5),
)


def record(event_id: str, kind: str, at: datetime, customer: str, **fields: Any) -> Event:
    """One validated event."""
    return parse_event({"id": event_id, "type": kind, "at": at.isoformat(), "customer_id": customer, **fields})


def build(raw: list[tuple[int, int, int, int]]) -> list[Event]:
    """Turn drawn tuples into a valid event list (orders referenced by paid/cancelled exist)."""
    events: list[Event] = []
    orders: list[str] = []
    for i, (kind_index, minutes, customer_index, n) in enumerate(raw):
        kind = KINDS[kind_index]
        at = T0 + timedelta(minutes=minutes)
        customer = CUSTOMERS[customer_index]
        if kind == "page.viewed":
            events.append(record(f"e{i}", kind, at, customer, page_category="new_product" if n < 4 else "article"))
        elif kind.startswith("order.created"):
            orders.append(f"A{i}")
            events.append(record(f"e{i}", "order.created", at, customer, order_id=f"A{i}", client_ip=f"10.0.0.{n % 2}"))
            if kind.endswith("+cancelled"):
                events.append(record(f"x{i}", "order.cancelled", at + timedelta(minutes=n), customer, order_id=f"A{i}"))
        elif kind in ("order.paid", "order.cancelled") and orders:
            events.append(record(f"e{i}", kind, at, customer, order_id=orders[-1 - n % len(orders)]))
        elif kind == "product.favourited":
            events.append(record(f"e{i}", kind, at, customer, product_id=f"p{n}"))
        elif kind == "membership.purchased":
            events.append(record(f"e{i}", kind, at, customer, valid_until=(at + timedelta(days=3 * n + 1)).isoformat()))
        elif kind.startswith("customer."):
            other = CUSTOMERS[(customer_index + 1 + n % 3) % len(CUSTOMERS)]
            events.append(record(f"e{i}", kind, at, customer, absorbed_id=other, survivor_id=customer))
        elif kind.startswith("wecom."):
            events.append(record(f"e{i}", kind, at, customer))
    assume(events)
    return events


def lines(events: list[Event]) -> list[str]:
    """JSONL for the replay."""
    return [json.dumps(event_to_dict(e)) for e in events]


def replay_state(events: list[Event], at: Instant) -> list[dict[str, Any]]:
    """Replay output at ``at`` as dicts."""
    return [v.to_json() for v in replay_lines(lines(events), rules=RULES, at=at).views]


def arrival_order(events: list[Event], delays: list[int]) -> list[tuple[Instant, Event]]:
    """Each event arrives its delay (≤ the lateness) after its own time; sorted by arrival."""
    arrivals = [(e.at + delays[i % len(delays)], i, e) for i, e in enumerate(events)]
    return [(arrived, e) for arrived, _, e in sorted(arrivals)]


delays_within_lateness = st.lists(st.integers(0, LATENESS), min_size=1, max_size=40)
horizon = st.integers(0, 8 * 24 * 60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_event, min_size=1, max_size=40), delays_within_lateness, horizon)
def test_any_permutation_within_the_lateness_gives_the_time_ordered_state(
    raw: list[tuple[int, int, int, int]], delays: list[int], minutes: int
) -> None:
    events = build(raw)
    at = to_instant(T0) + minutes * MINUTE
    shuffled = [e for _, e in arrival_order(events, delays)]
    assert replay_state(shuffled, at) == replay_state(sorted(events), at)
    result = replay_lines(lines(shuffled), rules=RULES, at=at)
    assert result.stats.late == 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_event, min_size=1, max_size=40), st.randoms(use_true_random=False), horizon)
def test_even_arbitrary_order_gives_the_same_state_late_events_are_only_counted(
    raw: list[tuple[int, int, int, int]], rnd: Any, minutes: int
) -> None:
    events = build(raw)
    at = to_instant(T0) + minutes * MINUTE
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert replay_state(shuffled, at) == replay_state(sorted(events), at)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_event, min_size=1, max_size=40), delays_within_lateness, st.integers(0, 40))
def test_live_path_with_a_clock_and_a_restart_equals_the_replay(
    raw: list[tuple[int, int, int, int]], delays: list[int], restart_after: int
) -> None:
    events = build(raw)
    arrivals = arrival_order(events, delays)
    end = max(arrived for arrived, _ in arrivals) + 3 * 24 * 60 * MINUTE
    engine = Engine(RULES)
    clock = 0
    for n, (arrived, event) in enumerate(arrivals):
        if n == restart_after:
            snapshot = json.loads(json.dumps(engine.snapshot()))
            engine = Engine.restore(RULES, snapshot)
        clock = max(clock, arrived)
        for diff in engine.apply(event, now=clock):
            assert diff.changed
    engine.advance(end)
    expected = replay_state(events, end)
    published = [engine.published[line["customer_id"]].to_json() for line in expected]
    assert published == expected
    # whoever is published but not in the replay has been merged away
    listed = {line["customer_id"] for line in expected}
    assert all(v.merged_into is not None for c, v in engine.published.items() if c not in listed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_event, min_size=1, max_size=30), st.integers(1, 10 * 24 * 60))
def test_the_next_due_time_is_where_the_state_next_changes(raw: list[tuple[int, int, int, int]], minutes: int) -> None:
    events = build(raw)
    at = max(e.at for e in events)
    engine = Engine(RULES)
    for e in sorted(events):
        engine.apply(e, now=max(e.at, engine.watermark or e.at))
    engine.advance(at)
    stop = at + minutes * MINUTE
    # stepping through next_due must reach every change the views show between `at` and `stop`
    while (due := engine.next_due()) is not None and due <= stop:
        before = {c: v.to_json() for c, v in engine.published.items()}
        engine.advance(due)
        for customer, view in engine.published.items():
            if view.merged_into is None and view.at < due:
                assert engine.view(customer, due - 1).to_json() == before[customer]
    for customer, view in engine.published.items():
        if view.merged_into is None:
            assert engine.view(customer, stop).to_json() == view.to_json()
