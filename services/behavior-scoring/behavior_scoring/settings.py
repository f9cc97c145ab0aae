"""behavior-scoring settings (CRM_* environment variables)."""

from crmkit.settings import ServiceSettings


class Settings(ServiceSettings):
    """behavior-scoring's settings."""

    service_name: str = "behavior-scoring"
    database_url: str = "sqlite:///var/behavior-scoring.db"
    http_port: int = 8002
