"""``python -m lead_router``: run the lead-router process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from crmkit.db import Database
from crmkit.runner import ServiceProcess, run
from crmkit.timeutil import utcnow
from sqlmodel import func, select

from lead_router import metrics, timers
from lead_router.api import create_app
from lead_router.consumers import merge_subscription, org_subscription, subscription
from lead_router.domain import impute
from lead_router.files import read_roster, read_rules
from lead_router.models import Base, Lead, RosterOverride
from lead_router.runtime import Runtime
from lead_router.settings import Settings
from lead_router.writer import Writer

log = logging.getLogger("lead_router")


def _runtime(settings: Settings, db: Database) -> Runtime:
    """Rules and roster from their files, with the stored roster overrides applied."""
    roster = read_roster(settings.roster_file) if settings.roster_file else None
    loaded = read_rules(settings.routing_file, roster=roster, today=utcnow().date())
    for warning in loaded.warnings:
        log.warning("routing rules: %s", warning.render(str(settings.routing_file)))
    runtime = Runtime.of(loaded)
    db.create_all()
    with db.session() as session:
        runtime.apply_overrides([dict(row.data) for row in session.exec(select(RosterOverride)).all()])
    return runtime


def build() -> ServiceProcess:
    """Wire settings, rules and roster, database, API, consumer and the SLA timer loop."""
    settings = Settings()
    db = Database(settings.database_url, Base.metadata)
    runtime = _runtime(settings, db)
    process: ServiceProcess | None = None
    writer = Writer(
        db=db,
        source=f"/{settings.service_name}",
        content_type=settings.event_content_type,
        wake=lambda: process.wake_relay() if process else None,
    )

    def fire_once() -> int:
        """Fire due SLA timers in one transaction; refresh the pool-size gauge."""
        with writer.transaction() as (session, outbox):
            fired = timers.fire_due(
                session=session, outbox=outbox, runtime=runtime, now=utcnow(), channel=settings.notify_channel
            )
            pooled = session.exec(select(func.count()).select_from(Lead).where(Lead.status == "pooled")).one()
        metrics.POOL_SIZE.set(pooled)
        return fired

    async def timer_loop(stop: asyncio.Event) -> None:
        """Until stopped: fire what is due, then sleep ``sla_check_seconds``."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(fire_once)
            except Exception:  # a bad batch is retried next round; the timers stay due
                log.exception("firing SLA timers failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.sla_check_seconds)

    async def warm_geocoder(stop: asyncio.Event) -> None:
        """Load the phone geocoder (≈0.8 s, ≈100 MB) beside start-up, not inside the first phone lead's batch.

        Then wait for the stop: the runner stops the process when a background task returns.
        """
        await asyncio.to_thread(impute.warm_up)
        await stop.wait()

    process = ServiceProcess(
        settings=settings,
        db=db,
        app=create_app(db=db, runtime=runtime, writer=writer, channel=settings.notify_channel),
        subscriptions=[
            subscription(config=runtime, channel=settings.notify_channel),
            merge_subscription(),
            org_subscription(config=runtime, channel=settings.notify_channel),
        ],
        background=[timer_loop, *([warm_geocoder] if settings.warm_geocoder else [])],
    )
    return process


if __name__ == "__main__":
    run(build)
