"""Move SQLite's WAL checkpoints off the consumer's commit: a background task checkpoints instead.

SQLite in WAL mode copies the log back into the database file ("checkpoint", with an
fsync) inside the commit that crosses ``wal_autocheckpoint`` pages. With a large database
a batch dirties thousands of random B-tree pages, so that commit stalls for tens to
hundreds of milliseconds and every event in the batch waits. Here the writer's threshold
is high (a safety net, :data:`WRITER_AUTOCHECKPOINT_PAGES`) and this task runs PASSIVE
checkpoints (they never block the writer) on its own connection.

The log only rewinds (the writer starts again at its first frame) when a writer begins
after a checkpoint has copied *every* frame. A writer committing every few milliseconds
appends more while a checkpoint of tens of thousands of frames runs, so one pass every
few hundred milliseconds never catches up: the log grew to the safety net and the writer
then checkpointed inside its commits (80-110 ms stalls at 1,500 touchpoints/s on a
1,000,000-customer master, README "Why small commits stall"). So each round repeats the
pass while the log is long — every pass copies only what the writer appended during the
previous one, so they shrink quickly and the writer soon finds the whole log copied — and
rounds come every :data:`BUSY_INTERVAL_S` while the writer is busy. A rewound log file is
cut back to ``journal_size_limit`` (:data:`JOURNAL_SIZE_LIMIT_BYTES`, set by
:mod:`crmkit.db`). PostgreSQL needs none of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

WRITER_AUTOCHECKPOINT_PAGES = 16384
"""The writer checkpoints itself only when the log holds this many pages (64 MiB of 4 KiB)."""
JOURNAL_SIZE_LIMIT_BYTES = 64 * 2**20
"""What a rewound log file is truncated to (each writer connection's ``journal_size_limit``)."""
LONG_LOG_FRAMES = 256
"""A log this long after a pass that the writer appended to means it is busy: pass again, come back soon."""
MAX_PASSES = 16
BUSY_INTERVAL_S = 0.02
IDLE_INTERVAL_S = 0.25


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class WalCheckpointer:
    """Checkpoints one SQLite database's WAL from a worker thread until stopped."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._last_logged = -1
        self.checkpoints = 0
        """PASSIVE passes run (for /health)."""

    def checkpoint(self) -> float:
        """One round of PASSIVE passes, repeated while the log stays long; returns the seconds to the next round."""
        if self._connection is None:
            self._connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._connection.execute("PRAGMA busy_timeout=200")
        busy, logged, previous = 0, 0, -1
        for _ in range(MAX_PASSES):
            busy, logged, _copied = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
            if busy or logged < LONG_LOG_FRAMES or logged == previous:  # short, or nothing appended since
                break
            previous = logged
        # Idle: a short log, or one the writer has not touched since the last round.
        idle = not busy and (logged < LONG_LOG_FRAMES or logged == self._last_logged)
        self._last_logged = logged
        return IDLE_INTERVAL_S if idle else BUSY_INTERVAL_S

    async def run(self, stop: asyncio.Event) -> None:
        """Checkpoint in rounds until ``stop`` is set (a runner background task)."""
        try:
            while not stop.is_set():
                try:
                    delay = await asyncio.to_thread(self.checkpoint)
                except sqlite3.Error as exc:  # a busy database: the next round tries again
                    log.debug("checkpoint of %s skipped: %s", self._path, exc)
                    delay = BUSY_INTERVAL_S
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
        finally:
            if self._connection is not None:
                self._connection.close()
