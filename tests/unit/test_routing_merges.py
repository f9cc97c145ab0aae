"""lead-router follows customer-master's merges: existing-owner routing sees every id merged into a customer."""

from __future__ import annotations

from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerUnmerged
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crmkit.cloudevents import CloudEvent
from crmkit.db import Database
from crmkit.handlers import HandlerContext
from crmkit.timeutil import utcnow
from lead_router import merges, service
from lead_router.consumers import merge_subscription
from lead_router.domain.rules_yaml import parse_rules
from lead_router.models import Lead
from lead_router.runtime import Runtime
from lead_router.writer import Writer

RULES = """
version: test
teams: {east: {lead: e-lead}}
reps:
  - {id: e-1, team: east}
  - {id: e-2, team: east}
  - {id: e-lead, team: east}
rules:
  - name: shanghai
    match: {region: [上海]}
    target: {team: east, strategy: round_robin}
"""


def route(router_db: Database, runtime: Runtime, lead_id: str, customer: str) -> str:
    """Route one lead; returns its assignee."""
    with Writer(db=router_db).transaction() as (session, outbox):
        message = LeadCreated(lead_id=lead_id, customer_id=customer, region_code="310000")
        service.route_lead(
            session=session, outbox=outbox, config=runtime, lead=message, correlation_id=lead_id, channel="console"
        )
    with router_db.session() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return str(lead.assignee_id)


def deliver(router_db: Database, ce_type: str, data: CustomerMerged | CustomerUnmerged) -> None:
    """One crm.customer.v1 event through the merge subscription's handler."""
    handler = merge_subscription().handlers[ce_type]
    with Writer(db=router_db).transaction() as (session, outbox):
        context = HandlerContext(connection=session.connection(), outbox=outbox)
        handler(context, CloudEvent(id="e", source="/t", type=ce_type, time=utcnow(), data=data))
        context.flush()
        context.close()


def survivors(router_db: Database, *ids: str) -> dict[str, str]:
    """The survivor of each id that was merged away."""
    with router_db.engine.connect() as conn:
        return merges.families(conn, ids)


def test_a_lead_of_the_survivor_goes_to_the_absorbed_customers_owner(router_db: Database) -> None:
    runtime = Runtime.of(parse_rules(RULES))
    owner = route(router_db, runtime, "L1", customer="cus_a")
    assert route(router_db, runtime, "L2", customer="cus_b") != owner  # round robin: another rep
    deliver(router_db, "crm.customer.merged", CustomerMerged(survivor_id="cus_c", absorbed_id="cus_a"))
    assert route(router_db, runtime, "L3", customer="cus_c") == owner
    assert service.current_owner(router_db.session(), "cus_c") == owner


def test_chains_follow_the_last_merge_and_an_unmerge_walks_back(router_db: Database) -> None:
    deliver(router_db, "crm.customer.merged", CustomerMerged(survivor_id="cus_b", absorbed_id="cus_a"))
    deliver(router_db, "crm.customer.merged", CustomerMerged(survivor_id="cus_c", absorbed_id="cus_b"))
    assert survivors(router_db, "cus_c") == {"cus_a": "cus_c", "cus_b": "cus_c"}
    deliver(
        router_db, "crm.customer.unmerged", CustomerUnmerged(survivor_id="cus_c", restored_id="cus_b", merge_id="m")
    )
    assert survivors(router_db, "cus_c") == {}
    assert survivors(router_db, "cus_b") == {"cus_a": "cus_b"}


def test_a_redelivered_merge_changes_nothing(router_db: Database) -> None:
    for _ in range(2):
        deliver(router_db, "crm.customer.merged", CustomerMerged(survivor_id="cus_b", absorbed_id="cus_a"))
    assert survivors(router_db, "cus_b") == {"cus_a": "cus_b"}
