"""behavior-scoring's REST API (plus /health and /metrics from the runner)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from crmkit.db import Database
from crmkit.timeutil import utcnow
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from behavior_scoring import service
from behavior_scoring.domain.instants import to_instant
from behavior_scoring.domain.ruleset import RuleSet
from behavior_scoring.domain.rulesfile import RulesError


def create_app(*, db: Database, rules: RuleSet | None = None, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """Scores, pool members, rules validation and stats."""
    app = FastAPI(title="behavior-scoring", version="1")

    @app.get("/customers/{customer_id}/score")
    def get_score(customer_id: str) -> dict[str, Any]:
        """Score, risk tier, pools and present tags with weight, set_at, expires_at and the events behind each."""
        with db.engine.connect() as connection:
            return service.customer_score(connection=connection, customer_id=customer_id, at=to_instant(clock()))

    @app.get("/pools/{name}/members")
    def get_pool_members(
        name: str,
        since: str | None = Query(None, description="only members who joined at or after this ISO-8601 time"),
        after: str | None = Query(None, description="the `next` cursor of the previous page"),
        limit: int = Query(100, ge=1, le=1000),
    ) -> dict[str, Any]:
        """Customers in a strategy pool now, oldest membership first, paged."""
        if rules is not None and name not in rules.pools:
            raise HTTPException(404, f"unknown pool {name!r} (known: {', '.join(sorted(rules.pools))})")
        try:
            start = service.parse_time(since) if since else None
            with db.engine.connect() as connection:
                return service.pool_members(
                    connection=connection, pool=name, at=to_instant(clock()), since=start, after=after, limit=limit
                )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    @app.post("/rules/validate")
    async def validate_rules(request: Request) -> JSONResponse:
        """Check rules YAML (the request body): 200 with warnings, or 422 naming the line of the first error."""
        body = await request.body()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return JSONResponse({"ok": False, "error": "the body is not UTF-8 text", "line": 0}, status_code=422)
        try:
            return JSONResponse(service.validate_rules(text))
        except RulesError as exc:
            return JSONResponse({"ok": False, "error": str(exc), "line": exc.line}, status_code=422)

    @app.get("/stats")
    def get_stats() -> dict[str, Any]:
        """Behaviours recorded (one per touchpoint), customers, pool sizes, engine counters."""
        with db.engine.connect() as connection:
            return service.stats(connection=connection)

    return app
