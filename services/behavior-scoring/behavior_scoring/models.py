"""behavior-scoring's tables: the engine's state (per customer and global), published views, pools, counts.

The engine lives in the process; these tables are its durable copy, written in the same
transaction as the processed-event ledger and the outbox (see ``live``):

- ``scoring_state``: one row: the engine's global record (watermark, merges, counters,
  late events, rules log) as JSON, and ``version``, raised by every transaction that
  changes the engine, which tells the process whether its in-memory engine is the
  committed one;
- ``scoring_customers``: per customer, its own retained behaviour and published view
  (``Engine.customer_record``) as JSON — a saved state is itself a replayable log;
- ``scoring_views``: the current published view per customer (what REST reads);
- ``scoring_pool_members``: who is in which strategy pool since when (paged REST reads);
- ``scoring_behaviour_counts``: touchpoints recorded, by touchpoint type (``/stats``).

Instants are integer microseconds since the epoch (``domain.instants``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Base for behavior-scoring's own metadata."""


class ScoringState(Base, table=True):
    """The engine's global record and the version of the committed engine state."""

    __tablename__ = "scoring_state"

    id: int = Field(primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    record: str = Field(sa_column=Column(Text, nullable=False))


class CustomerRecord(Base, table=True):
    """One customer's retained behaviour and published view (``Engine.customer_record``)."""

    __tablename__ = "scoring_customers"

    customer_id: str = Field(primary_key=True, max_length=64)
    record: str = Field(sa_column=Column(Text, nullable=False))


class ScoreView(Base, table=True):
    """A customer's current published view: score, tier, pools, tags (JSON ``CustomerView.to_dict``)."""

    __tablename__ = "scoring_views"

    customer_id: str = Field(primary_key=True, max_length=64)
    score: int
    risk_tier: str = Field(max_length=8)
    at: int = Field(sa_column=Column(BigInteger, nullable=False))
    merged_into: str | None = Field(default=None, max_length=64)
    view: str = Field(sa_column=Column(Text, nullable=False))


class PoolMember(Base, table=True):
    """A customer in a strategy pool since ``since`` (until ``expires_at`` when capped)."""

    __tablename__ = "scoring_pool_members"
    __table_args__ = (Index("ix_scoring_pool_members_since", "pool", "since", "customer_id"),)

    customer_id: str = Field(primary_key=True, max_length=64)
    pool: str = Field(primary_key=True, max_length=100)
    since: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class BehaviourCount(Base, table=True):
    """How many touchpoints of one type were recorded (one per ``customer.resolved`` applied)."""

    __tablename__ = "scoring_behaviour_counts"

    type: str = Field(primary_key=True, max_length=100)
    count: int = Field(sa_column=Column(BigInteger, nullable=False))


def table(model: type[Base]) -> Table:
    """The Core table of a model (for executemany and upserts)."""
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found
