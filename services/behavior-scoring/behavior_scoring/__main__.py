"""``python -m behavior_scoring``: run the behavior-scoring process."""

from crmkit.db import Database
from crmkit.runner import ServiceProcess, run

from behavior_scoring.api import create_app
from behavior_scoring.consumers import subscription
from behavior_scoring.models import Base
from behavior_scoring.settings import Settings


def build() -> ServiceProcess:
    """Wire settings, database, API and consumer."""
    settings = Settings()
    db = Database(settings.database_url, Base.metadata)
    return ServiceProcess(settings=settings, db=db, app=create_app(db=db), subscriptions=[subscription()])


if __name__ == "__main__":
    run(build)
