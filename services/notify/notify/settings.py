"""notify settings (CRM_* environment variables)."""

from pathlib import Path

from crmkit.settings import ServiceSettings


class Settings(ServiceSettings):
    """notify's settings."""

    service_name: str = "notify"
    database_url: str = "sqlite:///var/notify.db"
    http_port: int = 8005
    # The embedded "file" channel appends one JSON line per delivery here.
    notify_file: Path = Path("var/notify/deliveries.jsonl")
