"""Fixtures shared by the unit tests of more than one file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crmkit.db import Database
from lead_router.models import Base as RouterBase


@pytest.fixture
def router_db(tmp_path: Path) -> Iterator[Database]:
    """A fresh lead-router database."""
    database = Database(f"sqlite:///{tmp_path / 'router.db'}", RouterBase.metadata)
    database.create_all()
    yield database
    database.dispose()
