"""The seeds' five routing failures, each now routed correctly or pooled with a reason and an alarm.

000 §故障排查 (empty industry), 002 §故障排查 (region 'shanghai', renamed team),
003 §线索分配失效 (weight decay switched on by date), 001 §故障排查 (deactivated reps).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from lead_router.domain.engine import RoutingState, decide
from lead_router.domain.lead import LeadInput
from lead_router.domain.roster import Roster, roster_from_mapping
from lead_router.domain.rules_lint import lint
from lead_router.domain.rules_yaml import LoadedRules, RulesError, parse_rules
from lead_router.replay import ReplayResult, parse_events, replay

CST = timezone(timedelta(hours=8))


def roster(teams: dict[str, Any], reps: list[dict[str, Any]]) -> Roster:
    """A roster from plain data."""
    return roster_from_mapping({"teams": teams, "reps": reps})


EAST = roster(
    {"east": {"lead": "e-lead"}},
    [{"id": "e-1", "team": "east"}, {"id": "e-2", "team": "east"}, {"id": "e-lead", "team": "east"}],
)


def rules(text: str, the_roster: Roster = EAST) -> LoadedRules:
    """Rules from YAML text."""
    return parse_rules(text, roster=the_roster)


def events(*items: dict[str, Any]) -> list[Any]:
    """Replay events from dicts."""
    return parse_events(json.dumps(item, ensure_ascii=False) for item in items)


def run(loaded: LoadedRules, *items: dict[str, Any], until: datetime) -> ReplayResult:
    """Replay items and return the result, asserting the invariants held."""
    result = replay(events(*items), rules=loaded.rules, roster=loaded.roster, until=until)
    assert result.violations == []
    return result


def lead(n: int, at: datetime, **fields: Any) -> dict[str, Any]:
    """A lead.created event."""
    return {"type": "lead.created", "at": at.isoformat(), "lead_id": f"L{n}", "customer_id": f"C{n}", **fields}


T0 = datetime(2026, 2, 15, 10, 0, tzinfo=CST)

# --- 000: the industry field went empty after a form redesign ---------------------------

INDUSTRY_RULE = """
rules:
  - name: jiangsu-manufacturing
    match: {region: [江苏], industry: [制造业]}
    target: {team: east}
"""


def test_000_empty_industry_is_imputed_from_the_email_domain_with_its_confidence() -> None:
    loaded = rules(INDUSTRY_RULE)
    result = run(loaded, lead(1, T0, region="320500", industry="", email="buyer@siemens.com"), until=T0)
    line = result.leads[0].to_line()
    assert line["assignee"] in {"e-1", "e-2"} and line["rule"] == "jiangsu-manufacturing"
    assert line["imputed"] == {"industry": {"value": "C", "confidence": 0.9, "source": "email_domain"}}
    trace = result.decisions[0].trace_dict()
    assert trace["imputations"][0]["used"] is True


def test_000_a_guess_below_075_is_recorded_but_not_used_and_the_rule_raises_the_alarm() -> None:
    loaded = rules(INDUSTRY_RULE)
    items = [
        lead(n, T0 + timedelta(minutes=n), region="苏州", company="苏州云帆科技有限公司", email=f"u{n}@qq.com")
        for n in range(3)
    ]
    result = run(loaded, *items, until=T0 + timedelta(hours=1))
    assert {r.pool_reason for r in result.leads} == {"no_rule_matched"}
    trace = result.decisions[0].trace_dict()
    assert trace["imputations"] == [
        {
            "field": "industry",
            "value": "I",
            "confidence": 0.6,
            "source": "company_name",
            "evidence": "科技",
            "used": False,
        }
    ]
    assert trace["rules"][0]["why_not"] == ["lead has no industry"]
    assert [(a.kind, a.rule) for a in result.alarms] == [("rule_silent", "jiangsu-manufacturing")]


# --- 002: region stored as 'shanghai' while the rule says 上海 -----------------------------

REGION_RULE = """
rules:
  - name: shanghai
    match: {region: [上海]}
    target: {team: east}
"""


@pytest.mark.parametrize("stored", ["shanghai", "Shanghai", "上海市", "沪", "310000", "310115"])
def test_002_any_spelling_of_shanghai_routes_by_its_gbt2260_code(stored: str) -> None:
    loaded = rules(REGION_RULE)
    decision = decide(
        LeadInput("L1", region=stored), rules=loaded.rules, roster=loaded.roster, state=RoutingState(), now=T0
    )
    assert decision.assignee == "e-1" and decision.rule == "shanghai"


def test_002_a_region_nobody_can_read_pools_with_a_reason_and_the_pool_share_alarm_fires() -> None:
    loaded = rules(REGION_RULE)
    good = [lead(n, T0 + timedelta(minutes=n), region="shanghai") for n in range(16)]
    bad = [lead(100 + n, T0 + timedelta(minutes=20 + n), region="shang hai city") for n in range(4)]
    result = run(loaded, *good, *bad, until=T0 + timedelta(hours=1))
    pooled = [r for r in result.leads if r.assignee is None]
    assert {r.lead.lead_id for r in pooled} == {f"L{100 + n}" for n in range(4)}
    assert {r.pool_reason for r in pooled} == {"no_rule_matched"}
    assert [a.kind for a in result.alarms] == ["pool_share"]
    assert result.alarms[0].value == 0.2


def test_002_test_forms_pool_as_junk_with_their_reasons_and_raise_no_alarm() -> None:
    loaded = rules(REGION_RULE)
    good = [lead(n, T0 + timedelta(minutes=n), region="shanghai") for n in range(16)]
    junk = ["name is a placeholder value '测试'", "placeholder phone 13800000000"]
    tests = [lead(100 + n, T0 + timedelta(minutes=20 + n), region="shanghai", junk=junk) for n in range(4)]
    result = run(loaded, *good, *tests, until=T0 + timedelta(hours=1))
    pooled = [r for r in result.leads if r.assignee is None]
    assert {r.lead.lead_id for r in pooled} == {f"L{100 + n}" for n in range(4)}  # kept, never handed to a rep
    assert {r.pool_reason for r in pooled} == {"junk_lead"}
    assert result.alarms == []  # pooled by design: 4 of 20 is no routing gap
    notes = result.decisions[-1].trace_dict()["notes"]
    assert notes == [f"junk: {reason}" for reason in junk]


# --- 002: a team renamed in the org chart, the rule still names the old one -------------

RENAMED = roster(
    {"沪苏浙": {"lead": "hsz-lead"}, "皖赣闽": {"lead": "wgm-lead"}},
    [
        {"id": "hsz-1", "team": "沪苏浙"},
        {"id": "hsz-lead", "team": "沪苏浙"},
        {"id": "wgm-1", "team": "皖赣闽"},
        {"id": "wgm-lead", "team": "皖赣闽"},
    ],
)


def test_002_a_rule_naming_a_renamed_team_is_rejected_at_load_with_its_line() -> None:
    text = "rules:\n  - name: east\n    match: {region: [上海]}\n    target: {team: 华东}\n"
    with pytest.raises(RulesError) as caught:
        parse_rules(text, source="rules.yaml", roster=RENAMED)
    assert str(caught.value) == "rules.yaml:4: rule 'east': unknown team '华东' (roster teams: 沪苏浙, 皖赣闽)"


def test_002_a_team_renamed_at_runtime_pools_with_team_unknown_warns_and_raises_the_alarm() -> None:
    before = roster({"华东": {"lead": "hd-lead"}}, [{"id": "hd-1", "team": "华东"}, {"id": "hd-lead", "team": "华东"}])
    loaded = rules(REGION_RULE.replace("east", "华东"), before)
    rename = [
        {"type": "team.updated", "at": T0.isoformat(), "team_id": "沪苏浙", "lead": ""},
        {"type": "rep.updated", "at": T0.isoformat(), "rep_id": "hd-1", "team": "沪苏浙"},
        {"type": "rep.updated", "at": T0.isoformat(), "rep_id": "hd-lead", "team": "沪苏浙"},
        {"type": "team.updated", "at": T0.isoformat(), "team_id": "华东", "dissolved": True},
    ]
    leads = [lead(n, T0 + timedelta(minutes=1 + n), region="上海") for n in range(3)]
    result = run(loaded, *rename, *leads, until=T0 + timedelta(hours=1))
    assert {(r.assignee, r.pool_reason) for r in result.leads} == {(None, "team_unknown")}
    assert [(a.kind, a.rule) for a in result.alarms] == [("rule_silent", "shanghai")]
    after = roster({"沪苏浙": {"lead": ""}}, [{"id": "hd-1", "team": "沪苏浙"}])
    warnings = [w.message for w in lint(loaded.rules, after, T0.date())]
    assert warnings == [
        "rule 'shanghai': team '华东' is not in the roster (renamed or dissolved?): "
        "its leads go to the pool (team_unknown)"
    ]


# --- 003: weight decay switched on by a wrong date --------------------------------------

DECAY_RULE = """
rules:
  - name: kaoyan-english
    match: {product: [考研英语]}
    target:
      team: east
      strategy: weighted
      weights: {e-1: 3, e-2: 1}
      weight_decay: {effective_from: %s, factor: 0}
"""
T_003 = datetime(2026, 1, 18, 9, 23, tzinfo=CST)


def test_003_decay_dated_2026_01_01_instead_of_03_01_still_routes_and_says_weight_zero() -> None:
    loaded = parse_rules(DECAY_RULE % "2026-01-01", roster=EAST, today=T_003.date())
    assert [w.message for w in loaded.warnings] == [
        "rule 'kaoyan-english': every weight is 0 today (weight_decay since 2026-01-01): "
        "weighted falls back to round_robin (weight_zero)"
    ]
    items = [lead(n, T_003 + timedelta(minutes=n), product_interest="考研英语") for n in range(4)]
    result = run(loaded, *items, until=T_003 + timedelta(hours=1))
    assert [r.assignee for r in result.leads] == ["e-1", "e-2", "e-1", "e-2"]
    assert all("weight_zero" in d.reasons for d in result.decisions)
    assert not result.alarms


def test_003_decay_dated_correctly_leaves_the_weights_alone_until_march() -> None:
    loaded = parse_rules(DECAY_RULE % "2026-03-01", roster=EAST, today=T_003.date())
    assert loaded.warnings == ()
    items = [lead(n, T_003 + timedelta(minutes=n), product_interest="考研英语") for n in range(8)]
    result = run(loaded, *items, until=T_003 + timedelta(hours=1))
    assert sorted(r.assignee or "" for r in result.leads) == ["e-1"] * 6 + ["e-2"] * 2
    march = [lead(10 + n, datetime(2026, 3, 2, 10, n, tzinfo=CST), product_interest="考研英语") for n in range(2)]
    result = run(loaded, *march, until=datetime(2026, 3, 2, 11, tzinfo=CST))
    assert all("weight_zero" in d.reasons for d in result.decisions)


def test_003_a_rule_switched_off_by_its_own_date_warns_and_raises_the_alarm() -> None:
    text = (
        "rules:\n  - name: kaoyan\n    match: {product: [考研英语]}\n    target: {team: east}\n"
        "    effective_from: 2026-03-01\n"
    )
    loaded = parse_rules(text, roster=EAST, today=T_003.date())
    assert [w.line for w in loaded.warnings] == [2]
    assert "not in effect until 2026-03-01: cannot match today" in loaded.warnings[0].message
    items = [lead(n, T_003 + timedelta(minutes=n), product_interest="考研英语") for n in range(3)]
    result = run(loaded, *items, until=T_003 + timedelta(hours=1))
    assert {r.pool_reason for r in result.leads} == {"no_rule_matched"}
    assert [(a.kind, a.rule) for a in result.alarms] == [("rule_silent", "kaoyan")]


# --- 001: the two main reps' accounts were deactivated, no backup route ------------------

SAAS = roster(
    {"web": {"lead": "w-lead"}},
    [
        {"id": "star-1", "team": "web"},
        {"id": "star-2", "team": "web"},
        {"id": "backup-1", "team": "web"},
        {"id": "w-lead", "team": "web"},
    ],
)
STAR_RULE = """
rules:
  - name: website-signups
    match: {source: [website]}
    target: {team: web, reps: [star-1, star-2], strategy: least_loaded}
"""
T_001 = datetime(2026, 1, 14, 10, 0, tzinfo=CST)


def deactivate(rep: str, at: datetime) -> dict[str, Any]:
    """A rep.updated deactivating ``rep``."""
    return {"type": "rep.updated", "at": at.isoformat(), "rep_id": rep, "status": "deactivated"}


def test_001_deactivated_preferred_reps_fall_back_to_the_team_with_reasons() -> None:
    loaded = rules(STAR_RULE, SAAS)
    items = [
        deactivate("star-1", T_001),
        deactivate("star-2", T_001),
        lead(1, T_001 + timedelta(minutes=1), source="website"),
    ]
    result = run(loaded, *items, until=T_001 + timedelta(hours=1))
    assert result.leads[0].assignee == "backup-1"
    candidates = result.decisions[0].trace_dict()["candidates"]
    assert candidates == [
        {"rep": "star-1", "step": "preferred", "skipped": "rep_deactivated"},
        {"rep": "star-2", "step": "next_eligible", "skipped": "rep_deactivated"},
        {"rep": "backup-1", "step": "team", "chosen": True},
    ]


def test_001_then_the_team_lead_then_the_pool_and_the_alarm() -> None:
    loaded = rules(STAR_RULE, SAAS)
    off = [deactivate(r, T_001) for r in ("star-1", "star-2", "backup-1")]
    first = run(loaded, *off, lead(1, T_001 + timedelta(minutes=1), source="website"), until=T_001 + timedelta(hours=1))
    assert (first.leads[0].assignee, first.decisions[0].step.value) == ("w-lead", "team_lead")
    off.append(deactivate("w-lead", T_001))
    items = [lead(n, T_001 + timedelta(minutes=1 + n), source="website") for n in range(3)]
    result = run(loaded, *off, *items, until=T_001 + timedelta(hours=1))
    assert {(r.assignee, r.pool_reason) for r in result.leads} == {(None, "no_eligible_rep")}
    assert [(a.kind, a.rule) for a in result.alarms] == [("rule_silent", "website-signups")]
    assert lint(loaded.rules, result_roster(loaded, off), T_001.date())[0].message.endswith(
        "no active rep in its target, team or team lead: every lead it matches goes to the pool"
    )


def result_roster(loaded: LoadedRules, updates: list[dict[str, Any]]) -> Roster:
    """The roster after some rep.updated events."""
    the_roster = loaded.roster
    for update in updates:
        rep = the_roster.reps[update["rep_id"]]
        the_roster = the_roster.with_rep(type(rep)(**{**rep.__dict__, "status": update["status"]}))
    return the_roster


def test_001_offboarding_reroutes_open_leads_at_once_and_keeps_their_history() -> None:
    loaded = rules(STAR_RULE, SAAS)
    items = [lead(n, T_001 + timedelta(minutes=n), source="website") for n in range(4)]
    result = run(loaded, *items, deactivate("star-1", T_001 + timedelta(minutes=10)), until=T_001 + timedelta(hours=1))
    assert all(r.assignee not in (None, "star-1") for r in result.leads)
    moved = [r for r in result.leads if any(h["event"] == "offboarding" for h in r.history)]
    assert len(moved) == 2
    assert [h["event"] for h in moved[0].history] == ["assigned", "offboarding", "assigned"]
    assert moved[0].history[0]["assignee"] == "star-1" and moved[0].history[-1]["trigger"] == "offboarding"


def test_validation_date_warnings_use_the_given_day() -> None:
    loaded = parse_rules(DECAY_RULE % "2026-01-01", roster=EAST, today=date(2025, 12, 31))
    assert loaded.warnings == ()
