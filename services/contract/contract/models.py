"""contract's tables: payments received (contracts and plans come with contract's own issue)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Base for contract's own metadata."""


class Payment(Base, table=True):
    """Money received for an order or a contract."""

    __tablename__ = "payments"

    id: str = Field(primary_key=True, max_length=60)
    customer_id: str = Field(index=True, max_length=40)
    order_id: str = Field(default="", index=True, max_length=100)
    amount_fen: int
    fee_fen: int
    net_fen: int
    received_at: datetime
