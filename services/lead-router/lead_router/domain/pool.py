"""Claiming from the pool (公海池): a rep takes a pooled lead, within a daily claim limit."""

from __future__ import annotations

from dataclasses import dataclass

from lead_router.domain.engine import rep_skip_reason
from lead_router.domain.roster import Rep
from lead_router.domain.rules import PoolPolicy


@dataclass(frozen=True)
class ClaimCheck:
    """Whether a claim may go ahead; ``reason`` says why not."""

    ok: bool
    reason: str = ""


def check_claim(*, rep: Rep | None, in_pool: bool, load: int, claims_today: int, policy: PoolPolicy) -> ClaimCheck:
    """May ``rep`` claim a lead now? ``claims_today`` counts their claims this local day."""
    if not in_pool:
        return ClaimCheck(False, "not_in_pool")
    reason = rep_skip_reason(rep, load=load, capacity=rep.capacity if rep else 0)
    if reason:
        return ClaimCheck(False, reason)
    if claims_today >= policy.daily_claim_limit:
        return ClaimCheck(False, "daily_limit_reached")
    return ClaimCheck(True)
