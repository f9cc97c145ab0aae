"""What the engine reports: a customer's state at an instant, and what changed between two.

All instants are integer microseconds since the epoch (see ``instants``); ``to_json``
gives the replay's output line, times as RFC 3339 text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from behavior_scoring.domain.instants import Instant, format_instant
from behavior_scoring.domain.ruleset import DEFAULT_TIER


@dataclass(frozen=True, slots=True)
class Activation:
    """A rule's target present since ``set_at`` until ``expires_at`` (None: while its condition holds)."""

    rule: str
    set_at: Instant
    expires_at: Instant | None
    because: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ended:
    """The latest presence of a rule's target that has ended, and why."""

    rule: str
    set_at: Instant
    ended_at: Instant
    cause: str
    """``expired``, ``cleared``, ``renewed``, ``blocked``, ``window_passed`` or ``rule_retired``."""
    event_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TagState:
    """A present tag (or pool membership, with weight 0): when, until when, and the events behind it."""

    name: str
    weight: int
    set_at: Instant
    expires_at: Instant | None
    because: tuple[str, ...]
    rule: str
    risk_tier: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"tag", "set_at", "expires_at", "because"}`` as the replay prints it."""
        return {
            "tag": self.name,
            "set_at": format_instant(self.set_at),
            "expires_at": None if self.expires_at is None else format_instant(self.expires_at),
            "because": list(self.because),
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, for persistence and the REST API."""
        return {
            "name": self.name,
            "weight": self.weight,
            "set_at": self.set_at,
            "expires_at": self.expires_at,
            "because": list(self.because),
            "rule": self.rule,
            "risk_tier": self.risk_tier,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TagState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=data["name"],
            weight=int(data["weight"]),
            set_at=int(data["set_at"]),
            expires_at=None if data["expires_at"] is None else int(data["expires_at"]),
            because=tuple(data["because"]),
            rule=data["rule"],
            risk_tier=data.get("risk_tier"),
        )


@dataclass(frozen=True, slots=True)
class CustomerView:
    """One customer's score, risk tier, pools and tags at instant ``at``.

    ``next_change`` is the earliest later instant at which this view changes if no further
    event arrives (an expiry, an absence rule firing, a window passing): the durable timer
    the service keeps for this customer. ``merged_into`` is set when the customer has been
    merged into another and no longer has a state of its own.
    """

    customer_id: str
    at: Instant
    score: int
    risk_tier: str
    tags: tuple[TagState, ...]
    pools: tuple[TagState, ...]
    next_change: Instant | None
    merged_into: str | None = None

    def pool_names(self) -> list[str]:
        """Names of the pools the customer is in, sorted."""
        return [p.name for p in self.pools]

    def to_json(self) -> dict[str, Any]:
        """The replay's output line: customer_id, score, risk_tier, pools, tags."""
        return {
            "customer_id": self.customer_id,
            "score": self.score,
            "risk_tier": self.risk_tier,
            "pools": self.pool_names(),
            "tags": [t.to_json() for t in self.tags],
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, for persistence."""
        return {
            "customer_id": self.customer_id,
            "at": self.at,
            "score": self.score,
            "risk_tier": self.risk_tier,
            "tags": [t.to_dict() for t in self.tags],
            "pools": [p.to_dict() for p in self.pools],
            "next_change": self.next_change,
            "merged_into": self.merged_into,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerView:
        """Inverse of :meth:`to_dict`."""
        return cls(
            customer_id=data["customer_id"],
            at=int(data["at"]),
            score=int(data["score"]),
            risk_tier=data["risk_tier"],
            tags=tuple(TagState.from_dict(t) for t in data["tags"]),
            pools=tuple(TagState.from_dict(p) for p in data["pools"]),
            next_change=None if data["next_change"] is None else int(data["next_change"]),
            merged_into=data.get("merged_into"),
        )


def empty_view(customer_id: str, at: Instant, *, merged_into: str | None = None) -> CustomerView:
    """A customer with no tags and no pools."""
    return CustomerView(customer_id, at, 0, DEFAULT_TIER, (), (), None, merged_into)


@dataclass(frozen=True, slots=True)
class Change:
    """A tag or pool that was added, removed or refreshed, with the reason and the events behind it."""

    name: str
    weight: int
    reason: str
    """``rule:<id>`` when added or refreshed; the end cause (``expired``, ``cleared``, …),
    ``merged``, ``unmerged``, ``rules_changed`` or ``recomputed`` (a late event rewrote history)
    when removed."""
    event_ids: tuple[str, ...]
    set_at: Instant
    expires_at: Instant | None


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed for one customer at instant ``at``; publish it when :attr:`changed`."""

    customer_id: str
    at: Instant
    trigger: str | None
    """The id of the event that caused the change, or None for the clock alone."""
    before: CustomerView
    after: CustomerView
    tags_added: tuple[Change, ...] = ()
    tags_removed: tuple[Change, ...] = ()
    tags_refreshed: tuple[Change, ...] = ()
    pools_added: tuple[Change, ...] = ()
    pools_removed: tuple[Change, ...] = ()

    @property
    def changed(self) -> bool:
        """True when tags, pools, score or risk tier differ (a refresh alone does not count)."""
        return bool(
            self.tags_added
            or self.tags_removed
            or self.pools_added
            or self.pools_removed
            or self.before.score != self.after.score
            or self.before.risk_tier != self.after.risk_tier
            or self.before.merged_into != self.after.merged_into
        )
