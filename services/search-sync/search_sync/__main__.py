"""``python -m search_sync``: run the search-sync process."""

from crmkit.db import Database
from crmkit.runner import ServiceProcess, run
from crmkit.search import open_search_index

from search_sync.api import create_app
from search_sync.consumers import subscription
from search_sync.models import Base
from search_sync.settings import Settings


def build() -> ServiceProcess:
    """Wire settings, search index, database, API and consumer."""
    settings = Settings()
    index = open_search_index(settings.search_url)
    db = Database(settings.database_url, Base.metadata)
    return ServiceProcess(
        settings=settings, db=db, app=create_app(index=index), subscriptions=[subscription(index=index)]
    )


if __name__ == "__main__":
    run(build)
