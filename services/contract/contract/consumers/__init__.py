"""contract's consumer: resolved order payments → payments received."""

from __future__ import annotations

from collections.abc import Sequence

from crm.events.customer.v1.customer_pb2 import CustomerResolved
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription
from crmkit.timeutil import from_timestamp

from contract import service


def paid_order(event: CloudEvent) -> service.PaidOrder | None:
    """The paid order a resolved touchpoint carries; None for every other touchpoint (behaviour, not money)."""
    resolved: CustomerResolved = event.data_as(CustomerResolved)
    if resolved.touchpoint.WhichOneof("body") != "order_paid":
        return None
    return service.PaidOrder(
        customer_id=resolved.customer_id,
        paid=resolved.touchpoint.order_paid,
        received_at=from_timestamp(resolved.touchpoint.occurred_at),
        correlation_id=event.correlation_id or resolved.touchpoint.event_id,
    )


def handle_resolved_batch(ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
    """A run of resolved touchpoints: record the paid orders among them."""
    orders = [order for order in map(paid_order, events) if order is not None]
    service.record_order_payments(session=ctx.session, outbox=ctx.outbox, orders=orders)


def handle_resolved(ctx: HandlerContext, event: CloudEvent) -> None:
    """One resolved touchpoint (the runtime's fallback when a batch fails)."""
    handle_resolved_batch(ctx, [event])


def subscription() -> Subscription:
    """The contract consumer group."""
    return Subscription(
        group="contract",
        topics=("crm.customer.v1",),
        handlers={"crm.customer.resolved": handle_resolved},
        batch=handle_resolved_batch,
        ignored=frozenset(
            {
                "crm.customer.merged",
                "crm.customer.unmerged",
                "crm.customer.updated",
                "crm.customer.account_merged",
                "crm.customer.account_unmerged",
            }
        ),
    )
