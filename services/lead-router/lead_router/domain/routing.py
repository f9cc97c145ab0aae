"""Routing decisions: the first matching rule, round-robin among its team's active reps,
else the pool with a reason code. Every step is written to the trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Rule:
    """Leads whose region code starts with one of ``region_prefixes`` go to ``team``."""

    name: str
    region_prefixes: tuple[str, ...]
    team: str


@dataclass(frozen=True)
class Rep:
    """A sales rep; only ``active`` reps receive leads."""

    id: str
    team: str
    status: str


@dataclass(frozen=True)
class RoutingConfig:
    """Rules in order, the roster, and each team's lead."""

    rules: tuple[Rule, ...]
    reps: tuple[Rep, ...]
    team_leads: dict[str, str]


@dataclass
class Decision:
    """Where a lead goes and why: assignee (None = pool), rule, reason code, trace."""

    assignee: str | None
    team: str = ""
    rule: str = ""
    reason_code: str = ""
    trace: list[dict[str, Any]] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        """One sentence for people."""
        if self.assignee:
            return f"rule {self.rule} matched; round-robin picked {self.assignee} of team {self.team}"
        return f"returned to pool: {self.reason_code}"


class RoutingConfigError(ValueError):
    """The routing file is invalid; the message names the problem."""


def load_routing(path: Path) -> RoutingConfig:
    """Read and validate the routing YAML."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    teams = raw.get("teams") or {}
    rules = []
    for item in raw.get("rules") or []:
        prefixes = item["region_prefix"]
        prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
        if item["team"] not in teams:
            raise RoutingConfigError(f"{path}: rule {item['name']!r} names unknown team {item['team']!r}")
        rules.append(Rule(name=item["name"], region_prefixes=prefixes, team=item["team"]))
    reps = tuple(Rep(id=r["id"], team=r["team"], status=r.get("status", "active")) for r in raw.get("reps") or [])
    return RoutingConfig(rules=tuple(rules), reps=reps, team_leads={k: v.get("lead", "") for k, v in teams.items()})


def route(config: RoutingConfig, *, region_code: str, cursors: dict[str, int]) -> Decision:
    """Decide for one lead; ``cursors`` (round-robin position per rule) is advanced in place."""
    trace: list[dict[str, Any]] = [{"step": "input", "region_code": region_code or None}]
    for rule in config.rules:
        if not region_code or not region_code.startswith(rule.region_prefixes):
            trace.append(
                {
                    "step": "rule",
                    "rule": rule.name,
                    "matched": False,
                    "why": "lead has no region" if not region_code else f"region not under {rule.region_prefixes}",
                }
            )
            continue
        trace.append({"step": "rule", "rule": rule.name, "matched": True})
        team_reps = [rep for rep in config.reps if rep.team == rule.team]
        for rep in team_reps:
            if rep.status != "active":
                trace.append({"step": "candidate", "rep": rep.id, "skipped": f"status {rep.status}"})
        eligible = sorted(rep.id for rep in team_reps if rep.status == "active")
        if not eligible:
            trace.append({"step": "decision", "outcome": "pool", "reason_code": "no_eligible_rep"})
            return Decision(assignee=None, team=rule.team, rule=rule.name, reason_code="no_eligible_rep", trace=trace)
        position = cursors.get(rule.name, 0)
        assignee = eligible[position % len(eligible)]
        cursors[rule.name] = position + 1
        trace.append({"step": "decision", "outcome": "assigned", "assignee": assignee, "strategy": "round_robin"})
        return Decision(assignee=assignee, team=rule.team, rule=rule.name, trace=trace)
    trace.append({"step": "decision", "outcome": "pool", "reason_code": "no_rule_matched"})
    return Decision(assignee=None, reason_code="no_rule_matched", trace=trace)
