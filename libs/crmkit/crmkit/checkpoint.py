"""Move SQLite's WAL checkpoints off the consumer's commit: a background task checkpoints instead.

SQLite in WAL mode copies the log back into the database file ("checkpoint", with an
fsync) inside the commit that crosses ``wal_autocheckpoint`` pages. With a large database
a batch dirties thousands of random B-tree pages, so that commit stalls for tens to
hundreds of milliseconds and every event in the batch waits. Here the writer's threshold
is high (a safety net, :data:`WRITER_AUTOCHECKPOINT_PAGES`) and this task runs PASSIVE
checkpoints (they never block the writer) on its own connection every few hundred
milliseconds. A writer that never pauses keeps the log from rewinding, so once the file
passes :data:`TRUNCATE_ABOVE_BYTES` a TRUNCATE checkpoint (which waits briefly for the
writer) resets it. PostgreSQL needs none of this.
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
TRUNCATE_ABOVE_BYTES = 64 * 2**20


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class WalCheckpointer:
    """Checkpoints one SQLite database's WAL from a worker thread until stopped."""

    def __init__(self, path: Path, *, interval_s: float = 0.25) -> None:
        self._path = path
        self._wal = path.with_name(path.name + "-wal")
        self._interval_s = interval_s
        self._connection: sqlite3.Connection | None = None
        self.checkpoints = 0
        self.truncations = 0

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint; a TRUNCATE one when the log file has grown past the limit."""
        if self._connection is None:
            self._connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._connection.execute("PRAGMA busy_timeout=200")
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1
        if self._wal.exists() and self._wal.stat().st_size > TRUNCATE_ABOVE_BYTES:
            busy, _log, _done = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            self.truncations += 0 if busy else 1

    async def run(self, stop: asyncio.Event) -> None:
        """Checkpoint every ``interval_s`` until ``stop`` is set (a runner background task)."""
        try:
            while not stop.is_set():
                try:
                    await asyncio.to_thread(self.checkpoint)
                except sqlite3.Error as exc:  # a busy database: the next round tries again
                    log.debug("checkpoint of %s skipped: %s", self._path, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
        finally:
            if self._connection is not None:
                self._connection.close()
