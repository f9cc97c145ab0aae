"""lead-router's tables: leads with their decision and trace, round-robin cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Base for lead-router's own metadata."""


class Lead(Base, table=True):
    """A routed lead: assigned to a rep or in the pool, with the trace of the decision."""

    __tablename__ = "leads"

    id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(index=True, max_length=40)
    status: str = Field(index=True, max_length=20)  # assigned | pooled
    assignee_id: str | None = Field(default=None, index=True, max_length=60)
    team: str = ""
    rule: str = ""
    reason_code: str = ""
    trace: list[dict[str, object]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    submitted_at: datetime
    decided_at: datetime
    latency_ms: int = 0


class RoundRobinCursor(Base, table=True):
    """Where round-robin stands for one rule; committed with each assignment."""

    __tablename__ = "round_robin_cursors"

    rule: str = Field(primary_key=True, max_length=100)
    position: int = 0
