"""Settings every service shares, read from CRM_* environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What a service needs to run; each service subclasses it with its own defaults.

    The same code runs embedded (Tansu + SQLite) and distributed (Apache Kafka +
    PostgreSQL) by changing ``CRM_KAFKA_BOOTSTRAP`` and ``CRM_DATABASE_URL`` only.
    """

    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    service_name: str = "service"
    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "sqlite:///var/service.db"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Embedded: the in-process relay publishes the outbox. Debezium: the connector does.
    outbox_relay: Literal["embedded", "debezium"] = "embedded"
    event_content_type: Literal["application/protobuf", "application/json"] = "application/protobuf"
    pii_key: str = "embedded-dev-key-change-me"
    consumer_batch_size: int = 500
    # The relay publishes at most this often: each publish adds a record batch per partition
    # it touches, and Tansu's fetch cost grows with the batches it stores (bench/broker_batches.py).
    # 60 s at 500 touchpoints/s: p99 6.4 s with 0 ms (and 5 ms producer linger), 0.74 s with 50 ms.
    outbox_publish_interval_ms: int = 50
    consumer_session_timeout_ms: int = 6000
    # Under steady traffic Tansu answers a waiting fetch when its wait ends, and each fetch
    # costs it 1-2.6 ms of CPU: 20 ms gives ~9 ms delivery but saturates 2 cores at 500
    # touchpoints/s; 50 ms gives ~20 ms delivery and the best end-to-end p99 measured there.
    consumer_fetch_max_wait_ms: int = 50
    # A fetch that skips offsets is read again this often before the gap is accepted (crmkit.gaps:
    # on Tansu a fetch racing a producer can skip a batch still being stored; 0 turns this off).
    consumer_gap_rereads: int = 3
    # Offsets of handled events are committed at most this often (each commit is a broker request).
    consumer_commit_interval_ms: int = 250
    # The event loop (fetching, heartbeats) and the applier and relay threads share the GIL;
    # Python's default 5 ms hand-over made every hop wait behind a busy thread (measured: p99
    # 0.8–1.6 s at 500 touchpoints/s with 5 ms, 0.5–1.0 s with 1 ms).
    gil_switch_interval_s: float = 0.001
    # Fewer, cheaper garbage collections (start-up objects are frozen). lead-router's p99 at 300
    # leads/s (bench/route_stream.py): 369–548 ms in 3 runs before, 135–841 ms (median ~275) in 6
    # after: the runs spread widely, so the gain is likely but not proven.
    gc_gen0_threshold: int = 50_000
    handler_max_attempts: int = 3
    handler_backoff_s: float = 0.05
    breaker_window: int = 50
    breaker_min_events: int = 20
    breaker_failure_ratio: float = 0.5
    stall_after_s: float = 30.0
    log_level: str = "INFO"
