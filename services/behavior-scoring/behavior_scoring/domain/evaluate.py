"""Evaluate the rules for one customer (with everyone merged into it) at one instant.

A customer's state at instant t is a pure function of the events with event time <= t:
so the order they arrived in does not matter, the live service (t = wall clock) and the
replay (t = --at) agree, and an expiry happens at its instant whether or not another event
comes. Every rule kind is causal (an output at t depends only on events at or before t).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from behavior_scoring.domain.events import Event
from behavior_scoring.domain.groups import Groups
from behavior_scoring.domain.instants import Instant
from behavior_scoring.domain.keyed import KeyedEpisodes
from behavior_scoring.domain.ruleset import (
    DEFAULT_TIER,
    RISK_TIERS,
    Absence,
    Count,
    EventFilter,
    Expiring,
    Holds,
    KeyedAll,
    Rule,
    RuleSet,
)
from behavior_scoring.domain.views import Activation, CustomerView, Ended, TagState

_FAR = 1 << 62


class World(Protocol):
    """Cross-customer lookups the engine provides to the evaluation."""

    def matched(self, field: str, value: str) -> Sequence[Event]:
        """Every stored event whose ``field`` equals ``value`` (e.g. all events of one order)."""
        ...

    def keyed_episodes(self, rule: Rule, cond: KeyedAll, value: str) -> KeyedEpisodes | None:
        """A keyed rule's episodes for one key value (cached by the engine); None when it cannot fire."""
        ...


@dataclass(slots=True)
class Context:
    """One evaluation: the customer group's events at or before ``t`` by type."""

    root: str
    t: Instant
    since: Instant
    """Report ended presences only if they ended after this (the previous view's instant)."""
    by_type: dict[str, list[Event]]
    groups: Groups
    world: World


class Outcome(NamedTuple):
    """A rule's contribution: present now, latest ended presence, next instant it may change."""

    active: Activation | None
    ended: Ended | None
    next_change: Instant | None


class Interval(NamedTuple):
    """A presence [start, end) of a continuously evaluated condition."""

    start: Instant
    end: Instant | None
    because: tuple[str, ...]
    cause: str
    end_ids: tuple[str, ...]


_NOTHING = Outcome(None, None, None)


def _earliest(a: Instant | None, b: Instant | None) -> Instant | None:
    """The earlier of two optional instants."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _selected(ctx: Context, flt: EventFilter) -> list[Event]:
    """The group's events matching ``flt``, in (at, id) order."""
    events = ctx.by_type.get(flt.type)
    if not events:
        return []
    if flt.local_time is None:
        if not flt.where:
            return events
        if len(flt.where) == 1:
            ((name, value),) = flt.where
            return [e for e in events if e.fields.get(name) == value]
    return [e for e in events if flt.accepts(e)]


def _enough(window: Sequence[Event], at_least: int, distinct: str | None) -> bool:
    """True when the window holds enough events (or distinct values)."""
    if distinct is None:
        return len(window) >= at_least
    return len({e.fields.get(distinct) for e in window if distinct in e.fields}) >= at_least


def _support(window: Sequence[Event], at_least: int, distinct: str | None) -> tuple[str, ...]:
    """The ids of the latest events making up the count (one per distinct value), oldest first."""
    if distinct is None:
        return tuple(e.id for e in window[-at_least:])
    latest: dict[object, Event] = {}
    for event in window:
        if distinct in event.fields:
            latest[event.fields[distinct]] = event
    chosen = sorted(latest.values())[-at_least:]
    return tuple(e.id for e in chosen)


def _count(rule: Rule, cond: Count, ctx: Context) -> Outcome:
    """Fires at each event completing the count; present for the TTL after the latest firing."""
    matches = _selected(ctx, cond.event)
    if not matches or rule.ttl is None:
        return _NOTHING
    ttl, within = rule.ttl, cond.within
    times = [e.at for e in matches]
    blocks = [e.at for e in _selected(ctx, cond.none_of)] if cond.none_of is not None else []
    i = len(matches) - 1
    while i >= 0:
        f = times[i]
        if f + ttl <= ctx.since or f < rule.effective_from:
            break
        first_same = bisect_left(times, f)
        if rule.in_force(f):
            window = matches[bisect_right(times, f - within) : bisect_right(times, f)]
            blocked = bool(blocks) and bisect_right(blocks, f) > bisect_right(blocks, f - within)
            if not blocked and _enough(window, cond.at_least, cond.distinct):
                because = _support(window, cond.at_least, cond.distinct)
                if ctx.t < f + ttl:
                    return Outcome(Activation(rule.id, f, f + ttl, because), None, f + ttl)
                return Outcome(None, Ended(rule.id, f, f + ttl, "expired", because), None)
        i = first_same - 1
    return _NOTHING


def _followers(ctx: Context, cond: Absence, event: Event) -> tuple[list[Event], list[Instant], Instant | None]:
    """The follow-ups joined to ``event`` on ``cond.match`` at or before t, their instants, the next one after t."""
    value = event.fields.get(cond.match or "")
    if not isinstance(value, str):
        return [], [], None
    flt, t = cond.not_followed_by, ctx.t
    joined = sorted(b for b in ctx.world.matched(cond.match or "", value) if flt.accepts(b))
    found = [b for b in joined if b.at <= t]
    later = joined[len(found)].at if len(found) < len(joined) else None
    return found, [b.at for b in found], later


def _absence(rule: Rule, cond: Absence, ctx: Context) -> Outcome:
    """A not followed by B within W fires at A + W; held for the TTL or until a later B clears it."""
    firsts = _selected(ctx, cond.event)
    if not firsts:
        return _NOTHING
    ttl, within, t = rule.ttl, cond.within, ctx.t
    shared: tuple[list[Event], list[Instant], Instant | None] | None = None
    if cond.match is None:
        events = _selected(ctx, cond.not_followed_by)
        shared = (events, [b.at for b in events], None)  # later ones are the group's own: the engine sees them
    best: Activation | None = None
    ended: Ended | None = None
    upcoming: Instant | None = None
    for a in reversed(firsts):
        f = a.at + within
        if ttl is not None and f + ttl <= ctx.since:
            break
        followers, times, later = shared if shared is not None else _followers(ctx, cond, a)
        upcoming = _earliest(upcoming, later)
        j = bisect_left(times, a.at)
        if j < len(times) and times[j] < f:
            continue
        if f > t:
            upcoming = _earliest(upcoming, f)
            continue
        if not rule.in_force(f):
            continue
        expires = None if ttl is None else f + ttl
        end, cause, end_ids = expires, "expired", (a.id,)
        if cond.cleared_by_later and j < len(followers) and (end is None or followers[j].at < end):
            end, cause, end_ids = followers[j].at, "cleared", (followers[j].id,)
        if end is None or t < end:
            candidate = Activation(rule.id, f, expires, (a.id,))
            if _better(candidate, best):
                best = candidate
        elif end > ctx.since and (ended is None or end > ended.ended_at):
            ended = Ended(rule.id, f, end, cause, end_ids)
    if best is not None:
        upcoming = _earliest(upcoming, best.expires_at)
    return Outcome(best, None if best is not None else ended, upcoming)


def _keyed(rule: Rule, cond: KeyedAll, ctx: Context) -> Outcome:
    """Present for the TTL after the latest firing that involves one of this customer's events."""
    ttl = rule.ttl
    if ttl is None:
        return _NOTHING
    mine: dict[str, list[str]] = {}
    for event in _selected(ctx, cond.event):
        key = event.fields.get(cond.key)
        if isinstance(key, str) and key:
            mine.setdefault(key, []).append(event.id)
    best: Activation | None = None
    ended: Ended | None = None
    upcoming: Instant | None = None
    t = ctx.t
    for key, first_ids in sorted(mine.items()):
        episodes = ctx.world.keyed_episodes(rule, cond, key)
        if episodes is None:
            continue
        upcoming = _earliest(upcoming, episodes.following(first_ids, rule, t))
        f = episodes.latest(first_ids, rule, t)
        if f is None or f + ttl <= ctx.since:
            continue
        because = tuple(e.id for e in sorted(ev for pair in episodes.qualifying(f) for ev in pair))
        if t < f + ttl:
            if best is None or best.set_at < f:
                best = Activation(rule.id, f, f + ttl, because)
        elif ended is None or f + ttl > ended.ended_at:
            ended = Ended(rule.id, f, f + ttl, "expired", because)
    if best is not None:
        upcoming = _earliest(upcoming, best.expires_at)
    return Outcome(best, None if best is not None else ended, upcoming)


def _holds_intervals(rule: Rule, cond: Holds, ctx: Context) -> list[Interval]:
    """Sweep the instants where the condition may change: events entering and leaving the window."""
    matches = _selected(ctx, cond.event)
    if len(matches) < cond.at_least:
        return []
    blockers = _selected(ctx, cond.none_of) if cond.none_of is not None else []
    within = cond.within
    # (instant, event, is_blocker, delta): each event enters at its time and leaves W later
    changes: list[tuple[Instant, Event, bool, int]] = []
    for e in matches:
        changes += ((e.at, e, False, 1), (e.at + within, e, False, -1))
    for e in blockers:
        changes += ((e.at, e, True, 1), (e.at + within, e, True, -1))
    changes.sort(key=lambda c: (c[0], c[1], c[3]))
    values: Counter[object] = Counter()
    blocked = 0
    intervals: list[Interval] = []
    start: Instant | None = None
    limits = {rule.effective_from} if rule.retired_from is None else {rule.effective_from, rule.retired_from}
    instants = sorted({c[0] for c in changes} | limits)
    i, n = 0, len(changes)
    for instant in instants:
        left: list[str] = []
        blocking: list[str] = []
        while i < n and changes[i][0] == instant:
            _, event, is_blocker, delta = changes[i]
            i += 1
            if is_blocker:
                blocked += delta
                if delta > 0:
                    blocking.append(event.id)
                continue
            key = event.fields.get(cond.distinct) if cond.distinct is not None else event.id
            values[key] += delta
            if values[key] <= 0:
                del values[key]
            if delta < 0:
                left.append(event.id)
        holds = rule.in_force(instant) and blocked == 0 and len(values) >= cond.at_least
        if holds and start is None:
            start = instant
        elif not holds and start is not None:
            intervals.append(Interval(start, instant, (), *_end_cause(rule, instant, blocking, left)))
            start = None
    if start is not None:
        intervals.append(Interval(start, None, (), "", ()))
    return _with_support(intervals, matches, cond, ctx.t)


def _end_cause(rule: Rule, instant: Instant, blocking: list[str], left: list[str]) -> tuple[str, tuple[str, ...]]:
    """Why a held condition stopped holding at ``instant``, and the events behind that."""
    if not rule.in_force(instant):
        return "rule_retired", ()
    if blocking:
        return "blocked", tuple(blocking)
    return "window_passed", tuple(left)


def _with_support(intervals: list[Interval], matches: list[Event], cond: Holds, t: Instant) -> list[Interval]:
    """Fill the ``because`` of the interval containing ``t`` from the window at ``t``."""
    out = []
    for interval in intervals:
        if interval.start <= t and (interval.end is None or t < interval.end):
            times = [e.at for e in matches]
            window = matches[bisect_right(times, t - cond.within) : bisect_right(times, t)]
            out.append(interval._replace(because=_support(window, cond.at_least, cond.distinct)))
        else:
            out.append(interval)
    return out


def _expiring_intervals(rule: Rule, cond: Expiring, ctx: Context) -> list[Interval]:
    """From ``notice`` before the latest time in ``cond.field`` until it, or until a later event pushes it out."""
    events = [e for e in _selected(ctx, cond.event) if isinstance(e.fields.get(cond.field), int)]
    intervals: list[Interval] = []
    current = -_FAR
    source: Event | None = None
    for i, event in enumerate(events):
        value = int(event.fields[cond.field])
        if source is None or value > current:
            current, source = value, event
        segment_end = events[i + 1].at if i + 1 < len(events) else _FAR
        if segment_end == event.at:
            continue  # another event at the same instant comes next
        start, end = max(current - cond.notice, event.at), min(current, segment_end)
        cause = "expired" if end == current else "continues"
        if intervals and intervals[-1].cause == "continues":
            last = intervals[-1]
            if start == event.at and start < end:  # still within the notice period: the stay goes on
                intervals[-1] = Interval(last.start, end, (source.id,), cause, (source.id,))
                continue
            intervals[-1] = last._replace(cause="renewed", end_ids=(event.id,))
        if start < end:
            intervals.append(Interval(start, end, (source.id,), cause, (source.id,)))
    return intervals


def _clip(rule: Rule, intervals: list[Interval]) -> list[Interval]:
    """Limit intervals to the rule's force and its TTL cap."""
    out = []
    for iv in intervals:
        start = max(iv.start, rule.effective_from)
        end, cause, ids = iv.end, iv.cause, iv.end_ids
        if rule.retired_from is not None and (end is None or end > rule.retired_from):
            end, cause, ids = rule.retired_from, "rule_retired", ()
        if rule.ttl is not None and (end is None or end > start + rule.ttl):
            end, cause, ids = start + rule.ttl, "expired", iv.because
        if end is None or start < end:
            out.append(Interval(start, end, iv.because, cause, ids))
    return out


def _from_intervals(rule: Rule, intervals: list[Interval], ctx: Context) -> Outcome:
    """Present, ended and next change from a rule's presence intervals."""
    t = ctx.t
    active: Activation | None = None
    ended: Ended | None = None
    upcoming: Instant | None = None
    for iv in _clip(rule, intervals):
        if iv.start > t:
            upcoming = _earliest(upcoming, iv.start)
        elif iv.end is None or t < iv.end:
            active = Activation(rule.id, iv.start, iv.end, iv.because)
            upcoming = _earliest(upcoming, iv.end)
        elif iv.end > ctx.since:
            ended = Ended(rule.id, iv.start, iv.end, iv.cause, iv.end_ids)
    return Outcome(active, None if active is not None else ended, upcoming)


def evaluate_rule(rule: Rule, ctx: Context) -> Outcome:
    """One rule's outcome for the context's customer group at ``ctx.t``."""
    cond = rule.condition
    if isinstance(cond, Count):
        return _count(rule, cond, ctx)
    if isinstance(cond, Absence):
        return _absence(rule, cond, ctx)
    if isinstance(cond, KeyedAll):
        return _keyed(rule, cond, ctx)
    if isinstance(cond, Holds):
        return _from_intervals(rule, _holds_intervals(rule, cond, ctx), ctx)
    return _from_intervals(rule, _expiring_intervals(rule, cond, ctx), ctx)


class Evaluation(NamedTuple):
    """A customer's view and, per absent target, its latest ended presence (for removal reasons)."""

    view: CustomerView
    ended: dict[tuple[str, str], Ended]


def _better(a: Activation, b: Activation | None) -> bool:
    """True when ``a`` lasts longer than ``b`` (ties: set later)."""
    if b is None:
        return True
    a_end = _FAR if a.expires_at is None else a.expires_at
    b_end = _FAR if b.expires_at is None else b.expires_at
    return (a_end, a.set_at) > (b_end, b.set_at)


def evaluate(ruleset: RuleSet, ctx: Context, customer_id: str) -> Evaluation:
    """Every rule for the group at ``ctx.t``: score, risk tier, tags, pools, next change."""
    active: dict[tuple[str, str], Activation] = {}
    ended: dict[tuple[str, str], Ended] = {}
    upcoming: Instant | None = None
    by_type = ctx.by_type
    for rule in ruleset.rules:
        if rule.condition.event.type not in by_type:
            continue  # every kind needs at least one of its own main events
        outcome = evaluate_rule(rule, ctx)
        key = (rule.target_kind, rule.target)
        upcoming = _earliest(upcoming, outcome.next_change)
        if outcome.active is not None and _better(outcome.active, active.get(key)):
            active[key] = outcome.active
        if outcome.ended is not None and (key not in ended or outcome.ended.ended_at > ended[key].ended_at):
            ended[key] = outcome.ended
    tags: list[TagState] = []
    pools: list[TagState] = []
    for (kind, name), act in sorted(active.items()):
        ended.pop((kind, name), None)
        if kind == "tag":
            tag = ruleset.tags[name]
            tags.append(TagState(name, tag.weight, act.set_at, act.expires_at, act.because, act.rule, tag.risk_tier))
        else:
            pools.append(TagState(name, 0, act.set_at, act.expires_at, act.because, act.rule))
    tiers = [t.risk_tier for t in tags if t.risk_tier is not None]
    tier = max(tiers, key=RISK_TIERS.index) if tiers else DEFAULT_TIER
    view = CustomerView(customer_id, ctx.t, sum(t.weight for t in tags), tier, tuple(tags), tuple(pools), upcoming)
    return Evaluation(view, ended)
