"""customer-master's REST API for frontends: customers, accounts, merge review, data quality."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from crmkit.db import Database
from crmkit.search import open_search_index
from crmkit.timeutil import utcnow
from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

from customer_master import account_merging, merging, views
from customer_master.settings import Settings
from customer_master.writer import transaction


class MergeRequest(BaseModel):
    """A reviewer's merge: ``absorbed_id`` lives on as ``survivor_id``."""

    survivor_id: str = Field(min_length=1, max_length=40)
    absorbed_id: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=500)


class RejectRequest(BaseModel):
    """Why a suggested pair are not one customer."""

    reason: str = Field(min_length=1, max_length=500)


class UnmergeRequest(BaseModel):
    """Why a merge is undone."""

    reason: str = Field(default="manual unmerge", min_length=1, max_length=500)


def create_app(*, settings: Settings, db: Database) -> FastAPI:
    """The FastAPI app: customers, accounts, merges, data quality, search, stats (plus /health and /metrics)."""
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
        """Golden record, per-field provenance and source records (or, if absorbed, the survivor)."""
        with db.session() as session:
            return _found(views.customer_detail(session=session, customer_id=customer_id), f"customer {customer_id}")

    @app.get("/accounts/{account_id}")
    def get_account(account_id: str) -> dict[str, Any]:
        """One account (organisation), its customers and its account merges; an absorbed one names its survivor."""
        with db.session() as session:
            return _found(views.account_detail(session=session, account_id=account_id), f"account {account_id}")

    @app.get("/merge-suggestions")
    def list_suggestions(
        status: Literal["open", "accepted", "rejected", "superseded"] = "open",
        limit: int = Query(100, ge=1, le=1000),
    ) -> dict[str, Any]:
        """Merge suggestions (review band) with a status, most confident first."""
        with db.session() as session:
            return {"status": status, "suggestions": views.suggestions(session=session, status=status, limit=limit)}

    @app.post("/merge-suggestions/{suggestion_id}/reject")
    def reject(suggestion_id: str, request: RejectRequest) -> dict[str, Any]:
        """A reviewer says the pair are two people: the suggestion closes and is not raised again."""
        with _errors(), transaction(db) as (connection, _outbox):
            merging.reject_suggestion(
                connection=connection, suggestion_id=suggestion_id, reason=request.reason, now=utcnow()
            )
        return {"suggestion_id": suggestion_id, "status": "rejected"}

    @app.post("/customers/merge")
    def merge(request: MergeRequest) -> dict[str, Any]:
        """Merge two customers (the survivor keeps its id); emits crm.customer.merged."""
        with _errors(), transaction(db) as (connection, outbox):
            merge_id = merging.merge_customers(
                connection=connection,
                outbox=outbox,
                survivor_id=request.survivor_id,
                absorbed_id=request.absorbed_id,
                reason=request.reason,
                now=utcnow(),
            )
        return {"merge_id": merge_id, "survivor_id": request.survivor_id, "absorbed_id": request.absorbed_id}

    @app.post("/merges/{merge_id}/unmerge")
    def unmerge(merge_id: str, request: UnmergeRequest | None = None) -> dict[str, Any]:
        """Undo a merge: both customers come back as they were; emits crm.customer.unmerged."""
        reason = (request or UnmergeRequest()).reason
        with _errors(), transaction(db) as (connection, outbox):
            merging.unmerge(connection=connection, outbox=outbox, merge_id=merge_id, reason=reason, now=utcnow())
        return {"merge_id": merge_id, "unmerged": True}

    @app.post("/account-merges/{merge_id}/unmerge")
    def unmerge_accounts(merge_id: str, request: UnmergeRequest | None = None) -> dict[str, Any]:
        """Undo an account merge (e.g. two firms of one name): the absorbed account and its customers come back,
        and the pair is never merged automatically again; emits crm.customer.account_unmerged."""
        reason = (request or UnmergeRequest()).reason
        with _errors(), transaction(db) as (connection, outbox):
            account_merging.unmerge_accounts(
                connection=connection, outbox=outbox, merge_id=merge_id, reason=reason, now=utcnow()
            )
        return {"merge_id": merge_id, "unmerged": True}

    @app.get("/data-quality")
    def data_quality() -> dict[str, Any]:
        """Completeness per field, duplicate rate and 72 h freshness against the red lines."""
        with db.session() as session:
            return views.data_quality(session=session)

    @app.get("/stats")
    def get_stats() -> dict[str, int]:
        """Counts of customers, identity keys, leads, source records, accounts and merges."""
        with db.session() as session:
            return views.stats(session=session)

    return app


def _found(body: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if body is None:
        raise HTTPException(status_code=404, detail=f"no {what}")
    return body


@contextmanager
def _errors() -> Iterator[None]:
    """Map the merge layer's errors to HTTP: unknown → 404, conflicting state → 409, bad pair → 422."""
    try:
        yield
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except merging.MergeConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
