"""lead-router's service layer on SQLite: placement, durable timers that fire once, offboarding, claims, REST."""

from __future__ import annotations

from datetime import timedelta

import pytest
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crm.events.notify.v1.notify_pb2 import NotificationRequested
from crmkit.db import Database
from crmkit.timeutil import utcnow
from fastapi.testclient import TestClient
from lead_router import roster_admin, service, timers
from lead_router.api import create_app
from lead_router.domain.alarms import Alarm
from lead_router.domain.rules_yaml import parse_rules
from lead_router.domain.sla import Activity
from lead_router.models import Lead, RepLoad, SlaTimerRow
from lead_router.runtime import Runtime
from lead_router.writer import Writer
from notify.domain.templates import render
from sqlalchemy import select
from sqlmodel import col

RULES = """
version: test
pool: {daily_claim_limit: 1}
teams: {east: {lead: e-lead}}
reps:
  - {id: e-1, team: east}
  - {id: e-2, team: east}
  - {id: e-lead, team: east}
rules:
  - name: shanghai
    match: {region: [上海]}
    target: {team: east}
"""


@pytest.fixture
def runtime() -> Runtime:
    """The test rules and roster."""
    return Runtime.of(parse_rules(RULES))


def route(router_db: Database, runtime: Runtime, lead_id: str, region: str = "310000", customer: str = "") -> list[str]:
    """Route one lead in its own transaction; returns the event types emitted."""
    with Writer(db=router_db).transaction() as (session, outbox):
        message = LeadCreated(lead_id=lead_id, customer_id=customer or f"c-{lead_id}", region_code=region)
        service.route_lead(
            session=session, outbox=outbox, config=runtime, lead=message, correlation_id=lead_id, channel="console"
        )
        return [row.type for row in outbox.rows]


def outbox_types(router_db: Database) -> list[str]:
    """Every event type in the outbox, in order."""
    with router_db.engine.connect() as conn:
        return [
            str(t)
            for t in conn.execute(
                select(router_db.tables.outbox.c.type).order_by(router_db.tables.outbox.c.seq)
            ).scalars()
        ]


def loads(router_db: Database) -> dict[str, int]:
    """Open leads per rep."""
    with router_db.session() as session:
        return {r.rep_id: r.open_leads for r in session.exec(select(RepLoad)).scalars()}


def test_a_routed_lead_is_stored_with_load_timers_and_events(router_db: Database, runtime: Runtime) -> None:
    assert route(router_db, runtime, "L1") == ["crm.lead.assigned", "crm.notify.requested"]
    assert route(router_db, runtime, "L1") == []  # redelivery
    assert route(router_db, runtime, "L2", region="440000") == ["crm.lead.returned_to_pool"]
    with router_db.session() as session:
        assert service.stats(session=session) == {"assigned": 1, "pooled": 1}
        kinds = sorted(t.kind for t in session.exec(select(SlaTimerRow)).scalars())
        trace = service.lead_trace(session=session, lead_id="L2")
    assert kinds == ["idle_3d", "no_contact_24h", "not_viewed_2h"]
    assert loads(router_db) == {"e-1": 1}
    assert trace is not None and trace["reason_code"] == "no_rule_matched"


def test_the_customer_s_existing_owner_gets_their_next_lead(router_db: Database, runtime: Runtime) -> None:
    route(router_db, runtime, "L1", customer="c-1")
    route(router_db, runtime, "L2", customer="c-2")
    route(router_db, runtime, "L3", region="440000", customer="c-1")
    with router_db.session() as session:
        third = session.get(Lead, "L3")
    assert third is not None and (third.assignee_id, third.rule) == ("e-1", "existing_owner")


def fire(router_db: Database, runtime: Runtime, after: timedelta) -> int:
    """Fire timers due ``after`` from now, in one committed transaction."""
    with Writer(db=router_db).transaction() as (session, outbox):
        return timers.fire_due(session=session, outbox=outbox, runtime=runtime, now=utcnow() + after, channel="console")


def test_a_timer_fires_once_across_restarts_and_a_crash_before_commit_loses_nothing(
    router_db: Database, runtime: Runtime
) -> None:
    route(router_db, runtime, "L1")
    two_hours = timedelta(hours=2, seconds=5)
    with pytest.raises(RuntimeError), Writer(db=router_db).transaction() as (session, outbox):  # crash mid-transaction
        assert (
            timers.fire_due(session=session, outbox=outbox, runtime=runtime, now=utcnow() + two_hours, channel="x") == 1
        )
        raise RuntimeError("killed")
    assert outbox_types(router_db).count("crm.lead.sla_breached") == 0
    restarted = Runtime.of(parse_rules(RULES))
    assert fire(router_db, restarted, two_hours) == 1
    assert fire(router_db, Runtime.of(parse_rules(RULES)), two_hours) == 0
    assert outbox_types(router_db).count("crm.lead.sla_breached") == 1
    assert fire(router_db, restarted, timedelta(hours=24, seconds=5)) == 1  # no first contact → the team lead
    with router_db.session() as session:
        lead = session.get(Lead, "L1")
        pending = session.exec(select(SlaTimerRow).where(col(SlaTimerRow.fired_at).is_(None))).scalars().all()
    assert lead is not None and lead.assignee_id == "e-lead"
    assert loads(router_db) == {"e-1": 0, "e-lead": 1}
    assert {(t.assignee_id, t.cancelled) for t in pending} == {("e-1", True), ("e-lead", False)}


def test_activity_cancels_timers_and_a_failed_contact_pools(router_db: Database, runtime: Runtime) -> None:
    route(router_db, runtime, "L1")
    with Writer(db=router_db).transaction() as (session, outbox):
        result = timers.record_activity(
            session=session, outbox=outbox, runtime=runtime, lead_id="L1", activity=Activity.CONTACTED, at=utcnow()
        )
    assert result == "recorded"
    assert fire(router_db, runtime, timedelta(hours=25)) == 0
    with Writer(db=router_db).transaction() as (session, outbox):
        result = timers.record_activity(
            session=session, outbox=outbox, runtime=runtime, lead_id="L1", activity=Activity.CONTACT_FAILED, at=utcnow()
        )
    assert result == "returned to pool: contact_failed"
    assert outbox_types(router_db)[-1] == "crm.lead.returned_to_pool" and loads(router_db) == {"e-1": 0}


def test_deactivating_a_rep_reroutes_their_open_leads_and_claims_respect_the_daily_limit(
    router_db: Database, runtime: Runtime
) -> None:
    for n in range(3):
        route(router_db, runtime, f"L{n}")
    route(router_db, runtime, "P1", region="440000")
    route(router_db, runtime, "P2", region="440000")
    with Writer(db=router_db).transaction() as (session, outbox):
        rep, moved = roster_admin.update_rep(
            session=session,
            outbox=outbox,
            runtime=runtime,
            data={"id": "e-1", "status": "deactivated"},
            now=utcnow(),
            channel="c",
        )
    assert (rep.status, moved) == ("deactivated", 2)
    assert loads(router_db) == {"e-1": 0, "e-2": 3}
    with Writer(db=router_db).transaction() as (session, outbox):
        first = roster_admin.claim(
            session=session, outbox=outbox, runtime=runtime, lead_id="P1", rep_id="e-2", now=utcnow(), channel="c"
        )
        second = roster_admin.claim(
            session=session, outbox=outbox, runtime=runtime, lead_id="P2", rep_id="e-2", now=utcnow(), channel="c"
        )
        refused = roster_admin.claim(
            session=session, outbox=outbox, runtime=runtime, lead_id="P2", rep_id="e-1", now=utcnow(), channel="c"
        )
    assert (first, second, refused) == ("", "daily_limit_reached", "rep_deactivated")
    assert loads(router_db)["e-2"] == 4


def test_rest_simulate_has_no_side_effects_and_rules_are_validated(router_db: Database, runtime: Runtime) -> None:
    client = TestClient(create_app(db=router_db, runtime=runtime, channel="console"))
    answer = client.post("/routing/simulate", json={"lead_id": "S1", "region": "shanghai"})
    assert answer.status_code == 200 and answer.json()["assignee"] == "e-1"
    assert answer.json()["trace"]["normalised"] == [{"field": "region", "raw": "shanghai", "value": "310000"}]
    assert client.get("/leads/S1/trace").status_code == 404 and loads(router_db) == {}
    bad = client.put(
        "/routing/rules",
        content="rules:\n  - name: x\n    target: {team: nope}\n",
        headers={"content-type": "application/yaml"},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"] == ["request:3: rule 'x': unknown team 'nope' (roster teams: east)"]
    assert client.put("/leads/x", json={}).status_code in (404, 405)
    deactivate = client.put("/roster/reps/e-2", json={"status": "on_leave"})
    assert deactivate.json() == {"rep": "e-2", "status": "on_leave", "team": "east", "leads_rerouted": 0}


def test_one_transaction_sees_its_own_assignments_loads_and_owners(router_db: Database, runtime: Runtime) -> None:
    with Writer(db=router_db).transaction() as (session, outbox):
        decisions = [
            service.route_lead(
                session=session,
                outbox=outbox,
                config=runtime,
                lead=LeadCreated(lead_id=lead_id, customer_id=customer, region_code=region),
                correlation_id=lead_id,
                channel="console",
            )
            for lead_id, customer, region in [
                ("A", "c1", "310000"),
                ("B", "c2", "310000"),
                ("A", "c1", "310000"),
                ("C", "c1", "440000"),
                ("D", "c3", "310000"),
            ]
        ]
    assignees = [d.assignee if d else "dup" for d in decisions]
    assert assignees == ["e-1", "e-2", "dup", "e-1", "e-1"]
    assert loads(router_db) == {"e-1": 3, "e-2": 1}


def test_lead_created_fields_11_to_14_route_by_source_and_impute_the_region_from_the_phone(router_db: Database) -> None:
    runtime = Runtime.of(
        parse_rules(
            RULES
            + """
  - name: wecom-leads
    match: {source: [wecom]}
    target: {team: east}
"""
        )
    )
    leads = {
        "P": LeadCreated(lead_id="P", customer_id="c-p", phone="+8613901710000"),  # a Shanghai mobile prefix
        "S": LeadCreated(lead_id="S", customer_id="c-s", source="wecom"),
        "O": LeadCreated(lead_id="O", customer_id="c-o"),  # as a producer before fields 11-14 sends it
    }
    with Writer(db=router_db).transaction() as (session, outbox):
        decisions = service.route_new_leads(
            session=session,
            outbox=outbox,
            config=runtime,
            leads=[service.NewLead(lead, lead.lead_id) for lead in leads.values()],
            channel="console",
        )
    by_lead = {d.lead_id: d for d in decisions}
    assert (by_lead["P"].rule, by_lead["P"].imputed["region"].value) == ("shanghai", "310000")
    assert by_lead["S"].rule == "wecom-leads"
    assert (by_lead["O"].assignee, by_lead["O"].pool_reason) == (None, "no_rule_matched")
    with router_db.session() as session:
        stored = session.get(Lead, "P")
        assert stored is not None
        assert "13901710000" not in str(stored.trace)  # the trace names the place, never the number
    old_bytes = LeadCreated(lead_id="X", customer_id="c-x", region_code="310000").SerializeToString()
    assert LeadCreated.FromString(old_bytes).phone == ""  # fields 11-14 are optional on the wire


def test_a_raised_alarm_is_an_event_notify_can_push(
    router_db: Database, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    alarm = Alarm(kind="pool_share", at=utcnow(), value=0.4, threshold=0.15, detail="pool share 40% > 15%")
    monkeypatch.setattr(runtime, "watch", lambda _decision: [alarm])
    assert route(router_db, runtime, "L9", region="999999") == ["crm.lead.returned_to_pool", "crm.notify.requested"]
    with router_db.engine.connect() as conn:
        payload = conn.execute(
            select(router_db.tables.outbox.c.payload).order_by(router_db.tables.outbox.c.seq.desc())
        ).scalar()
    request = NotificationRequested.FromString(payload)
    assert (request.template, request.recipient, request.params["alarm"]) == (
        "routing_alarm",
        "routing-ops",
        "pool_share",
    )
    assert "pool share 40%" in render(request.template, request.params)
