"""What a service hands the consumer runtime: plain handler functions that know no Kafka.

A handler gets a :class:`HandlerContext` (the open database connection, an ORM session on
it, and the outbox of the current transaction) and one decoded :class:`~crmkit.cloudevents.CloudEvent`. It
changes state and emits events through the outbox; the runtime commits both together
with the processed-event ledger row, and commits the Kafka offset only after that.

A hot consumer may also give a *batch handler*: one call for a run of events, which must
leave the same state and emit the same events as the per-event handlers called in order.
The runtime uses it first and falls back to the per-event handlers to isolate a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from crm_contracts import Registry
from sqlalchemy import Connection
from sqlmodel import Session

from crmkit.cloudevents import CloudEvent
from crmkit.outbox import Outbox


class HandlerContext:
    """The transaction a handler runs in: its connection, the outbox, and an ORM session on the connection.

    The session is made on first use (a handler on the Core or :class:`~crmkit.rawsql.RawSql`
    path pays nothing for it) and joins the connection's transaction: it never commits or
    ends it, the runtime does. :meth:`flush` sends its pending changes before that.
    """

    def __init__(self, *, connection: Connection, outbox: Outbox) -> None:
        self.connection = connection
        self.outbox = outbox
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """An ORM session in this transaction."""
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False, join_transaction_mode="rollback_only")
        return self._session

    def flush(self) -> None:
        """Send the session's pending changes (if a handler used it) to the database."""
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        """Release the session (the transaction itself is the runtime's to end)."""
        if self._session is not None:
            self._session.close()


Handler = Callable[[HandlerContext, CloudEvent], None]
BatchHandler = Callable[[HandlerContext, Sequence[CloudEvent]], None]
RecordedByState = Callable[[Connection, Sequence[CloudEvent]], set[str]]
"""The dedupe keys of the events a consumer's own state already records (see ``Subscription``)."""


@dataclass(frozen=True)
class Subscription:
    """One consumer group: the topics it reads and a handler per CloudEvents type.

    Every type on a subscribed topic must be either handled or listed in ``ignored``,
    so a new event type in the registry is a deliberate decision for each consumer.
    ``batch``, when given, handles a run of (non-ignored, not yet processed) events at once.

    ``recorded_by_state``, when given, says which events are already processed by reading the
    consumer's own state, and the runtime then writes no ledger rows for it: for a consumer whose
    handlers store one row per event under its id in the same transaction (customer-master's
    source records), a ledger row would be a second record of the same fact, and a second
    random-key index written for every event.
    """

    group: str
    topics: tuple[str, ...]
    handlers: Mapping[str, Handler]
    ignored: frozenset[str] = field(default_factory=frozenset)
    batch: BatchHandler | None = None
    recorded_by_state: RecordedByState | None = None

    def check_against(self, registry: Registry) -> None:
        """Raise ValueError when handlers and the registry disagree."""
        carried = {t for name in self.topics for t in registry.topic(name).events}
        unknown = (set(self.handlers) | self.ignored) - carried
        undecided = carried - set(self.handlers) - self.ignored
        if unknown or undecided:
            raise ValueError(
                f"subscription {self.group}: types not on its topics {sorted(unknown)}; "
                f"types neither handled nor ignored {sorted(undecided)}"
            )
