"""The ledger, outbox and applier on PostgreSQL (production's database), when CRM_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import PROTOBUF, decode, encode_data, encode_headers
from crmkit.db import Database
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
