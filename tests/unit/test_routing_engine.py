"""The pure routing engine: conditions, strategies, capacity, hours, owner first, fallback, imputation, trace."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from lead_router.domain.engine import Decision, RoutingState, decide
from lead_router.domain.impute import StaticIpLocator, resolve
from lead_router.domain.lead import LeadInput
from lead_router.domain.roster import Roster, roster_from_mapping
from lead_router.domain.rules_yaml import parse_rules

CST = timezone(timedelta(hours=8))
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=CST)
ROSTER = roster_from_mapping(
    {
        "teams": {"east": {"lead": "lead"}},
        "reps": [
            {"id": "a", "team": "east", "capacity": 2, "skills": ["骨科"]},
            {"id": "b", "team": "east", "capacity": 2},
            {"id": "c", "team": "east", "capacity": 2, "status": "on_leave"},
            {"id": "lead", "team": "east", "capacity": 1},
        ],
    }
)


def one_rule(target: str, match: str = "{}", extra: str = "", roster: Roster = ROSTER) -> Any:
    """A rule set with one rule."""
    text = f"rules:\n  - name: r\n    match: {match}\n    target: {target}\n{extra}"
    return parse_rules(text, roster=roster).rules


def go(
    rules: Any,
    lead: LeadInput | None = None,
    *,
    loads: dict[str, int] | None = None,
    cursor: int = 0,
    now: datetime = MONDAY_10,
) -> Decision:
    """Decide one lead."""
    state = RoutingState(loads=loads or {}, cursors={"r": cursor})
    return decide(lead or LeadInput("L"), rules=rules, roster=ROSTER, state=state, now=now)


def test_round_robin_rotates_and_skips_the_rep_on_leave_and_the_team_lead() -> None:
    rules = one_rule("{team: east}")
    cursor, picks = 0, []
    for _ in range(4):
        decision = go(rules, cursor=cursor)
        assert decision.cursor is not None
        cursor = decision.cursor[1]
        picks.append(decision.assignee)
    assert picks == ["a", "b", "a", "b"]
    skipped = go(rules, cursor=2).trace_dict()["candidates"]
    assert skipped[0] == {"rep": "c", "step": "preferred", "skipped": "rep_on_leave"}


def test_least_loaded_takes_the_rep_with_fewest_open_leads() -> None:
    assert go(one_rule("{team: east, strategy: least_loaded}"), loads={"a": 1}).assignee == "b"


def test_weighted_spreads_by_weight() -> None:
    rules = one_rule("{team: east, strategy: weighted, weights: {a: 3, b: 1}}")
    cursor, picks = 0, Counter[str]()
    for _ in range(8):
        decision = go(rules, cursor=cursor)
        assert decision.cursor is not None and decision.assignee
        cursor = decision.cursor[1]
        picks[decision.assignee] += 1
    assert picks == {"a": 6, "b": 2}


def test_capacity_full_reps_are_skipped_then_the_lead_then_the_pool() -> None:
    rules = one_rule("{team: east}")
    decision = go(rules, loads={"a": 2})
    assert decision.assignee == "b"
    assert decision.trace_dict()["candidates"][0] == {
        "rep": "a",
        "step": "preferred",
        "skipped": "capacity_full",
        "detail": "2/2 open",
    }
    assert (go(rules, loads={"a": 2, "b": 2}).assignee, go(rules, loads={"a": 2, "b": 2}).step.value) == (
        "lead",
        "team_lead",
    )
    pooled = go(rules, loads={"a": 2, "b": 2, "lead": 1})
    assert (pooled.assignee, pooled.pool_reason) == (None, "capacity_full")
    assert go(one_rule("{team: east, capacity: 1}"), loads={"a": 1, "b": 1}).step.value == "team_lead"


def test_required_skills_filter_candidates() -> None:
    decision = go(one_rule("{team: east, skills: [骨科]}"), cursor=1)
    assert decision.assignee == "a"
    assert {"rep": "b", "step": "preferred", "skipped": "skill_mismatch"} in decision.trace_dict()["candidates"]


@pytest.mark.parametrize(
    ("match", "lead", "matched"),
    [
        ("{region: ['3205']}", LeadInput("L", region="苏州"), True),
        ("{region: ['3205']}", LeadInput("L", region="320400"), False),
        ("{industry: [Q]}", LeadInput("L", industry="卫生"), True),
        ("{product: [SaaS]}", LeadInput("L", product_interest="saas"), True),
        ("{source: [wecom]}", LeadInput("L", source="form"), False),
        ("{tier: [A]}", LeadInput("L", tier="a"), True),
        ("{score: {min: 60, max: 80}}", LeadInput("L", score=80), True),
        ("{score: {min: 60}}", LeadInput("L", score=59), False),
        ("{score: {min: 60}}", LeadInput("L"), False),
        ("{owned: false}", LeadInput("L", owner_id="gone"), False),
    ],
)
def test_conditions(match: str, lead: LeadInput, matched: bool) -> None:
    decision = go(one_rule("{team: east}", match), lead)
    assert decision.trace.rules[0].matched is matched
    assert (decision.pool_reason == "") is matched


def test_working_hours_in_the_rule_time_zone_and_outside_hours_reason() -> None:
    rules = one_rule(
        "{team: east}", extra="    hours: {tz: Asia/Shanghai, days: [mon, tue], from: '09:00', to: 18:00}\n"
    )
    assert go(rules).assignee == "a"
    evening = go(rules, now=MONDAY_10.replace(hour=19))
    assert (evening.assignee, evening.pool_reason) == (None, "outside_hours")
    assert go(rules, now=MONDAY_10 + timedelta(days=2)).pool_reason == "outside_hours"
    overnight = one_rule("{team: east}", extra="    hours: {days: [mon], from: '22:00', to: '06:00'}\n")
    assert go(overnight, now=MONDAY_10.replace(hour=23)).assignee == "a"
    assert go(overnight, now=MONDAY_10 + timedelta(hours=18)).assignee == "a"  # Tue 04:00


def test_effective_window_is_inclusive_local_days() -> None:
    rules = one_rule("{team: east}", extra="    effective_from: 2026-11-23\n    effective_until: 2026-11-23\n")
    assert go(rules, now=datetime(2026, 11, 22, 16, 0, tzinfo=UTC)).assignee == "a"  # 00:00 on the 23rd in CST
    assert go(rules, now=datetime(2026, 11, 22, 15, 59, tzinfo=UTC)).trace.rules[0].why_not == (
        "not_in_effect: not in effect until 2026-11-23",
    )
    assert go(rules, now=datetime(2026, 11, 23, 16, 0, tzinfo=UTC)).pool_reason == "no_rule_matched"


def test_existing_owner_first_else_owner_inactive_and_the_rules() -> None:
    rules = one_rule("{team: east}")
    owned = go(rules, LeadInput("L", owner_id="b"))
    assert (owned.assignee, owned.rule, owned.step.value) == ("b", "existing_owner", "existing_owner")
    gone = go(rules, LeadInput("L", owner_id="c"))
    assert gone.assignee == "a" and gone.reasons[0] == "owner_inactive"
    full = go(rules, LeadInput("L", owner_id="b"), loads={"b": 2})
    assert full.assignee == "a" and full.trace_dict()["owner"]["skipped"] == "capacity_full"
    nobody = go(one_rule("{team: east}", "{region: ['44']}"), LeadInput("L", owner_id="c"))
    assert (nobody.assignee, nobody.pool_reason) == (None, "owner_inactive")


def test_trace_lists_every_rule_tried_candidates_decision_and_latency() -> None:
    text = """
rules:
  - name: south
    match: {region: [广东], industry: [C]}
    target: {team: east}
  - name: east
    match: {region: [上海]}
    target: {team: east}
"""
    rules = parse_rules(text, roster=ROSTER).rules
    trace = go(rules, LeadInput("L", region="shanghai", industry="")).trace_dict()
    assert trace["rules"] == [
        {
            "rule": "south",
            "line": 3,
            "matched": False,
            "why_not": ["region 310000 not under 44", "lead has no industry"],
        },
        {"rule": "east", "line": 6, "matched": True},
    ]
    assert trace["decision"]["outcome"] == "assigned" and trace["decision"]["rule"] == "east"
    assert trace["triggered_at"] == MONDAY_10.isoformat() and trace["latency_us"] >= 0


def test_the_same_inputs_give_the_same_decision() -> None:
    rules = one_rule("{team: east, strategy: least_loaded}")
    first, second = go(rules, loads={"a": 1}, cursor=5), go(rules, loads={"a": 1}, cursor=5)
    assert (first.assignee, first.cursor, first.reasons) == (second.assignee, second.cursor, second.reasons)


def test_imputation_from_phone_address_and_ip_with_confidences() -> None:
    mobile = resolve(LeadInput("L", phone="13912345678")).used["region"]
    assert (mobile.value, mobile.confidence, mobile.source, mobile.evidence) == (
        "320400",
        0.8,
        "phone_mobile_prefix",
        "江苏省常州市",
    )
    landline = resolve(LeadInput("L", phone="021-6437 0045")).used["region"]
    assert (landline.value, landline.confidence) == ("310000", 0.95)
    address = resolve(LeadInput("L", address="浙江省杭州市西湖区文三路 1 号", phone="13912345678"))
    assert address.used["region"].value == "330100" and len(address.imputations) == 2
    ip = resolve(LeadInput("L", client_ip="58.32.1.1"))
    assert ip.used == {} and ip.notes == ("client_ip: no offline IP database configured",)
    located = resolve(LeadInput("L", client_ip="58.32.1.1"), ip_locator=StaticIpLocator({"58.32.0.0/13": "上海"}))
    assert located.used["region"].value == "310000"
    assert resolve(LeadInput("L", client_ip="10.0.0.1")).notes == ("client_ip: private or reserved address",)
    strict = resolve(LeadInput("L", phone="13912345678"), min_confidence=0.9)
    assert strict.used == {} and strict.imputations[0].used is False


def test_industry_imputation_prefers_the_surest_hint() -> None:
    both = resolve(LeadInput("L", email_domain="bosch.com", company="博世贸易有限公司"))
    assert [(i.value, i.source, i.used) for i in both.imputations] == [
        ("C", "email_domain", True),
        ("F", "company_name", False),
    ]
    assert resolve(LeadInput("L", email_domain="qq.com")).notes == ("email_domain: free mail",)
    assert resolve(LeadInput("L", email_domain="fudan.edu.cn")).used["industry"].value == "P"
