"""A failure breaker: halt a consumer when most recent events fail instead of dead-lettering them."""

from __future__ import annotations

from collections import deque


class FailureBreaker:
    """Trips when, over the last ``window`` outcomes (at least ``min_events``), failures reach ``ratio``.

    A single malformed message never trips it; a bad deploy that fails most events
    does, so the topic is not poured into the dead-letter queue.
    """

    def __init__(self, *, window: int, min_events: int, ratio: float) -> None:
        self._outcomes: deque[bool] = deque(maxlen=window)
        self._min_events = min_events
        self._ratio = ratio

    def record(self, *, failed: bool, count: int = 1) -> None:
        """Add ``count`` outcomes."""
        for _ in range(min(count, self._outcomes.maxlen or count)):
            self._outcomes.append(failed)

    @property
    def failure_ratio(self) -> float:
        """Share of failures in the window."""
        return sum(self._outcomes) / len(self._outcomes) if self._outcomes else 0.0

    @property
    def tripped(self) -> bool:
        """Whether the consumer must halt."""
        return len(self._outcomes) >= self._min_events and self.failure_ratio >= self._ratio

    def reset(self) -> None:
        """Forget all outcomes (after an operator resumes the consumer)."""
        self._outcomes.clear()
