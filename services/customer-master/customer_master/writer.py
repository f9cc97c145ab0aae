"""Transactions for work that does not come from a consumer (REST merges): state and outbox commit together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from crm_contracts import load_registry
from crmkit.db import Database
from crmkit.outbox import Outbox
from sqlalchemy import Connection

_REGISTRY = load_registry()


@contextmanager
def transaction(db: Database, *, source: str = "/customer-master") -> Iterator[tuple[Connection, Outbox]]:
    """One transaction: yields (connection, outbox); the outbox rows commit with the state, or nothing does."""
    outbox = Outbox(registry=_REGISTRY, source=source, content_type="application/protobuf")
    with db.session() as session:
        session.begin()
        yield session.connection(), outbox
        outbox.write(session, db.tables.outbox)
        session.commit()
