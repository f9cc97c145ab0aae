"""notify's REST API."""

from __future__ import annotations

from typing import Any

from crmkit.db import Database
from fastapi import FastAPI, HTTPException

from notify import service
from notify.models import Notification


def create_app(*, db: Database) -> FastAPI:
    """Delivery status and stats (plus /health and /metrics from the runner)."""
    app = FastAPI(title="notify", version="1")

    @app.get("/notifications/{notification_id}")
    def get_notification(notification_id: str) -> dict[str, Any]:
        """One notification and its delivery status."""
        with db.session() as session:
            row = session.get(Notification, notification_id)
        if row is None:
            raise HTTPException(status_code=404, detail=f"no notification {notification_id}")
        return row.model_dump(mode="json")

    @app.get("/stats")
    def get_stats() -> dict[str, int]:
        """Notifications by status."""
        with db.session() as session:
            return service.stats(session=session)

    return app
