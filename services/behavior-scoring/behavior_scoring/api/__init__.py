"""behavior-scoring's REST API."""

from __future__ import annotations

from typing import Any

from crmkit.db import Database
from crmkit.timeutil import utcnow
from fastapi import FastAPI

from behavior_scoring import service


def create_app(*, db: Database) -> FastAPI:
    """Scores and stats (plus /health and /metrics from the runner)."""
    app = FastAPI(title="behavior-scoring", version="1")

    @app.get("/customers/{customer_id}/score")
    def get_score(customer_id: str) -> dict[str, Any]:
        """Score, tier and present tags with their expiry and evidence."""
        with db.session() as session:
            return service.customer_score(session=session, customer_id=customer_id, at=utcnow())

    @app.get("/stats")
    def get_stats() -> dict[str, int]:
        """Counts of behaviours and tags."""
        with db.session() as session:
            return service.stats(session=session)

    return app
