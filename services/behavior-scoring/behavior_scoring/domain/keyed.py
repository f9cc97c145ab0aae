"""Episodes of a keyed rule for one key value (e.g. every order from one client IP).

A keyed rule (``KeyedAll``) fires at x when at least N events A sharing the key, each
joined to its earliest follow-up B (e.g. the order's cancellation), all happened at or
before x and every A is later than x - W: the whole episode lies within W. The index
keeps, for every instant at which some pair completes, how many pairs qualify there, so
"the latest firing that involves this customer's events" is a couple of binary searches,
even for a key shared by thousands of customers (an office or carrier-grade NAT address).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence

from behavior_scoring.domain.events import Event
from behavior_scoring.domain.instants import Instant
from behavior_scoring.domain.ruleset import KeyedAll, Rule

Pair = tuple[Event, Event]


class KeyedEpisodes:
    """The (A, B) pairs of one key value and the qualifying count at each completion instant."""

    def __init__(self, cond: KeyedAll, events: Sequence[Event], matched: Callable[[str, str], Sequence[Event]]) -> None:
        self.cond = cond
        pairs: list[Pair] = []
        for a in events:
            value = a.fields.get(cond.match)
            if not cond.event.accepts(a) or not isinstance(value, str):
                continue
            follows = [b for b in matched(cond.match, value) if cond.each_followed_by.accepts(b)]
            if follows:
                pairs.append((a, min(follows)))
        pairs.sort(key=lambda p: (max(p[0].at, p[1].at), p[0]))
        self.pairs = pairs
        self.done = [max(a.at, b.at) for a, b in pairs]
        self.position = {a.id: i for i, (a, _) in enumerate(pairs)}
        self.instants: list[Instant] = []
        self.counts: list[int] = []
        window: list[Instant] = []  # heap of the A instants of completed pairs
        i, n = 0, len(pairs)
        while i < n:
            x = self.done[i]
            while i < n and self.done[i] == x:
                heapq.heappush(window, pairs[i][0].at)
                i += 1
            while window and window[0] <= x - cond.within:
                heapq.heappop(window)
            self.instants.append(x)
            self.counts.append(len(window))

    def qualifying(self, x: Instant) -> list[Pair]:
        """The pairs behind a firing at ``x``."""
        within = self.cond.within
        end = bisect_right(self.done, x)
        return [p for p in self.pairs[:end] if p[0].at > x - within]

    def _span(self, first_id: str) -> tuple[Instant, Instant] | None:
        """The instants [from, to) at which a firing can involve the pair of event ``first_id``."""
        i = self.position.get(first_id)
        if i is None:
            return None
        return self.done[i], self.pairs[i][0].at + self.cond.within

    def latest(self, first_ids: Iterable[str], rule: Rule, t: Instant) -> Instant | None:
        """The latest firing at or before ``t`` that involves one of these A events."""
        best: Instant | None = None
        instants, counts, need = self.instants, self.counts, self.cond.at_least
        for first_id in first_ids:
            span = self._span(first_id)
            if span is None:
                continue
            low, high = span
            j = bisect_right(instants, min(high - 1, t)) - 1
            while j >= 0 and instants[j] >= low and (best is None or instants[j] > best):
                if counts[j] >= need and rule.in_force(instants[j]):
                    best = instants[j]
                    break
                j -= 1
        return best

    def following(self, first_ids: Iterable[str], rule: Rule, t: Instant) -> Instant | None:
        """The earliest firing after ``t`` that involves one of these A events (known events only)."""
        best: Instant | None = None
        instants, counts, need = self.instants, self.counts, self.cond.at_least
        for first_id in first_ids:
            span = self._span(first_id)
            if span is None:
                continue
            low, high = span
            j = bisect_left(instants, max(low, t + 1))
            while j < len(instants) and instants[j] < high and (best is None or instants[j] < best):
                if counts[j] >= need and rule.in_force(instants[j]):
                    best = instants[j]
                    break
                j += 1
        return best
