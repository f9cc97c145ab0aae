"""lead-router's consumer: lead.created → a routing decision."""

from __future__ import annotations

from crm.events.lead.v1.lead_pb2 import LeadCreated
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription

from lead_router import service
from lead_router.domain.routing import RoutingConfig


def subscription(*, config: RoutingConfig, channel: str) -> Subscription:
    """The lead-router consumer group; its own lifecycle events on the topic are ignored."""

    def handle_lead_created(ctx: HandlerContext, event: CloudEvent) -> None:
        """Route one new lead."""
        service.route_lead(
            session=ctx.session,
            outbox=ctx.outbox,
            config=config,
            lead=event.data_as(LeadCreated),
            correlation_id=event.correlation_id or event.id,
            channel=channel,
        )

    return Subscription(
        group="lead-router",
        topics=("crm.lead.v1",),
        handlers={"crm.lead.created": handle_lead_created},
        ignored=frozenset({"crm.lead.assigned", "crm.lead.returned_to_pool", "crm.lead.sla_breached"}),
    )
