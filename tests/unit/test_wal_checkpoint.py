"""The background WAL checkpointer: checkpoints without the writer, truncates a grown log, stops on request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from crmkit import checkpoint
from crmkit.checkpoint import WalCheckpointer, sqlite_file
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
    checkpointer = WalCheckpointer(tmp_path / "svc.db")
    checkpointer.checkpoint()
    logged, copied = wal_frames(db)
    assert logged > 0 and copied == logged
    assert checkpointer.checkpoints == 1 and checkpointer.truncations == 0


def test_a_log_past_the_limit_is_truncated(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint, "TRUNCATE_ABOVE_BYTES", 10_000)
    write(db, 500)
    checkpointer = WalCheckpointer(tmp_path / "svc.db")
    checkpointer.checkpoint()
    assert checkpointer.truncations == 1
    assert (tmp_path / "svc.db-wal").stat().st_size == 0
    write(db, 10)  # the writer carries on after the reset
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rows")).scalar_one() == 510


async def test_run_checkpoints_until_stopped(db: Database, tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "svc.db", interval_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(checkpointer.run(stop))
    write(db, 100)
    while checkpointer.checkpoints < 3:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert wal_frames(db)[0] == wal_frames(db)[1]
