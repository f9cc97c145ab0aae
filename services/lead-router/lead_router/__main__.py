"""``python -m lead_router``: run the lead-router process."""

from crmkit.db import Database
from crmkit.runner import ServiceProcess, run

from lead_router.api import create_app
from lead_router.consumers import subscription
from lead_router.domain.routing import load_routing
from lead_router.models import Base
from lead_router.settings import Settings


def build() -> ServiceProcess:
    """Wire settings, routing file, database, API and consumer."""
    settings = Settings()
    config = load_routing(settings.routing_file)
    db = Database(settings.database_url, Base.metadata)
    return ServiceProcess(
        settings=settings,
        db=db,
        app=create_app(db=db),
        subscriptions=[subscription(config=config, channel=settings.notify_channel)],
    )


if __name__ == "__main__":
    run(build)
