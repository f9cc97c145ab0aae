"""Durable SLA timers: rep activity against stored timers, and firing due timers exactly once.

A timer fires in the transaction that sets its ``fired_at`` — by an ``UPDATE … WHERE
fired_at IS NULL`` whose row count must be 1 — together with the events it causes. A
crash before commit leaves it due (it fires after the restart); a commit marks it fired
for good, so neither a restart nor a second replica fires it again.
"""

from __future__ import annotations

from datetime import datetime

from crm.events.lead.v1.lead_pb2 import LeadSlaBreached
from crmkit.outbox import Outbox
from crmkit.timeutil import to_timestamp
from sqlalchemy import update
from sqlmodel import Session, col, select

from lead_router import metrics
from lead_router.domain import sla
from lead_router.domain.engine import escalate
from lead_router.models import Lead, SlaTimerRow
from lead_router.placement import Move, assign, aware, routing_state, to_pool
from lead_router.runtime import Runtime


def _timer(row: SlaTimerRow) -> sla.Timer:
    """The domain view of a stored timer."""
    return sla.Timer(
        timer_id=row.id,
        lead_id=row.lead_id,
        kind=sla.TimerKind(row.kind),
        assignee_id=row.assignee_id,
        assignment_no=row.assignment_no,
        due_at=aware(row.due_at),
        escalated=row.escalated,
        fired_at=aware(row.fired_at) if row.fired_at else None,
        cancelled=row.cancelled,
    )


def _pending(session: Session, lead_id: str) -> list[SlaTimerRow]:
    """A lead's pending timer rows."""
    query = select(SlaTimerRow).where(
        SlaTimerRow.lead_id == lead_id, col(SlaTimerRow.fired_at).is_(None), col(SlaTimerRow.cancelled).is_(False)
    )
    return list(session.exec(query).all())


def record_activity(
    *, session: Session, outbox: Outbox, runtime: Runtime, lead_id: str, activity: sla.Activity, at: datetime
) -> str:
    """Apply a view, contact or failed contact to a lead's timers; returns what happened."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise KeyError(lead_id)
    if lead.status != "assigned":
        return "ignored: lead not assigned"
    rows = {row.id: row for row in _pending(session, lead_id)}
    changed, outcome = sla.record_activity(
        [_timer(r) for r in rows.values()], activity, at=at, policy=runtime.rules.sla
    )
    for timer in changed:
        row = rows[timer.timer_id]
        row.cancelled, row.due_at = timer.cancelled, timer.due_at
        session.add(row)
    if outcome is None:
        return "recorded"
    _carry_out(session=session, outbox=outbox, runtime=runtime, lead=lead, outcome=outcome, correlation_id=lead_id)
    return f"returned to pool: {outcome.reason}"


def fire_due(
    *, session: Session, outbox: Outbox, runtime: Runtime, now: datetime, channel: str, limit: int = 200
) -> int:
    """Fire up to ``limit`` due timers, oldest first; returns how many fired."""
    query = (
        select(SlaTimerRow)
        .where(
            col(SlaTimerRow.fired_at).is_(None), col(SlaTimerRow.cancelled).is_(False), col(SlaTimerRow.due_at) <= now
        )
        .order_by(col(SlaTimerRow.due_at), col(SlaTimerRow.id))
        .limit(limit)
    )
    fired = 0
    for row in session.exec(query).all():
        claimed = session.connection().execute(
            update(SlaTimerRow)
            .where(
                col(SlaTimerRow.id) == row.id,
                col(SlaTimerRow.fired_at).is_(None),
                col(SlaTimerRow.cancelled).is_(False),
            )
            .values(fired_at=now)
        )
        if claimed.rowcount != 1:
            continue  # fired or cancelled meanwhile (another replica, an earlier timer of this batch)
        _, outcome = sla.fire(_timer(row), now=now)
        lead = session.get(Lead, row.lead_id)
        if lead is None:
            continue
        session.refresh(lead)
        _carry_out(
            session=session,
            outbox=outbox,
            runtime=runtime,
            lead=lead,
            outcome=outcome,
            correlation_id=row.id,
            channel=channel,
            due_at=aware(row.due_at),
        )
        fired += 1
    return fired


def _carry_out(
    *,
    session: Session,
    outbox: Outbox,
    runtime: Runtime,
    lead: Lead,
    outcome: sla.TimerOutcome,
    correlation_id: str,
    channel: str = "file",
    due_at: datetime | None = None,
) -> None:
    """Emit the breach and move the lead as the outcome asks."""
    metrics.SLA_BREACHES.labels(outcome.sla, outcome.action.value).inc()
    if outcome.sla != "contact_failed":
        outbox.emit(
            event_type="crm.lead.sla_breached",
            key=lead.customer_id,
            correlation_id=correlation_id,
            data=LeadSlaBreached(
                lead_id=lead.id,
                customer_id=lead.customer_id,
                assignee_id=outcome.assignee_id,
                sla=outcome.sla,
                due_at=to_timestamp(due_at or outcome.at),
            ),
        )
    if outcome.action is sla.TimerAction.WARN:
        return
    if outcome.action is sla.TimerAction.REASSIGN_TEAM_LEAD:
        decision = escalate(
            lead_id=lead.id,
            current=lead.assignee_id or "",
            team=lead.team,
            roster=runtime.roster,
            state=routing_state(session),
            now=outcome.at,
        )
        if decision.assignee is not None:
            move = Move(decision.assignee, decision.team, lead.rule, "", decision.explanation, escalated=True)
            assign(
                session=session,
                outbox=outbox,
                row=lead,
                move=move,
                at=outcome.at,
                policy=runtime.rules.sla,
                correlation_id=correlation_id,
                channel=channel,
            )
            _note(lead, outcome, decision.assignee)
            return
    detail = f"{outcome.sla}: back to the pool" + (" and reactivation requested" if outcome.reactivate else "")
    move = Move(None, lead.team, lead.rule, outcome.reason or "sla_expired", detail)
    to_pool(session=session, outbox=outbox, row=lead, move=move, at=outcome.at, correlation_id=correlation_id)
    _note(lead, outcome, None)


def _note(lead: Lead, outcome: sla.TimerOutcome, assignee: str | None) -> None:
    """Append the timer outcome to the lead's trace history."""
    entry: dict[str, object] = {
        "trigger": outcome.sla,
        "at": outcome.at.isoformat(),
        "action": outcome.action.value,
        "assignee": assignee,
        "reactivate": outcome.reactivate,
    }
    lead.trace = [*lead.trace, entry]  # a new list, so the JSON column is seen as changed
