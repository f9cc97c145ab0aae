"""behavior-scoring settings (CRM_* environment variables)."""

from pathlib import Path

from crmkit.settings import ServiceSettings


class Settings(ServiceSettings):
    """behavior-scoring's settings."""

    service_name: str = "behavior-scoring"
    database_url: str = "sqlite:///var/behavior-scoring.db"
    http_port: int = 8002
    scoring_rules_file: Path | None = None
    """Rules YAML (default: the shipped rules/default.yaml)."""
    scoring_timer_check_seconds: float = 1.0
    """How often the timer loop looks for expiries and absence rules due."""
    scoring_prune_every_seconds: float = 600.0
    """How often behaviour no rule can read any more is dropped from the stored state."""
