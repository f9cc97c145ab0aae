"""``python -m behavior_scoring``: run the behavior-scoring process."""

from __future__ import annotations

import asyncio

from crmkit.db import Database
from crmkit.runner import ServiceProcess, run

from behavior_scoring.api import create_app
from behavior_scoring.consumers import subscription
from behavior_scoring.domain.rulesfile import load_rules
from behavior_scoring.live import LiveScoring
from behavior_scoring.models import Base
from behavior_scoring.settings import Settings
from behavior_scoring.timers import TimerLoop


def build() -> ServiceProcess:
    """Wire settings, rules, database, engine, API, consumer and the timer loop."""
    settings = Settings()
    rules = load_rules(settings.scoring_rules_file)
    db = Database(settings.database_url, Base.metadata)
    live = LiveScoring(rules)
    process: ServiceProcess | None = None
    timers = TimerLoop(
        live=live,
        db=db,
        source=f"/{settings.service_name}",
        content_type=settings.event_content_type,
        wake=lambda: process.wake_relay() if process else None,
        prune_every_s=settings.scoring_prune_every_seconds,
    )

    async def timer_loop(stop: asyncio.Event) -> None:
        await timers.run(stop, every_s=settings.scoring_timer_check_seconds)

    process = ServiceProcess(
        settings=settings,
        db=db,
        app=create_app(db=db, rules=rules),
        subscriptions=[subscription(live)],
        background=[timer_loop],
    )
    return process


if __name__ == "__main__":
    run(build)
