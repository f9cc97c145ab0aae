"""search-sync settings (CRM_* environment variables)."""

from crmkit.settings import ServiceSettings


class Settings(ServiceSettings):
    """search-sync's settings."""

    service_name: str = "search-sync"
    database_url: str = "sqlite:///var/search-sync.db"
    http_port: int = 8006
    search_url: str = "sqlite:///var/search/customers.db"
