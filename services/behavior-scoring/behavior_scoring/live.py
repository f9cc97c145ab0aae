"""The live side of behavior-scoring: the in-process engine, its durable copy, and ``score_changed``.

One :class:`LiveScoring` per process holds the engine. Every change to it happens inside
a database transaction that also writes what changed (per-customer records, published
views, pool members, the global record, behaviour counts), the ``score_changed`` outbox
rows and — for the consumer — the processed-event ledger; the runtime commits them
together.

**An aborted transaction never leaves the engine ahead of the database.** The state row
(``scoring_state``) has a ``version`` raised by every transaction that changes the engine.
A transaction first reads it (``FOR UPDATE`` where the database has it; SQLite's
``BEGIN IMMEDIATE`` already serialises writers); if the process's engine is not the one
at that version — the engine was changed by a transaction that then rolled back (a
failing event, a failed commit, the runtime isolating a poison event), or nothing is
loaded yet — the engine is reloaded from the tables (``Engine.load``) before anything is
applied. Events are mapped and validated before the engine is touched, so a poison event
in a batch costs no reload; the runtime's event-by-event replay after a failure does.

"Now" comes from an injected clock (the wall clock in the service): ``apply`` evaluates
each event at now and fires every timer due by then; :meth:`LiveScoring.tick` (the timer
loop) fires expiries and absence rules when no event arrives.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from crm.events.scoring.v1.scoring_pb2 import PoolChange, ScoreChanged, TagChange
from crmkit.cloudevents import CloudEvent
from crmkit.handlers import HandlerContext
from crmkit.outbox import Outbox
from crmkit.timeutil import utcnow
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from behavior_scoring import metrics
from behavior_scoring.domain.engine import Engine
from behavior_scoring.domain.instants import Duration, Instant, to_datetime, to_instant
from behavior_scoring.domain.ruleset import RuleSet
from behavior_scoring.domain.views import Change, CustomerView, Diff
from behavior_scoring.mapping import map_event
from behavior_scoring.models import BehaviourCount, CustomerRecord, PoolMember, ScoreView, ScoringState, table

log = logging.getLogger(__name__)

SCORE_CHANGED = "crm.scoring.score_changed"
STATE_ID = 1

STATE = table(ScoringState)
CUSTOMERS = table(CustomerRecord)
VIEWS = table(ScoreView)
POOLS = table(PoolMember)
COUNTS = table(BehaviourCount)

_VERSION = select(STATE.c.version).where(STATE.c.id == STATE_ID).with_for_update()
_RECORD = select(STATE.c.record).where(STATE.c.id == STATE_ID)
_SET_VERSION = update(STATE).where(STATE.c.id == STATE_ID).values(version=bindparam("version"))
_SET_STATE = (
    update(STATE).where(STATE.c.id == STATE_ID).values(version=bindparam("version"), record=bindparam("record"))
)
_DELETE_POOLS = delete(POOLS).where(POOLS.c.customer_id.in_(bindparam("customers", expanding=True)))

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@functools.cache
def _upsert(dialect: str, target: Table, add: bool = False) -> Insert:
    """INSERT … ON CONFLICT (primary key) DO UPDATE: replace the other columns, or add to them (``add``)."""
    keys = [c.name for c in target.primary_key.columns]
    others = [c for c in target.columns if c.name not in keys]
    if dialect == "postgresql":
        pg = postgresql.insert(target)
        pg_values = {c.name: (c + pg.excluded[c.name]) if add else pg.excluded[c.name] for c in others}
        return pg.on_conflict_do_update(index_elements=keys, set_=pg_values)
    lite = sqlite.insert(target)
    lite_values = {c.name: (c + lite.excluded[c.name]) if add else lite.excluded[c.name] for c in others}
    return lite.on_conflict_do_update(index_elements=keys, set_=lite_values)


def _stamp(instant: Instant | None) -> Timestamp | None:
    """An instant (µs since the epoch) as a protobuf Timestamp; None stays unset."""
    if instant is None:
        return None
    seconds, micros = divmod(instant, 1_000_000)
    return Timestamp(seconds=seconds, nanos=micros * 1000)


def tag_change(change: Change) -> TagChange:
    """A tag change as the contract carries it."""
    return TagChange(
        tag=change.name,
        weight=change.weight,
        reason=change.reason,
        event_ids=change.event_ids,
        set_at=_stamp(change.set_at),
        expires_at=_stamp(change.expires_at),
    )


def pool_change(change: Change) -> PoolChange:
    """A pool entry or exit as the contract carries it."""
    return PoolChange(
        pool=change.name,
        reason=change.reason,
        event_ids=change.event_ids,
        since=_stamp(change.set_at),
        expires_at=_stamp(change.expires_at),
    )


def score_changed(diff: Diff) -> ScoreChanged:
    """The ``crm.scoring.score_changed`` payload of one changed diff."""
    after = diff.after
    return ScoreChanged(
        customer_id=diff.customer_id,
        score=after.score,
        risk_tier=after.risk_tier,
        pools=after.pool_names(),
        tags_added=[tag_change(c) for c in diff.tags_added],
        tags_removed=[tag_change(c) for c in diff.tags_removed],
        pools_added=[pool_change(c) for c in diff.pools_added],
        pools_removed=[pool_change(c) for c in diff.pools_removed],
        trigger_event_id=diff.trigger or "",
        merged_into=after.merged_into or "",
    )


def view_row(view: CustomerView) -> dict[str, object]:
    """The ``scoring_views`` row of a published view."""
    return {
        "customer_id": view.customer_id,
        "score": view.score,
        "risk_tier": view.risk_tier,
        "at": view.at,
        "merged_into": view.merged_into,
        "view": _dumps(view.to_dict()),
    }


class LiveScoring:
    """The process's engine, kept equal to the committed database state (see the module docstring)."""

    def __init__(
        self,
        rules: RuleSet,
        *,
        clock: Callable[[], datetime] = utcnow,
        lateness: Duration | None = None,
        freeze_after_load: bool = True,
    ) -> None:
        self.rules = rules
        self.clock = clock
        self._lateness = lateness
        self._freeze = freeze_after_load
        self.engine: Engine | None = None
        self.version: int | None = None
        """The committed version the in-memory engine corresponds to (None: unknown, reload)."""
        self.loads = 0
        self._written: dict[str, tuple[object, ...]] = {}
        self._lock = threading.RLock()
        self._late = metrics.LateCounts()

    # ---- consumer ------------------------------------------------------------------------

    def handle_batch(self, ctx: HandlerContext, events: Sequence[CloudEvent]) -> None:
        """Record and apply a run of events in order; ``score_changed`` for every customer whose view changed."""
        if not events:
            return
        mapped = [map_event(event) for event in events]  # PoisonMessage here, before the engine is touched
        counts: Counter[str] = Counter(m.behaviour_type for m in mapped if m.behaviour_type is not None)
        with self._lock:
            connection = ctx.session.connection()
            engine = self._begin(connection, ctx.outbox)
            now = to_instant(self.clock())
            started = time.perf_counter()
            applied = 0
            for item in mapped:
                event = item.event
                if event is None:
                    continue
                applied += 1
                for diff in engine.apply(event, now=now):
                    correlation = item.correlation_id if diff.trigger == event.id else (diff.trigger or "")
                    self._emit(ctx.outbox, diff, correlation)
            metrics.EVALUATION_SECONDS.labels(path="events").observe(time.perf_counter() - started)
            metrics.EVENTS_EVALUATED.inc(applied)
            self._late.sync(engine.counters)
            self._persist(connection, engine, counts)

    def handle_one(self, ctx: HandlerContext, event: CloudEvent) -> None:
        """One event (the runtime's fallback when a batch fails): a batch of one."""
        self.handle_batch(ctx, [event])

    # ---- timers --------------------------------------------------------------------------

    def due(self, now: datetime | None = None) -> bool:
        """True when a timer is due (or nothing is loaded yet): :meth:`tick` has work."""
        with self._lock:
            engine = self.engine
            if engine is None:
                return True
            upcoming = engine.next_due()
        return upcoming is not None and upcoming <= to_instant(now or self.clock())

    def tick(self, connection: Connection, outbox: Outbox, *, prune: bool = False) -> int:
        """Fire every timer due by now (each at its own instant); returns how many views changed."""
        with self._lock:
            engine = self._begin(connection, outbox)
            started = time.perf_counter()
            diffs = [d for d in engine.advance(self.clock()) if d.changed]
            metrics.EVALUATION_SECONDS.labels(path="timers").observe(time.perf_counter() - started)
            for diff in diffs:
                self._emit(outbox, diff, diff.trigger or "")
            if prune:
                engine.prune()
            self._persist(connection, engine, Counter())
        return len(diffs)

    # ---- state ---------------------------------------------------------------------------

    def _begin(self, connection: Connection, outbox: Outbox) -> Engine:
        """The engine at the committed version, marked as about to change (see the module docstring)."""
        version = connection.execute(_VERSION).scalar()
        if version is None:  # a new database
            engine = Engine(self.rules, lateness=self._lateness)
            connection.execute(insert(STATE), {"id": STATE_ID, "version": 0, "record": _dumps(engine.global_record())})
            self.engine, self.version, self._written = engine, 0, {}
            self._late.baseline(engine.counters)
            metrics.reset((), tags=self.rules.tags, pools=self.rules.pools)
        elif self.engine is None or self.version != version:
            record = connection.execute(_RECORD).scalar_one()
            self.engine = self._load(connection, json.loads(record), outbox)
            self.version, self._written = int(version), {}
        assert self.engine is not None and self.version is not None
        self.version += 1  # ahead of the database until this transaction commits
        return self.engine

    def _load(self, connection: Connection, global_record: dict[str, Any], outbox: Outbox) -> Engine:
        """Rebuild the engine from the tables; a changed rules file takes over from now (recorded)."""
        self.loads += 1
        records = (json.loads(text) for (text,) in connection.execute(select(CUSTOMERS.c.record)))
        engine = Engine.load(self.rules, global_record, records)
        self._late.baseline(engine.counters)
        metrics.reset(engine.published.values(), tags=self.rules.tags, pools=self.rules.pools)
        if global_record["rules"]["digest"] != self.rules.digest:
            log.info("rules changed to %s (%s): every customer recomputed", self.rules.version, self.rules.digest)
            for diff in engine.set_rules(self.rules, now=self.clock()):
                self._emit(outbox, diff, "")
        if self._freeze and self.loads == 1:
            gc.collect()
            gc.freeze()  # the state loaded at start is long-lived: keep it out of every later collection
        log.info("scoring engine loaded (load #%d): %d customers", self.loads, len(engine.published))
        return engine

    def _persist(self, connection: Connection, engine: Engine, counts: Counter[str]) -> None:
        """Write what the engine changed, the behaviour counts and the new version (one statement per table).

        A view row (and its pool rows) is written only when the view differs from the last one
        written by this process (score, tier, tags, pools, merge); ``_written`` is cleared on
        every load, so a rolled-back write is never taken for a stored one.
        """
        dirty, global_dirty = engine.take_dirty()
        dialect = connection.dialect.name
        if dirty:
            customers = sorted(dirty)
            connection.execute(
                _upsert(dialect, CUSTOMERS),
                [{"customer_id": c, "record": _dumps(engine.customer_record(c))} for c in customers],
            )
            written = self._written
            views = []
            for customer in customers:
                view = engine.published.get(customer)
                if view is None:
                    continue
                shown = (view.score, view.risk_tier, view.tags, view.pools, view.merged_into)
                if written.get(customer) != shown:
                    written[customer] = shown
                    views.append(view)
            if views:
                connection.execute(_upsert(dialect, VIEWS), [view_row(v) for v in views])
                connection.execute(_DELETE_POOLS, {"customers": [v.customer_id for v in views]})
                members = [
                    {"customer_id": v.customer_id, "pool": p.name, "since": p.set_at, "expires_at": p.expires_at}
                    for v in views
                    for p in v.pools
                ]
                if members:
                    connection.execute(insert(POOLS), members)
        if counts:
            connection.execute(
                _upsert(dialect, COUNTS, add=True), [{"type": k, "count": n} for k, n in sorted(counts.items())]
            )
        if global_dirty:
            connection.execute(_SET_STATE, {"version": self.version, "record": _dumps(engine.global_record())})
        else:
            connection.execute(_SET_VERSION, {"version": self.version})

    @staticmethod
    def _emit(outbox: Outbox, diff: Diff, correlation_id: str) -> None:
        """Queue ``score_changed`` for a diff that changed something, stamped with the change's event time."""
        if not diff.changed:
            return
        metrics.observe_diff(diff)
        outbox.emit(
            event_type=SCORE_CHANGED,
            key=diff.customer_id,
            correlation_id=correlation_id,
            data=score_changed(diff),
            time=to_datetime(diff.at),
        )

    def views_at(self, at: datetime | Instant) -> Iterable[CustomerView]:
        """Every customer's view at ``at`` from the in-memory engine (tests, diagnostics)."""
        with self._lock:
            return list(self.engine.views(at)) if self.engine is not None else []
