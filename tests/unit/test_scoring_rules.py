"""behavior-scoring's default rules through the replay: every rule, its edges and its expiry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from behavior_scoring.domain.instants import to_instant
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.replay import replay_lines

BJ = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=BJ)
US = timedelta(microseconds=1)
RULES = load_rules()


def ev(event_id: str, kind: str, at: datetime, customer: str, **fields: Any) -> dict[str, Any]:
    """One input record."""
    return {"id": event_id, "type": kind, "at": at.isoformat(), "customer_id": customer, **fields}


def state(events: list[dict[str, Any]], at: datetime) -> dict[str, dict[str, Any]]:
    """Replay ``events`` in the given order; each customer's output line at ``at``."""
    result = replay_lines((json.dumps(e) for e in events), rules=RULES, at=at)
    return {v["customer_id"]: v for v in (json.loads(line) for line in result.lines())}


def tags(events: list[dict[str, Any]], at: datetime, customer: str = "c1") -> dict[str, dict[str, Any]]:
    """The customer's tags at ``at`` by name."""
    return {t["tag"]: t for t in state(events, at)[customer]["tags"]}


def z(at: datetime) -> str:
    """RFC 3339 UTC text, as the replay prints instants."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---- new_product_interest: two new-product views within 3 days, +15, 72 h after the latest


def views(*offsets: timedelta, category: str = "new_product") -> list[dict[str, Any]]:
    """Page views by c1 at T0 + each offset."""
    return [ev(f"v{i}", "page.viewed", T0 + o, "c1", page_category=category) for i, o in enumerate(offsets)]


def test_two_new_product_views_within_3_days_set_the_tag_with_its_evidence() -> None:
    events = views(timedelta(0), timedelta(days=2))
    line = state(events, T0 + timedelta(days=2))["c1"]
    assert line["score"] == 15 and line["risk_tier"] == "L1" and line["pools"] == []
    assert line["tags"] == [
        {
            "tag": "new_product_interest",
            "set_at": z(T0 + timedelta(days=2)),
            "expires_at": z(T0 + timedelta(days=5)),
            "because": ["v0", "v1"],
        }
    ]


def test_one_view_or_other_pages_do_not_count() -> None:
    assert state(views(timedelta(0)), T0)["c1"]["score"] == 0
    assert (
        state(views(timedelta(0), timedelta(hours=1), category="promotion"), T0 + timedelta(hours=1))["c1"]["tags"]
        == []
    )


def test_the_window_is_half_open_three_days_apart_is_too_far() -> None:
    assert tags(views(timedelta(0), timedelta(days=3)), T0 + timedelta(days=3)) == {}
    assert "new_product_interest" in tags(views(timedelta(0), timedelta(days=3) - US), T0 + timedelta(days=3))


def test_the_tag_expires_exactly_72_hours_after_the_latest_view() -> None:
    events = views(timedelta(0), timedelta(hours=5))
    expiry = T0 + timedelta(hours=5 + 72)
    assert state(events, expiry - US)["c1"]["score"] == 15
    assert state(events, expiry)["c1"] == {
        "customer_id": "c1",
        "score": 0,
        "risk_tier": "L1",
        "pools": [],
        "tags": [],
    }


def test_a_later_view_refreshes_the_tag_instead_of_stacking() -> None:
    events = views(timedelta(0), timedelta(days=1), timedelta(days=2))
    line = state(events, T0 + timedelta(days=2))["c1"]
    assert line["score"] == 15
    assert line["tags"][0]["set_at"] == z(T0 + timedelta(days=2))
    assert line["tags"][0]["because"] == ["v1", "v2"]


# ---- wecom_friend_ignored: added, not accepted within 72 h → −20 at added + 72 h


def wecom(*accepted_after: timedelta) -> list[dict[str, Any]]:
    """c1 added on WeCom at T0, accepted at T0 + each offset."""
    out = [ev("add", "wecom.contact_added", T0, "c1")]
    out += [ev(f"ok{i}", "wecom.friend_accepted", T0 + d, "c1") for i, d in enumerate(accepted_after)]
    return out


def test_absence_fires_exactly_at_added_plus_72_hours() -> None:
    fires = T0 + timedelta(hours=72)
    assert state(wecom(), fires - US)["c1"]["score"] == 0
    line = state(wecom(), fires)["c1"]
    assert line["score"] == -20
    assert line["tags"] == [
        {
            "tag": "wecom_friend_ignored",
            "set_at": z(fires),
            "expires_at": z(fires + timedelta(hours=72)),
            "because": ["add"],
        }
    ]
    assert state(wecom(), fires + timedelta(hours=72))["c1"]["score"] == 0


def test_acceptance_within_72_hours_means_no_tag() -> None:
    assert state(wecom(timedelta(hours=10)), T0 + timedelta(hours=100))["c1"]["tags"] == []


def test_a_later_acceptance_clears_the_tag() -> None:
    events = wecom(timedelta(hours=80))
    assert state(events, T0 + timedelta(hours=80) - US)["c1"]["score"] == -20
    assert state(events, T0 + timedelta(hours=80))["c1"]["score"] == 0


def test_acceptance_exactly_at_the_deadline_leaves_no_tag() -> None:
    assert state(wecom(timedelta(hours=72)), T0 + timedelta(hours=72))["c1"]["score"] == 0


# ---- risk_l4: 3 orders from one client_ip within 7 days, all cancelled → every customer L4, 30 days


def ip_orders(
    customers: tuple[str, ...] = ("c1", "c2", "c3"),
    cancelled: tuple[bool, ...] = (True, True, True),
    spacing: timedelta = timedelta(hours=1),
    ips: tuple[str, ...] = ("10.0.0.1", "10.0.0.1", "10.0.0.1"),
) -> list[dict[str, Any]]:
    """One order per customer from the given IPs, cancelled 5 minutes later where asked."""
    out = []
    for i, customer in enumerate(customers):
        at = T0 + i * spacing
        out.append(ev(f"o{i}", "order.created", at, customer, order_id=f"A{i}", client_ip=ips[i], amount_fen=990))
        if cancelled[i]:
            out.append(ev(f"x{i}", "order.cancelled", at + timedelta(minutes=5), customer, order_id=f"A{i}"))
    return out


def test_three_cancelled_orders_from_one_ip_put_every_customer_at_l4() -> None:
    events = ip_orders()
    last_cancel = T0 + timedelta(hours=2, minutes=5)
    lines = state(events, last_cancel)
    for customer in ("c1", "c2", "c3"):
        line = lines[customer]
        assert line["risk_tier"] == "L4" and line["score"] == 0
        assert line["tags"] == [
            {
                "tag": "risk_l4",
                "set_at": z(last_cancel),
                "expires_at": z(last_cancel + timedelta(days=30)),
                "because": ["o0", "x0", "o1", "x1", "o2", "x2"],
            }
        ]
    assert all(v["risk_tier"] == "L1" for v in state(events, last_cancel - US).values())
    assert all(v["risk_tier"] == "L1" for v in state(events, last_cancel + timedelta(days=30)).values())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cancelled": (True, True, False)},
        {"spacing": timedelta(days=3, hours=12)},
        {"ips": ("10.0.0.1", "10.0.0.1", "10.0.0.2")},
    ],
    ids=["one-not-cancelled", "spread-over-more-than-7-days", "two-ips"],
)
def test_risk_l4_needs_all_three_cancelled_on_one_ip_within_7_days(kwargs: dict[str, Any]) -> None:
    lines = state(ip_orders(**kwargs), T0 + timedelta(days=8))
    assert {v["risk_tier"] for v in lines.values()} == {"L1"}


def test_risk_l4_when_cancellations_arrive_before_their_orders() -> None:
    events = ip_orders()
    cancels = [e for e in events if e["type"] == "order.cancelled"]
    creates = [e for e in events if e["type"] == "order.created"]
    lines = state(cancels + creates, T0 + timedelta(hours=3))
    assert {v["risk_tier"] for v in lines.values()} == {"L4"}


# ---- pool instant_conversion: order 21:00–02:00 Beijing time, not paid within 30 min; until paid, ≤ 72 h


def night_order(
    hour: int, minute: int = 0, paid_after: timedelta | None = None
) -> tuple[list[dict[str, Any]], datetime]:
    """c1 orders at hour:minute Beijing time on 2026-11-23, paid after ``paid_after`` if given."""
    at = datetime(2026, 11, 23, hour, minute, tzinfo=BJ)
    events = [ev("o", "order.created", at, "c1", order_id="N1", client_ip="10.1.1.1")]
    if paid_after is not None:
        events.append(ev("p", "order.paid", at + paid_after, "c1", order_id="N1"))
    return events, at


def test_unpaid_night_order_enters_instant_conversion_at_30_minutes_for_at_most_72_hours() -> None:
    events, at = night_order(22)
    enters = at + timedelta(minutes=30)
    assert state(events, enters - US)["c1"]["pools"] == []
    assert state(events, enters)["c1"]["pools"] == ["instant_conversion"]
    assert state(events, enters + timedelta(hours=72) - US)["c1"]["pools"] == ["instant_conversion"]
    assert state(events, enters + timedelta(hours=72))["c1"]["pools"] == []


def test_paid_within_30_minutes_never_enters_and_paid_later_leaves() -> None:
    events, at = night_order(23, paid_after=timedelta(minutes=20))
    assert state(events, at + timedelta(hours=1))["c1"]["pools"] == []
    events, at = night_order(23, paid_after=timedelta(hours=2))
    assert state(events, at + timedelta(hours=2) - US)["c1"]["pools"] == ["instant_conversion"]
    assert state(events, at + timedelta(hours=2))["c1"]["pools"] == []


@pytest.mark.parametrize(
    ("hour", "minute", "inside"),
    [(20, 59, False), (21, 0, True), (23, 59, True), (0, 30, True), (1, 59, True), (2, 0, False), (12, 0, False)],
)
def test_instant_conversion_window_is_21_to_02_beijing_time(hour: int, minute: int, inside: bool) -> None:
    events, at = night_order(hour, minute)
    pools = state(events, at + timedelta(hours=1))["c1"]["pools"]
    assert (pools == ["instant_conversion"]) is inside


# ---- pool long_term_nurture: ≥ 3 distinct products favourited within 30 days, no order in those 30 days


def favourites(*products: str, gap: timedelta = timedelta(days=1)) -> list[dict[str, Any]]:
    """c1 favourites each product, one per ``gap`` from T0."""
    return [ev(f"f{i}", "product.favourited", T0 + i * gap, "c1", product_id=p) for i, p in enumerate(products)]


def test_three_distinct_favourites_without_orders_is_long_term_nurture_while_true() -> None:
    events = favourites("p1", "p2", "p3")
    third = T0 + timedelta(days=2)
    assert state(events, third - US)["c1"]["pools"] == []
    assert state(events, third)["c1"]["pools"] == ["long_term_nurture"]
    # the first favourite leaves the 30-day window at T0 + 30d: only two remain
    assert state(events, T0 + timedelta(days=30) - US)["c1"]["pools"] == ["long_term_nurture"]
    assert state(events, T0 + timedelta(days=30))["c1"]["pools"] == []


def test_the_same_product_three_times_is_not_three_products() -> None:
    assert state(favourites("p1", "p1", "p1"), T0 + timedelta(days=3))["c1"]["pools"] == []


def test_an_order_in_the_30_days_blocks_long_term_nurture_until_it_ages_out() -> None:
    order = ev("o", "order.created", T0 - timedelta(days=1), "c1", order_id="Q")
    events = [*favourites("p1", "p2", "p3", gap=timedelta(days=5)), order]
    assert state(events, T0 + timedelta(days=10))["c1"]["pools"] == []
    assert state(events, T0 + timedelta(days=29) - US)["c1"]["pools"] == []
    assert state(events, T0 + timedelta(days=29))["c1"]["pools"] == ["long_term_nurture"]


# ---- pool value_harvest: membership valid_until 15 days away or less and not renewed


def membership(valid_until: datetime, at: datetime = T0, event_id: str = "m1") -> dict[str, Any]:
    """c1 buys a membership at ``at``."""
    return ev(event_id, "membership.purchased", at, "c1", valid_until=valid_until.isoformat())


def test_membership_within_15_days_of_its_end_is_value_harvest_until_it_expires() -> None:
    until = T0 + timedelta(days=100)
    events = [membership(until)]
    assert state(events, until - timedelta(days=15) - US)["c1"]["pools"] == []
    assert state(events, until - timedelta(days=15))["c1"]["pools"] == ["value_harvest"]
    assert state(events, until - US)["c1"]["pools"] == ["value_harvest"]
    assert state(events, until)["c1"]["pools"] == []


def test_a_renewal_takes_the_customer_out_of_value_harvest() -> None:
    until = T0 + timedelta(days=100)
    renewed_at = until - timedelta(days=5)
    events = [membership(until), membership(until + timedelta(days=365), renewed_at, "m2")]
    assert state(events, renewed_at - US)["c1"]["pools"] == ["value_harvest"]
    assert state(events, renewed_at)["c1"]["pools"] == []


def test_a_short_membership_is_value_harvest_from_purchase() -> None:
    events = [membership(T0 + timedelta(days=10))]
    assert state(events, T0)["c1"]["pools"] == ["value_harvest"]


def test_a_customer_can_be_in_several_pools() -> None:
    events = [*favourites("p1", "p2", "p3", gap=timedelta(hours=1)), membership(T0 + timedelta(days=10))]
    assert state(events, T0 + timedelta(hours=2))["c1"]["pools"] == ["long_term_nurture", "value_harvest"]


# ---- merges and unmerges


def merge(at: datetime, absorbed: str = "c2", survivor: str = "c1", kind: str = "customer.merged") -> dict[str, Any]:
    """absorbed → survivor at ``at``."""
    return ev(f"{kind}-{absorbed}-{at.isoformat()}", kind, at, survivor, absorbed_id=absorbed, survivor_id=survivor)


def test_merge_recomputes_the_survivor_from_both_customers_behaviour() -> None:
    events = [
        ev("v1", "page.viewed", T0, "c1", page_category="new_product"),
        ev("v2", "page.viewed", T0 + timedelta(hours=3), "c2", page_category="new_product"),
        merge(T0 + timedelta(hours=5)),
    ]
    before = state(events, T0 + timedelta(hours=4))
    assert before["c1"]["score"] == 0 and before["c2"]["score"] == 0
    after = state(events, T0 + timedelta(hours=5))
    assert set(after) == {"c1"}
    assert after["c1"]["tags"][0]["because"] == ["v1", "v2"]
    assert after["c1"]["tags"][0]["set_at"] == z(T0 + timedelta(hours=3))


def test_events_of_the_absorbed_customer_after_the_merge_count_for_the_survivor() -> None:
    events = [
        merge(T0),
        ev("add", "wecom.contact_added", T0 + timedelta(hours=1), "c2"),
    ]
    assert state(events, T0 + timedelta(hours=73))["c1"]["score"] == -20


def test_unmerge_splits_the_behaviour_back() -> None:
    events = [
        ev("v1", "page.viewed", T0, "c1", page_category="new_product"),
        ev("v2", "page.viewed", T0 + timedelta(hours=1), "c2", page_category="new_product"),
        merge(T0 + timedelta(hours=2)),
        merge(T0 + timedelta(hours=4), kind="customer.unmerged"),
    ]
    assert state(events, T0 + timedelta(hours=3))["c1"]["score"] == 15
    after = state(events, T0 + timedelta(hours=4))
    assert after["c1"]["score"] == 0 and after["c2"]["score"] == 0


def test_merge_chains_collect_everyone() -> None:
    events = [
        ev("v1", "page.viewed", T0, "c3", page_category="new_product"),
        ev("v2", "page.viewed", T0 + timedelta(hours=1), "c2", page_category="new_product"),
        merge(T0 + timedelta(hours=2), absorbed="c3", survivor="c2"),
        merge(T0 + timedelta(hours=3), absorbed="c2", survivor="c1"),
    ]
    after = state(events, T0 + timedelta(hours=3))
    assert set(after) == {"c1"} and after["c1"]["score"] == 15


def test_rules_before_effective_from_do_not_fire() -> None:
    early = datetime(2025, 6, 1, 10, 0, tzinfo=BJ)
    events = [
        ev("v1", "page.viewed", early, "c1", page_category="new_product"),
        ev("v2", "page.viewed", early + timedelta(hours=1), "c1", page_category="new_product"),
    ]
    assert state(events, early + timedelta(hours=2))["c1"]["tags"] == []


def test_state_at_t_ignores_events_after_t() -> None:
    events = [
        *views(timedelta(0), timedelta(hours=2)),
        ev("late-customer", "page.viewed", T0 + timedelta(days=1), "c9"),
    ]
    result = replay_lines((json.dumps(e) for e in events), rules=RULES, at=T0 + timedelta(hours=1))
    assert [v.customer_id for v in result.views] == ["c1"]
    assert result.views[0].score == 0 and result.stats.after_at == 2
    assert to_instant(T0 + timedelta(hours=1)) == result.at


def test_a_merge_that_would_make_a_cycle_is_ignored() -> None:
    events = [
        ev("v1", "page.viewed", T0, "c1", page_category="new_product"),
        ev("v2", "page.viewed", T0 + timedelta(hours=1), "c3", page_category="new_product"),
        merge(T0 + timedelta(hours=2), absorbed="c2", survivor="c1"),
        merge(T0 + timedelta(hours=3), absorbed="c3", survivor="c2"),
        merge(T0 + timedelta(hours=4), absorbed="c2", survivor="c3"),
    ]
    after = state(events, T0 + timedelta(hours=5))
    assert set(after) == {"c1"} and after["c1"]["score"] == 15
