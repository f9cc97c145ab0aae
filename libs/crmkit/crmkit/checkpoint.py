"""Move SQLite's WAL checkpoints off the consumer's commit, and out of its process.

SQLite in WAL mode copies the log back into the database file ("checkpoint", with an
fsync) inside the commit that crosses ``wal_autocheckpoint`` pages. With a large database
a batch dirties thousands of random B-tree pages, so that commit stalls for tens to
hundreds of milliseconds and every event in the batch waits. Here the writer's threshold
is high (a safety net, :data:`WRITER_AUTOCHECKPOINT_PAGES`) and a child process runs
PASSIVE checkpoints (they never block the writer) on its own connection.

The log only rewinds (the writer starts again at its first frame) when a writer begins
after a checkpoint has copied *every* frame. A writer committing every few milliseconds
appends more while a checkpoint of tens of thousands of frames runs, so one pass every
few hundred milliseconds never catches up: the log grew to the safety net and the writer
then checkpointed inside its commits (80-110 ms stalls at 1,500 touchpoints/s on a
1,000,000-customer master, README "Why small commits stall"). So each round repeats the
pass while the log is long — every pass copies only what the writer appended during the
previous one, so they shrink quickly and the writer soon finds the whole log copied — and
rounds come every :data:`BUSY_INTERVAL_S` while the writer is busy.

Why a process and not a thread: every pass hands Python's GIL back and forth three times
(prepare, step, return), and each time the consumer's thread is made to drop it and wait
until the checkpointing thread has run (seen with gdb: ``take_gil``/``drop_gil`` were the
only waits of the consumer thread). Why ``journal_size_limit`` is well above the safety
net (:data:`JOURNAL_SIZE_LIMIT_BYTES`): a log cut back at every rewind frees its blocks
inside a commit, and on a file system mounted with ``discard`` the committing thread then
waits for the disk (``ext4_setattr → ext4_free_blocks → blkdev_issue_discard`` in its
kernel stack). PostgreSQL needs none of this.

``python -m crmkit.checkpoint DATABASE`` is the child: it checkpoints in rounds, prints its
pass count (at most once a second), and exits when its standard input closes, so it never
outlives the service that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

WRITER_AUTOCHECKPOINT_PAGES = 16384
"""The writer checkpoints itself only when the log holds this many pages (64 MiB of 4 KiB)."""
JOURNAL_SIZE_LIMIT_BYTES = 256 * 2**20
"""What a rewound log file is truncated to: four times the safety net, so only after a log grew abnormally."""
LONG_LOG_FRAMES = 256
"""A log this long after a pass that the writer appended to means it is busy: pass again, come back soon."""
MAX_PASSES = 16
BUSY_INTERVAL_S = 0.02
IDLE_INTERVAL_S = 0.25
REPORT_INTERVAL_S = 1.0
"""How often the child prints its pass count (the first round is reported at once)."""
STOP_TIMEOUT_S = 5.0


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class CheckpointRounds:
    """Rounds of PASSIVE checkpoints of one SQLite database (what the child process runs)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._last_logged = -1
        self.passes = 0
        """PASSIVE passes run."""

    def checkpoint(self) -> float:
        """One round of PASSIVE passes, repeated while the log stays long; returns the seconds to the next round."""
        if self._connection is None:
            self._connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._connection.execute("PRAGMA busy_timeout=200")
        busy, logged, previous = 0, 0, -1
        for _ in range(MAX_PASSES):
            busy, logged, _copied = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.passes += 1
            if busy or logged < LONG_LOG_FRAMES or logged == previous:  # short, or nothing appended since
                break
            previous = logged
        # Idle: a short log, or one the writer has not touched since the last round.
        idle = not busy and (logged < LONG_LOG_FRAMES or logged == self._last_logged)
        self._last_logged = logged
        return IDLE_INTERVAL_S if idle else BUSY_INTERVAL_S

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def serve(path: Path, stop: threading.Event) -> None:
    """Checkpoint ``path`` in rounds until ``stop`` is set, printing the pass count at most once a second."""
    rounds = CheckpointRounds(path)
    reported = 0.0
    delay = 0.0
    try:
        while not stop.wait(delay):
            try:
                delay = rounds.checkpoint()
            except sqlite3.Error as exc:  # a busy database: the next round tries again
                log.debug("checkpoint of %s skipped: %s", path, exc)
                delay = BUSY_INTERVAL_S
            now = time.monotonic()
            if now - reported >= REPORT_INTERVAL_S:
                print(rounds.passes, flush=True)
                reported = now
    finally:
        rounds.close()


def _main(argv: list[str]) -> None:
    """The child: checkpoint ``argv[0]`` until standard input closes."""
    stop = threading.Event()

    def watch_parent() -> None:
        sys.stdin.buffer.read()  # returns at end of file: the parent closed the pipe, or is gone
        stop.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    serve(Path(argv[0]), stop)


def _command(path: Path) -> list[str]:
    return [sys.executable, "-m", "crmkit.checkpoint", str(path)]


class WalCheckpointer:
    """Keeps one SQLite database's WAL checkpointed from a child process, restarted if it dies, until stopped."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self.checkpoints = 0
        """PASSIVE passes the child has reported (for /health)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Run the child until ``stop`` is set (a runner background task)."""
        while not stop.is_set():
            child = await asyncio.create_subprocess_exec(
                *_command(self._path), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
            )
            assert child.stdin is not None and child.stdout is not None
            reports = asyncio.create_task(self._read_reports(child.stdout))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([reports, stopping], return_when=asyncio.FIRST_COMPLETED)
            child.stdin.close()
            try:
                await asyncio.wait_for(child.wait(), timeout=STOP_TIMEOUT_S)
            except TimeoutError:
                child.kill()
                await child.wait()
            stopping.cancel()
            await asyncio.gather(reports, return_exceptions=True)
            if not stop.is_set():
                log.warning("checkpointer of %s exited with %s; starting another", self._path, child.returncode)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=IDLE_INTERVAL_S)

    async def _read_reports(self, stdout: asyncio.StreamReader) -> None:
        """Take the child's pass counts until it closes its output."""
        while line := await stdout.readline():
            self.checkpoints = int(line)


@contextlib.contextmanager
def checkpointing(path: Path) -> Iterator[None]:
    """The checkpointer child for the duration (for scripts without an event loop, such as benchmarks)."""
    child = subprocess.Popen(_command(path), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    _main(sys.argv[1:])
