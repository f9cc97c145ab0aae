"""lead-router's consumer: lead.created → a routing decision."""

from __future__ import annotations

from collections.abc import Sequence

from crm.events.lead.v1.lead_pb2 import LeadCreated
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription

from lead_router import service
from lead_router.domain.rules_yaml import LoadedRules
from lead_router.runtime import Runtime


def subscription(*, config: LoadedRules | Runtime, channel: str) -> Subscription:
    """The lead-router consumer group; its own lifecycle events on the topic are ignored."""
    runtime = Runtime.of(config)

    def handle_leads_created(ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
        """Route a run of new leads, in order."""
        service.route_new_leads(
            session=ctx.session,
            outbox=ctx.outbox,
            config=runtime,
            leads=[service.NewLead(event.data_as(LeadCreated), event.correlation_id or event.id) for event in events],
            channel=channel,
        )

    def handle_lead_created(ctx: HandlerContext, event: CloudEvent) -> None:
        """Route one new lead (the runtime's fallback when a batch fails)."""
        handle_leads_created(ctx, [event])

    return Subscription(
        group="lead-router",
        topics=("crm.lead.v1",),
        handlers={"crm.lead.created": handle_lead_created},
        batch=handle_leads_created,
        ignored=frozenset({"crm.lead.assigned", "crm.lead.returned_to_pool", "crm.lead.sla_breached"}),
    )
