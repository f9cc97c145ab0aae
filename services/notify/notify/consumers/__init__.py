"""notify's consumer: notification requests → deliveries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crm.events.notify.v1.notify_pb2 import NotificationRequested
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription

from notify import service
from notify.channels import Channel


def subscription(*, channels: Mapping[str, Channel]) -> Subscription:
    """The notify consumer group; its own delivery reports are ignored."""

    def handle_requested_batch(ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
        """Deliver a run of requested notifications."""
        requests = [
            service.Request(event.data_as(NotificationRequested), event.correlation_id or event.id) for event in events
        ]
        service.deliver_all(session=ctx.session, outbox=ctx.outbox, channels=channels, requests=requests)

    def handle_requested(ctx: HandlerContext, event: CloudEvent) -> None:
        """Deliver one requested notification (the runtime's fallback when a batch fails)."""
        handle_requested_batch(ctx, [event])

    return Subscription(
        group="notify",
        topics=("crm.notify.v1",),
        handlers={"crm.notify.requested": handle_requested},
        batch=handle_requested_batch,
        ignored=frozenset({"crm.notify.delivered"}),
    )
