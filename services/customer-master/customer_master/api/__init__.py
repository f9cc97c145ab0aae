"""customer-master's REST API for frontends."""

from __future__ import annotations

from typing import Any

from crmkit.db import Database
from crmkit.search import open_search_index
from fastapi import FastAPI, HTTPException, Query

from customer_master import service
from customer_master.settings import Settings


def create_app(*, settings: Settings, db: Database) -> FastAPI:
    """The FastAPI app: customers, search, stats (plus /health and /metrics from the runner)."""
    app = FastAPI(title="customer-master", version="1")
    search_index = open_search_index(settings.search_url)  # one connection for the app, not one per request

    @app.get("/customers/search")
    def search_customers(
        q: str = Query(min_length=1, max_length=200), limit: int = Query(20, ge=1, le=100)
    ) -> dict[str, Any]:
        """Search the customer view kept by search-sync ('张 上海 骨科' style, 1–2-gram)."""
        try:
            hits = search_index.search(q, kind="customer", limit=limit)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return {"query": q, "hits": [{"customer_id": h.doc_id, "score": h.score, **h.fields} for h in hits]}

    @app.get("/customers/{customer_id}")
    def get_customer(customer_id: str) -> dict[str, Any]:
        """One customer's golden record."""
        with db.session() as session:
            customer = service.get_customer(session=session, customer_id=customer_id)
            if customer is None:
                raise HTTPException(status_code=404, detail=f"no customer {customer_id}")
            return customer.model_dump(mode="json")

    @app.get("/stats")
    def get_stats() -> dict[str, int]:
        """Counts of customers, identity keys and leads."""
        with db.session() as session:
            return service.stats(session=session)

    return app
