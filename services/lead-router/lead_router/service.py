"""lead-router's use cases (keyword-only), shared by the consumer and the REST API."""

from __future__ import annotations

import uuid
from typing import Any

from crm.events.lead.v1.lead_pb2 import LeadAssigned, LeadCreated, LeadReturnedToPool
from crm.events.notify.v1.notify_pb2 import NotificationRequested
from crmkit.outbox import Outbox
from crmkit.timeutil import from_timestamp, utcnow
from sqlmodel import Session, func, select

from lead_router.domain.routing import Decision, RoutingConfig, route
from lead_router.models import Lead, RoundRobinCursor

_NOTIFY_NAMESPACE = uuid.UUID("0b8f5a52-3f3c-4d55-9d7e-4f6c2a1b9e21")


def _cursors(session: Session, config: RoutingConfig) -> dict[str, int]:
    rows = session.exec(select(RoundRobinCursor)).all()
    known = {row.rule: row.position for row in rows}
    return {rule.name: known.get(rule.name, 0) for rule in config.rules}


def _save_cursors(session: Session, before: dict[str, int], after: dict[str, int]) -> None:
    for rule, position in after.items():
        if before.get(rule) != position:
            session.merge(RoundRobinCursor(rule=rule, position=position))


def route_lead(
    *, session: Session, outbox: Outbox, config: RoutingConfig, lead: LeadCreated, correlation_id: str, channel: str
) -> Decision:
    """Assign one new lead or pool it with a reason; emit the outcome and, if assigned, a notification."""
    if session.get(Lead, lead.lead_id) is not None:
        return Decision(assignee=None, reason_code="already_routed")
    now = utcnow()
    submitted_at = from_timestamp(lead.submitted_at) if lead.HasField("submitted_at") else now
    before = _cursors(session, config)
    cursors = dict(before)
    decision = route(config, region_code=lead.region_code, cursors=cursors)
    _save_cursors(session, before, cursors)
    latency_ms = max(0, int((now - submitted_at).total_seconds() * 1000))
    decision.trace.append(
        {
            "step": "timing",
            "submitted_at": submitted_at.isoformat(),
            "decided_at": now.isoformat(),
            "latency_ms": latency_ms,
        }
    )
    session.add(
        Lead(
            id=lead.lead_id,
            customer_id=lead.customer_id,
            status="assigned" if decision.assignee else "pooled",
            assignee_id=decision.assignee,
            team=decision.team,
            rule=decision.rule,
            reason_code=decision.reason_code,
            trace=decision.trace,
            submitted_at=submitted_at,
            decided_at=now,
            latency_ms=latency_ms,
        )
    )
    if decision.assignee:
        _emit_assigned(
            outbox=outbox,
            lead=lead,
            decision=decision,
            latency_ms=latency_ms,
            correlation_id=correlation_id,
            channel=channel,
        )
    else:
        outbox.emit(
            event_type="crm.lead.returned_to_pool",
            key=lead.customer_id,
            correlation_id=correlation_id,
            data=LeadReturnedToPool(
                lead_id=lead.lead_id,
                customer_id=lead.customer_id,
                reason_code=decision.reason_code,
                detail=decision.explanation,
            ),
        )
    return decision


def _emit_assigned(
    *, outbox: Outbox, lead: LeadCreated, decision: Decision, latency_ms: int, correlation_id: str, channel: str
) -> None:
    assignee = decision.assignee or ""
    outbox.emit(
        event_type="crm.lead.assigned",
        key=lead.customer_id,
        correlation_id=correlation_id,
        data=LeadAssigned(
            lead_id=lead.lead_id,
            customer_id=lead.customer_id,
            assignee_id=assignee,
            team=decision.team,
            rule=decision.rule,
            explanation=decision.explanation,
            latency_ms=latency_ms,
        ),
    )
    notification_id = f"ntf_{uuid.uuid5(_NOTIFY_NAMESPACE, lead.lead_id + ':assigned').hex[:24]}"
    outbox.emit(
        event_type="crm.notify.requested",
        key=notification_id,
        correlation_id=correlation_id,
        data=NotificationRequested(
            notification_id=notification_id,
            channel=channel,
            recipient=assignee,
            template="lead_assigned",
            subject_id=lead.lead_id,
            params={
                "lead_id": lead.lead_id,
                "rule": decision.rule,
                "company": lead.company or "-",
                "region_code": lead.region_code or "-",
                "product": lead.product_interest or "-",
            },
        ),
    )


def lead_trace(*, session: Session, lead_id: str) -> dict[str, Any] | None:
    """Everything about one routing decision."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        return None
    return lead.model_dump(mode="json")


def stats(*, session: Session) -> dict[str, int]:
    """Leads by outcome, for the demo and operators."""
    rows = session.exec(select(Lead.status, func.count()).group_by(Lead.status)).all()
    counts = {status: count for status, count in rows}
    return {"assigned": counts.get("assigned", 0), "pooled": counts.get("pooled", 0)}
