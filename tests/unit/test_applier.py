"""The applier: one transaction per batch, a batch handler first, per-event isolation on failure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from crm.events.notify.v1.notify_pb2 import NotificationRequested
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import CloudEvent
from crmkit.consumer import next_offsets
from crmkit.db import Database
from crmkit.handlers import BatchHandler, HandlerContext, Subscription
from sqlalchemy import Connection, func
from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel, col, select

TOPIC = "crm.notify.v1"


class ApplierTestBase(SQLModel, registry=orm_registry()):
    """Metadata of the test service."""


class Seen(ApplierTestBase, table=True):
    """One row per applied notification request."""

    __tablename__ = "seen"
    id: str = Field(primary_key=True)


def event(event_id: str, *, fail: bool = False) -> CloudEvent:
    """A notification request; ``fail`` makes the handlers raise for it."""
    data = NotificationRequested(notification_id=event_id, params={"fail": "yes"} if fail else {})
    return CloudEvent(
        id=event_id,
        source="/test",
        type="crm.notify.requested",
        time=datetime(2026, 11, 23, tzinfo=UTC),
        data=data,
        topic=TOPIC,
    )


def handle(ctx: HandlerContext, evt: CloudEvent) -> None:
    """Insert a row; raise for a poisoned request (after writing, to prove the rollback)."""
    request = evt.data_as(NotificationRequested)
    ctx.session.add(Seen(id=request.notification_id))
    ctx.session.flush()
    if request.params.get("fail"):
        raise ValueError(f"cannot handle {request.notification_id}")


def recorded_in_seen(connection: Connection, events: Sequence[CloudEvent]) -> set[str]:
    """The state's own processed-event record: a request is processed when its row exists."""
    ids = {evt.id for evt in events}
    stored = {row[0] for row in connection.execute(select(Seen.id).where(col(Seen.id).in_(ids)))}
    return {evt.dedupe_key for evt in events if evt.id in stored}


def make_applier(
    tmp_path: Path, batch_calls: list[int], *, state_records: bool = False, batch: BatchHandler | None = None
) -> tuple[EventApplier, Database]:
    """An applier over a fresh SQLite database whose subscription has a batch handler.

    ``state_records``: the subscription's state is its processed-event record (no ledger rows).
    ``batch``: another batch handler than the counting one.
    """

    def handle_batch(ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
        batch_calls.append(len(events))
        for evt in events:
            handle(ctx, evt)

    db = Database(f"sqlite:///{tmp_path}/applier.db", ApplierTestBase.metadata)
    db.create_all()
    subscription = Subscription(
        group="applier-test",
        topics=(TOPIC,),
        handlers={"crm.notify.requested": handle},
        ignored=frozenset({"crm.notify.delivered"}),
        batch=batch or handle_batch,
        recorded_by_state=recorded_in_seen if state_records else None,
    )
    applier = EventApplier(
        db=db, registry=load_registry(), subscription=subscription, source="/test", content_type="application/protobuf"
    )
    return applier, db


def seen(db: Database) -> set[str]:
    """Ids of the applied requests."""
    with db.session() as session:
        return set(session.exec(select(Seen.id)))


@pytest.mark.parametrize("state_records", [False, True], ids=["ledger", "state-records-events"])
def test_batch_handler_applies_a_run_in_one_call_and_skips_duplicates(tmp_path: Path, state_records: bool) -> None:
    """With the ledger, or with a state that records its events itself (then no ledger rows)."""
    calls: list[int] = []
    applier, db = make_applier(tmp_path, calls, state_records=state_records)
    first = applier.apply([event("a"), event("b"), event("a")])
    again = applier.apply([event("b"), event("c")])
    assert calls == [2, 1]
    assert (first.applied.total(), first.duplicates.total()) == (2, 1)
    assert (again.applied.total(), again.duplicates.total()) == (1, 1)
    assert seen(db) == {"a", "b", "c"}
    with db.engine.connect() as conn:
        ledger_rows = conn.execute(select(func.count()).select_from(db.tables.ledger)).scalar_one()
    assert ledger_rows == (0 if state_records else 3)


def test_a_failing_batch_is_replayed_event_by_event_to_find_the_culprit(tmp_path: Path) -> None:
    calls: list[int] = []
    applier, db = make_applier(tmp_path, calls)
    result = applier.apply([event("a"), event("b"), event("bad", fail=True), event("d")])
    assert result.failed_at == 2
    assert isinstance(result.error, ValueError)
    assert result.applied.total() == 2  # the prefix, applied again without the culprit
    assert seen(db) == {"a", "b"}
    assert calls == [4, 2]  # the whole batch (rolled back), then the prefix


def test_a_handler_s_unflushed_session_changes_commit_with_its_batch(tmp_path: Path) -> None:
    """The session a handler takes joins the batch's transaction; the runtime flushes and commits it."""

    def add_only(ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
        for evt in events:
            ctx.session.add(Seen(id=evt.id))  # no flush: the runtime's

    applier, db = make_applier(tmp_path, [], batch=add_only)
    result = applier.apply([event("x"), event("y")])
    assert result.error is None and result.applied.total() == 2
    assert seen(db) == {"x", "y"}


def record(topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    """A fetched record (only its position matters here)."""
    return ConsumerRecord(topic, partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


def test_next_offsets_commit_past_handled_records_and_at_the_first_unhandled() -> None:
    records = [record("t", 0, 5), record("t", 0, 6), record("t", 1, 9), record("t", 1, 10), record("t", 2, 3)]
    assert next_offsets(records, None) == {
        TopicPartition("t", 0): 7,
        TopicPartition("t", 1): 11,
        TopicPartition("t", 2): 4,
    }
    assert next_offsets(records, 3) == {
        TopicPartition("t", 0): 7,
        TopicPartition("t", 1): 10,  # halted at offset 10: it is fetched again
        TopicPartition("t", 2): 3,  # never reached
    }
