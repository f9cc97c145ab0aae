"""contract's REST API."""

from __future__ import annotations

from crmkit.db import Database
from fastapi import FastAPI

from contract import service


def create_app(*, db: Database) -> FastAPI:
    """Payment figures (plus /health and /metrics from the runner)."""
    app = FastAPI(title="contract", version="1")

    @app.get("/stats")
    def get_stats() -> dict[str, int]:
        """Payments received and their net total."""
        with db.session() as session:
            return service.stats(session=session)

    return app
