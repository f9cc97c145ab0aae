"""Property-based invariants of routing and replay (issue 4, "Done when").

Every lead ends assigned to an active rep with room, or in the pool with a reason; never
to a deactivated rep; capacity is never exceeded; round-robin spreads equal-eligibility
leads within one.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lead_router.domain.engine import RoutingState, decide
from lead_router.domain.lead import LeadInput
from lead_router.domain.roster import STATUSES, Rep, Roster, Team
from lead_router.domain.rules import Conditions, Rule, RuleSet, Target
from lead_router.replay import parse_events, replay

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
REGIONS = ["310000", "320500", "440100", "", "shanghai", "火星"]
RULES = RuleSet(
    version="prop",
    rules=(
        Rule(
            "ortho",
            Conditions(industries=frozenset({"Q"})),
            Target(team="t0", reps=("r0", "r1"), strategy="weighted", weights={"r0": 2, "r1": 0}),
        ),
        Rule("sh", Conditions(regions=("31",)), Target(team="t0")),
        Rule("js", Conditions(regions=("32",)), Target(team="t1", strategy="least_loaded")),
        Rule("gd", Conditions(regions=("44",)), Target(team="renamed")),
    ),
)


@st.composite
def rosters(draw: st.DrawFn) -> Roster:
    """Two teams of up to four reps plus a lead each, any status, small capacities."""
    reps: dict[str, Rep] = {}
    teams: dict[str, Team] = {}
    for t in range(2):
        team = f"t{t}"
        for i in range(draw(st.integers(1, 4))):
            rep_id = f"r{t * 4 + i}"
            reps[rep_id] = Rep(rep_id, team, draw(st.sampled_from(STATUSES)), capacity=draw(st.integers(0, 3)))
        reps[f"lead{t}"] = Rep(f"lead{t}", team, draw(st.sampled_from(STATUSES)), capacity=draw(st.integers(0, 2)))
        teams[team] = Team(team, lead=f"lead{t}")
    return Roster(teams=teams, reps=reps)


@st.composite
def streams(draw: st.DrawFn, roster: Roster) -> list[dict[str, Any]]:
    """Leads, roster changes, activity, claims and closes at increasing times."""
    rep_ids = sorted(roster.reps)
    out: list[dict[str, Any]] = []
    at = T0
    leads = 0
    for _ in range(draw(st.integers(1, 40))):
        at += timedelta(minutes=draw(st.integers(0, 600)))
        kind = draw(st.sampled_from(["lead"] * 5 + ["rep", "close", "contacted", "failed", "claim"]))
        stamp = at.isoformat()
        if kind == "lead" or leads == 0:
            out.append(
                {
                    "type": "lead.created",
                    "at": stamp,
                    "lead_id": f"L{leads}",
                    "customer_id": f"C{leads % 5}",
                    "region": draw(st.sampled_from(REGIONS)),
                    "industry": draw(st.sampled_from(["", "Q", "C"])),
                }
            )
            leads += 1
        elif kind == "rep":
            out.append(
                {
                    "type": "rep.updated",
                    "at": stamp,
                    "rep_id": draw(st.sampled_from(rep_ids)),
                    "status": draw(st.sampled_from(STATUSES)),
                    "capacity": draw(st.integers(0, 3)),
                }
            )
        else:
            lead_id = f"L{draw(st.integers(0, leads - 1))}"
            kinds = {"close": "lead.closed", "contacted": "lead.contacted", "failed": "lead.contact_failed"}
            event = {"type": kinds.get(kind, "lead.claimed"), "at": stamp, "lead_id": lead_id}
            if kind == "claim":
                event["rep_id"] = draw(st.sampled_from(rep_ids))
            out.append(event)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_replay_keeps_the_invariants(data: st.DataObject) -> None:
    roster = data.draw(rosters())
    items = data.draw(streams(roster))
    until = datetime.fromisoformat(items[-1]["at"]) + timedelta(days=data.draw(st.integers(0, 4)))
    result = replay(parse_events(json.dumps(i) for i in items), rules=RULES, roster=roster, until=until)
    assert result.violations == []
    for record in result.leads:
        assert record.assignee is not None or record.pool_reason or record.closed
        assigned = [h for h in record.history if h["event"] in ("assigned", "reassigned", "claimed")]
        for entry in assigned:
            assert entry["assignee"] != "", entry
    for decision in result.decisions:
        assert (decision.assignee is None) == bool(decision.pool_reason)


@given(
    statuses=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8),
    loads=st.lists(st.integers(0, 3), min_size=8, max_size=8),
    capacity=st.integers(0, 3),
    strategy=st.sampled_from(["round_robin", "least_loaded", "weighted"]),
    lead_status=st.sampled_from(STATUSES),
)
def test_a_decision_is_an_active_rep_with_room_or_the_pool_with_a_reason(
    statuses: list[str], loads: list[int], capacity: int, strategy: Any, lead_status: Any
) -> None:
    reps = {f"r{i}": Rep(f"r{i}", "t", s, capacity=capacity) for i, s in enumerate(statuses)}  # type: ignore[arg-type]
    reps["boss"] = Rep("boss", "t", lead_status, capacity=1)
    roster = Roster(teams={"t": Team("t", lead="boss")}, reps=reps)
    rules = RuleSet("p", (Rule("all", Conditions(), Target(team="t", strategy=strategy)),))
    state = RoutingState(loads={f"r{i}": n for i, n in enumerate(loads)})
    decision = decide(LeadInput("L"), rules=rules, roster=roster, state=state, now=T0)
    if decision.assignee is None:
        assert decision.pool_reason in ("no_eligible_rep", "capacity_full")
    else:
        rep = roster.reps[decision.assignee]
        assert rep.status == "active" and state.loads.get(rep.id, 0) < rep.capacity


@given(
    statuses=st.lists(st.sampled_from(["active", "active", "on_leave", "deactivated"]), min_size=1, max_size=7),
    count=st.integers(1, 60),
    start=st.integers(0, 20),
)
def test_round_robin_spreads_equal_eligibility_leads_within_one(statuses: list[str], count: int, start: int) -> None:
    reps = {f"r{i}": Rep(f"r{i}", "t", s, capacity=1000) for i, s in enumerate(statuses)}  # type: ignore[arg-type]
    roster = Roster(teams={"t": Team("t")}, reps=reps)
    rules = RuleSet("p", (Rule("rr", Conditions(), Target(team="t")),))
    cursors = {"rr": start}
    picks: Counter[str] = Counter()
    for _ in range(count):
        decision = decide(LeadInput("L"), rules=rules, roster=roster, state=RoutingState(cursors=cursors), now=T0)
        if decision.cursor is not None:
            cursors[decision.cursor[0]] = decision.cursor[1]
        picks[decision.assignee or "pool"] += 1
    active = [r for r, s in zip(reps, statuses, strict=True) if s == "active"]
    if not active:
        assert picks == {"pool": count}
        return
    counts = [picks.get(r, 0) for r in active]
    assert set(picks) <= set(active) and max(counts) - min(counts) <= 1
