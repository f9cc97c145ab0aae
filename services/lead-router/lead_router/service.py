"""lead-router's use cases (keyword-only), shared by the consumer and the REST API."""

from __future__ import annotations

from typing import Any

from crm.events.lead.v1.lead_pb2 import LeadCreated
from crmkit.outbox import Outbox
from crmkit.timeutil import from_timestamp, utcnow
from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from lead_router import metrics
from lead_router.domain.engine import Decision, Step, decide
from lead_router.domain.lead import LeadInput
from lead_router.domain.rules_yaml import LoadedRules
from lead_router.models import Lead, LeadFacts
from lead_router.placement import Move, assign, routing_state, save_cursor, to_pool
from lead_router.runtime import Runtime


def facts_of(lead: LeadCreated) -> dict[str, object]:
    """The routing fields of a ``lead.created`` event, as stored and as the engine reads them."""
    facts: dict[str, object] = {
        "lead_id": lead.lead_id,
        "customer_id": lead.customer_id,
        "region": lead.region_code,
        "industry": lead.industry,
        "product_interest": lead.product_interest,
        "company": lead.company,
        "email_domain": lead.email_domain,
        "dwell_seconds": int(lead.dwell_seconds),
    }
    return {k: v for k, v in facts.items() if v not in ("", 0) or k == "lead_id"}


_OWNER = (
    select(Lead.assignee_id)
    .where(col(Lead.customer_id) == bindparam("b_customer"), col(Lead.status) == "assigned")
    .order_by(col(Lead.decided_at).desc())
    .limit(1)
)
_EXISTS = select(Lead.id).where(col(Lead.id) == bindparam("b_lead"))


def current_owner(session: Session, customer_id: str, *, excluding: str = "") -> str:
    """The rep holding the customer's most recent assigned lead, or ``""``."""
    if not customer_id:
        return ""
    query = (
        select(Lead.assignee_id)
        .where(Lead.customer_id == customer_id, Lead.status == "assigned", Lead.id != excluding)
        .order_by(col(Lead.decided_at).desc())
        .limit(1)
    )
    return session.exec(query).first() or ""


_PLACED = "lead_router.placed"


def _seen_in_transaction(session: Session) -> dict[str, str]:
    """Leads routed in this transaction → the customer they belong to (``session.info``, dies with the session)."""
    placed: dict[str, str] = session.info.setdefault(_PLACED, {})
    return placed


def _owners_in_transaction(session: Session) -> dict[str, str]:
    """Customers whose lead this transaction assigned → the assignee."""
    owners: dict[str, str] = session.info.setdefault(_PLACED + ".owners", {})
    return owners


def _already_routed(session: Session, lead_id: str) -> bool:
    """True if the lead is stored or was routed earlier in this transaction (Core: no autoflush per lead)."""
    if lead_id in _seen_in_transaction(session):
        return True
    return session.connection().execute(_EXISTS, {"b_lead": lead_id}).first() is not None


def _owner_of(session: Session, customer_id: str) -> str:
    """The customer's current owner, counting assignments made earlier in this transaction (Core, no autoflush)."""
    owners = _owners_in_transaction(session)
    if customer_id in owners:
        return owners[customer_id]
    return str(session.connection().execute(_OWNER, {"b_customer": customer_id}).scalar() or "")


def move_of(decision: Decision) -> Move:
    """The placement a decision asks for."""
    return Move(
        assignee=decision.assignee,
        team=decision.team,
        rule=decision.rule,
        reason=decision.pool_reason,
        explanation=decision.explanation,
        escalated=decision.step is Step.TEAM_LEAD,
    )


def route_lead(
    *,
    session: Session,
    outbox: Outbox,
    config: LoadedRules | Runtime,
    lead: LeadCreated,
    correlation_id: str,
    channel: str,
) -> Decision | None:
    """Assign one new lead or pool it with a reason; emit the outcome and, if assigned, a notification.

    Returns ``None`` for a lead already routed (a redelivery).
    """
    if _already_routed(session, lead.lead_id):
        return None
    runtime = Runtime.of(config)
    now = utcnow()
    submitted_at = from_timestamp(lead.submitted_at) if lead.HasField("submitted_at") else now
    facts = facts_of(lead)
    owner = _owner_of(session, lead.customer_id)
    lead_input = LeadInput.from_mapping({**facts, "owner_id": owner} if owner else facts)
    decision = decide(
        lead_input,
        rules=runtime.rules,
        roster=runtime.roster,
        state=routing_state(session),
        now=now,
        ip_locator=runtime.ip_locator,
    )
    save_cursor(session, decision.cursor)
    latency_ms = max(0, int((now - submitted_at).total_seconds() * 1000))
    trace = {"trigger": "lead.created", "submitted_at": submitted_at.isoformat(), **decision.trace_dict()}
    row = Lead(
        id=lead.lead_id,
        customer_id=lead.customer_id,
        status="new",
        team=decision.team,
        rule=decision.rule,
        trace=[trace],
        submitted_at=submitted_at,
        decided_at=now,
        latency_ms=latency_ms,
    )
    session.add(LeadFacts(lead_id=lead.lead_id, data=facts))
    _seen_in_transaction(session)[lead.lead_id] = lead.customer_id
    if decision.assignee is not None and lead.customer_id:
        _owners_in_transaction(session)[lead.customer_id] = decision.assignee
    move = move_of(decision)
    if decision.assignee is not None:
        assign(
            session=session,
            outbox=outbox,
            row=row,
            move=move,
            at=now,
            policy=runtime.rules.sla,
            correlation_id=correlation_id,
            channel=channel,
            latency_ms=latency_ms,
            facts=facts,
        )
    else:
        to_pool(session=session, outbox=outbox, row=row, move=move, at=now, correlation_id=correlation_id)
    _observe(runtime, decision, latency_ms)
    return decision


def _observe(runtime: Runtime, decision: Decision, latency_ms: int) -> None:
    """Metrics and the silent-failure watch for one decision."""
    outcome = "pool" if decision.pooled else "assigned"
    metrics.DECISIONS.labels(outcome, decision.rule or "-", decision.pool_reason or "-").inc()
    metrics.ASSIGN_SECONDS.observe(latency_ms / 1000)
    metrics.ENGINE_SECONDS.observe(decision.trace.latency_us / 1e6)
    if decision.pooled:
        metrics.POOL_SIZE.inc()
    runtime.watch(decision)


def simulate(*, session: Session, config: LoadedRules | Runtime, lead: dict[str, Any]) -> dict[str, Any]:
    """The decision and trace a lead would get now, against the live load — nothing is written."""
    runtime = Runtime.of(config)
    lead_input = LeadInput.from_mapping(lead)
    decision = decide(
        lead_input,
        rules=runtime.rules,
        roster=runtime.roster,
        state=routing_state(session),
        now=utcnow(),
        ip_locator=runtime.ip_locator,
    )
    return {
        "lead_id": decision.lead_id,
        "assignee": decision.assignee,
        "pool_reason": decision.pool_reason or None,
        "rule": decision.rule or None,
        "explanation": decision.explanation,
        "trace": decision.trace_dict(),
    }


def lead_trace(*, session: Session, lead_id: str) -> dict[str, Any] | None:
    """Everything about one lead's routing: placement, decision traces, SLA history."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        return None
    return lead.model_dump(mode="json")


def stats(*, session: Session) -> dict[str, int]:
    """Leads by outcome, for the demo and operators."""
    rows = session.exec(select(Lead.status, func.count()).group_by(Lead.status)).all()
    counts = {status: count for status, count in rows}
    return {"assigned": counts.get("assigned", 0), "pooled": counts.get("pooled", 0)}
