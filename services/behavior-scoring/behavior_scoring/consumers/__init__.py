"""behavior-scoring's consumer: resolved touchpoints, merges and unmerges → the scoring engine → ``score_changed``."""

from __future__ import annotations

from crmkit.handlers import Subscription

from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.live import LiveScoring
from behavior_scoring.mapping import MERGED_TYPE, RESOLVED, UNMERGED_TYPE


def subscription(live: LiveScoring | None = None) -> Subscription:
    """The behavior-scoring consumer group; ``live`` holds the engine (default rules, wall clock when omitted)."""
    scoring = live if live is not None else LiveScoring(load_rules())
    return Subscription(
        group="behavior-scoring",
        topics=("crm.customer.v1",),
        handlers={RESOLVED: scoring.handle_one, MERGED_TYPE: scoring.handle_one, UNMERGED_TYPE: scoring.handle_one},
        ignored=frozenset({"crm.customer.updated", "crm.customer.account_merged", "crm.customer.account_unmerged"}),
        batch=scoring.handle_batch,
    )
