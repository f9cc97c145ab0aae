"""Silent-failure alarms, as pure functions over recent decisions.

* **rule_silent** — a rule assigned nothing to its own target for ``silent_hours`` while
  at least ``min_leads`` leads *of its kind* arrived: leads it matched but could only
  send to the team lead or the pool, and near misses (leads that held every condition
  but one that was missing from the lead, or that arrived while the rule was not in
  effect). Catches the seeds' empty industry (000), emptied target (001), renamed team
  (002) and a rule switched off by a wrong date (003).
* **pool_share** — more than ``pool_share`` (15 %, 003's health line) of the last
  ``pool_window_hours`` of decisions went to the pool.

The caller keeps the alarms that are up and compares (:func:`changes`) to emit one
event and flip one metric when an alarm is raised or cleared.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from lead_router.domain.engine import Decision, Step
from lead_router.domain.rules import AlarmPolicy
from lead_router.domain.trace import RuleTry

_SERVED = (Step.PREFERRED, Step.NEXT, Step.TEAM)


class OutcomeKind(StrEnum):
    """What one lead meant for one rule."""

    ASSIGNED = "assigned"
    UNSERVED = "unserved"
    NEAR_MISS = "near_miss"


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's outcome for one lead at one time."""

    at: datetime
    rule: str
    kind: OutcomeKind
    lead_id: str


@dataclass(frozen=True)
class Alarm:
    """A raised alarm; ``key`` identifies it across evaluations."""

    kind: str
    at: datetime
    value: float
    threshold: float
    detail: str
    rule: str = ""

    @property
    def key(self) -> str:
        """``rule_silent:<rule>`` or ``pool_share``."""
        return f"{self.kind}:{self.rule}" if self.rule else self.kind

    def to_dict(self) -> dict[str, Any]:
        """JSON for events, logs and the replay's stderr."""
        return {
            "alarm": self.kind,
            "rule": self.rule or None,
            "at": self.at.isoformat(),
            "value": self.value,
            "threshold": self.threshold,
            "detail": self.detail,
        }


def _near_miss(attempt: RuleTry) -> bool:
    """Held every condition but one that was missing, or arrived while the rule was off."""
    if attempt.failed == ("effective",):
        return True
    if len(attempt.failed) != 1 or attempt.failed[0] in ("hours", "effective"):
        return False
    return attempt.why_not[0].startswith("lead has no") and attempt.conditions > 1


def outcomes_of(decision: Decision) -> list[RuleOutcome]:
    """The rule outcomes one decision contributes."""
    at = decision.trace.triggered_at
    out: list[RuleOutcome] = []
    for attempt in decision.trace.rules:
        if attempt.matched:
            served = decision.assignee is not None and decision.step in _SERVED
            kind = OutcomeKind.ASSIGNED if served else OutcomeKind.UNSERVED
            out.append(RuleOutcome(at, attempt.rule, kind, decision.lead_id))
        elif _near_miss(attempt):
            out.append(RuleOutcome(at, attempt.rule, OutcomeKind.NEAR_MISS, decision.lead_id))
    return out


def silent_rules(outcomes: Iterable[RuleOutcome], *, now: datetime, policy: AlarmPolicy) -> list[Alarm]:
    """Rules that served nobody in the last ``silent_hours`` while leads of their kind arrived."""
    since = now - timedelta(hours=policy.silent_hours)
    assigned: set[str] = set()
    missed: dict[str, int] = {}
    for outcome in outcomes:
        if not since <= outcome.at <= now:
            continue
        if outcome.kind is OutcomeKind.ASSIGNED:
            assigned.add(outcome.rule)
        else:
            missed[outcome.rule] = missed.get(outcome.rule, 0) + 1
    return [
        Alarm(
            kind="rule_silent",
            at=now,
            value=float(count),
            threshold=float(policy.min_leads),
            rule=rule,
            detail=f"rule {rule} assigned nothing in {policy.silent_hours:g} h while {count} leads of its kind arrived",
        )
        for rule, count in sorted(missed.items())
        if rule not in assigned and count >= policy.min_leads
    ]


def pool_share(decisions: Sequence[tuple[datetime, bool]], *, now: datetime, policy: AlarmPolicy) -> Alarm | None:
    """An alarm when the pooled share of recent ``(at, pooled)`` decisions exceeds the policy's share."""
    since = now - timedelta(hours=policy.pool_window_hours)
    recent = [pooled for at, pooled in decisions if since <= at <= now]
    if len(recent) < policy.min_decisions:
        return None
    share = sum(recent) / len(recent)
    if share <= policy.pool_share:
        return None
    return Alarm(
        kind="pool_share",
        at=now,
        value=round(share, 4),
        threshold=policy.pool_share,
        detail=f"{sum(recent)} of {len(recent)} leads in {policy.pool_window_hours:g} h went to the pool",
    )


def changes(up: set[str], current: Iterable[Alarm]) -> tuple[list[Alarm], list[str]]:
    """Alarms newly raised and keys of alarms cleared, given the keys that were up."""
    now = {alarm.key: alarm for alarm in current}
    raised = [alarm for key, alarm in now.items() if key not in up]
    cleared = sorted(up - set(now))
    return raised, cleared


@dataclass
class AlarmWatch:
    """Keeps the recent outcomes and the alarms that are up; evaluates at most once per ``every`` of event time.

    Memory is bounded by the longest alarm window; evaluation is throttled because each
    one scans the window.
    """

    policy: AlarmPolicy
    every: timedelta = timedelta(seconds=60)
    outcomes: deque[RuleOutcome] = field(default_factory=deque)
    decisions: deque[tuple[datetime, bool]] = field(default_factory=deque)
    up: set[str] = field(default_factory=set)
    last: datetime | None = None

    def observe(self, decision: Decision) -> tuple[list[Alarm], list[str]]:
        """Record one decision; returns (alarms raised, keys cleared) if it was time to evaluate."""
        now = decision.trace.triggered_at
        self.outcomes.extend(outcomes_of(decision))
        if decision.pool_reason != "junk_lead":  # junk is pooled by design: no sign of a routing gap
            self.decisions.append((now, decision.pooled))
        horizon = now - timedelta(hours=max(self.policy.silent_hours, self.policy.pool_window_hours))
        while self.outcomes and self.outcomes[0].at < horizon:
            self.outcomes.popleft()
        while self.decisions and self.decisions[0][0] < horizon:
            self.decisions.popleft()
        if self.last is not None and now - self.last < self.every:
            return [], []
        return self.evaluate(now)

    def evaluate(self, now: datetime) -> tuple[list[Alarm], list[str]]:
        """Evaluate both alarms at ``now``; returns (raised, cleared) and updates ``up``."""
        self.last = now
        current = silent_rules(self.outcomes, now=now, policy=self.policy)
        share = pool_share(self.decisions, now=now, policy=self.policy)
        if share is not None:
            current.append(share)
        raised, cleared = changes(self.up, current)
        self.up = (self.up - set(cleared)) | {a.key for a in raised}
        return raised, cleared
