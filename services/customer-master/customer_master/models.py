"""customer-master's tables: customers (golden records), their keys and source records, accounts, merges, leads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Base for customer-master's own metadata (database per service)."""


class Customer(Base, table=True):
    """The golden record of one customer, with per-field provenance.

    ``provenance`` maps a field to the source record that won it: ``record_id``, ``type``,
    ``source``, ``observed_at`` and the survivorship ``rule``. An absorbed customer keeps
    its row with ``merged_into`` naming the survivor (until an unmerge restores it).
    """

    __tablename__ = "customers"

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(default="", max_length=40, index=True)
    name: str = ""
    phone_e164: str = ""
    email: str = ""
    company: str = ""
    region_code: str = ""
    industry: str = ""
    junk: bool = False
    version: int = 1
    merged_into: str = Field(default="", max_length=40)
    provenance: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    updated_at: datetime  # not indexed: the freshness figure counts in the same scan as completeness


class IdentityKeyRow(Base, table=True):
    """An exact key bound to one customer; the unique index makes resolution race-free."""

    __tablename__ = "identity_keys"

    kind: str = Field(primary_key=True, max_length=40)
    value: str = Field(primary_key=True, max_length=200)
    customer_id: str = Field(index=True, max_length=40)
    created_at: datetime


class BlockKeyRow(Base, table=True):
    """A blocking key (e.g. name + company key): customers sharing one are compared for duplicates."""

    __tablename__ = "block_keys"

    kind: str = Field(primary_key=True, max_length=40)
    value: str = Field(primary_key=True, max_length=300)
    customer_id: str = Field(primary_key=True, max_length=40, index=True)


class SourceRecordRow(Base, table=True):
    """The fields one touchpoint observed (record id = event id): the evidence behind the golden record."""

    __tablename__ = "source_records"

    id: str = Field(primary_key=True, max_length=200)
    customer_id: str = Field(index=True, max_length=40)
    source: str = Field(max_length=200)
    type: str = Field(max_length=200)
    observed_at: datetime
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    account_id: str = Field(default="", max_length=40)
    """The account the record's company named when it arrived ("" for none): its vote for its customer's account."""


class AccountRow(Base, table=True):
    """An organisation (B2B account); ``block`` is its normalised company key and region, ``name_key`` the
    name without a region and ``sound`` how it sounds (how a company without an account of its own block finds
    one of its name, or one that sounds like it)."""

    __tablename__ = "accounts"
    # Looked up by credit code; most accounts have none, so only those with one are indexed.
    __table_args__ = (
        Index(
            "ix_accounts_credit_code",
            "credit_code",
            sqlite_where=text("credit_code != ''"),
            postgresql_where=text("credit_code != ''"),
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    block: str = Field(max_length=300, unique=True)
    name_key: str = Field(default="", max_length=300, index=True)
    sound: str = Field(default="", max_length=300, index=True)
    trade: str = Field(default="", max_length=8, index=True)
    name: str = ""
    credit_code: str = Field(default="", max_length=18)
    region_code: str = Field(default="", max_length=12)
    merged_into: str = Field(default="", max_length=40)
    """The account this one was merged into ("" while it lives): lookups that find it answer with that one."""
    created_at: datetime


class AccountMergeRow(Base, table=True):
    """Two accounts made one because one customer's records named both, with the scorer's evidence."""

    __tablename__ = "account_merges"

    id: str = Field(primary_key=True, max_length=40)
    survivor_id: str = Field(index=True, max_length=40)
    absorbed_id: str = Field(index=True, max_length=40)
    customer_id: str = Field(max_length=40)
    confidence: float
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    moved_customer_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    repointed_account_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Accounts merged into the absorbed one before, pointed at the survivor by this merge."""
    learned: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Fields (credit code, region) the survivor had empty and took from the absorbed account."""
    merged_at: datetime
    unmerged_at: datetime | None = None
    unmerge_reason: str = Field(default="", max_length=500)


class MergeSuggestionRow(Base, table=True):
    """A pair of customers that may be one (review band), with the scorer's evidence."""

    __tablename__ = "merge_suggestions"

    id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(index=True, max_length=40)
    candidate_id: str = Field(index=True, max_length=40)
    confidence: float
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", max_length=12, index=True)
    """open, accepted (merged), rejected (two people: never merged automatically) or superseded."""
    note: str = Field(default="", max_length=500)
    created_at: datetime
    decided_at: datetime | None = None


class MergeRow(Base, table=True):
    """One merge, with the snapshot that lets an unmerge restore both customers."""

    __tablename__ = "merges"

    id: str = Field(primary_key=True, max_length=40)
    survivor_id: str = Field(index=True, max_length=40)
    absorbed_id: str = Field(index=True, max_length=40)
    reason: str = ""
    confidence: float = 1.0
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    merged_at: datetime
    unmerged_at: datetime | None = None


class LeadRow(Base, table=True):
    """A lead opened from a form touchpoint (one per touchpoint)."""

    __tablename__ = "leads"

    id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(max_length=40)  # not indexed: nothing here looks leads up by customer (lead-router does)
    source_event_id: str = Field(max_length=200)
    created_at: datetime
