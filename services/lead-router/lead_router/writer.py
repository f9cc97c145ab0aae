"""Transactions for work that does not come from a consumer (REST, SLA timers): state + outbox, then wake the relay."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from crm_contracts import Registry, load_registry
from crmkit.db import Database
from crmkit.outbox import Outbox
from sqlmodel import Session


class Writer:
    """Opens a session with an outbox; on success writes the outbox rows, commits, wakes the relay."""

    def __init__(
        self,
        *,
        db: Database,
        source: str = "/lead-router",
        content_type: str = "application/protobuf",
        registry: Registry | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        """``wake`` is called after each commit that wrote events (the embedded relay's wake-up)."""
        self.db = db
        self._registry = registry or load_registry()
        self._source = source
        self._content_type = content_type
        self._wake = wake

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, Outbox]]:
        """One transaction: yields (session, outbox); rolls back on an exception."""
        outbox = Outbox(registry=self._registry, source=self._source, content_type=self._content_type)
        with self.db.session() as session:
            yield session, outbox
            outbox.write(session, self.db.tables.outbox)
            session.commit()
        if outbox.rows and self._wake is not None:
            self._wake()
