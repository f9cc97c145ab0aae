"""The rules model: tag and pool definitions, and rules made of five condition kinds.

Condition kinds (all windows are half-open: "within W" means less than W apart, and a
tag set at S with TTL T is present on [S, S + T)):

- :class:`Count` — fires at each matching event that makes at least N matching events
  (or N distinct values of a field) within W; the target is held for its TTL after the
  latest firing (a refresh, not a stack).
- :class:`Absence` — event A not followed by B within W fires at A + W; held for the TTL,
  and (``cleared_by_later``) a B after the firing clears it.
- :class:`KeyedAll` — N events A sharing a key (e.g. ``client_ip``), each followed by B
  (joined on ``match``, e.g. ``order_id``), the whole episode within W, fires when the last
  B lands; every customer behind those A events gets the target for its TTL.
- :class:`Holds` — the target is present while N matching events (or distinct values)
  lie within the last W and none of ``none_of`` does.
- :class:`Expiring` — present from ``notice`` before the latest time in ``field`` (e.g. a
  membership's ``valid_until``) until that time, or until a later event pushes it out.

Each rule applies from ``effective_from`` (firings or presence before it do not count)
and until ``retired_from`` if given; tags already set by a retired rule run out their TTL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from functools import cached_property, lru_cache
from typing import Literal

from behavior_scoring.domain.events import Event
from behavior_scoring.domain.instants import MINUTE, Duration, Instant, to_datetime

RISK_TIERS = ("L1", "L2", "L3", "L4")
DEFAULT_TIER = "L1"


_QUARTER = 15 * MINUTE


@lru_cache(maxsize=65536)
def _quarter_offset(tz: tzinfo | None, quarter: int) -> Duration | None:
    """The UTC offset throughout one quarter hour (UTC), or None if it changes inside it."""
    start = to_datetime(quarter * _QUARTER).astimezone(tz).utcoffset()
    end = to_datetime((quarter + 1) * _QUARTER - 1).astimezone(tz).utcoffset()
    if start is None or start != end:
        return None
    return start // timedelta(microseconds=1)


def local_minute(at: Instant, tz: tzinfo | None) -> int:
    """Minute of the day (0-1439) of instant ``at`` on the wall clock of ``tz``."""
    offset = _quarter_offset(tz, at // _QUARTER)
    if offset is None:
        local = to_datetime(at).astimezone(tz)
        return local.hour * 60 + local.minute
    return (at + offset) // MINUTE % 1440


@dataclass(frozen=True)
class EventFilter:
    """Which events a rule looks at: a type, field equalities, a local time-of-day range."""

    type: str
    where: tuple[tuple[str, str], ...] = ()
    local_time: tuple[int, int] | None = None
    """Minutes of the day [from, to) in the rule set's time zone; wraps past midnight."""
    tz: tzinfo | None = None

    def accepts(self, event: Event) -> bool:
        """True when ``event`` matches type, ``where`` and the time-of-day range."""
        if event.type != self.type:
            return False
        fields = event.fields
        for name, value in self.where:
            if fields.get(name) != value:
                return False
        if self.local_time is None:
            return True
        minute = local_minute(event.at, self.tz)
        start, end = self.local_time
        return start <= minute < end if start < end else (minute >= start or minute < end)


@dataclass(frozen=True)
class Count:
    """N matching events (or distinct values of ``distinct``) within W."""

    event: EventFilter
    at_least: int
    within: Duration
    distinct: str | None = None
    none_of: EventFilter | None = None


@dataclass(frozen=True)
class Absence:
    """``event`` not followed by ``not_followed_by`` within W, fired at event + W."""

    event: EventFilter
    not_followed_by: EventFilter
    within: Duration
    match: str | None = None
    cleared_by_later: bool = True


@dataclass(frozen=True)
class KeyedAll:
    """N events sharing ``key``, each followed by ``each_followed_by`` (joined on ``match``), within W."""

    key: str
    event: EventFilter
    each_followed_by: EventFilter
    match: str
    at_least: int
    within: Duration


@dataclass(frozen=True)
class Holds:
    """Present while N matching events (or distinct values) are within the last W, and no ``none_of``."""

    event: EventFilter
    at_least: int
    within: Duration
    distinct: str | None = None
    none_of: EventFilter | None = None


@dataclass(frozen=True)
class Expiring:
    """Present from ``notice`` before the latest ``field`` time until that time."""

    event: EventFilter
    field: str
    notice: Duration


Condition = Count | Absence | KeyedAll | Holds | Expiring
TargetKind = Literal["tag", "pool"]


@dataclass(frozen=True)
class TagDef:
    """A tag: its weight in the score, optional risk tier, and shelf life."""

    name: str
    weight: int
    ttl: Duration
    kind: Literal["behaviour", "risk"] = "behaviour"
    risk_tier: str | None = None
    line: int = 0


@dataclass(frozen=True)
class PoolDef:
    """A strategy pool; ``ttl`` caps a stay (None: no cap)."""

    name: str
    label: str = ""
    ttl: Duration | None = None
    line: int = 0


@dataclass(frozen=True)
class Rule:
    """One rule: when ``condition`` holds, ``target`` (a tag or a pool) is present."""

    id: str
    target_kind: TargetKind
    target: str
    condition: Condition
    effective_from: Instant
    ttl: Duration | None
    """The target's TTL (tags) or stay cap (pools), resolved from its definition."""
    retired_from: Instant | None = None
    line: int = 0

    def in_force(self, at: Instant) -> bool:
        """True when a firing at ``at`` counts under this rule."""
        return self.effective_from <= at and (self.retired_from is None or at < self.retired_from)

    def filters(self) -> tuple[EventFilter, ...]:
        """Every event filter the condition reads."""
        cond = self.condition
        if isinstance(cond, Absence):
            return (cond.event, cond.not_followed_by)
        if isinstance(cond, KeyedAll):
            return (cond.event, cond.each_followed_by)
        if isinstance(cond, Count | Holds) and cond.none_of is not None:
            return (cond.event, cond.none_of)
        return (cond.event,)

    def span(self) -> Duration | None:
        """How long after its own time an event can still change this rule's output (None: unbounded)."""
        cond = self.condition
        if isinstance(cond, Holds):
            return cond.within
        if isinstance(cond, Expiring):
            return 0
        if self.ttl is None:
            return None
        return cond.within + self.ttl


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file."""

    version: str
    allowed_lateness: Duration
    timezone: str
    tags: Mapping[str, TagDef]
    pools: Mapping[str, PoolDef]
    rules: tuple[Rule, ...]
    source: str = "<rules>"
    digest: str = ""

    @cached_property
    def _spans(self) -> dict[str, Duration | None]:
        """Per event type: the longest span of any rule reading it."""
        spans: dict[str, Duration | None] = {}
        for rule in self.rules:
            span = rule.span()
            for flt in rule.filters():
                old = spans.get(flt.type, 0)
                spans[flt.type] = None if old is None or span is None else max(old, span)
        return spans

    @cached_property
    def _time_fields(self) -> dict[str, tuple[str, ...]]:
        """Per event type: the time fields an :class:`Expiring` rule reads."""
        found: dict[str, set[str]] = {}
        for rule in self.rules:
            if isinstance(rule.condition, Expiring):
                found.setdefault(rule.condition.event.type, set()).add(rule.condition.field)
        return {k: tuple(sorted(v)) for k, v in found.items()}

    def used_types(self) -> frozenset[str]:
        """Event types some rule reads."""
        return frozenset(self._spans)

    @cached_property
    def retention(self) -> dict[str, tuple[Duration | None, tuple[str, ...]]]:
        """Per event type some rule reads: how long an event keeps mattering (None: always), its time fields."""
        return {kind: (span, self._time_fields.get(kind, ())) for kind, span in self._spans.items()}

    def relevant_until(self, event: Event) -> Instant | None:
        """The instant from which ``event`` can no longer change any output (None: never)."""
        found = self.retention.get(event.type)
        if found is None:
            return event.at
        span, time_fields = found
        if span is None:
            return None
        end = event.at + span
        for name in time_fields:
            value = event.fields.get(name)
            if isinstance(value, int) and value > end:
                end = value
        return end
