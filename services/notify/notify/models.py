"""notify's tables: one row per notification with its delivery status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Base for notify's own metadata."""


class Notification(Base, table=True):
    """A requested notification and what became of it."""

    __tablename__ = "notifications"

    id: str = Field(primary_key=True, max_length=60)
    channel: str = Field(max_length=40)
    recipient: str = Field(max_length=200)
    template: str = Field(max_length=100)
    subject_id: str = Field(default="", max_length=100)
    text: str = ""
    status: str = Field(index=True, max_length=20)  # delivered | failed
    detail: str = ""
    delivered_at: datetime
