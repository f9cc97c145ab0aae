"""The ledger, outbox and applier on PostgreSQL (production's database), when CRM_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from crm.events.common.v1.identity_pb2 import Identity
from crm.events.touchpoint.v1.touchpoint_pb2 import CustomerRecordImported, LeadFormSubmitted
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import PROTOBUF, decode, encode_data, encode_headers
from crmkit.db import Database
from crmkit.outbox import Outbox
from crmkit.timeutil import utcnow
from customer_master import account_merging, service
from customer_master.consumers import subscription
from customer_master.models import Base
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

URL = os.environ.get("CRM_TEST_POSTGRES_URL")
pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not URL, reason="CRM_TEST_POSTGRES_URL is not set")]
REGISTRY = load_registry()


@pytest.fixture
def pg_database() -> Iterator[Database]:
    """A fresh PostgreSQL database for customer-master, dropped afterwards."""
    assert URL
    name = f"crm_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(URL).set(database=name).render_as_string(hide_password=False), Base.metadata)
    db.create_all()
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def form_event(event_id: str, phone: str) -> object:
    """A decoded form touchpoint."""
    return decode(
        registry=REGISTRY,
        topic="crm.touchpoint.form.v1",
        value=encode_data(LeadFormSubmitted(name="张伟", phone=phone, region="上海"), PROTOBUF),
        headers=encode_headers(event_id=event_id, source="/pg-test", event_type="crm.form.lead_submitted"),
    )


def test_customer_master_on_postgres_applies_each_event_once(pg_database: Database) -> None:
    applier = EventApplier(
        db=pg_database, registry=REGISTRY, subscription=subscription(), source="/customer-master", content_type=PROTOBUF
    )
    events = [form_event("e1", "13812345678"), form_event("e2", "+86 138 1234 5678"), form_event("e1", "13812345678")]
    result = applier.apply(events)  # type: ignore[arg-type]
    assert (result.applied.total(), result.duplicates.total(), result.error) == (2, 1, None)
    with pg_database.engine.connect() as conn:
        assert conn.execute(text("select count(*) from customers")).scalar_one() == 1  # same mobile → one customer
        assert conn.execute(text("select count(*) from leads")).scalar_one() == 2
        assert conn.execute(text("select count(*) from source_records")).scalar_one() == 2  # its processed-event record
        assert conn.execute(text("select count(*) from processed_events")).scalar_one() == 0
        types = [row[0] for row in conn.execute(text("select type from outbox order by seq"))]
    assert types.count("crm.customer.resolved") == 2 and types.count("crm.lead.created") == 2
    again = applier.apply(events)  # type: ignore[arg-type]
    assert (again.applied.total(), again.duplicates.total()) == (0, 3)


def resolve(db: Database, *touchpoints: service.Touchpoint) -> list[str]:
    """Resolve touchpoints in one transaction; the event types emitted."""
    outbox = Outbox(registry=REGISTRY, source="/customer-master", content_type=PROTOBUF)
    with db.engine.begin() as connection:
        service.resolve_touchpoints(connection=connection, outbox=outbox, touchpoints=touchpoints)
    return [row.type for row in outbox.rows]


def signup(event_id: str, name: str, phone: str, company: str) -> service.Touchpoint:
    """A form touchpoint from someone at a firm in Xi'an."""
    body = LeadFormSubmitted(name=name, phone=phone, company=company, region="西安")
    return service.Touchpoint(event_id, event_id, "crm.form.lead_submitted", "/forms", utcnow(), body)


def live_accounts(db: Database) -> set[str]:
    """The accounts live customers belong to."""
    with db.engine.connect() as conn:
        return {row[0] for row in conn.execute(text("select account_id from customers where merged_into = ''"))}


def test_customer_master_account_votes_merges_codes_and_unmerge_on_postgres(pg_database: Database) -> None:
    resolve(pg_database, signup("m1", "王芳", "13911110001", "明泰电子有限公司"))
    resolve(
        pg_database, signup("m2", "陈静", "13911110002", "明秦电子"), signup("m3", "刘洋", "13911110003", "明秦电子")
    )
    assert len(live_accounts(pg_database)) == 2
    assert "crm.customer.account_merged" in resolve(pg_database, signup("m4", "陈静", "13911110002", "明泰电子"))
    (merged,) = live_accounts(pg_database)
    row = CustomerRecordImported(
        identity=Identity(phone="13911110005"),
        record_id="r1",
        source="sheet",
        name="赵磊",
        company="明泰电子",
        credit_code="91610100MA1FL8XQ3G",
        region="西安",
    )
    resolve(
        pg_database, service.Touchpoint("r1", "r1", "crm.import.customer_record_imported", "/import", utcnow(), row)
    )
    with pg_database.engine.connect() as conn:
        merge_id = conn.execute(text("select id from account_merges")).scalar_one()
        votes = dict(conn.execute(text("select id, account_id from source_records")).all())
    assert votes["r1"] == merged
    with pg_database.engine.begin() as connection:
        outbox = Outbox(registry=REGISTRY, source="/customer-master", content_type=PROTOBUF)
        account_merging.unmerge_accounts(
            connection=connection, outbox=outbox, merge_id=merge_id, reason="t", now=utcnow()
        )
    assert len(live_accounts(pg_database)) == 2
