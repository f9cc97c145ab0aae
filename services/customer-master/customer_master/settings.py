"""customer-master settings (CRM_* environment variables)."""

from crmkit.settings import ServiceSettings


class Settings(ServiceSettings):
    """customer-master's settings."""

    service_name: str = "customer-master"
    database_url: str = "sqlite:///var/customer-master.db"
    http_port: int = 8001
    # The search view that search-sync keeps (SQLite bigram index embedded, OpenSearch in production).
    search_url: str = "sqlite:///var/search/customers.db"
    # Resolution allocates ~10x more young objects per event than the other services: at 50,000 a
    # young collection paused the consumer 10-12 ms (5 in 10 s at 3,000 touchpoints/s), at 10,000
    # 1.8 ms on average, 3 ms at most (31 in 10 s), for the same total time collecting.
    gc_gen0_threshold: int = 10_000
