"""SLA timers (004 §线索分配后石沉大海): due times, cancellation by activity, escalation, firing once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lead_router.domain import sla
from lead_router.domain.roster import roster_from_mapping
from lead_router.domain.rules_yaml import parse_rules
from lead_router.replay import parse_events, replay

T0 = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
POLICY = sla.SlaPolicy()


def timers() -> list[sla.Timer]:
    """The timers of one fresh assignment."""
    return sla.schedule(lead_id="L1", assignee_id="r1", assignment_no=1, assigned_at=T0, policy=POLICY, escalated=False)


def test_an_assignment_starts_three_timers_with_the_seed_defaults() -> None:
    due = {t.kind: t.due_at - T0 for t in timers()}
    assert due == {
        sla.TimerKind.NOT_VIEWED: timedelta(hours=2),
        sla.TimerKind.NO_CONTACT: timedelta(hours=24),
        sla.TimerKind.IDLE: timedelta(days=3),
    }
    assert {t.timer_id for t in timers()} == {"L1:1:not_viewed_2h", "L1:1:no_contact_24h", "L1:1:idle_3d"}


def test_a_view_cancels_the_warning_and_pushes_idle_a_contact_cancels_the_escalation() -> None:
    changed, outcome = sla.record_activity(timers(), sla.Activity.VIEWED, at=T0 + timedelta(hours=1), policy=POLICY)
    assert outcome is None
    assert {(t.kind, t.cancelled, t.due_at - T0) for t in changed} == {
        (sla.TimerKind.NOT_VIEWED, True, timedelta(hours=2)),
        (sla.TimerKind.IDLE, False, timedelta(days=3, hours=1)),
    }
    changed, _ = sla.record_activity(timers(), sla.Activity.CONTACTED, at=T0 + timedelta(hours=3), policy=POLICY)
    assert {t.kind for t in changed if t.cancelled} == {sla.TimerKind.NOT_VIEWED, sla.TimerKind.NO_CONTACT}


def test_a_failed_first_contact_cancels_everything_and_returns_the_lead_to_the_pool() -> None:
    changed, outcome = sla.record_activity(timers(), sla.Activity.CONTACT_FAILED, at=T0, policy=POLICY)
    assert all(t.cancelled for t in changed) and len(changed) == 3
    assert outcome is not None and (outcome.action, outcome.reason) == (
        sla.TimerAction.RETURN_TO_POOL,
        "contact_failed",
    )


def test_firing_maps_each_timer_to_its_action_and_a_timer_fires_once() -> None:
    by_kind = {t.kind: t for t in timers()}
    actions = {kind: sla.fire(timer, now=timer.due_at)[1] for kind, timer in by_kind.items()}
    assert actions[sla.TimerKind.NOT_VIEWED].action is sla.TimerAction.WARN
    assert actions[sla.TimerKind.NO_CONTACT].action is sla.TimerAction.REASSIGN_TEAM_LEAD
    assert (
        actions[sla.TimerKind.IDLE].action is sla.TimerAction.RETURN_TO_POOL and actions[sla.TimerKind.IDLE].reactivate
    )
    fired, _ = sla.fire(by_kind[sla.TimerKind.NOT_VIEWED], now=T0 + timedelta(hours=2))
    assert not fired.pending and sla.due([fired], T0 + timedelta(days=9)) == []
    with pytest.raises(ValueError, match="already fired"):
        sla.fire(fired, now=T0 + timedelta(hours=3))
    escalated = sla.schedule(
        lead_id="L1", assignee_id="lead", assignment_no=2, assigned_at=T0, policy=POLICY, escalated=True
    )
    no_contact = next(t for t in escalated if t.kind is sla.TimerKind.NO_CONTACT)
    assert sla.fire(no_contact, now=T0)[1].action is sla.TimerAction.RETURN_TO_POOL


RULES = """
sla: {not_viewed: 2h, no_contact: 24h, idle: 3d}
rules:
  - name: hangzhou
    match: {region: [杭州]}
    target: {team: east}
"""
ROSTER = roster_from_mapping(
    {"teams": {"east": {"lead": "e-lead"}}, "reps": [{"id": "e-1", "team": "east"}, {"id": "e-lead", "team": "east"}]}
)


def run(*items: dict[str, Any], until: datetime) -> list[dict[str, Any]]:
    """Replay and return each lead's history."""
    loaded = parse_rules(RULES, roster=ROSTER)
    result = replay(parse_events(json.dumps(i) for i in items), rules=loaded.rules, roster=loaded.roster, until=until)
    assert result.violations == []
    return [r.to_line() for r in result.leads]


def created(at: datetime) -> dict[str, Any]:
    """A Hangzhou lead."""
    return {"type": "lead.created", "at": at.isoformat(), "lead_id": "L1", "customer_id": "C1", "region": "330100"}


def test_004_hangzhou_lead_nobody_contacts_is_warned_escalated_then_pooled_with_reactivation() -> None:
    lines = run(created(T0), until=T0 + timedelta(days=5))
    events = [(h["event"], h.get("sla"), h.get("assignee") or h.get("rep")) for h in lines[0]["history"]]
    assert events == [
        ("assigned", None, "e-1"),
        ("sla_warned", "not_viewed_2h", "e-1"),
        ("sla_breached", "no_contact_24h", "e-1"),
        ("reassigned", None, "e-lead"),
        ("sla_warned", "not_viewed_2h", "e-lead"),
        ("sla_breached", "no_contact_24h", "e-lead"),
        ("pooled", None, None),
    ]
    assert lines[0]["assignee"] is None and lines[0]["pool_reason"] == "sla_expired"


def test_004_timers_fire_in_event_time_only_up_to_until_and_each_once() -> None:
    lines = run(created(T0), until=T0 + timedelta(hours=2))
    assert [h["event"] for h in lines[0]["history"]] == ["assigned", "sla_warned"]
    lines = run(created(T0), until=T0 + timedelta(hours=2) - timedelta(seconds=1))
    assert [h["event"] for h in lines[0]["history"]] == ["assigned"]


def test_004_a_contacted_lead_goes_idle_after_3_days_without_activity() -> None:
    items = [
        created(T0),
        {"type": "lead.viewed", "at": (T0 + timedelta(minutes=30)).isoformat(), "lead_id": "L1"},
        {"type": "lead.contacted", "at": (T0 + timedelta(hours=5)).isoformat(), "lead_id": "L1"},
    ]
    lines = run(*items, until=T0 + timedelta(days=4))
    assert [h["event"] for h in lines[0]["history"]] == [
        "assigned",
        "viewed",
        "contacted",
        "sla_breached",
        "pooled",
        "reactivation_requested",
    ]
    assert lines[0]["history"][3]["sla"] == "idle_3d"
    assert lines[0]["history"][4]["at"] == "2026-02-06T14:00:00Z"


def test_004_contact_failed_returns_the_lead_to_the_pool_at_once() -> None:
    items = [created(T0), {"type": "lead.contact_failed", "at": (T0 + timedelta(hours=1)).isoformat(), "lead_id": "L1"}]
    lines = run(*items, until=T0 + timedelta(days=5))
    assert [h["event"] for h in lines[0]["history"]] == ["assigned", "contact_failed", "pooled"]
    assert lines[0]["pool_reason"] == "contact_failed"
