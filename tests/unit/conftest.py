"""Fixtures shared by the unit tests of more than one file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crmkit.db import Database
from customer_master.models import Base as MasterBase
from lead_router.models import Base as RouterBase
from sqlalchemy import MetaData


def _fresh(path: Path, metadata: MetaData) -> Iterator[Database]:
    """A new SQLite database with ``metadata``'s tables, disposed of after the test."""
    database = Database(f"sqlite:///{path}", metadata)
    database.create_all()
    yield database
    database.dispose()


@pytest.fixture
def router_db(tmp_path: Path) -> Iterator[Database]:
    """A fresh lead-router database."""
    yield from _fresh(tmp_path / "router.db", RouterBase.metadata)


@pytest.fixture
def master_db(tmp_path: Path) -> Iterator[Database]:
    """A fresh customer-master database."""
    yield from _fresh(tmp_path / "customers.db", MasterBase.metadata)
