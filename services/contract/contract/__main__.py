"""``python -m contract``: run the contract process."""

from crmkit.db import Database
from crmkit.runner import ServiceProcess, run

from contract.api import create_app
from contract.consumers import subscription
from contract.models import Base
from contract.settings import Settings


def build() -> ServiceProcess:
    """Wire settings, database, API and consumer."""
    settings = Settings()
    db = Database(settings.database_url, Base.metadata)
    return ServiceProcess(settings=settings, db=db, app=create_app(db=db), subscriptions=[subscription()])


if __name__ == "__main__":
    run(build)
