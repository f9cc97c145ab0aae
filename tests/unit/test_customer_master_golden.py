"""customer-master's golden record: survivorship, provenance, accounts, suggestions, merge/unmerge, REST."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crm.events.common.v1.identity_pb2 import Identity
from crm.events.customer.v1.customer_pb2 import CustomerResolved
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted, OrderPaid
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import PROTOBUF, CloudEvent
from crmkit.db import Database
from crmkit.outbox import Outbox, OutboxRow
from customer_master import merging, service
from customer_master.api import create_app
from customer_master.consumers import subscription
from customer_master.domain.resolution import CustomerRecord, Outcome
from customer_master.domain.survivorship import Candidate, better, survive, trust_of
from customer_master.models import Base
from customer_master.settings import Settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

REGISTRY = load_registry()
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TABLES = Base.metadata.tables
FORMS = "crm.touchpoint.form.v1"


def at(minutes: int) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


# --- survivorship (pure) -----------------------------------------------------------------


def test_trusted_source_beats_a_more_recent_one() -> None:
    order = Candidate("a@x.cn", "e1", "crm.order.paid", at(0))
    form = Candidate("b@x.cn", "e2", "crm.form.lead_submitted", at(10))
    assert survive([form, order]) == (order, "trusted")
    assert better(order, form) is None


def test_recent_then_complete_between_equal_trust() -> None:
    old = Candidate("张伟", "e1", "crm.form.lead_submitted", at(0))
    new = Candidate("张伟", "e2", "crm.form.lead_submitted", at(5))
    assert survive([old, new]) == (new, "recent")
    short = Candidate("上海", "e3", "crm.form.lead_submitted", at(5))
    longer = Candidate("上海市徐汇", "e4", "crm.form.lead_submitted", at(5))
    assert survive([short, longer]) == (longer, "complete")
    assert survive([Candidate("", "e5", "crm.order.paid", at(0))]) is None
    assert trust_of("crm.order.paid") > trust_of("crm.wecom.contact_added") > trust_of("crm.form.x") > trust_of("x")


CANDIDATES = st.lists(
    st.builds(
        Candidate,
        value=st.text(alphabet="abc张", max_size=3),
        record_id=st.text(alphabet="0123456789", min_size=1, max_size=3),
        event_type=st.sampled_from(["crm.order.paid", "crm.wecom.contact_added", "crm.form.lead_submitted", "?"]),
        observed_at=st.integers(0, 5).map(at),
    ),
    max_size=8,
)


@given(CANDIDATES)
def test_golden_value_is_always_a_source_value_and_folding_agrees(candidates: list[Candidate]) -> None:
    winner = survive(candidates)
    values = [c.value for c in candidates if c.value]
    if winner is None:
        assert not values
        return
    assert winner[0].value in values
    folded: Candidate | None = None
    for candidate in candidates:
        if candidate.value and (won := better(folded, candidate)) is not None:
            folded = won[0]
    assert folded is not None and folded.rank() == winner[0].rank()


# --- the streaming path --------------------------------------------------------------------


def form(event_id: str, minutes: int, **fields: Any) -> service.Touchpoint:
    """A form touchpoint."""
    unionid = fields.pop("unionid", "")
    body = LeadFormSubmitted(identity=Identity(unionid=unionid), **fields)
    return service.Touchpoint(event_id, event_id, "crm.form.lead_submitted", "/forms", at(minutes), body)


def order(event_id: str, minutes: int, *, phone: str = "", email: str = "") -> service.Touchpoint:
    """A paid-order touchpoint."""
    body = OrderPaid(identity=Identity(phone=phone, email=email))
    return service.Touchpoint(event_id, event_id, "crm.order.paid", "/orders", at(minutes), body)


def feed(db: Database, *touchpoints: service.Touchpoint) -> tuple[list[Outcome], list[OutboxRow]]:
    """Resolve one batch in one transaction; returns the outcomes and outbox rows."""
    outbox = Outbox(registry=REGISTRY, source="/customer-master", content_type="application/protobuf")
    with db.session() as session:
        session.begin()
        outcomes = service.resolve_touchpoints(connection=session.connection(), outbox=outbox, touchpoints=touchpoints)
        outbox.write(session, db.tables.outbox)
        session.commit()
    return outcomes, outbox.rows


def new_db(folder: Path) -> Database:
    """A fresh customer-master database on a SQLite file."""
    database = Database(f"sqlite:///{folder / 'customers.db'}", Base.metadata)
    database.create_all()
    return database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh customer-master database."""
    database = new_db(tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    """The REST API on ``db``."""
    app = create_app(settings=Settings(search_url=f"sqlite:///{tmp_path / 'search.db'}"), db=db)
    with TestClient(app) as test_client:
        yield test_client


def record(db: Database, customer_id: str) -> CustomerRecord:
    """One customer as stored."""
    with db.engine.connect() as connection:
        return merging.load_records(connection, [customer_id])[customer_id]


def test_provenance_names_the_winning_record_and_rule(db: Database, client: TestClient) -> None:
    (first,), _ = feed(db, form("f1", 10, name="张伟", phone="13812345678", email="zw@a.cn", region="上海"))
    feed(db, order("o1", 0, phone="13812345678", email="pay@b.cn"))  # older, but an order is trusted
    feed(db, form("f2", 20, name="张伟伟", phone="13812345678", email="zw2@a.cn"))
    body = client.get(f"/customers/{first.customer.id}").json()
    assert body["email"] == "pay@b.cn" and body["provenance"]["email"]["record_id"] == "o1"
    assert body["provenance"]["email"]["rule"] == "trusted"
    assert body["name"] == "张伟伟" and body["provenance"]["name"] == {
        "record_id": "f2",
        "type": "crm.form.lead_submitted",
        "source": "/forms",
        "observed_at": at(20).isoformat(),
        "rule": "recent",
    }
    assert body["provenance"]["region_code"]["rule"] == "only"
    assert [r["id"] for r in body["source_records"]] == ["o1", "f1", "f2"]
    assert body["source_records"][0]["fields"] == {"phone_e164": "+8613812345678", "email": "pay@b.cn"}


def test_the_consumer_knows_a_redelivered_touchpoint_by_its_source_record(db: Database) -> None:
    touch = form("f1", 10, name="张伟", phone="13812345678")
    applier = EventApplier(
        db=db, registry=REGISTRY, subscription=subscription(), source="/customer-master", content_type=PROTOBUF
    )
    event = CloudEvent(
        id="f1", source="/forms", type=touch.event_type, time=touch.occurred_at, data=touch.body, topic=FORMS
    )
    first, again = applier.apply([event]), applier.apply([event, event])
    assert (first.applied.total(), again.applied.total(), again.duplicates.total()) == (1, 0, 2)
    with db.engine.connect() as connection:
        assert connection.execute(select(TABLES["source_records"].c.id)).scalars().all() == ["f1"]
        assert connection.execute(select(func.count()).select_from(db.tables.ledger)).scalar_one() == 0


def test_a_replayed_touchpoint_is_applied_once(db: Database) -> None:
    touch = form("f1", 10, name="张伟", phone="13812345678")
    (first,), _ = feed(db, touch)
    feed(db, form("f2", 20, name="张大伟", phone="13812345678"))
    (again,), rows = feed(db, touch)  # redelivered after the ledger forgot it
    assert again.customer.id == first.customer.id and again.changed == ()
    assert "crm.customer.updated" not in [row.type for row in rows]
    stored = record(db, first.customer.id)
    assert stored.name == "张大伟" and stored.version == 2
    with db.engine.connect() as connection:
        sources = connection.execute(select(TABLES["source_records"].c.id)).scalars().all()
    assert sorted(sources) == ["f1", "f2"]


def test_customers_of_one_company_and_region_share_an_account(db: Database, client: TestClient) -> None:
    outcomes, rows = feed(
        db,
        form("f1", 0, name="张伟", phone="13812345671", company="上海第六人民医院"),
        form("f2", 1, name="李娜", phone="13812345672", company="第六人民医院（上海）"),
        form("f3", 2, name="王芳", phone="13812345673", company="华为技术有限公司(深圳)"),
        form("f4", 3, name="赵磊", phone="13812345674", company="华为技术有限公司(北京)"),
        form("f5", 4, name="孙丽", phone="13812345675"),
    )
    accounts = [o.customer.account_id for o in outcomes]
    assert accounts[0] == accounts[1] and accounts[0].startswith("acc_")
    assert len({accounts[0], accounts[2], accounts[3]}) == 3 and accounts[4] == ""
    resolved = [CustomerResolved.FromString(r.payload) for r in rows if r.type == "crm.customer.resolved"]
    assert [r.account_id for r in resolved] == accounts
    body = client.get(f"/accounts/{accounts[0]}").json()
    assert body["region_code"] == "310000" and len(body["customer_ids"]) == 2
    assert client.get("/accounts/acc_missing").status_code == 404
    assert client.post("/account-merges/amg_missing/unmerge", json={"reason": "t"}).status_code == 404


# --- duplicates, merge and unmerge ----------------------------------------------------------


def add_legacy(db: Database, customer_id: str, **fields: Any) -> None:
    """A customer imported before streaming (no identity keys), then checked for duplicates."""
    legacy = CustomerRecord(id=customer_id, created_at=at(-60), updated_at=at(-60), **fields)
    outbox = Outbox(registry=REGISTRY, source="/customer-master", content_type="application/protobuf")
    with db.engine.begin() as connection:
        connection.execute(insert(TABLES["customers"]), [legacy.as_row()])
        merging.find_duplicates(connection=connection, outbox=outbox, customers=[legacy], now=at(-60))


def state(db: Database) -> dict[str, Any]:
    """Everything a merge touches, by customer, versions aside."""
    with db.engine.connect() as connection:
        customers = {
            row["id"]: {k: v for k, v in row.items() if k != "version"}
            for row in connection.execute(select(TABLES["customers"])).mappings()
        }
        keys = sorted(connection.execute(select(*TABLES["identity_keys"].c)).all())
        sources = sorted(
            connection.execute(select(TABLES["source_records"].c.id, TABLES["source_records"].c.customer_id)).all()
        )
        blocks = sorted(connection.execute(select(TABLES["block_keys"])).all())
    return {"customers": customers, "keys": keys, "sources": sources, "blocks": blocks}


def test_review_band_opens_a_suggestion_and_a_strong_pair_merges(db: Database, client: TestClient) -> None:
    (a,), _ = feed(db, form("f1", 0, name="张伟", email="zw@corp.cn", company="上海第六人民医院"))
    add_legacy(db, "cus_legacy_review", email="zw@corp.cn")  # one e-mail alone: review
    open_ = client.get("/merge-suggestions", params={"status": "open"}).json()["suggestions"]
    assert [(s["customer_id"], s["candidate_id"]) for s in open_] == [("cus_legacy_review", a.customer.id)]
    assert 0.92 <= open_[0]["confidence"] < 0.99 and open_[0]["evidence"][0]["rule"] == "email_equal"
    add_legacy(db, "cus_legacy_merge", name="张伟", email="zw@corp.cn")  # e-mail + name: merge, older id survives
    body = client.get(f"/customers/{a.customer.id}").json()
    assert body == {"id": a.customer.id, "merged_into": "cus_legacy_merge", "location": "/customers/cus_legacy_merge"}
    survivor = client.get("/customers/cus_legacy_merge").json()
    assert survivor["company"] == "上海第六人民医院" and [r["id"] for r in survivor["source_records"]] == ["f1"]
    assert client.get("/merge-suggestions", params={"status": "bogus"}).status_code == 422
    still_open = client.get("/merge-suggestions").json()["suggestions"]
    assert [(s["customer_id"], s["candidate_id"]) for s in still_open] == [("cus_legacy_merge", "cus_legacy_review")]
    (moot,) = client.get("/merge-suggestions", params={"status": "superseded"}).json()["suggestions"]
    assert moot["id"] == open_[0]["id"] and moot["note"] == f"{a.customer.id} merged into cus_legacy_merge"


def test_a_rejected_pair_is_never_merged_automatically(db: Database, client: TestClient) -> None:
    (a,), _ = feed(db, form("f1", 0, name="张伟", email="zw@corp.cn", company="上海第六人民医院"))
    add_legacy(db, "cus_legacy", email="zw@corp.cn")
    (suggestion,) = client.get("/merge-suggestions").json()["suggestions"]
    url = f"/merge-suggestions/{suggestion['id']}/reject"
    assert client.post(url, json={}).status_code == 422  # a reason is required
    assert client.post(url, json={"reason": "namesakes sharing a team mailbox"}).status_code == 200
    assert client.post(url, json={"reason": "again"}).status_code == 409
    assert client.post("/merge-suggestions/sug_nope/reject", json={"reason": "x"}).status_code == 404
    (rejected,) = client.get("/merge-suggestions", params={"status": "rejected"}).json()["suggestions"]
    assert rejected["note"] == "namesakes sharing a team mailbox" and rejected["decided_at"]
    renamed = CustomerRecord(id="cus_legacy", created_at=at(-60), updated_at=at(1), name="张伟", email="zw@corp.cn")
    outbox = Outbox(registry=REGISTRY, source="/customer-master", content_type="application/protobuf")
    with db.engine.begin() as connection:  # now name + e-mail agree, which alone would auto-merge
        merging.find_duplicates(connection=connection, outbox=outbox, customers=[renamed], now=at(1))
    assert client.get(f"/customers/{a.customer.id}").json().get("merged_into") is None
    assert outbox.rows == []


def test_merge_then_unmerge_restores_both_customers(db: Database, client: TestClient) -> None:
    (a,), _ = feed(db, form("f1", 0, name="张伟", phone="13812345678", company="上海第六人民医院", region="上海"))
    (b,), _ = feed(db, order("o1", 5, phone="13900001111", email="zw@corp.cn"))
    before = state(db)
    response = client.post(
        "/customers/merge", json={"survivor_id": a.customer.id, "absorbed_id": b.customer.id, "reason": "same person"}
    )
    assert response.status_code == 200, response.text
    merge_id = response.json()["merge_id"]
    survivor = client.get(f"/customers/{a.customer.id}").json()
    assert survivor["email"] == "zw@corp.cn" and survivor["phone_e164"] == "+8613900001111"  # the order is trusted
    assert {r["id"] for r in survivor["source_records"]} == {"f1", "o1"}
    assert client.get(f"/customers/{b.customer.id}").json()["merged_into"] == a.customer.id
    again = {"survivor_id": a.customer.id, "absorbed_id": b.customer.id, "reason": "again"}
    assert client.post("/customers/merge", json=again).status_code == 409
    assert client.post("/merges/mrg_nope/unmerge").status_code == 404
    assert client.post(f"/merges/{merge_id}/unmerge", json={"reason": "two people"}).status_code == 200
    assert state(db) == before
    assert client.post(f"/merges/{merge_id}/unmerge").status_code == 409
    with db.engine.connect() as connection:
        types = connection.execute(select(db.tables.outbox.c.type)).scalars().all()
    assert "crm.customer.merged" in types and "crm.customer.unmerged" in types


def test_merge_rejects_bad_input_with_a_reason(client: TestClient) -> None:
    same = client.post("/customers/merge", json={"survivor_id": "cus_a", "absorbed_id": "cus_a", "reason": "x"})
    assert same.status_code == 422 and "cus_a" in same.json()["detail"]
    missing = client.post("/customers/merge", json={"survivor_id": "cus_a", "absorbed_id": "cus_b", "reason": "x"})
    assert missing.status_code == 404 and missing.json()["detail"] == "no customer cus_a"
    assert client.post("/customers/merge", json={"survivor_id": "cus_a"}).status_code == 422
    assert client.get("/customers/cus_nobody").status_code == 404


PROFILES = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["", "张伟", "李娜", "王芳芳"]),
        "company": st.sampled_from(["", "上海第六人民医院", "华为技术有限公司(深圳)"]),
        "region": st.sampled_from(["", "上海", "北京"]),
        "email": st.sampled_from(["", "a@corp.cn", "b@corp.cn"]),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PROFILES, PROFILES, st.integers(-30, 30), st.booleans())
def test_merge_unmerge_round_trip(one: dict[str, str], two: dict[str, str], offset: int, trusted: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = new_db(Path(folder))
        (a,), _ = feed(db, form("f1", 0, phone="13812345678", **one))
        second = order("o1", offset, phone="13900001111") if trusted else form("f2", offset, **two)
        if not trusted:
            second.body.identity.unionid = "u-two"  # type: ignore[attr-defined]
        (b,), _ = feed(db, second)
        if b.customer.id == a.customer.id or record(db, b.customer.id).merged_into:
            db.dispose()
            return  # resolved (or auto-merged) into one customer: nothing to undo here
        before = state(db)
        outbox = Outbox(registry=REGISTRY, source="/customer-master", content_type="application/protobuf")
        with db.engine.begin() as connection:
            merge_id = merging.merge_customers(
                connection=connection,
                outbox=outbox,
                survivor_id=a.customer.id,
                absorbed_id=b.customer.id,
                reason="t",
                now=at(99),
            )
        with db.engine.begin() as connection:
            merging.unmerge(connection=connection, outbox=outbox, merge_id=merge_id, reason="t", now=at(100))
        assert state(db) == before
        db.dispose()


def test_a_test_form_still_opens_its_lead_saying_why_it_is_junk(db: Database) -> None:
    _, rows = feed(db, form("f1", 0, name="测试", phone="13800000000"), form("f2", 1, name="张伟", phone="13812345678"))
    leads = [LeadCreated.FromString(r.payload) for r in rows if r.type == "crm.lead.created"]
    assert [list(lead.junk_reasons) for lead in leads] == [
        ["name is a placeholder value '测试'", "placeholder phone 13800000000"],
        [],
    ]


# --- data quality ---------------------------------------------------------------------------


def test_data_quality_reports_red_lines_and_gauges(db: Database, client: TestClient) -> None:
    feed(
        db, form("f1", 0, name="张伟", phone="13812345678", company="上海第六人民医院", region="上海", industry="医疗")
    )
    feed(db, order("o1", 0, phone="13900001111"))
    feed(db, form("f2", 0, name="测试", phone="13800000000"))  # a test record: counted apart, not in the figures
    body = client.get("/data-quality").json()
    assert body["customers"] == 2 and body["junk_customers"] == 1
    assert body["completeness"]["phone_e164"] == {"value": 1.0, "red_line": 0.95, "passed": True}
    assert body["completeness"]["name"]["value"] == 0.5 and not body["completeness"]["name"]["passed"]
    assert body["duplicate_rate"]["value"] == 0.0 and body["duplicate_rate"]["passed"]
    assert body["fresh_share_72h"]["value"] == 1.0 and body["passed"] is False
    metrics = client.get("/metrics")
    if metrics.status_code == 200:  # the runner mounts /metrics; the bare app may not
        assert "crm_customer_duplicate_rate" in metrics.text


def test_a_customer_created_and_renamed_in_one_batch_resolves_in_that_batch(db: Database) -> None:
    """Regression: the second touchpoint changes a customer the same batch created (no KeyError)."""
    outcomes, _ = feed(
        db,
        form("e-1", 0, phone="13912345678", name="王芳"),
        form("e-2", 1, phone="13912345678", name="王芳芳", company="上海博远科技有限公司"),
    )
    assert outcomes[0].customer.id == outcomes[1].customer.id
    assert outcomes[0].created and not outcomes[1].created
