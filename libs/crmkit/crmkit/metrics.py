"""Prometheus metrics every service exposes on /metrics. No label ever holds personal data."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_HANDLED = Counter("crm_events_handled", "Events applied by a handler", ["service", "topic"])
EVENTS_DUPLICATE = Counter("crm_events_duplicate", "Redelivered events skipped by the ledger", ["service", "topic"])
EVENTS_IGNORED = Counter("crm_events_ignored", "Events of types this service does not handle", ["service", "topic"])
EVENTS_FAILED = Counter("crm_events_failed", "Handler attempts that raised", ["service", "topic"])
EVENTS_DEAD_LETTERED = Counter("crm_events_dead_lettered", "Events sent to the DLQ", ["service", "topic"])
HANDLER_SECONDS = Histogram(
    "crm_handler_seconds",
    "Time to apply one batch of events in one transaction",
    ["service", "topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CONSUMER_LAG = Gauge("crm_consumer_lag", "High watermark minus committed offset", ["service", "topic", "partition"])
OFFSET_GAPS = Counter(
    "crm_consumer_offset_gaps",
    "Fetches that skipped offsets: read again, or accepted after the last re-read",
    ["service", "outcome"],
)
LAST_COMMIT = Gauge("crm_consumer_last_commit_timestamp_seconds", "When offsets were last committed", ["service"])
BREAKER_OPEN = Gauge("crm_breaker_open", "1 while the failure breaker has halted the consumer", ["service"])
OUTBOX_PENDING = Gauge("crm_outbox_pending", "Outbox rows fetched but not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("crm_outbox_published", "Outbox rows published", ["service"])
