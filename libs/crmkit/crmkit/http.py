"""The HTTP surface every service shares: /health (progress, not liveness) and /metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

HealthProvider = Callable[[], dict[str, Any]]


def add_ops_routes(app: FastAPI, *, service: str, health: Callable[[], list[dict[str, Any]]]) -> None:
    """Mount ``GET /health`` (503 when a consumer is halted or stalled) and ``GET /metrics``."""

    @app.get("/health", tags=["ops"])
    def get_health() -> JSONResponse:
        parts = health()
        ok = all(part.get("ok", False) for part in parts)
        return JSONResponse({"service": service, "ok": ok, "components": parts}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"])
    def get_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
