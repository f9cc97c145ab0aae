"""behavior-scoring's Prometheus metrics (the default registry, served on the runner's /metrics).

Labels hold only tag and pool names from the rules file, never a customer.

The gauges follow the process's engine: set in full whenever the engine is (re)loaded
(:func:`reset`), then moved by each published diff (:func:`observe_diff`). The late-event
counters follow the engine's own counters (part of its durable state) through a high-water
mark, so a batch that rolled back and is applied again is not counted twice.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from behavior_scoring.domain.engine import Counters
from behavior_scoring.domain.views import CustomerView, Diff

ACTIVE_TAGS = Gauge("crm_scoring_active_tags", "Customers with the behaviour or risk tag present", ["tag"])
POOL_MEMBERS = Gauge("crm_scoring_pool_members", "Customers in the strategy pool", ["pool"])
EXPIRATIONS = Counter(
    "crm_scoring_expirations", "Tags and pool memberships that ended by expiry (shelf life)", ["kind", "name"]
)
LATE_EVENTS = Counter("crm_scoring_late_events", "Events older than the watermark minus the allowed lateness")
LATE_NOT_APPLIED = Counter(
    "crm_scoring_late_events_not_applied", "Late events that could no longer change anything (recorded only)"
)
EVENTS_EVALUATED = Counter("crm_scoring_events_evaluated", "Events applied to the rule engine")
EVALUATION_SECONDS = Histogram(
    "crm_scoring_evaluation_seconds",
    "Rule engine time per consumer batch (path=events) or timer round (path=timers), without I/O",
    ["path"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def reset(views: Iterable[CustomerView], *, tags: Iterable[str] = (), pools: Iterable[str] = ()) -> None:
    """Set the gauges from every published view (``tags``/``pools``: names shown at 0 when empty)."""
    tag_counts: Tally[str] = Tally(dict.fromkeys(tags, 0))
    pool_counts: Tally[str] = Tally(dict.fromkeys(pools, 0))
    for view in views:
        tag_counts.update(t.name for t in view.tags)
        pool_counts.update(p.name for p in view.pools)
    ACTIVE_TAGS.clear()
    POOL_MEMBERS.clear()
    for name, n in tag_counts.items():
        ACTIVE_TAGS.labels(tag=name).set(n)
    for name, n in pool_counts.items():
        POOL_MEMBERS.labels(pool=name).set(n)


def observe_diff(diff: Diff) -> None:
    """Move the gauges by one published change; count the expiries in it."""
    for change in diff.tags_added:
        ACTIVE_TAGS.labels(tag=change.name).inc()
    for change in diff.tags_removed:
        ACTIVE_TAGS.labels(tag=change.name).dec()
        if change.reason == "expired":
            EXPIRATIONS.labels(kind="tag", name=change.name).inc()
    for change in diff.pools_added:
        POOL_MEMBERS.labels(pool=change.name).inc()
    for change in diff.pools_removed:
        POOL_MEMBERS.labels(pool=change.name).dec()
        if change.reason == "expired":
            EXPIRATIONS.labels(kind="pool", name=change.name).inc()


class LateCounts:
    """One engine's late counters already added to the Prometheus counters (a high-water mark).

    After a rollback the engine is reloaded with lower counters and counts the same late
    events again on the way back up; only what passes the mark is added.
    """

    def __init__(self) -> None:
        self._seen: dict[str, int] | None = None

    def baseline(self, counters: Counters) -> None:
        """The counters of the engine as first loaded (or created) in this process: already counted."""
        if self._seen is None:
            self._seen = {"late": counters.late, "late_not_applied": counters.late_not_applied}

    def sync(self, counters: Counters) -> None:
        """Add what the engine counted late beyond the mark."""
        seen = self._seen if self._seen is not None else {"late": 0, "late_not_applied": 0}
        for name, metric in (("late", LATE_EVENTS), ("late_not_applied", LATE_NOT_APPLIED)):
            value = getattr(counters, name)
            if value > seen[name]:
                metric.inc(value - seen[name])
                seen[name] = value
        self._seen = seen
