"""The scoring engine: keeps behaviour in event time and answers "what is this customer's state at t".

One engine serves both callers:

- the **replay** ingests a log (``ingest``) and asks for every customer's view at T
  (``views``);
- the **live service** calls ``apply(event, now=wall_clock)`` per event and
  ``advance(now)`` on a timer, publishes each returned :class:`Diff` whose ``changed`` is
  true, persists what ``take_dirty`` names (``customer_record``/``global_record``) in the
  same transaction as its ledger row, and sleeps until ``next_due()``.

A customer's view at t is a pure function of the stored events at or before t (see
``evaluate``), so arrival order never matters and both callers agree for the same events
and instant. The allowed lateness only decides which events are *counted* late: an event
older than the watermark minus the lateness is recorded in ``late`` and still applied
wherever it can still change a view; an event that can no longer change anything at or
after the watermark (its rules' windows and TTLs have all run out) is recorded as late and
not stored. Behaviour is kept for the longest window + TTL of any rule reading it
(``RuleSet.relevant_until``), which is what merges and rule changes recompute from.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from behavior_scoring.domain.diffs import diff_views
from behavior_scoring.domain.evaluate import Context, Evaluation, evaluate
from behavior_scoring.domain.events import EVENT_TYPES, MERGE_TYPES, MERGED, Event, event_to_dict, parse_event
from behavior_scoring.domain.groups import Groups, resolve_groups
from behavior_scoring.domain.instants import Duration, Instant, to_instant
from behavior_scoring.domain.keyed import KeyedEpisodes
from behavior_scoring.domain.ruleset import Absence, KeyedAll, Rule, RuleSet
from behavior_scoring.domain.views import CustomerView, Diff, empty_view

STATE_FORMAT = 1
_AT = attrgetter("at")


@dataclass(frozen=True, slots=True)
class LateEvent:
    """An event that arrived after the watermark had passed its time by more than the lateness."""

    event_id: str
    type: str
    customer_id: str
    at: Instant
    watermark: Instant
    applied: bool
    """False when it could no longer change any state (all its rules' windows had closed)."""


@dataclass(slots=True)
class Counters:
    """Running totals for metrics."""

    events: int = 0
    stored: int = 0
    late: int = 0
    late_not_applied: int = 0
    duplicates: int = 0
    expirations: int = 0
    pruned: int = 0


@dataclass(frozen=True, slots=True)
class RulesChange:
    """A rules file taking over, recorded with the instant it was loaded."""

    version: str
    digest: str
    at: Instant


@dataclass(slots=True)
class _History:
    """One customer's own events (by original customer_id), by type, each list sorted lazily."""

    by_type: dict[str, list[Event]] = field(default_factory=dict)
    unsorted: bool = False

    def add(self, event: Event) -> None:
        """Append, remembering whether order was broken."""
        found = self.by_type.get(event.type)
        if found is None:
            self.by_type[event.type] = [event]
        else:
            if event < found[-1]:
                self.unsorted = True
            found.append(event)

    def typed(self) -> dict[str, list[Event]]:
        """The events by type, each list in (at, id) order."""
        if self.unsorted:
            for events in self.by_type.values():
                events.sort()
            self.unsorted = False
        return self.by_type

    def ordered(self) -> list[Event]:
        """All the events in (at, id) order."""
        return sorted(e for events in self.by_type.values() for e in events)


def _instant(value: datetime | Instant) -> Instant:
    """Accept an aware datetime or an instant."""
    return value if isinstance(value, int) else to_instant(value)


class Engine:
    """Behaviour tags, scores, risk tiers and pools in event time (see the module docstring).

    Public methods: ``ingest``, ``apply``, ``advance``, ``next_due``, ``view``, ``views``,
    ``set_rules``, ``prune``, ``take_dirty``, ``customer_record``, ``global_record``,
    ``snapshot`` and the ``restore``/``load`` constructors. Instants are integer microseconds
    (``instants.to_instant``); ``now`` arguments also accept aware datetimes.
    """

    def __init__(self, rules: RuleSet, *, lateness: Duration | None = None, keep_late: int = 1000) -> None:
        """An empty engine; ``lateness`` overrides the rules file's, ``keep_late`` bounds the late log."""
        self.rules = rules
        self.lateness = rules.allowed_lateness if lateness is None else lateness
        self.watermark: Instant | None = None
        self.counters = Counters()
        self.late: deque[LateEvent] = deque(maxlen=keep_late)
        self.rules_log: list[RulesChange] = []
        self.published: dict[str, CustomerView] = {}
        self._histories: dict[str, _History] = {}
        self._first_seen: dict[str, Instant] = {}
        self._ids: set[str] = set()
        self._merges: list[Event] = []
        self._last_merge_at: Instant = -(1 << 62)
        self._groups: Groups | None = None
        self._firings: dict[tuple[str, str], KeyedEpisodes] = {}
        self._timers: list[tuple[Instant, str]] = []
        self._dirty: set[str] = set()
        self._global_dirty = False
        self._index_fields()

    # ---- indexes -------------------------------------------------------------------------

    def _index_fields(self) -> None:
        """Which fields the rules join on (``match``) or key by (``key``)."""
        match_fields: set[str] = set()
        self._matched: dict[str, dict[str, list[Event]]]
        self._keyed: dict[str, dict[str, list[Event]]]
        self._keyed_rules: list[tuple[Rule, KeyedAll]] = []
        for rule in self.rules.rules:
            cond = rule.condition
            if isinstance(cond, Absence) and cond.match is not None:
                match_fields.add(cond.match)
            if isinstance(cond, KeyedAll):
                match_fields.add(cond.match)
                self._keyed_rules.append((rule, cond))
        self._match_fields = tuple(sorted(match_fields))
        self._key_fields = tuple(sorted({cond.key for _, cond in self._keyed_rules}))
        self._matched = {name: {} for name in self._match_fields}
        self._keyed = {name: {} for name in self._key_fields}
        # per event type: the (field, index) pairs its events go into
        self._plans: dict[str, tuple[tuple[str, dict[str, list[Event]]], ...]] = {
            kind: tuple(
                [(name, self._matched[name]) for name in self._match_fields if name in schema]
                + [(name, self._keyed[name]) for name in self._key_fields if name in schema]
            )
            for kind, schema in EVENT_TYPES.items()
        }

    def _index(self, event: Event) -> None:
        """Add a stored event to the join and key indexes."""
        fields = event.fields
        for name, index in self._plans[event.type]:
            value = fields.get(name)
            if type(value) is str and value:
                found = index.get(value)
                if found is None:
                    index[value] = [event]
                else:
                    found.append(event)

    def matched(self, field: str, value: str) -> Sequence[Event]:
        """Every stored event whose ``field`` equals ``value``."""
        index = self._matched.get(field)
        return index.get(value, ()) if index is not None else ()

    def keyed_episodes(self, rule: Rule, cond: KeyedAll, value: str) -> KeyedEpisodes | None:
        """A keyed rule's episodes for one key value (cached until an event touches the key); None: too few."""
        cache_key = (rule.id, value)
        found = self._firings.get(cache_key)
        if found is None:
            events = self._keyed[cond.key].get(value, ())
            if len(events) < cond.at_least:
                return None
            found = KeyedEpisodes(cond, events, self.matched)
            self._firings[cache_key] = found
        return found

    def _keys_touched(self, event: Event) -> set[str]:
        """Customers who may share an episode with ``event`` under a keyed rule; drops those keys' cached episodes.

        Only events less than W from the event's own A event can be in an episode with it.
        """
        customers: set[str] = set()
        for rule, cond in self._keyed_rules:
            firsts: list[Event] = []
            if cond.event.accepts(event):
                firsts.append(event)
            match = event.fields.get(cond.match)
            if isinstance(match, str) and cond.each_followed_by.accepts(event):
                firsts += [a for a in self.matched(cond.match, match) if cond.event.accepts(a)]
            for first in firsts:
                key = first.fields.get(cond.key)
                if not isinstance(key, str) or not key:
                    continue
                self._firings.pop((rule.id, key), None)
                low, high = first.at - cond.within, first.at + cond.within
                customers.update(e.customer_id for e in self._keyed[cond.key].get(key, ()) if low < e.at < high)
        return customers

    # ---- ingesting -----------------------------------------------------------------------

    def ingest(self, event: Event, *, now: datetime | Instant | None = None, track: bool = True) -> set[str]:
        """Store one event (no views computed); returns the customer ids whose state it may change.

        ``now`` caps the watermark (an event stamped in the future does not move it past the
        clock). Duplicate ids are ignored; late events are recorded in ``late``. With
        ``track=False`` (a bulk load such as the replay) the affected customers are not
        worked out and an empty set is returned.
        """
        counters = self.counters
        counters.events += 1
        ids = self._ids
        if event.id in ids:
            counters.duplicates += 1
            return set()
        at = event.at
        watermark = self.watermark
        is_late = watermark is not None and at < watermark - self.lateness
        seen = at
        if now is not None:
            clock = now if type(now) is int else _instant(now)
            if clock < at:
                seen = clock
        if watermark is None or seen > watermark:
            self.watermark = watermark = seen
        self._global_dirty = True
        if event.type in MERGE_TYPES:
            return self._ingest_merge(event, is_late, track)
        customer = event.customer_id
        first = self._first_seen.get(customer)
        if first is None or at < first:
            self._first_seen[customer] = at
        until = self.rules.relevant_until(event)
        if (is_late or (until is not None and until <= watermark)) and not self._record_late(event, is_late, until):
            return set()
        counters.stored += 1
        ids.add(event.id)
        self._keep(event)
        if not track:
            if self._firings:
                self._firings.clear()
            return set()
        return self._affected(event)

    def ingest_all(self, events: Iterable[Event], *, now: datetime | Instant | None = None) -> None:
        """``ingest(event, now=now, track=False)`` for each event, faster: the replay's bulk load."""
        clock = None if now is None else _instant(now)
        counters, ids, first_seen, histories = self.counters, self._ids, self._first_seen, self._histories
        retention, relevant_until, plans, dirty = (
            self.rules.retention,
            self.rules.relevant_until,
            self._plans,
            self._dirty,
        )
        lateness, watermark = self.lateness, self.watermark
        seen_events = duplicates = stored = 0
        try:
            for event in events:
                seen_events += 1
                if event.id in ids:
                    duplicates += 1
                    continue
                at, kind, customer = event.at, event.type, event.customer_id
                is_late = watermark is not None and at < watermark - lateness
                seen = at if clock is None or clock >= at else clock
                if watermark is None or seen > watermark:
                    watermark = self.watermark = seen
                if kind in MERGE_TYPES:
                    self._ingest_merge(event, is_late, False)
                    continue
                first = first_seen.get(customer)
                if first is None or at < first:
                    first_seen[customer] = at
                spec = retention.get(kind)
                until = at if spec is None else None if spec[0] is None else at + spec[0]
                if spec is not None and spec[1]:
                    until = relevant_until(event)
                if (is_late or (until is not None and until <= watermark)) and not self._record_late(
                    event, is_late, until
                ):
                    continue
                stored += 1
                ids.add(event.id)
                history = histories.get(customer)
                if history is None:
                    histories[customer] = _History({kind: [event]})
                else:
                    history.add(event)
                dirty.add(customer)
                if plans[kind]:
                    self._index(event)
        finally:
            counters.events += seen_events
            counters.duplicates += duplicates
            counters.stored += stored
            self._global_dirty = True
            if self._firings:
                self._firings.clear()

    def _keep(self, event: Event) -> None:
        """Append a behaviour event to its customer's history and the indexes."""
        customer = event.customer_id
        history = self._histories.get(customer)
        if history is None:
            self._histories[customer] = _History({event.type: [event]})
        else:
            history.add(event)
        self._dirty.add(customer)
        if self._plans[event.type]:
            self._index(event)

    def _record_late(self, event: Event, is_late: bool, until: Instant | None) -> bool:
        """Count and record a late event; False when it can no longer change anything (not stored)."""
        watermark = self.watermark if self.watermark is not None else event.at
        applied = until is None or until > watermark
        if is_late:
            self.counters.late += 1
            if not applied:
                self.counters.late_not_applied += 1
            self.late.append(LateEvent(event.id, event.type, event.customer_id, event.at, watermark, applied))
        return applied

    def _affected(self, event: Event) -> set[str]:
        """Customers whose state a stored event may change: its own, those joined to it, those sharing its key."""
        affected = {event.customer_id}
        for name in self._match_fields:
            value = event.fields.get(name)
            if isinstance(value, str):
                affected.update(e.customer_id for e in self.matched(name, value))
        if self._keyed_rules:
            affected |= self._keys_touched(event)
        return affected

    def _ingest_merge(self, event: Event, is_late: bool, track: bool) -> set[str]:
        """Record a merge or unmerge; everyone in both customers' groups, before and after it, is affected."""
        pair = {str(event.fields["absorbed_id"]), str(event.fields["survivor_id"])}
        affected = set(pair)
        at = max(event.at, self.watermark or event.at)
        if track:
            before = self._groups_at(at)
            for customer in pair:
                affected.update(before.members(before.root(customer)))
        self._ids.add(event.id)
        self._merges.append(event)
        self._last_merge_at = max(self._last_merge_at, event.at)
        self._groups = None
        if is_late:
            self.counters.late += 1
            self.late.append(LateEvent(event.id, event.type, event.customer_id, event.at, self.watermark or 0, True))
        self.counters.stored += 1
        self._dirty |= pair
        for customer in pair:
            first = self._first_seen.get(customer)
            if first is None or event.at < first:
                self._first_seen[customer] = event.at
        if not track:
            return set()
        after = self._groups_at(at)
        for customer in pair:
            affected.update(after.members(after.root(customer)))
        return affected

    # ---- evaluating ----------------------------------------------------------------------

    def _groups_at(self, at: Instant) -> Groups:
        """Merge lineage at ``at`` (cached for the latest state)."""
        if self._last_merge_at > at:
            return resolve_groups(self._merges, at)
        if self._groups is None:
            self._groups = resolve_groups(self._merges, at)
        return self._groups

    def _evaluate(self, customer_id: str, at: Instant, since: Instant) -> Evaluation:
        """The customer's view at ``at``; ended presences after ``since`` explain removals."""
        groups = self._groups_at(at)
        if not groups.is_root(customer_id):
            view = empty_view(customer_id, at, merged_into=groups.root(customer_id))
            return Evaluation(view, {})
        members = groups.members(customer_id)
        by_type, future = self._typed_until(members, at)
        result = evaluate(self.rules, Context(customer_id, at, since, by_type, groups, self), customer_id)
        upcoming = result.view.next_change
        if future is not None and (upcoming is None or future < upcoming):
            upcoming = future
        if self._last_merge_at > at:
            member_set = set(members)
            for merge in self._merges:
                pair = {merge.fields["absorbed_id"], merge.fields["survivor_id"]}
                if merge.at > at and (upcoming is None or merge.at < upcoming) and pair & member_set:
                    upcoming = merge.at
        if upcoming != result.view.next_change:
            view = result.view
            result = Evaluation(
                CustomerView(view.customer_id, view.at, view.score, view.risk_tier, view.tags, view.pools, upcoming),
                result.ended,
            )
        return result

    def _typed_until(self, members: list[str], at: Instant) -> tuple[dict[str, list[Event]], Instant | None]:
        """The members' events at or before ``at`` by type (sorted), and the first later event's instant."""
        if len(members) == 1:
            history = self._histories.get(members[0])
            typed = history.typed() if history is not None else {}
        else:
            typed = {}
            for member in members:
                history = self._histories.get(member)
                for kind, events in history.typed().items() if history is not None else ():
                    typed[kind] = sorted([*typed.get(kind, ()), *events])
        by_type: dict[str, list[Event]] = {}
        future: Instant | None = None
        for kind, events in typed.items():
            if events[-1].at <= at:
                by_type[kind] = events
                continue
            cut = bisect_right(events, at, key=_AT)
            if cut:
                by_type[kind] = events[:cut]
            if future is None or events[cut].at < future:
                future = events[cut].at
        return by_type, future

    def customers(self, at: datetime | Instant | None = None) -> list[str]:
        """Known customers that exist on their own at ``at`` (not merged away), sorted."""
        if at is None:
            return sorted(self._first_seen)
        t = _instant(at)
        groups = self._groups_at(t)
        return sorted(c for c, first in self._first_seen.items() if first <= t and groups.is_root(c))

    def view(self, customer_id: str, at: datetime | Instant) -> CustomerView:
        """One customer's state at ``at`` (pure; does not touch what was published)."""
        t = _instant(at)
        return self._evaluate(customer_id, t, t).view

    def views(self, at: datetime | Instant) -> Iterator[CustomerView]:
        """Every customer's state at ``at``, by customer id (what the replay prints)."""
        t = _instant(at)
        for customer_id in self.customers(t):
            yield self._evaluate(customer_id, t, t).view

    # ---- live use: diffs and timers ------------------------------------------------------

    def _refresh(self, customer_id: str, at: Instant, trigger: str | None, hint: str | None = None) -> Diff:
        """Recompute a customer at ``at``, publish the view, schedule its next change, return the diff."""
        before = self.published.get(customer_id)
        since = before.at if before is not None else at
        evaluation = self._evaluate(customer_id, at, min(since, at))
        after = evaluation.view
        diff = diff_views(before or empty_view(customer_id, at), after, evaluation.ended, trigger=trigger, hint=hint)
        self.counters.expirations += sum(1 for c in diff.tags_removed if c.reason == "expired")
        self.published[customer_id] = after
        self._dirty.add(customer_id)
        if after.next_change is not None:
            heapq.heappush(self._timers, (after.next_change, customer_id))
        return diff

    def apply(self, event: Event, *, now: datetime | Instant) -> list[Diff]:
        """Advance the clock to ``now``, ingest ``event``, recompute whoever it touches; the diffs that changed."""
        t = _instant(now)
        diffs = self.advance(t)
        affected = self.ingest(event, now=t)
        if not affected:
            return diffs
        groups = self._groups_at(t)
        targets = {groups.root(c) for c in affected}
        targets.update(c for c in affected if c in self.published and not groups.is_root(c))
        hint = "merged" if event.type == MERGED else "unmerged" if event.type in MERGE_TYPES else None
        for customer_id in sorted(targets):
            diff = self._refresh(customer_id, t, event.id, hint)
            if diff.changed:
                diffs.append(diff)
        return diffs

    def advance(self, now: datetime | Instant) -> list[Diff]:
        """Fire every timer due at or before ``now``, each at its own instant; the diffs that changed."""
        t = _instant(now)
        diffs: list[Diff] = []
        timers = self._timers
        while timers and timers[0][0] <= t:
            due, customer_id = heapq.heappop(timers)
            current = self.published.get(customer_id)
            if current is None or current.next_change != due:
                continue  # superseded by a later refresh
            diff = self._refresh(customer_id, due, None)
            if diff.changed:
                diffs.append(diff)
        return diffs

    def next_due(self) -> Instant | None:
        """The earliest instant at which some customer's state changes with no new event."""
        timers = self._timers
        while timers:
            due, customer_id = timers[0]
            current = self.published.get(customer_id)
            if current is None or current.next_change != due:
                heapq.heappop(timers)
                continue
            return due
        return None

    def set_rules(self, rules: RuleSet, *, now: datetime | Instant) -> list[Diff]:
        """Switch to another rules file from ``now`` (recorded); every customer is recomputed."""
        t = _instant(now)
        self.rules = rules
        self.lateness = rules.allowed_lateness
        self.rules_log.append(RulesChange(rules.version, rules.digest, t))
        self._global_dirty = True
        self._rebuild_indexes()
        diffs = []
        for customer_id in sorted(self.published):
            diff = self._refresh(customer_id, t, None, "rules_changed")
            if diff.changed:
                diffs.append(diff)
        return diffs

    # ---- retention -----------------------------------------------------------------------

    def _rebuild_indexes(self) -> None:
        """Recreate the join/key indexes from the stored events."""
        self._index_fields()
        self._firings = {}
        for history in self._histories.values():
            for events in history.by_type.values():
                for event in events:
                    self._index(event)

    def prune(self) -> int:
        """Drop stored events that can no longer change any state at or after the watermark; how many."""
        watermark = self.watermark
        if watermark is None:
            return 0
        relevant_until = self.rules.relevant_until
        dropped = 0
        for customer_id, history in list(self._histories.items()):
            changed = False
            for kind, events in list(history.by_type.items()):
                keep = [e for e in events if (u := relevant_until(e)) is None or u > watermark]
                if len(keep) == len(events):
                    continue
                changed = True
                dropped += len(events) - len(keep)
                kept = {e.id for e in keep}
                self._ids.difference_update(e.id for e in events if e.id not in kept)
                if keep:
                    history.by_type[kind] = keep
                else:
                    del history.by_type[kind]
            if changed:
                self._dirty.add(customer_id)
                if not history.by_type:
                    del self._histories[customer_id]
        if dropped:
            self.counters.pruned += dropped
            self._rebuild_indexes()
        return dropped

    # ---- persistence ---------------------------------------------------------------------

    def take_dirty(self) -> tuple[set[str], bool]:
        """Customers whose record changed since the last call, and whether the global record did."""
        dirty, global_dirty = self._dirty, self._global_dirty
        self._dirty, self._global_dirty = set(), False
        return dirty, global_dirty

    def customer_record(self, customer_id: str) -> dict[str, Any]:
        """One customer's own events and published view, JSON-ready (the per-customer row)."""
        history = self._histories.get(customer_id)
        published = self.published.get(customer_id)
        return {
            "customer_id": customer_id,
            "first_seen": self._first_seen.get(customer_id),
            "events": [event_to_dict(e) for e in history.ordered()] if history is not None else [],
            "published": published.to_dict() if published is not None else None,
        }

    def global_record(self) -> dict[str, Any]:
        """Watermark, merges, counters, late events and the rules log, JSON-ready."""
        return {
            "format": STATE_FORMAT,
            "watermark": self.watermark,
            "lateness": self.lateness,
            "rules": {"version": self.rules.version, "digest": self.rules.digest},
            "rules_log": [asdict(c) for c in self.rules_log],
            "counters": asdict(self.counters),
            "late": [asdict(e) for e in self.late],
            "merges": [event_to_dict(e) for e in sorted(self._merges)],
        }

    def snapshot(self) -> dict[str, Any]:
        """The whole state as one JSON-ready dict."""
        return {
            **self.global_record(),
            "customers": [self.customer_record(c) for c in sorted(self._first_seen)],
        }

    @classmethod
    def load(cls, rules: RuleSet, global_record: dict[str, Any], customer_records: Iterable[dict[str, Any]]) -> Engine:
        """Rebuild an engine from :meth:`global_record` and :meth:`customer_record` rows (timers included)."""
        if global_record.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported engine state format {global_record.get('format')!r}")
        engine = cls(rules, lateness=int(global_record["lateness"]))
        engine.watermark = global_record["watermark"]
        engine.rules_log = [RulesChange(**c) for c in global_record["rules_log"]]
        engine.counters = Counters(**global_record["counters"])
        engine.late.extend(LateEvent(**e) for e in global_record["late"])
        engine._merges = [parse_event(e) for e in global_record["merges"]]
        engine._last_merge_at = max((e.at for e in engine._merges), default=engine._last_merge_at)
        engine._ids.update(e.id for e in engine._merges)
        for record in customer_records:
            customer_id = record["customer_id"]
            if record["first_seen"] is not None:
                engine._first_seen[customer_id] = int(record["first_seen"])
            events = [parse_event(e) for e in record["events"]]
            if events:
                history = engine._histories[customer_id] = _History()
                for event in sorted(events):
                    history.add(event)
                engine._ids.update(e.id for e in events)
                for event in events:
                    engine._index(event)
            if record["published"] is not None:
                view = CustomerView.from_dict(record["published"])
                engine.published[customer_id] = view
                if view.next_change is not None:
                    engine._timers.append((view.next_change, customer_id))
        heapq.heapify(engine._timers)
        return engine

    @classmethod
    def restore(cls, rules: RuleSet, snapshot: dict[str, Any]) -> Engine:
        """Inverse of :meth:`snapshot`."""
        return cls.load(rules, snapshot, snapshot["customers"])
