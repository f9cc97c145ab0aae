"""Shared fixtures: the real Kafka-protocol broker (Tansu), per-test topics, databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from crm_cli.stack import create_topics, running_broker


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Tansu broker for the whole session; yields its bootstrap address."""
    with running_broker(log_path=tmp_path_factory.mktemp("broker") / "tansu.log") as bootstrap:
        yield bootstrap


@pytest.fixture
def topic(broker: str) -> str:
    """A fresh topic (3 partitions) and its DLQ, unique to this test."""
    name = f"test.{uuid.uuid4().hex[:10]}.v1"
    create_topics(broker, {name: 3, f"{name}.dlq": 1})
    return name


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one service database."""
    return f"sqlite:///{tmp_path / 'service.db'}"


def postgres_url() -> str | None:
    """CRM_TEST_POSTGRES_URL, when the machine offers PostgreSQL."""
    return os.environ.get("CRM_TEST_POSTGRES_URL")
