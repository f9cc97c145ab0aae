"""Routing rules as values: conditions, a target with a strategy, hours and an effective window.

Rules are tried in order; the first whose conditions hold, that is in effect on the
lead's day and within its working hours, decides the lead (see :mod:`.engine`).
Loading and validating the YAML that describes them lives in :mod:`.rules_yaml`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from lead_router.domain.lead import LeadInput
from lead_router.domain.sla import SlaPolicy

Strategy = Literal["round_robin", "least_loaded", "weighted"]
STRATEGIES: tuple[Strategy, ...] = ("round_robin", "least_loaded", "weighted")
DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached time zone."""
    return ZoneInfo(name)


def fold(text: str) -> str:
    """NFKC and case-folded, for comparing product and source names."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


@dataclass(frozen=True)
class Issue:
    """One problem in a rules file or a rule, at a line (1-based; 0 when it has none)."""

    line: int
    message: str
    rule: str = ""

    def render(self, source: str) -> str:
        """``file:line: message``."""
        return f"{source}:{self.line}: {self.message}" if self.line else f"{source}: {self.message}"


@dataclass(frozen=True)
class Conditions:
    """What a lead must look like; an empty condition matches anything.

    ``regions`` are GB/T 2260 prefixes (``31``, ``3205``); ``industries`` GB/T 4754
    letters; ``products``, ``sources`` and ``tiers`` are compared folded; ``score_min`` and
    ``score_max`` are inclusive; ``owned`` asks whether the customer already has an owner.
    """

    regions: tuple[str, ...] = ()
    industries: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    score_min: int | None = None
    score_max: int | None = None
    owned: bool | None = None

    def count(self) -> int:
        """How many conditions are set."""
        sets = (self.regions, self.industries, self.products, self.sources, self.tiers)
        score = self.score_min is not None or self.score_max is not None
        return sum(1 for s in sets if s) + score + (self.owned is not None)

    def failures(self, lead: LeadInput) -> list[tuple[str, str]]:
        """``(condition, why)`` for every condition ``lead`` (already normalised) fails."""
        out: list[tuple[str, str]] = []
        if self.regions:
            if not lead.region:
                out.append(("region", "lead has no region"))
            elif not lead.region.startswith(self.regions):
                out.append(("region", f"region {lead.region} not under {'/'.join(self.regions)}"))
        if self.industries:
            if not lead.industry:
                out.append(("industry", "lead has no industry"))
            elif lead.industry not in self.industries:
                out.append(("industry", f"industry {lead.industry} not in {'/'.join(sorted(self.industries))}"))
        for name, wanted, value in (
            ("product", self.products, lead.product_interest),
            ("source", self.sources, lead.source),
            ("tier", self.tiers, lead.tier),
        ):
            if wanted and fold(value) not in wanted:
                out.append((name, f"lead has no {name}" if not value else f"{name} {value!r} not wanted"))
        if self.score_min is not None or self.score_max is not None:
            low = self.score_min if self.score_min is not None else -(2**31)
            high = self.score_max if self.score_max is not None else 2**31
            if lead.score is None:
                out.append(("score", "lead has no score"))
            elif not low <= lead.score <= high:
                out.append(("score", f"score {lead.score} outside {self.score_min}..{self.score_max}"))
        if self.owned is not None and bool(lead.owner_id) != self.owned:
            out.append(("owned", "customer has an owner" if lead.owner_id else "customer has no owner"))
        return out


@dataclass(frozen=True)
class WorkingHours:
    """Days (0 = Monday) and a local time window ``[start, end)`` in a time zone."""

    tz: str = DEFAULT_TIMEZONE
    days: frozenset[int] = frozenset(range(5))
    start: time = time(9, 0)
    end: time = time(18, 0)

    def contains(self, at: datetime) -> bool:
        """True when ``at`` falls inside the window (an overnight window wraps midnight)."""
        local = at.astimezone(zone(self.tz))
        now = local.time()
        if self.start <= self.end:
            return local.weekday() in self.days and self.start <= now < self.end
        if now >= self.start:
            return local.weekday() in self.days
        return (local - timedelta(days=1)).weekday() in self.days and now < self.end


@dataclass(frozen=True)
class WeightDecay:
    """From ``effective_from`` on, the named reps' (all reps' if none) weights are multiplied by ``factor``."""

    effective_from: date
    factor: float
    reps: frozenset[str] = frozenset()

    def applies(self, rep_id: str, day: date) -> bool:
        """True when the decay is on for ``rep_id`` on ``day``."""
        return day >= self.effective_from and (not self.reps or rep_id in self.reps)


@dataclass(frozen=True)
class Target:
    """Who a rule's leads go to: a team's reps or a list of reps (then ``team`` is their fallback team)."""

    team: str = ""
    reps: tuple[str, ...] = ()
    strategy: Strategy = "round_robin"
    capacity: int | None = None
    weights: Mapping[str, int] = field(default_factory=dict)
    weight_decay: WeightDecay | None = None
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """One ordered routing rule; ``line`` is where it starts in its YAML file."""

    name: str
    conditions: Conditions
    target: Target
    hours: WorkingHours | None = None
    effective_from: date | None = None
    effective_until: date | None = None
    line: int = 0

    def not_in_effect(self, day: date) -> str:
        """Why the rule is off on ``day``, or ``""`` when it is in effect (both ends inclusive)."""
        if self.effective_from is not None and day < self.effective_from:
            return f"not in effect until {self.effective_from.isoformat()}"
        if self.effective_until is not None and day > self.effective_until:
            return f"expired after {self.effective_until.isoformat()}"
        return ""


@dataclass(frozen=True)
class PoolPolicy:
    """How many leads one rep may claim from the pool per local day."""

    daily_claim_limit: int = 20


@dataclass(frozen=True)
class AlarmPolicy:
    """Silent-failure alarm thresholds (see :mod:`.alarms`)."""

    silent_hours: float = 4.0
    min_leads: int = 3
    pool_share: float = 0.15
    pool_window_hours: float = 24.0
    min_decisions: int = 20


@dataclass(frozen=True)
class RuleSet:
    """A versioned, ordered rule list with the policies that go with it."""

    version: str
    rules: tuple[Rule, ...]
    timezone: str = DEFAULT_TIMEZONE
    min_confidence: float = 0.75
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    pool: PoolPolicy = field(default_factory=PoolPolicy)
    alarms: AlarmPolicy = field(default_factory=AlarmPolicy)

    def local_day(self, at: datetime) -> date:
        """The calendar day of ``at`` in the rule set's time zone."""
        return at.astimezone(zone(self.timezone)).date()
