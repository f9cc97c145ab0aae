"""customer-master's tables: customers, their identity keys, and the leads it opened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Base for customer-master's own metadata (database per service)."""


class Customer(Base, table=True):
    """The golden record of one customer."""

    __tablename__ = "customers"

    id: str = Field(primary_key=True, max_length=40)
    name: str = ""
    phone_e164: str = ""
    email: str = ""
    company: str = ""
    region_code: str = ""
    industry: str = ""
    junk: bool = False
    version: int = 1
    created_at: datetime
    updated_at: datetime


class IdentityKeyRow(Base, table=True):
    """An exact key bound to one customer; the unique index makes resolution race-free."""

    __tablename__ = "identity_keys"

    kind: str = Field(primary_key=True, max_length=40)
    value: str = Field(primary_key=True, max_length=200, index=True)
    customer_id: str = Field(index=True, max_length=40)
    created_at: datetime


class LeadRow(Base, table=True):
    """A lead opened from a form touchpoint (one per touchpoint)."""

    __tablename__ = "leads"

    id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(index=True, max_length=40)
    source_event_id: str = Field(max_length=200)
    created_at: datetime
