"""The timer loop: fires the engine's expiries and absence rules when no event arrives.

Like lead-router's SLA loop: started by ``__main__`` as a background task; each round that
has something due runs one transaction of its own (engine state + ``score_changed`` outbox
rows), then wakes the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from crm_contracts import Registry, load_registry
from crmkit.db import Database
from crmkit.outbox import Outbox

from behavior_scoring.live import LiveScoring

log = logging.getLogger(__name__)


class TimerLoop:
    """Fires the engine's timers (expiries, absence rules) when no event arrives, in its own transactions."""

    def __init__(
        self,
        *,
        live: LiveScoring,
        db: Database,
        source: str,
        content_type: str,
        wake: Callable[[], None] | None = None,
        prune_every_s: float = 600.0,
        registry: Registry | None = None,
    ) -> None:
        self.live = live
        self.db = db
        self._registry = registry or load_registry()
        self._source = source
        self._content_type = content_type
        self._wake = wake
        self._prune_every_s = prune_every_s
        self._pruned_at = time.monotonic()

    def fire_once(self) -> int:
        """One transaction if anything is due: advance the engine, write state and ``score_changed`` rows."""
        prune = time.monotonic() - self._pruned_at >= self._prune_every_s
        if not prune and not self.live.due():
            return 0
        outbox = Outbox(registry=self._registry, source=self._source, content_type=self._content_type)
        with self.db.session() as session:
            session.begin()
            changed = self.live.tick(session.connection(), outbox, prune=prune)
            outbox.write(session, self.db.tables.outbox)
            session.commit()
        if prune:
            self._pruned_at = time.monotonic()
        if outbox.rows and self._wake is not None:
            self._wake()
        return changed

    async def run(self, stop: asyncio.Event, *, every_s: float = 1.0) -> None:
        """Until stopped: fire what is due, then sleep ``every_s``."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.fire_once)
            except Exception:  # the timers stay due and are fired next round
                log.exception("firing scoring timers failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
