"""Per-field survivorship: which source record's value becomes the golden value, and by which rule.

Rules, in order: a more *trusted* source wins (paid orders > WeCom contacts > forms >
mini-program); between equally trusted sources the more *recent* observation wins; between
equally recent ones the more *complete* (longer) value wins, then the larger record id, so
the order is total and folding candidates one by one gives the same winner as any order.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal, NamedTuple

Rule = Literal["only", "trusted", "recent", "complete", "tiebreak"]

# Touchpoint type prefix → trust; unknown sources rank below every known one.
TRUST: Mapping[str, int] = {"crm.order.": 4, "crm.wecom.": 3, "crm.form.": 2, "crm.miniprogram.": 1}


@functools.lru_cache(maxsize=1024)
def trust_of(event_type: str) -> int:
    """The trust of a touchpoint type (0 when the type names no known channel); cached: types are few."""
    return next((rank for prefix, rank in TRUST.items() if event_type.startswith(prefix)), 0)


class Candidate(NamedTuple):
    """One source record's value for one field (a named tuple: made for every field of every touchpoint)."""

    value: str
    record_id: str
    event_type: str
    observed_at: datetime

    def rank(self) -> tuple[int, datetime, int, str]:
        """The survivorship order: the higher rank wins."""
        return (trust_of(self.event_type), self.observed_at, len(self.value), self.record_id)


def rule_between(winner: Candidate, loser: Candidate) -> Rule:
    """The rule that made ``winner`` beat ``loser``."""
    if trust_of(winner.event_type) != trust_of(loser.event_type):
        return "trusted"
    if winner.observed_at != loser.observed_at:
        return "recent"
    return "complete" if len(winner.value) != len(loser.value) else "tiebreak"


def better(current: Candidate | None, new: Candidate) -> tuple[Candidate, Rule] | None:
    """The new winner and its rule when ``new`` beats ``current``; None when ``current`` stays."""
    if current is None:
        return new, "only"
    if new.rank() > current.rank():
        return new, rule_between(new, current)
    return None


def survive(candidates: Iterable[Candidate]) -> tuple[Candidate, Rule] | None:
    """The winning candidate among non-empty values, with the rule that beat the runner-up."""
    ranked = sorted((c for c in candidates if c.value), key=Candidate.rank, reverse=True)
    if not ranked:
        return None
    if len(ranked) == 1:
        return ranked[0], "only"
    return ranked[0], rule_between(ranked[0], ranked[1])
