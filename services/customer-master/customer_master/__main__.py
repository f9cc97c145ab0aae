"""``python -m customer_master``: run the customer-master process."""

from crmkit.runner import ServiceProcess, run

from customer_master.api import create_app
from customer_master.consumers import subscription
from customer_master.domain import load_pinyin_tables
from customer_master.settings import Settings
from customer_master.storage import open_database


def build() -> ServiceProcess:
    """Wire settings, database, API and consumer."""
    settings = Settings()
    load_pinyin_tables()
    db = open_database(settings.database_url)
    return ServiceProcess(
        settings=settings, db=db, app=create_app(settings=settings, db=db), subscriptions=[subscription()]
    )


if __name__ == "__main__":
    run(build)
