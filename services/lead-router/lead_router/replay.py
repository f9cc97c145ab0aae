"""Replay leads and rep / activity events through the engine in event time, firing SLA timers.

Input is JSON Lines, one event per line, ``{"type": …, "at": RFC 3339, …}``; lines are
processed in ``at`` order (ties keep file order) and events after ``until`` are ignored:

==========================  =============================================================
``lead.created``            ``lead_id`` and any :class:`~.domain.lead.LeadInput` field:
                            ``customer_id``, ``region`` (or ``region_code``), ``industry``,
                            ``product_interest``, ``source``, ``score``, ``tier``,
                            ``company``, ``email`` or ``email_domain``, ``phone``,
                            ``client_ip``, ``address``, ``owner_id``, ``dwell_seconds``
``rep.updated``             ``rep_id`` and any of ``team``, ``status`` (active / on_leave /
                            deactivated), ``capacity``, ``skills``, ``weight``, ``name``;
                            an unknown rep is added (``team`` required). Deactivation
                            re-routes the rep's open leads at once (offboarding).
``team.updated``            ``team_id`` and ``lead`` / ``name``, or ``dissolved: true``
``lead.viewed``             ``lead_id`` — cancels the 2 h not-viewed timer
``lead.contacted``          ``lead_id`` — first contact: cancels the 24 h timer
``lead.contact_failed``     ``lead_id`` — back to the pool (``contact_failed``)
``lead.claimed``            ``lead_id``, ``rep_id`` — a claim from the pool (daily limit)
``lead.closed``             ``lead_id`` — won or lost; frees the rep's capacity
==========================  =============================================================

The result is one record per lead (``{"lead_id", "assignee", "pool_reason", "rule",
"imputed", "history"}``), the alarms raised on the way and any invariant violation.
Nothing here reads a file or a clock.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from crmkit.timeutil import parse_rfc3339, to_rfc3339

from lead_router.domain import sla
from lead_router.domain.alarms import Alarm, AlarmWatch
from lead_router.domain.engine import Decision, RoutingState, Step, decide, escalate
from lead_router.domain.impute import IpLocator
from lead_router.domain.lead import LeadInput
from lead_router.domain.pool import check_claim
from lead_router.domain.roster import Roster, RosterError, Team, rep_from_mapping
from lead_router.domain.rules import RuleSet

EVENT_TYPES = frozenset(
    {"lead.created", "rep.updated", "team.updated", "lead.viewed", "lead.contacted", "lead.contact_failed",
     "lead.claimed", "lead.closed"}
)  # fmt: skip
_ACTIVITY = {
    "lead.viewed": sla.Activity.VIEWED,
    "lead.contacted": sla.Activity.CONTACTED,
    "lead.contact_failed": sla.Activity.CONTACT_FAILED,
}


class ReplayError(ValueError):
    """An input line that cannot be replayed; the message names the line."""


@dataclass(frozen=True)
class ReplayEvent:
    """One input event: its type, event time, fields and input line (1-based)."""

    type: str
    at: datetime
    data: Mapping[str, Any]
    line: int


def parse_events(lines: Iterable[str]) -> list[ReplayEvent]:
    """Parse JSON Lines into events sorted by time (stable); blank lines and ``#`` comments are skipped."""
    events: list[ReplayEvent] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReplayError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict) or data.get("type") not in EVENT_TYPES:
            raise ReplayError(f"line {number}: type must be one of {', '.join(sorted(EVENT_TYPES))}")
        try:
            at = parse_rfc3339(str(data.get("at", "")))
        except ValueError:
            raise ReplayError(f"line {number}: 'at' must be an RFC 3339 time with an offset") from None
        events.append(ReplayEvent(data["type"], at, data, number))
    return sorted(events, key=lambda e: e.at)


@dataclass
class LeadRecord:
    """One lead's current placement and everything that happened to it."""

    lead: LeadInput
    created_at: datetime
    assignee: str | None = None
    team: str = ""
    rule: str = ""
    pool_reason: str = ""
    imputed: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    assignment_no: int = 0
    escalated: bool = False
    closed: bool = False
    timer_ids: list[str] = field(default_factory=list)

    def to_line(self) -> dict[str, Any]:
        """The JSON line printed per lead."""
        return {
            "lead_id": self.lead.lead_id,
            "assignee": self.assignee,
            "pool_reason": self.pool_reason or None,
            "rule": self.rule or None,
            "imputed": self.imputed,
            "history": self.history,
        }


@dataclass
class ReplayResult:
    """Per-lead records in creation order, alarms raised, invariant violations."""

    leads: list[LeadRecord]
    alarms: list[Alarm]
    violations: list[str]
    decisions: list[Decision]


@dataclass
class Replayer:
    """The in-memory service: roster, loads, cursors, timers and leads, driven by event time."""

    rules: RuleSet
    roster: Roster
    ip_locator: IpLocator | None = None
    loads: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    leads: dict[str, LeadRecord] = field(default_factory=dict)
    timers: dict[str, sla.Timer] = field(default_factory=dict)
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    claims: dict[tuple[str, str], int] = field(default_factory=dict)
    _heap: list[tuple[datetime, str]] = field(default_factory=list)
    watch: AlarmWatch = field(init=False)

    def __post_init__(self) -> None:
        """Start the alarm watch with the rule set's policy."""
        self.watch = AlarmWatch(self.rules.alarms)

    # --- driving -----------------------------------------------------------------------

    def run(self, events: Iterable[ReplayEvent], *, until: datetime | None = None) -> ReplayResult:
        """Apply events in order, firing timers due before each; then fire timers up to ``until``."""
        last: datetime | None = None
        for event in events:
            if until is not None and event.at > until:
                break
            self.fire_timers(event.at, strictly_before=True)
            self.apply(event)
            last = event.at
        end = until or last
        if end is not None:
            self.fire_timers(end, strictly_before=False)
            self.alarms += self.watch.evaluate(end)[0]
        self.check_final()
        ordered = sorted(self.leads.values(), key=lambda r: r.created_at)
        return ReplayResult(ordered, self.alarms, self.violations, self.decisions)

    def apply(self, event: ReplayEvent) -> None:
        """Apply one event."""
        data = event.data
        try:
            if event.type == "lead.created":
                self.lead_created(LeadInput.from_mapping(dict(data)), event.at)
            elif event.type == "rep.updated":
                self.rep_updated(dict(data), event.at)
            elif event.type == "team.updated":
                self.team_updated(dict(data))
            elif event.type in _ACTIVITY:
                self.activity(str(data.get("lead_id", "")), _ACTIVITY[event.type], event.at)
            elif event.type == "lead.claimed":
                self.claimed(str(data.get("lead_id", "")), str(data.get("rep_id", "")), event.at)
            else:
                self.closed(str(data.get("lead_id", "")), event.at)
        except (ValueError, RosterError, KeyError) as exc:
            raise ReplayError(f"line {event.line}: {exc}") from None

    def fire_timers(self, now: datetime, *, strictly_before: bool) -> None:
        """Fire every pending timer due before (or at) ``now``, in due order, including ones that firing starts."""
        while self._heap and (self._heap[0][0] < now or (not strictly_before and self._heap[0][0] <= now)):
            due_at, timer_id = heapq.heappop(self._heap)
            timer = self.timers.get(timer_id)
            if timer is None or not timer.pending or timer.due_at != due_at:
                continue
            fired, outcome = sla.fire(timer, now=due_at)
            self.timers[timer_id] = fired
            self.timer_outcome(outcome)

    # --- events ------------------------------------------------------------------------

    def lead_created(self, lead: LeadInput, at: datetime) -> None:
        """Route a new lead (existing owner first)."""
        if lead.lead_id in self.leads:
            return
        if not lead.owner_id and lead.customer_id in self.owners:
            lead = replace(lead, owner_id=self.owners[lead.customer_id][0])
        record = LeadRecord(lead=lead, created_at=at)
        self.leads[lead.lead_id] = record
        self.route(record, at, trigger="lead.created")

    def rep_updated(self, data: dict[str, Any], at: datetime) -> None:
        """Change the roster; a deactivation re-routes the rep's open leads (offboarding)."""
        rep_id = str(data.get("rep_id", ""))
        fields = {k: v for k, v in data.items() if k not in ("type", "at", "rep_id")}
        before = self.roster.reps.get(rep_id)
        rep = rep_from_mapping({"id": rep_id, **fields}, base=before)
        if rep.team not in self.roster.teams:
            self.roster = self.roster.with_team(Team(id=rep.team))
        self.roster = self.roster.with_rep(rep)
        if rep.status == "deactivated" and (before is None or before.status != "deactivated"):
            for record in sorted(self.leads.values(), key=lambda r: r.created_at):
                if record.assignee == rep_id and not record.closed:
                    record.history.append({"at": to_rfc3339(at), "event": "offboarding", "from": rep_id})
                    self.release(record)
                    self.route(record, at, trigger="offboarding")

    def team_updated(self, data: dict[str, Any]) -> None:
        """Add, change or dissolve a team."""
        team_id = str(data.get("team_id", ""))
        if not team_id:
            raise ValueError("team.updated needs team_id")
        if data.get("dissolved"):
            self.roster = self.roster.without_team(team_id)
            return
        old = self.roster.teams.get(team_id, Team(id=team_id))
        team = Team(id=team_id, lead=str(data.get("lead", old.lead)), name=str(data.get("name", old.name)))
        self.roster = self.roster.with_team(team)

    def activity(self, lead_id: str, activity: sla.Activity, at: datetime) -> None:
        """A view, contact or failed contact: update timers; a failed contact pools the lead."""
        record = self.leads[lead_id]
        record.history.append({"at": to_rfc3339(at), "event": activity.value.removeprefix("lead.")})
        if record.assignee is None or record.closed:
            return
        pending = [self.timers[t] for t in record.timer_ids if self.timers[t].pending]
        changed, outcome = sla.record_activity(pending, activity, at=at, policy=self.rules.sla)
        for timer in changed:
            self.store_timer(timer)
        if outcome is not None:
            self.timer_outcome(outcome)

    def claimed(self, lead_id: str, rep_id: str, at: datetime) -> None:
        """A rep claims a pooled lead, within the daily limit."""
        record = self.leads[lead_id]
        day = self.rules.local_day(at).isoformat()
        check = check_claim(
            rep=self.roster.reps.get(rep_id),
            in_pool=record.assignee is None and not record.closed,
            load=self.loads.get(rep_id, 0),
            claims_today=self.claims.get((rep_id, day), 0),
            policy=self.rules.pool,
        )
        if not check.ok:
            record.history.append(
                {"at": to_rfc3339(at), "event": "claim_refused", "rep": rep_id, "reason": check.reason}
            )
            return
        self.claims[(rep_id, day)] = self.claims.get((rep_id, day), 0) + 1
        rep = self.roster.reps[rep_id]
        self.assign(record, rep_id, team=rep.team, rule="pool_claim", at=at, event="claimed", escalated=False)

    def closed(self, lead_id: str, at: datetime) -> None:
        """The lead is won or lost: it no longer counts against capacity."""
        record = self.leads[lead_id]
        record.history.append({"at": to_rfc3339(at), "event": "closed"})
        self.release(record)
        record.closed = True

    # --- placement ---------------------------------------------------------------------

    def route(self, record: LeadRecord, at: datetime, *, trigger: str) -> None:
        """Run the engine and place the lead."""
        decision = decide(
            record.lead,
            rules=self.rules,
            roster=self.roster,
            state=RoutingState(loads=self.loads, cursors=self.cursors),
            now=at,
            ip_locator=self.ip_locator,
        )
        self.decisions.append(decision)
        if decision.cursor is not None:
            self.cursors[decision.cursor[0]] = decision.cursor[1]
        record.imputed = {
            name: {"value": i.value, "confidence": i.confidence, "source": i.source}
            for name, i in decision.imputed.items()
        }
        record.rule = decision.rule
        if decision.assignee is not None:
            self.assign(
                record,
                decision.assignee,
                team=decision.team,
                rule=decision.rule,
                at=at,
                event="assigned",
                escalated=decision.step is Step.TEAM_LEAD,
                step=decision.step.value,
                trigger=trigger,
            )
        else:
            self.to_pool(record, decision.pool_reason, at, trigger=trigger, reasons=list(decision.reasons))
        self.alarms += self.watch.observe(decision)[0]

    def assign(
        self,
        record: LeadRecord,
        rep_id: str,
        *,
        team: str,
        rule: str,
        at: datetime,
        event: str,
        escalated: bool,
        step: str = "",
        trigger: str = "",
    ) -> None:
        """Give the lead to ``rep_id``, checking the invariants, and start its SLA timers."""
        rep = self.roster.reps.get(rep_id)
        load = self.loads.get(rep_id, 0)
        if rep is None or not rep.active:
            self.violations.append(f"{record.lead.lead_id}: assigned to inactive rep {rep_id} at {to_rfc3339(at)}")
        elif load >= rep.capacity:
            self.violations.append(f"{record.lead.lead_id}: {rep_id} over capacity ({load}/{rep.capacity})")
        self.release(record)
        self.loads[rep_id] = load + 1
        record.assignee, record.team, record.rule, record.pool_reason = rep_id, team, rule, ""
        record.assignment_no += 1
        record.escalated = escalated
        entry: dict[str, Any] = {"at": to_rfc3339(at), "event": event, "assignee": rep_id, "team": team, "rule": rule}
        if step:
            entry["step"] = step
        if trigger and trigger != "lead.created":
            entry["trigger"] = trigger
        record.history.append(entry)
        if record.lead.customer_id:
            self.owners[record.lead.customer_id] = (rep_id, record.lead.lead_id)
        timers = sla.schedule(
            lead_id=record.lead.lead_id,
            assignee_id=rep_id,
            assignment_no=record.assignment_no,
            assigned_at=at,
            policy=self.rules.sla,
            escalated=escalated,
        )
        record.timer_ids = [t.timer_id for t in timers]
        for timer in timers:
            self.store_timer(timer)

    def to_pool(self, record: LeadRecord, reason: str, at: datetime, *, trigger: str, reasons: list[str]) -> None:
        """Put the lead in the pool with a reason."""
        if not reason:
            self.violations.append(f"{record.lead.lead_id}: pooled without a reason at {to_rfc3339(at)}")
        self.release(record)
        record.pool_reason = reason
        entry: dict[str, Any] = {"at": to_rfc3339(at), "event": "pooled", "reason": reason}
        if reasons and reasons != [reason]:
            entry["reasons"] = reasons
        if trigger != "lead.created":
            entry["trigger"] = trigger
        record.history.append(entry)

    def release(self, record: LeadRecord) -> None:
        """Take the lead off its rep: free capacity, cancel timers, drop ownership."""
        if record.assignee is not None and not record.closed:
            self.loads[record.assignee] = max(0, self.loads.get(record.assignee, 0) - 1)
            owner = self.owners.get(record.lead.customer_id)
            if owner == (record.assignee, record.lead.lead_id):
                del self.owners[record.lead.customer_id]
        for timer in sla.cancel_all(self.timers[t] for t in record.timer_ids):
            self.timers[timer.timer_id] = timer
        record.timer_ids = []
        record.assignee = None

    def store_timer(self, timer: sla.Timer) -> None:
        """Keep a timer and queue it by due time."""
        self.timers[timer.timer_id] = timer
        if timer.pending:
            heapq.heappush(self._heap, (timer.due_at, timer.timer_id))

    def timer_outcome(self, outcome: sla.TimerOutcome) -> None:
        """Carry out what a fired timer or a failed contact asks for."""
        record = self.leads[outcome.lead_id]
        at = outcome.at
        if outcome.action is sla.TimerAction.WARN:
            record.history.append(
                {"at": to_rfc3339(at), "event": "sla_warned", "sla": outcome.sla, "rep": outcome.assignee_id}
            )
            return
        if outcome.sla != "contact_failed":
            breach = {"at": to_rfc3339(at), "event": "sla_breached", "sla": outcome.sla, "rep": outcome.assignee_id}
            record.history.append(breach)
        if outcome.action is sla.TimerAction.REASSIGN_TEAM_LEAD:
            current = record.assignee or ""
            self.release(record)
            decision = escalate(
                lead_id=record.lead.lead_id,
                current=current,
                team=record.team,
                roster=self.roster,
                state=RoutingState(loads=self.loads),
                now=at,
            )
            if decision.assignee is not None:
                self.assign(
                    record,
                    decision.assignee,
                    team=decision.team,
                    rule=record.rule,
                    at=at,
                    event="reassigned",
                    escalated=True,
                    step=Step.TEAM_LEAD.value,
                    trigger=outcome.sla,
                )
                return
            self.to_pool(record, decision.pool_reason, at, trigger=outcome.sla, reasons=[])
            return
        self.to_pool(record, outcome.reason, at, trigger=outcome.sla, reasons=[])
        if outcome.reactivate:
            record.history.append({"at": to_rfc3339(at), "event": "reactivation_requested"})

    # --- watching ----------------------------------------------------------------------

    def check_final(self) -> None:
        """End-of-replay invariants: no lead held by a deactivated rep; loads match open leads."""
        counted: dict[str, int] = {}
        for record in self.leads.values():
            if record.assignee is None:
                if not record.pool_reason and not record.closed:
                    self.violations.append(f"{record.lead.lead_id}: in the pool without a reason")
                continue
            if record.closed:
                continue
            counted[record.assignee] = counted.get(record.assignee, 0) + 1
            rep = self.roster.reps.get(record.assignee)
            if rep is None or rep.status == "deactivated":
                self.violations.append(f"{record.lead.lead_id}: held by deactivated rep {record.assignee}")
        for rep_id, load in self.loads.items():
            if load != counted.get(rep_id, 0):
                self.violations.append(f"{rep_id}: load {load} but {counted.get(rep_id, 0)} open leads")


def replay(
    events: Iterable[ReplayEvent],
    *,
    rules: RuleSet,
    roster: Roster,
    until: datetime | None = None,
    ip_locator: IpLocator | None = None,
) -> ReplayResult:
    """Replay ``events`` (sorted by time) through the engine up to ``until`` in event time."""
    return Replayer(rules=rules, roster=roster, ip_locator=ip_locator).run(events, until=until)
