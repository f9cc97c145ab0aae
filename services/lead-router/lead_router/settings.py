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
    # lead.created may carry a phone (field 12): load phonenumbers' geocoder at start-up (≈0.8 s,
    # ≈100 MB) so the first such lead's batch does not wait for it; off: loaded on first use.
    warm_geocoder: bool = True
    # Issue 4's budget (p99 ≤ 100 ms lead.created → decision) wants a shorter cycle than the
    # shared 50 ms fetch wait + 50 ms publish interval: CRM_CONSUMER_FETCH_MAX_WAIT_MS=20 and
    # CRM_OUTBOX_PUBLISH_INTERVAL_MS=10 measured 98–114 ms p99 in quiet 30 s runs (README). They
    # are not the default: more fetches and record batches make the embedded broker's cost grow
    # faster (README, "The embedded broker slows as its log grows"), which the whole stack pays.
