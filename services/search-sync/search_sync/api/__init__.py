"""search-sync's REST API."""

from __future__ import annotations

from crmkit.search import SearchIndex
from fastapi import FastAPI


def create_app(*, index: SearchIndex) -> FastAPI:
    """Index figures (plus /health and /metrics from the runner)."""
    app = FastAPI(title="search-sync", version="1")

    @app.get("/stats")
    def get_stats() -> dict[str, int]:
        """Documents in the customer view."""
        return {"customers_indexed": index.count("customer")}

    return app
