"""behavior-scoring's tables: behaviour kept for recomputation, and tags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Base for behavior-scoring's own metadata."""


class Behaviour(Base, table=True):
    """One behaviour event of a customer, in event time."""

    __tablename__ = "behaviours"

    event_id: str = Field(primary_key=True, max_length=200)
    customer_id: str = Field(index=True, max_length=40)
    type: str = Field(max_length=100)
    category: str = Field(default="", max_length=100)
    occurred_at: datetime = Field(index=True)


class Tag(Base, table=True):
    """A present-or-absent tag on a customer with its expiry and evidence."""

    __tablename__ = "tags"

    customer_id: str = Field(primary_key=True, max_length=40)
    tag: str = Field(primary_key=True, max_length=100)
    weight: int
    set_at: datetime
    expires_at: datetime
    because: str = ""  # comma-separated event ids
