"""customer-master's consumer: every touchpoint topic → resolve the customer."""

from __future__ import annotations

from collections.abc import Sequence

from crm_contracts import load_registry
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext, Subscription
from sqlalchemy import Connection

from customer_master import service

TOUCHPOINT_TOPICS = (
    "crm.touchpoint.miniprogram.v1",
    "crm.touchpoint.wecom.v1",
    "crm.touchpoint.order.v1",
    "crm.touchpoint.form.v1",
    "crm.touchpoint.import.v1",
)


def handle_touchpoints(ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
    """A run of touchpoints, in order: attribute each to one customer."""
    service.resolve_touchpoints(  # the runtime passes only touchpoints not yet recorded (recorded_touchpoints)
        connection=ctx.connection,
        outbox=ctx.outbox,
        unseen=True,
        touchpoints=[
            service.Touchpoint(
                event_id=event.id,
                event_key=event.dedupe_key,
                event_type=event.type,
                source=event.source,
                occurred_at=event.time,
                body=event.data,
            )
            for event in events
        ],
    )


def handle_touchpoint(ctx: HandlerContext, event: CloudEvent) -> None:
    """One touchpoint (the runtime's fallback when a batch fails): a batch of one."""
    handle_touchpoints(ctx, [event])


def recorded_touchpoints(connection: Connection, events: Sequence[CloudEvent]) -> set[str]:
    """The touchpoints already resolved: each is stored as a source record under its event id, in the
    transaction that resolved it, so the source records are this consumer's processed-event record."""
    stored = service.stored_source_records(connection=connection, record_ids=[event.id for event in events])
    return {event.dedupe_key for event in events if event.id in stored}


def subscription() -> Subscription:
    """The customer-master consumer group (its source records are its ledger: :func:`recorded_touchpoints`)."""
    registry = load_registry()
    types = [t for topic in TOUCHPOINT_TOPICS for t in registry.topic(topic).events]
    return Subscription(
        group="customer-master",
        topics=TOUCHPOINT_TOPICS,
        handlers=dict.fromkeys(types, handle_touchpoint),
        batch=handle_touchpoints,
        recorded_by_state=recorded_touchpoints,
    )
