"""Entry points kept from the first version: :func:`load_routing` and the region-only :func:`route`.

New code uses :func:`.engine.decide` with a :class:`~.rules.RuleSet` and a
:class:`~.roster.Roster`. :func:`route` translates the old three-field config onto that
engine, so both give the same decisions. :func:`load_routing` is the one function in
``domain/`` that reads a file (the service and its contract test call it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lead_router.domain.engine import RoutingState, decide
from lead_router.domain.lead import LeadInput
from lead_router.domain.roster import STATUSES, RepStatus, Roster, Team
from lead_router.domain.roster import Rep as RosterRep
from lead_router.domain.rules import Conditions, RuleSet, Target
from lead_router.domain.rules import Rule as EngineRule
from lead_router.domain.rules_yaml import LoadedRules, RulesError, parse_rules

RoutingConfigError = RulesError
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Rule:
    """Leads whose region code starts with one of ``region_prefixes`` go to ``team`` (round-robin)."""

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
    """Rules in order, the roster, and each team's lead (the first version's config)."""

    rules: tuple[Rule, ...]
    reps: tuple[Rep, ...]
    team_leads: dict[str, str]


@dataclass
class Decision:
    """Where a lead goes and why: assignee (None = pool), rule, reason code, trace steps."""

    assignee: str | None
    team: str = ""
    rule: str = ""
    reason_code: str = ""
    trace: list[dict[str, Any]] = field(default_factory=list)


def load_routing(path: Path, *, today: date | None = None) -> LoadedRules:
    """Read and validate a rules file whose roster is inline (teams/reps); see :mod:`.rules_yaml`."""
    return parse_rules(path.read_text(encoding="utf-8"), source=str(path), today=today)


def _translate(config: RoutingConfig) -> tuple[RuleSet, Roster]:
    """The first version's config as a rule set and roster."""
    reps: dict[str, RosterRep] = {}
    for rep in config.reps:
        status: RepStatus = next((s for s in STATUSES if s == rep.status), "deactivated")
        reps[rep.id] = RosterRep(id=rep.id, team=rep.team, status=status, capacity=10**9)
    teams = {team: Team(id=team, lead=lead) for team, lead in config.team_leads.items()}
    for rule in config.rules:
        teams.setdefault(rule.team, Team(id=rule.team))
    rules = tuple(
        EngineRule(name=r.name, conditions=Conditions(regions=r.region_prefixes), target=Target(team=r.team))
        for r in config.rules
    )
    return RuleSet(version="legacy", rules=rules), Roster(teams=teams, reps=reps)


def route(config: RoutingConfig, *, region_code: str, cursors: dict[str, int]) -> Decision:
    """Decide for one lead by region; ``cursors`` (round-robin position per rule) is advanced in place."""
    rules, roster = _translate(config)
    decision = decide(
        LeadInput(lead_id="-", region=region_code),
        rules=rules,
        roster=roster,
        state=RoutingState(cursors=cursors),
        now=_EPOCH,
    )
    if decision.cursor is not None:
        cursors[decision.cursor[0]] = decision.cursor[1]
    steps: list[dict[str, Any]] = [{"step": "input", "region_code": region_code or None}]
    steps += [{"step": "rule", **attempt.to_dict()} for attempt in decision.trace.rules]
    steps += [{"step": "candidate", **note.to_dict()} for note in decision.trace.candidates]
    steps.append({"step": "decision", **decision.trace.decision})
    return Decision(
        assignee=decision.assignee,
        team=decision.team,
        rule=decision.rule,
        reason_code=decision.pool_reason,
        trace=steps,
    )
