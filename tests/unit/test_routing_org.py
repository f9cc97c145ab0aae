"""lead-router keeps its roster from the org directory topic (crm.org.v1), as PUT /roster/reps does."""

from __future__ import annotations

import pytest
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crm.events.org.v1.org_pb2 import RepUpdated
from crmkit.cloudevents import CloudEvent
from crmkit.db import Database
from crmkit.errors import PoisonMessage
from crmkit.handlers import HandlerContext
from crmkit.timeutil import utcnow
from lead_router import service
from lead_router.consumers import org_subscription
from lead_router.domain.rules_yaml import parse_rules
from lead_router.models import Lead
from lead_router.runtime import Runtime
from lead_router.writer import Writer

RULES = """
version: test
teams: {east: {lead: e-lead}}
reps:
  - {id: e-1, team: east}
  - {id: e-lead, team: east}
rules:
  - name: shanghai
    match: {region: [上海]}
    target: {reps: [e-1]}
"""


def directory(router_db: Database, runtime: Runtime, update: RepUpdated) -> None:
    """One crm.org.rep_updated through the org subscription's handler, in one transaction."""
    handler = org_subscription(config=runtime, channel="console").handlers["crm.org.rep_updated"]
    event = CloudEvent(id="e", source="/hr", type="crm.org.rep_updated", time=utcnow(), data=update)
    with Writer(db=router_db).transaction() as (session, outbox):
        context = HandlerContext(connection=session.connection(), outbox=outbox)
        handler(context, event)
        context.flush()
        context.close()


def assignee(router_db: Database, lead_id: str) -> str:
    """Who holds a lead now."""
    with router_db.session() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return str(lead.assignee_id)


def test_a_rep_deactivated_in_the_directory_hands_their_leads_on_at_once(router_db: Database) -> None:
    runtime = Runtime.of(parse_rules(RULES))
    with Writer(db=router_db).transaction() as (session, outbox):
        lead = LeadCreated(lead_id="L1", customer_id="cus_1", region_code="310000")
        service.route_lead(session=session, outbox=outbox, config=runtime, lead=lead, correlation_id="L1", channel="x")
    assert assignee(router_db, "L1") == "e-1"
    for _ in range(2):  # a redelivered update finds nothing left to move
        directory(router_db, runtime, RepUpdated(rep_id="e-1", status="deactivated", directory="hr"))
    assert runtime.roster.reps["e-1"].status == "deactivated"
    assert assignee(router_db, "L1") == "e-lead"


def test_a_new_rep_from_the_directory_joins_the_roster(router_db: Database) -> None:
    runtime = Runtime.of(parse_rules(RULES))
    directory(router_db, runtime, RepUpdated(rep_id="e-9", team="east", status="active", name="林芳", capacity=40))
    assert runtime.roster.reps["e-9"].capacity == 40


def test_an_invalid_rep_is_a_poison_message_and_leaves_the_roster_alone(router_db: Database) -> None:
    runtime = Runtime.of(parse_rules(RULES))
    before = runtime.roster
    with pytest.raises(PoisonMessage, match="e-1"):
        directory(router_db, runtime, RepUpdated(rep_id="e-1", status="retired"))
    assert runtime.roster is before
