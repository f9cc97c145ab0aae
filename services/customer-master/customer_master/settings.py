"""customer-master settings (CRM_* environment variables)."""

from crmkit.settings import ServiceSettings


class Settings(ServiceSettings):
    """customer-master's settings."""

    service_name: str = "customer-master"
    database_url: str = "sqlite:///var/customer-master.db"
    http_port: int = 8001
    # The search view that search-sync keeps (SQLite bigram index embedded, OpenSearch in production).
    search_url: str = "sqlite:///var/search/customers.db"
