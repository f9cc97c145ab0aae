"""Strategy arithmetic: round-robin rotation, smooth weighted round-robin, weights after decay.

Every strategy is deterministic given a cursor, so a decision can be simulated or
replayed exactly; the engine stores the cursor that follows each pick.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from lead_router.domain.roster import Rep
from lead_router.domain.rules import Target


@lru_cache(maxsize=256)
def weighted_sequence(weights: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """Smooth weighted round-robin order for one cycle (nginx's algorithm), zero weights left out."""
    live = [(rep, w) for rep, w in weights if w > 0]
    total = sum(w for _, w in live)
    current = dict.fromkeys((rep for rep, _ in live), 0)
    sequence: list[str] = []
    for _ in range(total):
        for rep, w in live:
            current[rep] += w
        pick = max(live, key=lambda item: current[item[0]])[0]
        current[pick] -= total
        sequence.append(pick)
    return tuple(sequence)


def effective_weight(rep: Rep, target: Target, day: date) -> int:
    """The rep's weight under ``target`` on ``day``, after any weight decay."""
    base = target.weights.get(rep.id, rep.weight)
    decay = target.weight_decay
    if decay is not None and decay.applies(rep.id, day):
        return int(base * decay.factor)
    return base


def rotation(reps: list[Rep], cursor: int) -> list[tuple[Rep, int]]:
    """Reps in round-robin order from ``cursor``, each with the cursor that follows picking them."""
    n = len(reps)
    start = cursor % n
    return [(reps[(start + i) % n], (start + i + 1) % n) for i in range(n)]
