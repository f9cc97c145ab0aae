"""behavior-scoring's consumer: resolved touchpoints → behaviours → tags and scores."""

from __future__ import annotations

from crm.events.customer.v1.customer_pb2 import CustomerResolved
from crm_contracts.touchpoints import touchpoint_body
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription
from crmkit.timeutil import from_timestamp

from behavior_scoring import service


def handle_resolved(ctx: HandlerContext, event: CloudEvent) -> None:
    """A touchpoint now has a customer: record it as behaviour and re-evaluate."""
    resolved: CustomerResolved = event.data_as(CustomerResolved)
    touchpoint = resolved.touchpoint
    service.record_behaviour(
        session=ctx.session,
        outbox=ctx.outbox,
        customer_id=resolved.customer_id,
        event_id=touchpoint.event_id,
        event_type=touchpoint.type,
        occurred_at=from_timestamp(touchpoint.occurred_at),
        body=touchpoint_body(touchpoint),
        correlation_id=event.correlation_id or touchpoint.event_id,
    )


def subscription() -> Subscription:
    """The behavior-scoring consumer group (merges are handled by the scoring issue)."""
    return Subscription(
        group="behavior-scoring",
        topics=("crm.customer.v1",),
        handlers={"crm.customer.resolved": handle_resolved},
        ignored=frozenset({"crm.customer.merged", "crm.customer.updated"}),
    )
