"""lead-router's use cases (keyword-only), shared by the consumer and the REST API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crm.events.lead.v1.lead_pb2 import LeadCreated
from crmkit.outbox import Outbox
from crmkit.timeutil import from_timestamp, utcnow
from sqlalchemy import Connection, bindparam, insert
from sqlmodel import Session, col, func, select

from lead_router import merges, metrics
from lead_router.domain.alarms import Alarm
from lead_router.domain.engine import Decision, RoutingState, Step, decide
from lead_router.domain.lead import LeadInput
from lead_router.domain.rules_yaml import LoadedRules
from lead_router.models import Base, Lead, LeadFacts, SlaTimerRow
from lead_router.placement import (
    Move,
    add_loads,
    emit_alarm,
    emit_assigned,
    emit_pooled,
    routing_state,
    save_cursor,
    timer_rows,
)
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
        # Fields 11-14 (empty from producers that predate them): a rule may match on the source;
        # phone, client IP and address only impute a missing region (the trace names the place, not the number).
        "source": lead.source,
        "phone": lead.phone,
        "client_ip": lead.client_ip,
        "address": lead.address,
        "junk": list(lead.junk_reasons),
    }
    return {k: v for k, v in facts.items() if v not in ("", 0, []) or k == "lead_id"}


def current_owner(session: Session, customer_id: str, *, excluding: str = "") -> str:
    """The rep holding the customer's most recent assigned lead, or ``""``."""
    if not customer_id:
        return ""
    # The status is filtered here, not in SQL: see _OWNERS. Ids merged into the customer count.
    family = merges.families(session.connection(), [customer_id])
    root = family.get(customer_id, customer_id)
    ids = {root, *(absorbed for absorbed, survivor in family.items() if survivor == root)}
    query = (
        select(Lead.assignee_id, Lead.status)
        .where(col(Lead.customer_id).in_(sorted(ids)), Lead.id != excluding)
        .order_by(col(Lead.decided_at).desc())
    )
    return next((str(a) for a, status in session.exec(query) if status == "assigned" and a), "")


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


@dataclass(frozen=True)
class NewLead:
    """A ``lead.created`` event to route, with the touchpoint it came from."""

    lead: LeadCreated
    correlation_id: str


_ROUTED = select(Lead.id).where(col(Lead.id).in_(bindparam("b_ids", expanding=True)))
# Every lead of the batch's customers, oldest decision first; the status is filtered in Python.
# With ``status = 'assigned'`` in the WHERE clause SQLite (no ANALYZE statistics) chose
# ix_leads_status and walked every assigned lead: 40 ms a batch at 26k leads, growing with the table.
_OWNERS = (
    select(Lead.customer_id, Lead.assignee_id, Lead.status)
    .where(col(Lead.customer_id).in_(bindparam("b_customers", expanding=True)))
    .order_by(col(Lead.decided_at))
)
_LEADS = Base.metadata.tables[Lead.__tablename__]
_FACTS = Base.metadata.tables[LeadFacts.__tablename__]


def _owners(connection: Connection, customers: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Each customer's survivor (itself unless merged away), and each survivor's current owner (from the
    leads of every id merged into it; the latest decision wins)."""
    family = merges.families(connection, customers)
    survivors = {c: family.get(c, c) for c in customers}
    found = connection.execute(_OWNERS, {"b_customers": sorted(customers | family.keys() | set(survivors.values()))})
    owners = {family.get(str(c), str(c)): str(a) for c, a, status in found if a and status == "assigned"}
    return survivors, owners


def route_lead(
    *,
    session: Session,
    outbox: Outbox,
    config: LoadedRules | Runtime,
    lead: LeadCreated,
    correlation_id: str,
    channel: str,
) -> Decision | None:
    """Route one new lead (see :func:`route_new_leads`); ``None`` for a lead already routed."""
    decisions = route_new_leads(
        session=session, outbox=outbox, config=config, leads=[NewLead(lead, correlation_id)], channel=channel
    )
    return decisions[0] if decisions else None


def route_new_leads(
    *,
    session: Session,
    outbox: Outbox,
    config: LoadedRules | Runtime,
    leads: Sequence[NewLead],
    channel: str,
) -> list[Decision]:
    """Assign each new lead or pool it with a reason, in order; emit outcomes and notifications.

    One query finds leads already routed (redeliveries, skipped), one finds current owners;
    decisions are made in memory against loads and cursors that each decision updates; rows,
    timers, loads and cursors are written with one statement each.
    """
    runtime = Runtime.of(config)
    now = utcnow()
    connection = session.connection()
    routed = {str(lead_id) for (lead_id,) in connection.execute(_ROUTED, {"b_ids": [n.lead.lead_id for n in leads]})}
    survivors, owners = _owners(connection, {n.lead.customer_id for n in leads if n.lead.customer_id})
    state = routing_state(session)
    loads, cursors = dict(state.loads), dict(state.cursors)
    decisions: list[Decision] = []
    lead_rows: list[dict[str, object]] = []
    fact_rows: list[dict[str, object]] = []
    timers: list[dict[str, object]] = []
    load_deltas: Counter[str] = Counter()
    for item in leads:
        lead = item.lead
        if lead.lead_id in routed:
            continue
        routed.add(lead.lead_id)
        facts = facts_of(lead)
        survivor = survivors.get(lead.customer_id, lead.customer_id)
        owner = owners.get(survivor, "")
        decision = decide(
            LeadInput.from_mapping({**facts, "owner_id": owner} if owner else facts),
            rules=runtime.rules,
            roster=runtime.roster,
            state=RoutingState(loads=loads, cursors=cursors),
            now=now,
            ip_locator=runtime.ip_locator,
        )
        if decision.cursor is not None:
            cursors[decision.cursor[0]] = decision.cursor[1]
        submitted_at = from_timestamp(lead.submitted_at) if lead.HasField("submitted_at") else now
        latency_ms = max(0, int((now - submitted_at).total_seconds() * 1000))
        move = move_of(decision)
        row: dict[str, object] = {
            "id": lead.lead_id,
            "customer_id": lead.customer_id,
            "status": "pooled",
            "assignee_id": None,
            "team": decision.team,
            "rule": decision.rule,
            "reason_code": decision.pool_reason,
            "trace": [{"trigger": "lead.created", "submitted_at": submitted_at.isoformat(), **decision.trace_dict()}],
            "submitted_at": submitted_at,
            "decided_at": now,
            "latency_ms": latency_ms,
        }
        if decision.assignee is not None:
            row.update(status="assigned", assignee_id=decision.assignee, reason_code="")
            loads[decision.assignee] = loads.get(decision.assignee, 0) + 1
            load_deltas[decision.assignee] += 1
            if lead.customer_id:
                owners[survivor] = decision.assignee
            timers += timer_rows(
                lead_id=lead.lead_id,
                assignee=decision.assignee,
                number=1,
                at=now,
                policy=runtime.rules.sla,
                escalated=move.escalated,
            )
            emit_assigned(
                outbox,
                lead_id=lead.lead_id,
                customer_id=lead.customer_id,
                move=move,
                number=1,
                facts=facts,
                correlation_id=item.correlation_id,
                channel=channel,
                latency_ms=latency_ms,
            )
        else:
            emit_pooled(
                outbox,
                lead_id=lead.lead_id,
                customer_id=lead.customer_id,
                move=move,
                correlation_id=item.correlation_id,
            )
        lead_rows.append(row)
        fact_rows.append({"lead_id": lead.lead_id, "data": facts})
        decisions.append(decision)
        for alarm in _observe(runtime, decision, latency_ms):
            emit_alarm(outbox, alarm=alarm, lead_id=lead.lead_id, correlation_id=item.correlation_id, channel=channel)
    if lead_rows:
        connection.execute(insert(_LEADS), lead_rows)
        connection.execute(insert(_FACTS), fact_rows)
    if timers:
        connection.execute(insert(SlaTimerRow), timers)
    add_loads(session, load_deltas)
    for rule, position in cursors.items():
        if state.cursors.get(rule) != position:
            save_cursor(session, (rule, position))
    return decisions


def _observe(runtime: Runtime, decision: Decision, latency_ms: int) -> list[Alarm]:
    """Metrics and the silent-failure watch for one decision; returns the alarms it raised."""
    outcome = "pool" if decision.pooled else "assigned"
    metrics.DECISIONS.labels(outcome, decision.rule or "-", decision.pool_reason or "-").inc()
    metrics.ASSIGN_SECONDS.observe(latency_ms / 1000)
    metrics.ENGINE_SECONDS.observe(decision.trace.latency_us / 1e6)
    if decision.pooled:
        metrics.POOL_SIZE.inc()
    return runtime.watch(decision)


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
