"""SLA timers as pure rules: what is due when, what an activity cancels, what firing does.

An assignment starts three timers (defaults from the seeds, 004 §线索分配后石沉大海):

* ``not_viewed_2h``  — not viewed 2 h after assignment → warn the rep;
* ``no_contact_24h`` — no first contact within 24 h → reassign to the team lead (and, if
  the team lead already holds it, back to the pool);
* ``idle_3d``        — no activity for 3 days → back to the pool and a reactivation event.

A first contact marked failed sends the lead back to the pool at once.

Timers are plain records meant to be stored durably, one row per ``timer_id`` (which
is deterministic: lead, assignment number, kind — so scheduling twice is harmless), with
``due_at`` indexed and a ``fired_at`` column. Firing = setting ``fired_at`` on a row whose
``fired_at`` is still empty, in the same transaction as the events it causes; that
conditional update is what makes a timer fire once across restarts and replicas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class TimerKind(StrEnum):
    """The three SLA timers; the value is the ``sla`` field of ``crm.lead.sla_breached``."""

    NOT_VIEWED = "not_viewed_2h"
    NO_CONTACT = "no_contact_24h"
    IDLE = "idle_3d"


class TimerAction(StrEnum):
    """What a fired timer asks the service to do."""

    WARN = "warn_rep"
    REASSIGN_TEAM_LEAD = "reassign_team_lead"
    RETURN_TO_POOL = "return_to_pool"


class Activity(StrEnum):
    """Rep activity on a lead, as events (REST from frontends, WeCom messages)."""

    VIEWED = "lead.viewed"
    CONTACTED = "lead.contacted"
    CONTACT_FAILED = "lead.contact_failed"


@dataclass(frozen=True)
class SlaPolicy:
    """Timer lengths; ``contact_failed_to_pool`` sends a failed first contact back to the pool."""

    not_viewed: timedelta = timedelta(hours=2)
    no_contact: timedelta = timedelta(hours=24)
    idle: timedelta = timedelta(days=3)
    contact_failed_to_pool: bool = True


@dataclass(frozen=True)
class Timer:
    """One durable timer of one assignment of one lead."""

    timer_id: str
    lead_id: str
    kind: TimerKind
    assignee_id: str
    assignment_no: int
    due_at: datetime
    escalated: bool = False
    fired_at: datetime | None = None
    cancelled: bool = False

    @property
    def pending(self) -> bool:
        """Neither fired nor cancelled."""
        return self.fired_at is None and not self.cancelled


@dataclass(frozen=True)
class TimerOutcome:
    """The effect of a fired timer or an activity: an action and the reason code it carries."""

    lead_id: str
    assignee_id: str
    action: TimerAction
    sla: str
    reason: str
    at: datetime
    reactivate: bool = False


def timer_id(lead_id: str, assignment_no: int, kind: TimerKind) -> str:
    """The deterministic id of a timer (primary key in storage)."""
    return f"{lead_id}:{assignment_no}:{kind.value}"


def schedule(
    *, lead_id: str, assignee_id: str, assignment_no: int, assigned_at: datetime, policy: SlaPolicy, escalated: bool
) -> list[Timer]:
    """The timers one assignment starts; ``escalated`` marks an assignment to the team lead."""
    lengths = {TimerKind.NOT_VIEWED: policy.not_viewed, TimerKind.NO_CONTACT: policy.no_contact}
    lengths[TimerKind.IDLE] = policy.idle
    return [
        Timer(
            timer_id=timer_id(lead_id, assignment_no, kind),
            lead_id=lead_id,
            kind=kind,
            assignee_id=assignee_id,
            assignment_no=assignment_no,
            due_at=assigned_at + length,
            escalated=escalated,
        )
        for kind, length in lengths.items()
    ]


def record_activity(
    timers: Iterable[Timer], activity: Activity, *, at: datetime, policy: SlaPolicy
) -> tuple[list[Timer], TimerOutcome | None]:
    """Apply one activity to a lead's pending timers; returns the changed timers and any outcome.

    A view cancels ``not_viewed``; a contact cancels ``not_viewed`` and ``no_contact``;
    either pushes ``idle`` to ``at`` + idle. A failed contact cancels everything and,
    by policy, returns the lead to the pool.
    """
    pending = [t for t in timers if t.pending]
    changed: list[Timer] = []
    if activity is Activity.CONTACT_FAILED:
        if not policy.contact_failed_to_pool or not pending:
            return [], None
        changed = [replace(t, cancelled=True) for t in pending]
        first = pending[0]
        outcome = TimerOutcome(
            lead_id=first.lead_id,
            assignee_id=first.assignee_id,
            action=TimerAction.RETURN_TO_POOL,
            sla="contact_failed",
            reason="contact_failed",
            at=at,
        )
        return changed, outcome
    cancels = {TimerKind.NOT_VIEWED} if activity is Activity.VIEWED else {TimerKind.NOT_VIEWED, TimerKind.NO_CONTACT}
    for timer in pending:
        if timer.kind in cancels:
            changed.append(replace(timer, cancelled=True))
        elif timer.kind is TimerKind.IDLE and timer.due_at < at + policy.idle:
            changed.append(replace(timer, due_at=at + policy.idle))
    return changed, None


def due(timers: Iterable[Timer], now: datetime) -> list[Timer]:
    """Pending timers due at or before ``now``, earliest first (ties by id)."""
    return sorted((t for t in timers if t.pending and t.due_at <= now), key=lambda t: (t.due_at, t.timer_id))


def fire(timer: Timer, *, now: datetime) -> tuple[Timer, TimerOutcome]:
    """Fire one pending timer: the timer marked fired, and what the service must do."""
    if not timer.pending:
        raise ValueError(f"timer {timer.timer_id} already fired or cancelled")
    if timer.kind is TimerKind.NOT_VIEWED:
        action, reason, reactivate = TimerAction.WARN, "", False
    elif timer.kind is TimerKind.NO_CONTACT and not timer.escalated:
        action, reason, reactivate = TimerAction.REASSIGN_TEAM_LEAD, "sla_expired", False
    else:
        action, reason, reactivate = TimerAction.RETURN_TO_POOL, "sla_expired", timer.kind is TimerKind.IDLE
    outcome = TimerOutcome(
        lead_id=timer.lead_id,
        assignee_id=timer.assignee_id,
        action=action,
        sla=timer.kind.value,
        reason=reason,
        at=now,
        reactivate=reactivate,
    )
    return replace(timer, fired_at=now), outcome


def cancel_all(timers: Iterable[Timer]) -> list[Timer]:
    """Every pending timer cancelled (the lead was reassigned, pooled or closed)."""
    return [replace(t, cancelled=True) for t in timers if t.pending]
