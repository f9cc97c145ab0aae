"""The WAL checkpointer: checkpoints without the writer, lets the log rewind, runs as a child process that
stops on request or when its parent goes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from crmkit import checkpoint
from crmkit.checkpoint import CheckpointRounds, WalCheckpointer, sqlite_file
from crmkit.db import Database
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text

METADATA = MetaData()
ROWS = Table("rows", METADATA, Column("id", Integer, primary_key=True), Column("body", String))


def write(db: Database, count: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(insert(ROWS), [{"body": "x" * 500} for _ in range(count)])


def pragma(db: Database, statement: str) -> tuple[int, ...]:
    """One PRAGMA on a pooled connection, outside any transaction (as a checkpoint must run)."""
    raw = db.engine.raw_connection()
    try:
        return tuple(raw.cursor().execute(statement).fetchone())
    finally:
        raw.close()


def wal_frames(db: Database) -> tuple[int, int]:
    """(frames in the log, frames copied back) as a no-op PASSIVE checkpoint reports them."""
    _busy, logged, copied = pragma(db, "PRAGMA wal_checkpoint(PASSIVE)")
    return logged, copied


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'svc.db'}", METADATA)
    database.create_all()
    return database


def test_only_sqlite_files_get_a_checkpointer(tmp_path: Path) -> None:
    assert sqlite_file(f"sqlite:///{tmp_path / 'a.db'}") == tmp_path / "a.db"
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None


def test_the_writer_leaves_checkpoints_to_the_task(db: Database, tmp_path: Path) -> None:
    write(db, 2000)  # ~1 MB of pages: past SQLite's default 1000-page autocheckpoint
    assert pragma(db, "PRAGMA wal_autocheckpoint") == (checkpoint.WRITER_AUTOCHECKPOINT_PAGES,)
    assert pragma(db, "PRAGMA journal_size_limit") == (checkpoint.JOURNAL_SIZE_LIMIT_BYTES,)
    checkpointer = CheckpointRounds(tmp_path / "svc.db")
    # A long log, all copied but not yet rewound: come back soon, until a round finds it untouched.
    assert checkpointer.checkpoint() == checkpoint.BUSY_INTERVAL_S
    logged, copied = wal_frames(db)
    assert logged > checkpoint.LONG_LOG_FRAMES and copied == logged
    assert checkpointer.passes == 2  # the second pass found nothing appended
    assert checkpointer.checkpoint() == checkpoint.IDLE_INTERVAL_S


def test_a_copied_log_rewinds_and_the_rounds_slow_down(db: Database, tmp_path: Path) -> None:
    write(db, 2000)
    checkpointer = CheckpointRounds(tmp_path / "svc.db")
    checkpointer.checkpoint()
    write(db, 1)  # the next writer finds every frame copied and starts the log again
    logged, _copied = wal_frames(db)
    assert logged < checkpoint.LONG_LOG_FRAMES
    assert checkpointer.checkpoint() == checkpoint.IDLE_INTERVAL_S
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rows")).scalar_one() == 2001


async def test_the_child_checkpoints_until_stopped(db: Database, tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "svc.db")
    stop = asyncio.Event()
    write(db, 2000)
    task = asyncio.create_task(checkpointer.run(stop))
    while checkpointer.checkpoints < 1:  # the child reports its first round at once
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    logged, copied = wal_frames(db)
    assert logged == copied > checkpoint.LONG_LOG_FRAMES


def test_the_child_exits_when_its_parent_closes_the_pipe(db: Database, tmp_path: Path) -> None:
    """Standard input at end of file is how the child learns that its service stopped or died."""
    child = subprocess.Popen(
        [sys.executable, "-m", "crmkit.checkpoint", str(tmp_path / "svc.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    assert int(child.stdout.readline()) >= 1
    child.stdin.close()
    assert child.wait(timeout=10) == 0
