"""lead-router's tables: leads with their decision and trace, cursors, loads, SLA timers, claims.

Only tables are added over time (never columns of existing ones), so a database from an
earlier version keeps working: ``create_all`` adds what is missing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Base for lead-router's own metadata."""


class Lead(Base, table=True):
    """A routed lead: assigned to a rep or in the pool, with the traces of its decisions."""

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


class LeadFacts(Base, table=True):
    """The routing fields of a lead as it arrived, to route it again (offboarding) and fill notifications."""

    __tablename__ = "lead_facts"

    lead_id: str = Field(primary_key=True, max_length=40)
    data: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RoundRobinCursor(Base, table=True):
    """Where round-robin stands for one rule; committed with each assignment."""

    __tablename__ = "round_robin_cursors"

    rule: str = Field(primary_key=True, max_length=100)
    position: int = 0


class RepLoad(Base, table=True):
    """Open (assigned) leads per rep, kept in the same transaction as every placement."""

    __tablename__ = "rep_loads"

    rep_id: str = Field(primary_key=True, max_length=60)
    open_leads: int = 0


class SlaTimerRow(Base, table=True):
    """A durable SLA timer (see ``domain.sla``): fires once, by a conditional update of ``fired_at``."""

    __tablename__ = "sla_timers"

    id: str = Field(primary_key=True, max_length=120)
    lead_id: str = Field(index=True, max_length=40)
    kind: str = Field(max_length=30)
    assignee_id: str = Field(max_length=60)
    assignment_no: int
    escalated: bool = False
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), index=True, nullable=False))
    fired_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    cancelled: bool = False


class PoolClaim(Base, table=True):
    """One claim of a pooled lead by a rep, counted against their daily limit."""

    __tablename__ = "pool_claims"

    id: int | None = Field(default=None, primary_key=True)
    lead_id: str = Field(index=True, max_length=40)
    rep_id: str = Field(index=True, max_length=60)
    day: str = Field(index=True, max_length=10)
    claimed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RosterOverride(Base, table=True):
    """A rep as last set through REST or the directory sync; overrides the roster file."""

    __tablename__ = "roster_overrides"

    rep_id: str = Field(primary_key=True, max_length=60)
    data: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CustomerAlias(Base, table=True):
    """A customer id customer-master merged away (crm.customer.merged): its leads count as its survivor's.

    ``merged_into`` is the id it was merged into; ``survivor_id`` follows later merges of that one
    (A into B, then B into C: A's survivor is C), and an unmerge walks ``merged_into`` back.
    """

    __tablename__ = "customer_aliases"

    absorbed_id: str = Field(primary_key=True, max_length=64)
    merged_into: str = Field(max_length=64)
    survivor_id: str = Field(index=True, max_length=64)
