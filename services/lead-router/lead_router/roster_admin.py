"""Roster changes (REST or directory sync) with offboarding, and claims from the pool."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crmkit.outbox import Outbox
from sqlmodel import Session, col, func, select

from lead_router.domain.engine import decide
from lead_router.domain.lead import LeadInput
from lead_router.domain.pool import check_claim
from lead_router.domain.roster import Rep, Team, rep_from_mapping
from lead_router.models import Lead, LeadFacts, PoolClaim, RosterOverride
from lead_router.placement import Move, assign, routing_state, save_cursor, to_pool
from lead_router.runtime import Runtime
from lead_router.service import current_owner, move_of


def update_rep(
    *, session: Session, outbox: Outbox, runtime: Runtime, data: dict[str, Any], now: datetime, channel: str
) -> tuple[Rep, int]:
    """Add or change a rep; a deactivation re-routes their open leads at once. Returns (rep, leads moved).

    The caller swaps nothing: ``runtime.roster`` is updated here, after the rows are
    written, and the caller commits.
    """
    before = runtime.roster.reps.get(str(data.get("id", "")))
    rep = rep_from_mapping(data, base=before)
    roster = runtime.roster
    if rep.team not in roster.teams:
        roster = roster.with_team(Team(id=rep.team))
    runtime.roster = roster.with_rep(rep)
    stored: dict[str, object] = {"id": rep.id, "team": rep.team, "status": rep.status, "name": rep.name}
    stored |= {"skills": sorted(rep.skills), "capacity": rep.capacity, "weight": rep.weight}
    session.merge(RosterOverride(rep_id=rep.id, data=stored, updated_at=now))
    moved = 0
    if rep.status == "deactivated":  # not only on the change: a retried or replayed update finds nothing left
        moved = offboard(session=session, outbox=outbox, runtime=runtime, rep_id=rep.id, now=now, channel=channel)
    return rep, moved


def offboard(*, session: Session, outbox: Outbox, runtime: Runtime, rep_id: str, now: datetime, channel: str) -> int:
    """Route every open lead of ``rep_id`` again (their history stays on the lead); returns how many."""
    # By assignee only: with the status in SQL too, SQLite picked ix_leads_status (every assigned lead).
    held = session.exec(select(Lead).where(Lead.assignee_id == rep_id)).all()
    rows = [row for row in held if row.status == "assigned"]
    for row in sorted(rows, key=lambda r: r.submitted_at):
        facts = session.get(LeadFacts, row.id)
        data = dict(facts.data) if facts else {"lead_id": row.id, "customer_id": row.customer_id}
        data["owner_id"] = current_owner(session, row.customer_id, excluding=row.id) or rep_id
        decision = decide(
            LeadInput.from_mapping(data),
            rules=runtime.rules,
            roster=runtime.roster,
            state=routing_state(session),
            now=now,
            ip_locator=runtime.ip_locator,
        )
        save_cursor(session, decision.cursor)
        row.trace = [*row.trace, {"trigger": "offboarding", "from": rep_id, **decision.trace_dict()}]
        move = move_of(decision)
        if decision.assignee is not None:
            assign(
                session=session,
                outbox=outbox,
                row=row,
                move=move,
                at=now,
                policy=runtime.rules.sla,
                correlation_id=row.id,
                channel=channel,
            )
        else:
            to_pool(session=session, outbox=outbox, row=row, move=move, at=now, correlation_id=row.id)
    return len(rows)


def claim(
    *, session: Session, outbox: Outbox, runtime: Runtime, lead_id: str, rep_id: str, now: datetime, channel: str
) -> str:
    """A rep claims a pooled lead within the daily limit; returns ``""`` or the refusal reason."""
    row = session.get(Lead, lead_id)
    if row is None:
        raise KeyError(lead_id)
    rep = runtime.roster.reps.get(rep_id)
    day = runtime.rules.local_day(now).isoformat()
    claims_today = session.exec(
        select(func.count()).select_from(PoolClaim).where(PoolClaim.rep_id == rep_id, col(PoolClaim.day) == day)
    ).one()
    check = check_claim(
        rep=rep,
        in_pool=row.status == "pooled",
        load=routing_state(session).loads.get(rep_id, 0),
        claims_today=claims_today,
        policy=runtime.rules.pool,
    )
    if not check.ok or rep is None:
        return check.reason
    session.add(PoolClaim(lead_id=lead_id, rep_id=rep_id, day=day, claimed_at=now))
    move = Move(rep_id, rep.team, "pool_claim", "", f"claimed from the pool by {rep_id}")
    row.trace = [*row.trace, {"trigger": "pool_claim", "at": now.isoformat(), "assignee": rep_id}]
    assign(
        session=session,
        outbox=outbox,
        row=row,
        move=move,
        at=now,
        policy=runtime.rules.sla,
        correlation_id=lead_id,
        channel=channel,
    )
    return ""
