"""customer-master's database: crmkit's set-up, plus memory-mapped reads on SQLite.

Resolving a touchpoint reads a handful of random B-tree pages of a large master (keys,
customers, blocking keys); mapped, a page already in the OS cache is read without a system
call and a copy (``bench/resolve_stream.py``: 20-30 µs less kernel time per touchpoint on a
1,000,000-customer master). Writes still go through the WAL; PostgreSQL is left as crmkit sets it.
"""

from __future__ import annotations

from typing import Any

from crmkit.db import Database
from sqlalchemy import event

from customer_master.models import Base

MMAP_BYTES = 1 << 32
"""How much of the database file SQLite maps (address space only; the OS cache holds the pages)."""


def open_database(url: str) -> Database:
    """customer-master's :class:`~crmkit.db.Database` for ``url``."""
    db = Database(url, Base.metadata)
    if db.engine.dialect.name == "sqlite":
        event.listen(db.engine, "connect", _map_file)
    return db


def _map_file(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cursor.close()
