"""Putting a lead somewhere, in the caller's transaction: rows, loads, SLA timers and events.

Every path that moves a lead — first routing, SLA escalation, a failed contact, a pool
claim, offboarding — goes through :func:`assign` or :func:`to_pool`, so loads, timers and
the events on ``crm.lead.v1`` / ``crm.notify.v1`` stay consistent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from crm.events.lead.v1.lead_pb2 import LeadAssigned, LeadReturnedToPool
from crm.events.notify.v1.notify_pb2 import NotificationRequested
from crmkit.outbox import Outbox
from sqlalchemy import bindparam, func, insert, update
from sqlmodel import Session, col, select

from lead_router.domain import sla
from lead_router.domain.alarms import Alarm
from lead_router.domain.engine import RoutingState
from lead_router.models import Lead, LeadFacts, RepLoad, RoundRobinCursor, SlaTimerRow

_NOTIFY_NAMESPACE = uuid.UUID("0b8f5a52-3f3c-4d55-9d7e-4f6c2a1b9e21")
ALARM_RECIPIENT = "routing-ops"
"""Who a silent-failure alarm goes to (notify maps it to the ops group's bot)."""


@dataclass(frozen=True)
class Move:
    """Where a lead goes next and why; ``assignee`` None = the pool with ``reason``."""

    assignee: str | None
    team: str
    rule: str
    reason: str
    explanation: str
    escalated: bool = False


def aware(value: datetime) -> datetime:
    """A datetime read back from the database, as aware UTC (SQLite drops the offset)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_STATE = "lead_router.state"
# Statements built once (compiled once, cached by SQLAlchemy): the hot path runs them per lead.
_LOAD_UP = (
    update(RepLoad)
    .where(col(RepLoad.rep_id) == bindparam("b_rep"))
    .values(open_leads=col(RepLoad.open_leads) + bindparam("b_delta"))
)
_LOAD_NEW = insert(RepLoad).values(rep_id=bindparam("b_rep"), open_leads=bindparam("b_open"))
_CURSOR_UP = (
    update(RoundRobinCursor)
    .where(col(RoundRobinCursor.rule) == bindparam("b_rule"))
    .values(position=bindparam("b_position"))
)
_CURSOR_NEW = insert(RoundRobinCursor).values(rule=bindparam("b_rule"), position=bindparam("b_position"))
_TIMERS_NEW = insert(SlaTimerRow)


@dataclass
class _Counts:
    """The transaction's view of loads and cursors."""

    loads: dict[str, int]
    cursors: dict[str, int]


def _counts(session: Session) -> _Counts:
    """Loads and cursors, read once per transaction (cached in ``session.info``, which dies with the session)."""
    cached = session.info.get(_STATE)
    if isinstance(cached, _Counts):
        return cached
    conn = session.connection()
    loads = {str(rep): int(n) for rep, n in conn.execute(select(RepLoad.rep_id, RepLoad.open_leads)).all()}
    cursors = {str(r): int(p) for r, p in conn.execute(select(RoundRobinCursor.rule, RoundRobinCursor.position)).all()}
    counts = _Counts(loads, cursors)
    session.info[_STATE] = counts
    return counts


def routing_state(session: Session) -> RoutingState:
    """Open leads per rep and cursors per rule as this transaction sees them (the engine's input)."""
    counts = _counts(session)
    return RoutingState(loads=counts.loads, cursors=counts.cursors)


def save_cursor(session: Session, cursor: tuple[str, int] | None) -> None:
    """Store a rule's advanced round-robin cursor."""
    if cursor is None:
        return
    rule, position = cursor
    counts = _counts(session)
    known = rule in counts.cursors
    counts.cursors[rule] = position
    session.connection().execute(_CURSOR_UP if known else _CURSOR_NEW, {"b_rule": rule, "b_position": position})


def add_loads(session: Session, deltas: Mapping[str, int]) -> None:
    """Change reps' open-lead counts, atomically in SQL and in the transaction's cache."""
    counts = _counts(session)
    known = [{"b_rep": rep, "b_delta": delta} for rep, delta in deltas.items() if rep in counts.loads and delta]
    new = [{"b_rep": rep, "b_open": max(0, delta)} for rep, delta in deltas.items() if rep not in counts.loads]
    for rep, delta in deltas.items():
        counts.loads[rep] = max(0, counts.loads.get(rep, 0) + delta)
    if known:
        session.connection().execute(_LOAD_UP, known)
    if new:
        session.connection().execute(_LOAD_NEW, new)


def _release(session: Session, row: Lead) -> None:
    """Take the lead off its current rep: free the capacity, cancel pending timers (nothing for a new lead)."""
    if row.status == "new":
        return
    if row.status == "assigned" and row.assignee_id:
        add_loads(session, {row.assignee_id: -1})
    session.flush()
    session.connection().execute(
        update(SlaTimerRow)
        .where(
            col(SlaTimerRow.lead_id) == row.id,
            col(SlaTimerRow.fired_at).is_(None),
            col(SlaTimerRow.cancelled).is_(False),
        )
        .values(cancelled=True)
    )


def _schedule(
    session: Session, row: Lead, *, assignee: str, at: datetime, policy: sla.SlaPolicy, escalated: bool
) -> int:
    """Store the SLA timers of a new assignment in one statement; returns the assignment number.

    Timer ids are deterministic (lead, number, kind), so a retried transaction cannot double them.
    """
    if row.status == "new":
        number = 1
    else:
        last = session.exec(select(func.max(SlaTimerRow.assignment_no)).where(SlaTimerRow.lead_id == row.id)).one()
        number = (last or 0) + 1
    rows = timer_rows(lead_id=row.id, assignee=assignee, number=number, at=at, policy=policy, escalated=escalated)
    session.connection().execute(_TIMERS_NEW, rows)
    return number


def timer_rows(
    *, lead_id: str, assignee: str, number: int, at: datetime, policy: sla.SlaPolicy, escalated: bool
) -> list[dict[str, object]]:
    """The SLA timer rows of one assignment (ids deterministic: lead, number, kind)."""
    timers = sla.schedule(
        lead_id=lead_id, assignee_id=assignee, assignment_no=number, assigned_at=at, policy=policy, escalated=escalated
    )
    return [
        {
            "id": t.timer_id,
            "lead_id": t.lead_id,
            "kind": t.kind.value,
            "assignee_id": t.assignee_id,
            "assignment_no": t.assignment_no,
            "escalated": t.escalated,
            "due_at": t.due_at,
            "cancelled": False,
        }
        for t in timers
    ]


def assign(
    *,
    session: Session,
    outbox: Outbox,
    row: Lead,
    move: Move,
    at: datetime,
    policy: sla.SlaPolicy,
    correlation_id: str,
    channel: str,
    latency_ms: int = 0,
    facts: dict[str, object] | None = None,
) -> None:
    """Give ``row`` to ``move.assignee``: load, timers, ``lead.assigned`` and a notification.

    ``facts`` (the lead's routing fields) fill the notification; read from the database if not given.
    """
    assignee = move.assignee or ""
    _release(session, row)
    add_loads(session, {assignee: 1})
    number = _schedule(session, row, assignee=assignee, at=at, policy=policy, escalated=move.escalated)
    row.status, row.assignee_id, row.team, row.rule, row.reason_code = "assigned", assignee, move.team, move.rule, ""
    row.decided_at = at
    session.add(row)
    if facts is None:
        stored = session.get(LeadFacts, row.id)
        facts = stored.data if stored else {}
    emit_assigned(
        outbox,
        lead_id=row.id,
        customer_id=row.customer_id,
        move=move,
        number=number,
        facts=facts,
        correlation_id=correlation_id,
        channel=channel,
        latency_ms=latency_ms,
    )


def emit_assigned(
    outbox: Outbox,
    *,
    lead_id: str,
    customer_id: str,
    move: Move,
    number: int,
    facts: Mapping[str, object],
    correlation_id: str,
    channel: str,
    latency_ms: int,
) -> None:
    """``lead.assigned`` and the notification for the assignee (its id is deterministic per assignment)."""
    assignee = move.assignee or ""
    outbox.emit(
        event_type="crm.lead.assigned",
        key=customer_id,
        correlation_id=correlation_id,
        data=LeadAssigned(
            lead_id=lead_id,
            customer_id=customer_id,
            assignee_id=assignee,
            team=move.team,
            rule=move.rule,
            explanation=move.explanation,
            latency_ms=latency_ms,
        ),
    )
    suffix = ":assigned" if number == 1 else f":assigned:{number}"
    _notify(
        outbox,
        seed=lead_id + suffix,
        correlation_id=correlation_id,
        channel=channel,
        recipient=assignee,
        template="lead_assigned",
        subject_id=lead_id,
        params={
            "lead_id": lead_id,
            "rule": move.rule,
            "company": str(facts.get("company") or "-"),
            "region_code": str(facts.get("region") or "-"),
            "product": str(facts.get("product_interest") or "-"),
        },
    )


def _notify(
    outbox: Outbox,
    *,
    seed: str,
    correlation_id: str,
    channel: str,
    recipient: str,
    template: str,
    subject_id: str,
    params: Mapping[str, str],
) -> None:
    """``notify.requested`` whose id is derived from ``seed``, so a redelivered cause asks once."""
    notification_id = f"ntf_{uuid.uuid5(_NOTIFY_NAMESPACE, seed).hex[:24]}"
    outbox.emit(
        event_type="crm.notify.requested",
        key=notification_id,
        correlation_id=correlation_id,
        data=NotificationRequested(
            notification_id=notification_id,
            channel=channel,
            recipient=recipient,
            template=template,
            subject_id=subject_id,
            params=params,
        ),
    )


def to_pool(*, session: Session, outbox: Outbox, row: Lead, move: Move, at: datetime, correlation_id: str) -> None:
    """Put ``row`` in the pool with ``move.reason``; emit ``lead.returned_to_pool``."""
    _release(session, row)
    row.status, row.assignee_id, row.team, row.rule, row.reason_code = "pooled", None, move.team, move.rule, move.reason
    row.decided_at = at
    session.add(row)
    emit_pooled(outbox, lead_id=row.id, customer_id=row.customer_id, move=move, correlation_id=correlation_id)


def emit_pooled(outbox: Outbox, *, lead_id: str, customer_id: str, move: Move, correlation_id: str) -> None:
    """``lead.returned_to_pool`` with the reason code and its explanation."""
    outbox.emit(
        event_type="crm.lead.returned_to_pool",
        key=customer_id,
        correlation_id=correlation_id,
        data=LeadReturnedToPool(
            lead_id=lead_id, customer_id=customer_id, reason_code=move.reason, detail=move.explanation
        ),
    )


def emit_alarm(outbox: Outbox, *, alarm: Alarm, lead_id: str, correlation_id: str, channel: str) -> None:
    """A raised silent-failure alarm as a notification (id deterministic per alarm and the lead that raised it)."""
    _notify(
        outbox,
        seed=f"{alarm.key}@{lead_id}",
        correlation_id=correlation_id,
        channel=channel,
        recipient=ALARM_RECIPIENT,
        template="routing_alarm",
        subject_id=alarm.rule or alarm.kind,
        params={"alarm": alarm.kind, "rule": alarm.rule or "-", "detail": alarm.detail, "at": alarm.at.isoformat()},
    )
