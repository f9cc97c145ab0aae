"""The routing engine: one lead, the rules, the roster and the load → a decision and its trace.

Pure: no clock (``now`` is given), no I/O, no mutation. The order of events is

1. normalise and impute ``region`` / ``industry`` (:mod:`.impute`);
2. **existing owner first**: an active owner with room takes the lead;
3. rules in order; the first in effect, within its hours, whose conditions hold decides;
4. its fallback chain: the strategy's preferred rep → the next eligible rep (of the
   listed reps, then of the team) → the team lead → the pool (公海池);
5. a pooled lead always carries a reason code, and every skipped rep its own.

The caller applies the result: it stores the decision and, if ``cursor`` is set,
advances that rule's round-robin cursor.
"""

from __future__ import annotations

import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from lead_router.domain.impute import Imputation, IpLocator, resolve
from lead_router.domain.lead import LeadInput
from lead_router.domain.roster import Rep, Roster
from lead_router.domain.rules import Rule, RuleSet, Target
from lead_router.domain.strategies import effective_weight, rotation, weighted_sequence
from lead_router.domain.trace import CandidateNote, RuleTry, Trace


class Reason(StrEnum):
    """Reason codes: why a lead went to the pool, or why a rep or rule was passed over."""

    NO_RULE_MATCHED = "no_rule_matched"
    NO_ELIGIBLE_REP = "no_eligible_rep"
    CAPACITY_FULL = "capacity_full"
    OWNER_INACTIVE = "owner_inactive"
    OUTSIDE_HOURS = "outside_hours"
    TEAM_UNKNOWN = "team_unknown"
    REP_UNKNOWN = "rep_unknown"
    REP_DEACTIVATED = "rep_deactivated"
    REP_ON_LEAVE = "rep_on_leave"
    SKILL_MISMATCH = "skill_mismatch"
    WEIGHT_ZERO = "weight_zero"
    NOT_IN_EFFECT = "not_in_effect"
    ALREADY_TRIED = "already_tried"
    JUNK_LEAD = "junk_lead"


class Step(StrEnum):
    """Where in the fallback chain a lead was placed."""

    OWNER = "existing_owner"
    PREFERRED = "preferred"
    NEXT = "next_eligible"
    TEAM = "team"
    TEAM_LEAD = "team_lead"
    POOL = "pool"


@dataclass(frozen=True)
class RoutingState:
    """What the engine reads besides rules and roster: open leads per rep, cursor per rule."""

    loads: Mapping[str, int] = field(default_factory=dict)
    cursors: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Where a lead goes (``assignee`` None = the pool) and why."""

    lead_id: str
    assignee: str | None
    team: str
    rule: str
    step: Step
    strategy: str
    pool_reason: str
    reasons: tuple[str, ...]
    imputed: Mapping[str, Imputation]
    trace: Trace
    cursor: tuple[str, int] | None = None

    @property
    def pooled(self) -> bool:
        """True when the lead went to the pool."""
        return self.assignee is None

    @property
    def explanation(self) -> str:
        """One sentence for people."""
        if self.assignee is None:
            where = f" (rule {self.rule})" if self.rule else ""
            return f"returned to pool: {self.pool_reason}{where}"
        if self.step is Step.OWNER:
            return f"existing owner {self.assignee} keeps the customer"
        how = self.strategy if self.step in (Step.PREFERRED, Step.NEXT) else self.step.value
        return f"rule {self.rule} matched; {how} picked {self.assignee} of team {self.team}"

    def trace_dict(self) -> dict[str, Any]:
        """The trace as JSON."""
        return self.trace.to_dict()


def rep_skip_reason(rep: Rep | None, *, load: int, capacity: int, skills: frozenset[str] = frozenset()) -> str:
    """Why ``rep`` cannot take a lead now, or ``""`` if they can."""
    if rep is None:
        return Reason.REP_UNKNOWN
    if rep.status == "deactivated":
        return Reason.REP_DEACTIVATED
    if rep.status == "on_leave":
        return Reason.REP_ON_LEAVE
    if load >= capacity:
        return Reason.CAPACITY_FULL
    if skills and not skills <= rep.skills:
        return Reason.SKILL_MISMATCH
    return ""


@dataclass
class _Chain:
    """Mutable bookkeeping while one decision walks the fallback chain."""

    trace: Trace
    loads: Mapping[str, int]
    tried: set[str] = field(default_factory=set)
    skips: list[tuple[Rep | None, str]] = field(default_factory=list)
    weights_all_zero: bool = False

    def consider(self, rep_id: str, rep: Rep | None, step: Step, *, capacity: int, skills: frozenset[str]) -> bool:
        """Record the candidate; True if they can take the lead."""
        if rep_id in self.tried:
            return False
        self.tried.add(rep_id)
        reason = rep_skip_reason(rep, load=self.loads.get(rep_id, 0), capacity=capacity, skills=skills)
        if reason:
            self.skips.append((rep, reason))
            detail = f"{self.loads.get(rep_id, 0)}/{capacity} open" if reason == Reason.CAPACITY_FULL else ""
            self.trace.candidates.append(CandidateNote(rep_id, step.value, reason, detail))
            return False
        self.trace.candidates.append(CandidateNote(rep_id, step.value))
        return True

    def pool_reason(self) -> str:
        """capacity_full when every active candidate was full, else no_eligible_rep."""
        active = [reason for rep, reason in self.skips if rep is not None and rep.active]
        if active and all(r == Reason.CAPACITY_FULL for r in active):
            return Reason.CAPACITY_FULL
        return Reason.NO_ELIGIBLE_REP


def _capacity(rep: Rep | None, target: Target) -> int:
    """The rep's capacity, lowered by the rule's if it sets one."""
    own = rep.capacity if rep is not None else 0
    return own if target.capacity is None else min(own, target.capacity)


def _ordered(rule: Rule, primary: list[Rep], state: RoutingState, day: date, chain: _Chain) -> list[tuple[Rep, int]]:
    """The rule's own candidates in strategy order, each with the cursor that follows picking them."""
    target = rule.target
    cursor = state.cursors.get(rule.name, 0)
    if target.strategy == "least_loaded":
        rotated = rotation(primary, cursor)
        return sorted(rotated, key=lambda item: state.loads.get(item[0].id, 0))
    if target.strategy == "weighted":
        weights = tuple((rep.id, effective_weight(rep, target, day)) for rep in primary)
        if all(w <= 0 for _, w in weights):
            chain.trace.notes.append("weight_zero: every weight is 0 (weight decay?); falling back to round_robin")
            chain.weights_all_zero = True
            return rotation(primary, cursor)
        for rep_id, w in weights:
            if w <= 0:
                chain.tried.add(rep_id)
                chain.trace.candidates.append(CandidateNote(rep_id, Step.PREFERRED.value, Reason.WEIGHT_ZERO))
        sequence = weighted_sequence(weights)
        by_id = {rep.id: rep for rep in primary}
        start = cursor % len(sequence)
        out: list[tuple[Rep, int]] = []
        seen: set[str] = set()
        for i in range(len(sequence)):
            rep_id = sequence[(start + i) % len(sequence)]
            if rep_id not in seen:
                seen.add(rep_id)
                out.append((by_id[rep_id], (start + i + 1) % len(sequence)))
        return out
    return rotation(primary, cursor)


def _resolve_targets(rule: Rule, roster: Roster, chain: _Chain) -> tuple[list[Rep], str]:
    """The rule's own candidates and its team; unknown listed reps are recorded as skipped."""
    target = rule.target
    listed: list[Rep] = []
    for rep_id in target.reps:
        rep = roster.reps.get(rep_id)
        if rep is None:
            chain.tried.add(rep_id)
            chain.skips.append((None, Reason.REP_UNKNOWN))
            chain.trace.candidates.append(CandidateNote(rep_id, Step.PREFERRED.value, Reason.REP_UNKNOWN))
        else:
            listed.append(rep)
    team = target.team or (listed[0].team if listed else "")
    if team and team not in roster.teams:
        chain.trace.notes.append(f"team {team!r} is not in the roster (renamed or dissolved?)")
        return (listed, team) if target.reps else ([], team)
    return (listed if target.reps else list(roster.staff(team))), team


def _team_lead(team: str, roster: Roster, chain: _Chain) -> Rep | None:
    """The team lead, the last stop before the pool, if they can take the lead."""
    lead_id = roster.teams[team].lead if team in roster.teams else ""
    if not lead_id:
        return None
    if lead_id in chain.tried:
        chain.trace.candidates.append(CandidateNote(lead_id, Step.TEAM_LEAD.value, Reason.ALREADY_TRIED))
        return None
    lead_rep = roster.reps.get(lead_id)
    capacity = lead_rep.capacity if lead_rep else 0
    ok = chain.consider(lead_id, lead_rep, Step.TEAM_LEAD, capacity=capacity, skills=frozenset())
    return lead_rep if ok else None


def _walk(
    rule: Rule, roster: Roster, state: RoutingState, day: date, chain: _Chain
) -> tuple[Rep | None, Step, str, tuple[str, int] | None]:
    """Walk one matched rule's fallback chain: (assignee, step, team, cursor update) or (None, POOL, …)."""
    target = rule.target
    primary, team = _resolve_targets(rule, roster, chain)
    if primary:
        for position, (rep, cursor) in enumerate(_ordered(rule, primary, state, day, chain)):
            step = Step.PREFERRED if position == 0 else Step.NEXT
            if chain.consider(rep.id, rep, step, capacity=_capacity(rep, target), skills=target.skills):
                return rep, step, rep.team if target.reps else team, (rule.name, cursor)
    if target.reps and team in roster.teams:
        others = [rep for rep in roster.staff(team) if rep.id not in chain.tried]
        for rep in sorted(others, key=lambda r: (state.loads.get(r.id, 0), r.id)):
            if chain.consider(rep.id, rep, Step.TEAM, capacity=_capacity(rep, target), skills=target.skills):
                return rep, Step.TEAM, team, None
    lead_rep = _team_lead(team, roster, chain)
    if lead_rep is not None:
        return lead_rep, Step.TEAM_LEAD, team, None
    return None, Step.POOL, team, None


def _try_rule(rule: Rule, lead: LeadInput, rules: RuleSet, now: datetime) -> RuleTry:
    """Check one rule against a resolved lead at ``now``."""
    failed: list[str] = []
    why: list[str] = []
    off = rule.not_in_effect(rules.local_day(now))
    if off:
        failed.append("effective")
        why.append(f"{Reason.NOT_IN_EFFECT.value}: {off}")
    for condition, reason in rule.conditions.failures(lead):
        failed.append(condition)
        why.append(reason)
    if rule.hours is not None and not rule.hours.contains(now):
        failed.append("hours")
        why.append(f"{Reason.OUTSIDE_HOURS.value}: {rule.hours.start:%H:%M}-{rule.hours.end:%H:%M} {rule.hours.tz}")
    return RuleTry(rule.name, rule.line, not failed, tuple(failed), tuple(why), rule.conditions.count())


def _owner_step(lead: LeadInput, roster: Roster, state: RoutingState, trace: Trace) -> Rep | None:
    """The customer's current owner if they can take the lead; the trace says either way."""
    owner = roster.reps.get(lead.owner_id)
    load = state.loads.get(lead.owner_id, 0)
    reason = rep_skip_reason(owner, load=load, capacity=owner.capacity if owner else 0)
    if reason in (Reason.REP_UNKNOWN, Reason.REP_DEACTIVATED, Reason.REP_ON_LEAVE):
        trace.owner = CandidateNote(lead.owner_id, Step.OWNER.value, Reason.OWNER_INACTIVE, reason)
        return None
    if reason:
        trace.owner = CandidateNote(lead.owner_id, Step.OWNER.value, reason)
        return None
    trace.owner = CandidateNote(lead.owner_id, Step.OWNER.value)
    return owner


def _unique(codes: list[str]) -> tuple[str, ...]:
    """Codes in first-seen order without repeats."""
    return tuple(dict.fromkeys(c for c in codes if c))


def decide(
    lead: LeadInput,
    *,
    rules: RuleSet,
    roster: Roster,
    state: RoutingState,
    now: datetime,
    ip_locator: IpLocator | None = None,
) -> Decision:
    """Decide where one lead goes at ``now``; the same inputs always give the same decision.

    The returned :class:`Decision` has the assignee (or ``None`` and a ``pool_reason``),
    the rule and fallback step, every reason code met on the way, the imputations used,
    the full trace, and the round-robin cursor to store.
    """
    started = _time.perf_counter_ns()
    trace = Trace(triggered_at=now)
    resolution = resolve(lead, min_confidence=rules.min_confidence, ip_locator=ip_locator)
    trace.resolution = resolution
    resolved = resolution.lead
    codes: list[str] = []

    def finish(
        assignee: Rep | None,
        *,
        team: str,
        rule: str,
        step: Step,
        strategy: str,
        pool_reason: str,
        cursor: tuple[str, int] | None = None,
    ) -> Decision:
        """Freeze the trace and build the decision."""
        all_codes = _unique([*codes, *(c.skipped for c in trace.candidates), pool_reason])
        trace.decision = {
            "outcome": "pool" if assignee is None else "assigned",
            "assignee": assignee.id if assignee else None,
            "team": team,
            "rule": rule,
            "step": step.value,
            "strategy": strategy,
            "pool_reason": pool_reason,
            "reasons": list(all_codes),
        }
        trace.latency_us = (_time.perf_counter_ns() - started) // 1000
        return Decision(
            lead_id=lead.lead_id,
            assignee=assignee.id if assignee else None,
            team=team,
            rule=rule,
            step=step,
            strategy=strategy,
            pool_reason=pool_reason,
            reasons=all_codes,
            imputed=resolution.used,
            trace=trace,
            cursor=cursor,
        )

    if lead.junk:  # a test or placeholder form: kept in the pool with why, never handed to a rep
        trace.notes.extend(f"junk: {reason}" for reason in lead.junk)
        return finish(None, team="", rule="", step=Step.POOL, strategy="", pool_reason=Reason.JUNK_LEAD)
    if lead.owner_id:
        owner = _owner_step(lead, roster, state, trace)
        if owner is not None:
            return finish(
                owner, team=owner.team, rule="existing_owner", step=Step.OWNER, strategy="owner", pool_reason=""
            )
        codes.append(trace.owner.skipped if trace.owner else "")
    day = rules.local_day(now)
    hours_only = False
    for rule in rules.rules:
        attempt = _try_rule(rule, resolved, rules, now)
        trace.rules.append(attempt)
        if not attempt.matched:
            hours_only = hours_only or attempt.failed == ("hours",)
            continue
        chain = _Chain(trace=trace, loads=state.loads)
        rep, step, team, cursor = _walk(rule, roster, state, day, chain)
        strategy = rule.target.strategy
        if chain.weights_all_zero:
            codes.append(Reason.WEIGHT_ZERO)
        if rep is not None:
            return finish(rep, team=team, rule=rule.name, step=step, strategy=strategy, pool_reason="", cursor=cursor)
        unknown_team = bool(team) and team not in roster.teams and not rule.target.reps
        reason = Reason.TEAM_UNKNOWN if unknown_team else chain.pool_reason()
        return finish(None, team=team, rule=rule.name, step=Step.POOL, strategy=strategy, pool_reason=reason)
    if hours_only:
        reason = Reason.OUTSIDE_HOURS
    elif Reason.OWNER_INACTIVE in codes:
        reason = Reason.OWNER_INACTIVE
    else:
        reason = Reason.NO_RULE_MATCHED
    return finish(None, team="", rule="", step=Step.POOL, strategy="", pool_reason=reason)


def escalate(*, lead_id: str, current: str, team: str, roster: Roster, state: RoutingState, now: datetime) -> Decision:
    """The SLA reassignment: the team lead takes the lead if they can, else it goes to the pool."""
    trace = Trace(triggered_at=now)
    trace.notes.append(f"no first contact by {current}: reassign to the team lead of {team or '?'}")
    lead_rep_id = roster.teams[team].lead if team in roster.teams else ""
    lead_rep = roster.reps.get(lead_rep_id) if lead_rep_id else None
    reason = "sla_expired"
    if lead_rep is not None and lead_rep.id != current:
        skip = rep_skip_reason(lead_rep, load=state.loads.get(lead_rep.id, 0), capacity=lead_rep.capacity)
        trace.candidates.append(CandidateNote(lead_rep.id, Step.TEAM_LEAD.value, skip))
        if not skip:
            trace.decision = {"outcome": "assigned", "assignee": lead_rep.id, "step": Step.TEAM_LEAD.value}
            return Decision(
                lead_id,
                lead_rep.id,
                team,
                "sla_escalation",
                Step.TEAM_LEAD,
                "escalation",
                "",
                ("sla_expired",),
                {},
                trace,
            )
    trace.decision = {"outcome": "pool", "pool_reason": reason}
    return Decision(lead_id, None, team, "sla_escalation", Step.POOL, "escalation", reason, (reason,), {}, trace)
