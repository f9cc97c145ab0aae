"""search-sync's consumer: customer updated / merged → the search view."""

from __future__ import annotations

from collections.abc import Sequence

from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerUpdated
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription
from crmkit.search import SearchIndex

from search_sync import service


def subscription(*, index: SearchIndex) -> Subscription:
    """The search-sync consumer group."""

    def handle_batch(_ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
        """A run of updates and merges, in order."""
        service.apply_changes(
            index=index,
            changes=[
                event.data_as(CustomerUpdated).profile
                if event.type == "crm.customer.updated"
                else event.data_as(CustomerMerged).absorbed_id
                for event in events
            ],
        )

    def handle_updated(_ctx: HandlerContext, event: CloudEvent) -> None:
        """Index the new golden record."""
        service.index_customer(index=index, profile=event.data_as(CustomerUpdated).profile)

    def handle_merged(_ctx: HandlerContext, event: CloudEvent) -> None:
        """Remove the absorbed customer from the view."""
        service.remove_customer(index=index, customer_id=event.data_as(CustomerMerged).absorbed_id)

    return Subscription(
        group="search-sync",
        topics=("crm.customer.v1",),
        handlers={"crm.customer.updated": handle_updated, "crm.customer.merged": handle_merged},
        ignored=frozenset(
            {
                "crm.customer.resolved",
                "crm.customer.unmerged",
                "crm.customer.account_merged",
                "crm.customer.account_unmerged",
            }
        ),
        batch=handle_batch,
    )
