"""lead-router's REST API."""

from __future__ import annotations

from typing import Any

from crmkit.db import Database
from fastapi import FastAPI, HTTPException

from lead_router import service


def create_app(*, db: Database) -> FastAPI:
    """Lead traces and stats (plus /health and /metrics from the runner)."""
    app = FastAPI(title="lead-router", version="1")

    @app.get("/leads/{lead_id}/trace")
    def get_trace(lead_id: str) -> dict[str, Any]:
        """Why a lead went where it went."""
        with db.session() as session:
            trace = service.lead_trace(session=session, lead_id=lead_id)
        if trace is None:
            raise HTTPException(status_code=404, detail=f"no lead {lead_id}")
        return trace

    @app.get("/stats")
    def get_stats() -> dict[str, int]:
        """Leads assigned and pooled."""
        with db.session() as session:
            return service.stats(session=session)

    return app
