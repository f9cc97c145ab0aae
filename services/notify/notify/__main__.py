"""``python -m notify``: run the notify process."""

from crmkit.db import Database
from crmkit.runner import ServiceProcess, run

from notify.api import create_app
from notify.channels import Channel, ConsoleChannel, FileChannel
from notify.consumers import subscription
from notify.models import Base
from notify.settings import Settings


def build() -> ServiceProcess:
    """Wire settings, channels, database, API and consumer."""
    settings = Settings()
    db = Database(settings.database_url, Base.metadata)
    channels: dict[str, Channel] = {"file": FileChannel(settings.notify_file), "console": ConsoleChannel()}
    return ServiceProcess(
        settings=settings, db=db, app=create_app(db=db), subscriptions=[subscription(channels=channels)]
    )


if __name__ == "__main__":
    run(build)
