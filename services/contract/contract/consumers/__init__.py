"""contract's consumer: resolved order payments → payments received."""

from __future__ import annotations

from crm.events.customer.v1.customer_pb2 import CustomerResolved
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription
from crmkit.timeutil import from_timestamp

from contract import service


def handle_resolved(ctx: HandlerContext, event: CloudEvent) -> None:
    """Only paid orders matter here; other touchpoints are behaviour, not money."""
    resolved: CustomerResolved = event.data_as(CustomerResolved)
    if resolved.touchpoint.WhichOneof("body") != "order_paid":
        return
    service.record_order_payment(
        session=ctx.session,
        outbox=ctx.outbox,
        customer_id=resolved.customer_id,
        paid=resolved.touchpoint.order_paid,
        received_at=from_timestamp(resolved.touchpoint.occurred_at),
        correlation_id=event.correlation_id or resolved.touchpoint.event_id,
    )


def subscription() -> Subscription:
    """The contract consumer group."""
    return Subscription(
        group="contract",
        topics=("crm.customer.v1",),
        handlers={"crm.customer.resolved": handle_resolved},
        ignored=frozenset({"crm.customer.merged", "crm.customer.updated"}),
    )
