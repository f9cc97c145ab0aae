"""``python -m customer_master``: run the customer-master process."""

from crmkit.db import Database
from crmkit.runner import ServiceProcess, run

from customer_master.api import create_app
from customer_master.consumers import subscription
from customer_master.models import Base
from customer_master.settings import Settings


def build() -> ServiceProcess:
    """Wire settings, database, API and consumer."""
    settings = Settings()
    db = Database(settings.database_url, Base.metadata)
    return ServiceProcess(
        settings=settings, db=db, app=create_app(settings=settings, db=db), subscriptions=[subscription()]
    )


if __name__ == "__main__":
    run(build)
