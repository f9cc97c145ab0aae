"""notify's consumer: notification requests → deliveries."""

from __future__ import annotations

from collections.abc import Mapping

from crm.events.notify.v1.notify_pb2 import NotificationRequested
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription

from notify import service
from notify.channels import Channel


def subscription(*, channels: Mapping[str, Channel]) -> Subscription:
    """The notify consumer group; its own delivery reports are ignored."""

    def handle_requested(ctx: HandlerContext, event: CloudEvent) -> None:
        """Deliver one requested notification."""
        service.deliver(
            session=ctx.session,
            outbox=ctx.outbox,
            channels=channels,
            request=event.data_as(NotificationRequested),
            correlation_id=event.correlation_id or event.id,
        )

    return Subscription(
        group="notify",
        topics=("crm.notify.v1",),
        handlers={"crm.notify.requested": handle_requested},
        ignored=frozenset({"crm.notify.delivered"}),
    )
