"""lead-router settings (CRM_* environment variables)."""

from pathlib import Path

from crmkit.settings import ServiceSettings

DEFAULT_ROUTING = Path(__file__).with_name("routing.default.yaml")


class Settings(ServiceSettings):
    """lead-router's settings."""

    service_name: str = "lead-router"
    database_url: str = "sqlite:///var/lead-router.db"
    http_port: int = 8003
    routing_file: Path = DEFAULT_ROUTING
    notify_channel: str = "file"
