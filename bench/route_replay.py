"""Benchmark lead-router's pure engine: routing decisions/s and per-decision latency, then a full replay.

Run: .venv/bin/python bench/route_replay.py [--leads N] [--reps N]

The leads are a synthetic mix: regions as codes, names and pinyin, a third with no
region but a phone number (geocoder imputation), empty industries with company names
or e-mail domains, existing owners. No Kafka and no database: this is the ceiling the
engine puts under the service's end-to-end figure.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from lead_router.domain.engine import RoutingState, decide
from lead_router.domain.impute import warm_up
from lead_router.domain.lead import LeadInput
from lead_router.domain.roster import Rep, Roster, Team
from lead_router.domain.rules_yaml import parse_rules
from lead_router.replay import ReplayEvent, replay

REGIONS = ["310000", "shanghai", "上海市", "320500", "江苏", "330100", "hangzhou", "110000", "440300", "510100", ""]
INDUSTRIES = ["", "", "C", "制造业", "Q", "卫生", "I", "F"]
COMPANIES = [
    "苏州精密机械制造有限公司",
    "上海市第六人民医院",
    "杭州云帆科技有限公司",
    "北京协和医院",
    "广州商贸有限公司",
    "",
]
DOMAINS = ["siemens.com", "qq.com", "163.com", "fudan.edu.cn", "example.cn", ""]
PRODUCTS = ["骨科耗材", "SaaS", "新品茶饮", "冷链设备"]
TEAMS = {"east": ["31", "32", "33"], "north": ["11", "12", "13"], "south": ["44", "45"], "west": ["51", "50"]}
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def make_roster(reps_per_team: int) -> Roster:
    """Four teams of ``reps_per_team`` reps plus a lead; a few on leave or deactivated."""
    reps: dict[str, Rep] = {}
    teams: dict[str, Team] = {}
    for team in TEAMS:
        for i in range(reps_per_team):
            status = "deactivated" if i % 11 == 5 else "on_leave" if i % 13 == 7 else "active"
            reps[f"{team}-{i:02d}"] = Rep(f"{team}-{i:02d}", team, status, capacity=10_000, weight=1 + i % 3)  # type: ignore[arg-type]
        reps[f"{team}-lead"] = Rep(f"{team}-lead", team, capacity=10_000)
        teams[team] = Team(team, lead=f"{team}-lead")
    return Roster(teams=teams, reps=reps)


RULES = """
rules:
  - {name: east-ortho, match: {region: ['31', '32'], industry: [Q], product: [骨科耗材]},
     target: {team: east, strategy: least_loaded}}
  - {name: east-manufacturing, match: {region: ['32', '33'], industry: [C]}, target: {team: east, strategy: weighted}}
  - {name: east, match: {region: ['31', '32', '33']}, target: {team: east}}
  - {name: north, match: {region: ['11', '12', '13']}, target: {team: north, strategy: least_loaded}}
  - {name: south, match: {region: ['44', '45']}, target: {team: south, strategy: weighted}}
  - {name: west, match: {region: ['51', '50']}, target: {team: west}}
"""


def make_lead(rng: random.Random, i: int, owners: list[str]) -> LeadInput:
    """One synthetic lead."""
    region = rng.choice(REGIONS)
    phone = f"1{rng.choice('35789')}{rng.randrange(10**9):09d}" if not region and rng.random() < 0.7 else ""
    return LeadInput(
        lead_id=f"L{i}",
        customer_id=f"C{i % 5000}",
        region=region,
        industry=rng.choice(INDUSTRIES),
        product_interest=rng.choice(PRODUCTS),
        company=rng.choice(COMPANIES),
        email_domain=rng.choice(DOMAINS),
        phone=phone,
        owner_id=rng.choice(owners) if rng.random() < 0.1 else "",
    )


def main() -> None:
    """Route synthetic leads through ``decide`` and a replay; print decisions/s and latency."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=25, help="reps per team (four teams)")
    args = parser.parse_args()
    rng = random.Random(7)
    roster = make_roster(args.reps)
    rules = parse_rules(RULES, roster=roster).rules
    leads = [make_lead(rng, i, sorted(roster.reps)) for i in range(args.leads)]
    warm_up()
    loads: dict[str, int] = {}
    cursors: dict[str, int] = {}
    latencies: list[float] = []
    pooled = 0
    start = time.perf_counter()
    for i, lead in enumerate(leads):
        began = time.perf_counter()
        decision = decide(
            lead, rules=rules, roster=roster, state=RoutingState(loads, cursors), now=START + timedelta(seconds=i)
        )
        latencies.append((time.perf_counter() - began) * 1000)
        if decision.cursor is not None:
            cursors[decision.cursor[0]] = decision.cursor[1]
        if decision.assignee is None:
            pooled += 1
        else:
            loads[decision.assignee] = loads.get(decision.assignee, 0) + 1
    elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    print(
        f"engine: {len(leads)} decisions in {elapsed:.2f} s = {len(leads) / elapsed:,.0f} decisions/s; "
        f"p50 {cuts[49]:.3f} ms, p99 {cuts[98]:.3f} ms; pooled {pooled / len(leads):.1%}"
    )
    events = [
        ReplayEvent("lead.created", START + timedelta(seconds=i), {"type": "lead.created", **lead.__dict__}, i + 1)
        for i, lead in enumerate(leads)
    ]
    start = time.perf_counter()
    result = replay(events, rules=rules, roster=roster, until=START + timedelta(days=4))
    elapsed = time.perf_counter() - start
    print(
        f"replay: {len(leads)} leads with SLA timers over 4 days of event time in {elapsed:.2f} s "
        f"= {len(leads) / elapsed:,.0f} leads/s; {len(result.alarms)} alarm(s), {len(result.violations)} violation(s)"
    )


if __name__ == "__main__":
    main()
