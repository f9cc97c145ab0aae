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
    roster_file: Path | None = None  # JSON roster; default: the teams and reps in the routing file
    notify_channel: str = "file"
    sla_check_seconds: float = 5.0  # how often due SLA timers are looked for
