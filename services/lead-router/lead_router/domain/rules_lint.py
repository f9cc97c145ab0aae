"""Warnings about rules that are valid but cannot do their job today.

Run at load time and again whenever the roster changes (a rename or a deactivation
can silently empty a rule's target — the seeds' 002 and 001 stories).
"""

from __future__ import annotations

from datetime import date

from lead_router.domain.roster import Roster
from lead_router.domain.rules import Issue, Rule, RuleSet
from lead_router.domain.strategies import effective_weight


def _window(rule: Rule, today: date) -> list[str]:
    """Warnings about the effective window."""
    off = rule.not_in_effect(today)
    return [f"{off}: cannot match today ({today.isoformat()})"] if off else []


def _target(rule: Rule, roster: Roster, today: date) -> list[str]:
    """Warnings about who the rule can reach."""
    target = rule.target
    out: list[str] = []
    team = target.team or next((roster.reps[r].team for r in target.reps if r in roster.reps), "")
    if team and team not in roster.teams:
        return [f"team {team!r} is not in the roster (renamed or dissolved?): its leads go to the pool (team_unknown)"]
    reps = [roster.reps[r] for r in target.reps if r in roster.reps] if target.reps else list(roster.staff(team))
    pool = [*reps, *(roster.staff(team) if target.reps else ())]
    lead = roster.reps.get(roster.teams[team].lead) if team in roster.teams else None
    if not any(rep.active for rep in pool) and not (lead and lead.active):
        out.append("no active rep in its target, team or team lead: every lead it matches goes to the pool")
    elif not any(rep.active for rep in reps):
        out.append("no active rep in its target: leads fall back to the team or team lead")
    if target.strategy == "weighted" and reps:
        weights = [effective_weight(rep, target, today) for rep in reps]
        if all(w <= 0 for w in weights):
            decay = target.weight_decay
            since = f" (weight_decay since {decay.effective_from.isoformat()})" if decay else ""
            out.append(f"every weight is 0 today{since}: weighted falls back to round_robin (weight_zero)")
    return out


def lint(rules: RuleSet, roster: Roster, today: date) -> list[Issue]:
    """Warnings, each naming its rule and line."""
    issues: list[Issue] = []
    catch_all: Rule | None = None
    for rule in rules.rules:
        messages = _window(rule, today) + _target(rule, roster, today)
        if catch_all is not None:
            messages.append(f"never reached: rule {catch_all.name!r} (line {catch_all.line}) matches every lead first")
        if rule.hours is not None and not rule.hours.days:
            messages.append("working hours name no day: cannot match")
        issues += [Issue(rule.line, f"rule {rule.name!r}: {m}", rule.name) for m in messages]
        unconditional = rule.conditions == type(rule.conditions)() and rule.hours is None
        if catch_all is None and unconditional and rule.effective_from is None and rule.effective_until is None:
            catch_all = rule
    return issues
