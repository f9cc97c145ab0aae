"""lead-router's consumers: lead.created → a routing decision; customer merges → who owns whom."""

from __future__ import annotations

from collections.abc import Sequence

from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerUnmerged
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription

from lead_router import merges, service
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


def merge_subscription() -> Subscription:
    """Customer merges and unmerges on crm.customer.v1, so existing-owner routing follows them."""

    def handle_merged(ctx: HandlerContext, event: CloudEvent) -> None:
        """The absorbed id's leads now count as the survivor's."""
        merged = event.data_as(CustomerMerged)
        merges.follow_merge(ctx.session, survivor_id=merged.survivor_id, absorbed_id=merged.absorbed_id)

    def handle_unmerged(ctx: HandlerContext, event: CloudEvent) -> None:
        """The restored id is its own customer again."""
        unmerged = event.data_as(CustomerUnmerged)
        merges.follow_unmerge(ctx.session, survivor_id=unmerged.survivor_id, restored_id=unmerged.restored_id)

    return Subscription(
        group="lead-router-merges",
        topics=("crm.customer.v1",),
        handlers={"crm.customer.merged": handle_merged, "crm.customer.unmerged": handle_unmerged},
        ignored=frozenset({"crm.customer.resolved", "crm.customer.updated"}),
    )
