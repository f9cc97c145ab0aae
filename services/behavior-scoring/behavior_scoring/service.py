"""behavior-scoring's use cases (keyword-only), shared by the consumer and the REST API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crm.events.scoring.v1.scoring_pb2 import ScoreChanged, TagChange
from crm.events.touchpoint.v1.touchpoint_pb2 import PageViewed
from crmkit.outbox import Outbox
from crmkit.timeutil import to_timestamp
from google.protobuf.message import Message
from sqlmodel import Session, func, select

from behavior_scoring.domain.rules import TagDecision, View, new_product_interest, score
from behavior_scoring.models import Behaviour, Tag


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def record_behaviour(
    *,
    session: Session,
    outbox: Outbox,
    customer_id: str,
    event_id: str,
    event_type: str,
    occurred_at: datetime,
    body: Message,
    correlation_id: str,
) -> bool:
    """Keep one behaviour and re-evaluate the customer's rules; True when the score event was emitted."""
    category = body.page_category if isinstance(body, PageViewed) else ""
    session.add(
        Behaviour(
            event_id=event_id, customer_id=customer_id, type=event_type, category=category, occurred_at=occurred_at
        )
    )
    if category != "new_product":
        return False
    session.flush()
    rows = session.exec(
        select(Behaviour).where(Behaviour.customer_id == customer_id, Behaviour.category == "new_product")
    ).all()
    decision = new_product_interest([View(r.event_id, _aware(r.occurred_at)) for r in rows], at=occurred_at)
    if decision is None:
        return False
    return _set_tag(
        session=session,
        outbox=outbox,
        customer_id=customer_id,
        decision=decision,
        at=occurred_at,
        correlation_id=correlation_id,
    )


def _set_tag(
    *, session: Session, outbox: Outbox, customer_id: str, decision: TagDecision, at: datetime, correlation_id: str
) -> bool:
    existing = session.get(Tag, (customer_id, decision.tag))
    was_present = existing is not None and _aware(existing.expires_at) > at
    if existing is None:
        existing = Tag(
            customer_id=customer_id,
            tag=decision.tag,
            weight=decision.weight,
            set_at=decision.set_at,
            expires_at=decision.expires_at,
        )
        session.add(existing)
    existing.set_at, existing.expires_at = decision.set_at, decision.expires_at
    existing.because = ",".join(decision.because)
    if was_present:
        return False
    tags = session.exec(select(Tag).where(Tag.customer_id == customer_id)).all()
    total = score([(t.weight, _aware(t.expires_at)) for t in tags], at=at)
    outbox.emit(
        event_type="crm.scoring.score_changed",
        key=customer_id,
        correlation_id=correlation_id,
        data=ScoreChanged(
            customer_id=customer_id,
            score=total,
            risk_tier="L1",
            tags_added=[
                TagChange(
                    tag=decision.tag,
                    weight=decision.weight,
                    reason=f"rule:{decision.tag}",
                    event_ids=list(decision.because),
                    expires_at=to_timestamp(decision.expires_at),
                )
            ],
        ),
    )
    return True


def customer_score(*, session: Session, customer_id: str, at: datetime) -> dict[str, Any]:
    """Score and present tags of one customer at ``at``."""
    tags = [
        t for t in session.exec(select(Tag).where(Tag.customer_id == customer_id)).all() if _aware(t.expires_at) > at
    ]
    return {
        "customer_id": customer_id,
        "score": sum(t.weight for t in tags),
        "risk_tier": "L1",
        "tags": [
            {
                "tag": t.tag,
                "weight": t.weight,
                "set_at": _aware(t.set_at).isoformat(),
                "expires_at": _aware(t.expires_at).isoformat(),
                "because": t.because.split(","),
            }
            for t in tags
        ],
    }


def stats(*, session: Session) -> dict[str, int]:
    """Counts for the demo."""
    return {
        "behaviours": session.exec(select(func.count()).select_from(Behaviour)).one(),
        "tags": session.exec(select(func.count()).select_from(Tag)).one(),
    }
