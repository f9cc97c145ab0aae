"""contract settings (CRM_* environment variables)."""

from crmkit.settings import ServiceSettings


class Settings(ServiceSettings):
    """contract's settings."""

    service_name: str = "contract"
    database_url: str = "sqlite:///var/contract.db"
    http_port: int = 8004
