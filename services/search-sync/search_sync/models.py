"""search-sync keeps no state of its own beyond the ledger and outbox crmkit adds."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """Base for search-sync's own metadata (ledger and outbox only)."""
