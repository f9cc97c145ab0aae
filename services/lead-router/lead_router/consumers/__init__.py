"""lead-router's consumers: lead.created → a routing decision; customer merges → who owns whom;
the org directory → the roster."""

from __future__ import annotations

from collections.abc import Sequence

from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerUnmerged
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crm.events.org.v1.org_pb2 import RepUpdated
from crmkit.cloudevents import CloudEvent
from crmkit.errors import PoisonMessage
from crmkit.handlers import HandlerContext, Subscription
from crmkit.timeutil import utcnow

from lead_router import merges, roster_admin, service
from lead_router.domain.roster import RosterError
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
        ignored=frozenset(
            {
                "crm.customer.resolved",
                "crm.customer.updated",
                "crm.customer.account_merged",
                "crm.customer.account_unmerged",
            }
        ),
    )


def org_subscription(*, config: LoadedRules | Runtime, channel: str) -> Subscription:
    """The org directory (HR / WeCom sync) on crm.org.v1: each rep update goes through the same path as
    ``PUT /roster/reps/{id}``; a deactivation re-routes the rep's open leads in the same transaction."""
    runtime = Runtime.of(config)

    def handle_rep_updated(ctx: HandlerContext, event: CloudEvent) -> None:
        """Apply one rep as the directory has them; an invalid rep is a poison message naming the problem."""
        update = event.data_as(RepUpdated)
        data: dict[str, object] = {"id": update.rep_id}
        data |= {key: value for key, value in (("team", update.team), ("status", update.status)) if value}
        data |= {key: value for key, value in (("name", update.name), ("capacity", update.capacity)) if value}
        if update.skills:
            data["skills"] = list(update.skills)
        previous = runtime.roster
        try:
            roster_admin.update_rep(
                session=ctx.session, outbox=ctx.outbox, runtime=runtime, data=data, now=utcnow(), channel=channel
            )
        except RosterError as exc:
            runtime.roster = previous
            raise PoisonMessage(f"rep {update.rep_id!r}: {exc}") from exc
        except Exception:
            runtime.roster = previous
            raise

    return Subscription(
        group="lead-router-org",
        topics=("crm.org.v1",),
        handlers={"crm.org.rep_updated": handle_rep_updated},
    )
