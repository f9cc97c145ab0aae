"""Behaviour rules evaluated in event time. The full rule engine (YAML rules, absence
rules, IP-keyed risk, pools) is behavior-scoring's own issue; this is its first rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NEW_PRODUCT_VIEWS = 2
NEW_PRODUCT_WINDOW = timedelta(days=3)
DEFAULT_TTL = timedelta(hours=72)


@dataclass(frozen=True)
class View:
    """One new-product page view."""

    event_id: str
    at: datetime


@dataclass(frozen=True)
class TagDecision:
    """A tag to set (or refresh) with its weight, expiry and the events behind it."""

    tag: str
    weight: int
    set_at: datetime
    expires_at: datetime
    because: tuple[str, ...]


def new_product_interest(views: list[View], *, at: datetime) -> TagDecision | None:
    """'Viewed a new-product page twice within 3 days' → +15, expiring 72 h after the latest view."""
    recent = sorted((v for v in views if at - NEW_PRODUCT_WINDOW <= v.at <= at), key=lambda v: v.at)
    if len(recent) < NEW_PRODUCT_VIEWS:
        return None
    latest = recent[-1].at
    return TagDecision(
        tag="new_product_interest",
        weight=15,
        set_at=latest,
        expires_at=latest + DEFAULT_TTL,
        because=tuple(v.event_id for v in recent[-NEW_PRODUCT_VIEWS:]),
    )


def score(tags: list[tuple[int, datetime]], *, at: datetime) -> int:
    """Sum of the weights of tags not yet expired at ``at`` (an expired tag stops counting)."""
    return sum(weight for weight, expires_at in tags if expires_at > at)
