"""Round trips against the real infrastructure images of deploy/docker-compose.yml.

testcontainers starts Apache Kafka (the `apache/kafka` image, KRaft) and
OpenSearch (single node, security plugin off, as in the compose file) and
checks:

* Kafka: an outbox-shaped record (key = aggregateid, value = payload bytes,
  the CloudEvents headers the relay/Debezium set) survives produce -> consume
  byte for byte and lands on the partition Java clients (hence Kafka Connect /
  Debezium) would choose for that key;
* OpenSearch: a document indexed into a `customers` index is found by a query.

These need a Docker *engine*. This machine has only the docker client, so the
whole module is skipped, quickly, with the reason reported by the engine probe.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

KAFKA_IMAGE = "apache/kafka:3.9.0"  # same pins as deploy/docker-compose.yml
OPENSEARCH_IMAGE = "opensearchproject/opensearch:2.18.0"
ENGINE_PROBE_TIMEOUT_S = 1.5


def _engine_error_via_cli() -> str | None:
    """Ask the docker CLI client (used when the docker SDK is not installed)."""
    cli = shutil.which("docker")
    if cli is None:
        return "neither the docker SDK nor the docker CLI is installed"
    try:
        result = subprocess.run(
            [cli, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=ENGINE_PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`docker info` did not answer within {ENGINE_PROBE_TIMEOUT_S}s"
    if result.returncode != 0:
        return (result.stderr or result.stdout).strip() or f"`docker info` exited {result.returncode}"
    return None


def docker_engine_error() -> str | None:
    """Why no Docker engine answers, or None when one does. Bounded by ~1.5 s."""
    try:
        import docker
    except ImportError:
        return _engine_error_via_cli()
    try:
        client = docker.from_env(timeout=ENGINE_PROBE_TIMEOUT_S)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - whatever stops us reaching the engine means "no engine"
        return f"{type(exc).__name__}: {exc}"
    return None


_ENGINE_ERROR = docker_engine_error()
if _ENGINE_ERROR is not None:
    pytest.skip(f"no Docker engine: {_ENGINE_ERROR}", allow_module_level=True)

# Only reached with a working engine.
import httpx  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402
from aiokafka.partitioner import murmur2  # noqa: E402
from testcontainers.core.container import DockerContainer  # noqa: E402
from testcontainers.core.wait_strategies import HttpWaitStrategy, LogMessageWaitStrategy  # noqa: E402

pytestmark = pytest.mark.docker

_ADVERTISED_FILE = "/tmp/tc-advertised-listeners"


# ---------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kafka_bootstrap() -> Iterator[str]:
    """A single-node KRaft broker from the apache/kafka image; yields host:port.

    The broker must advertise the host-mapped port, which is known only after
    the container started; so the container waits for a file carrying the
    advertised listeners and hands it to the image's launcher (`run` accepts
    KEY=VALUE arguments as environment overrides).
    """
    container = (
        DockerContainer(KAFKA_IMAGE)
        .with_env("CLUSTER_ID", "vR8axpz9RResH7pEHppbRQ")
        .with_env("KAFKA_NODE_ID", "1")
        .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
        .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
        .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
        .with_env("KAFKA_LISTENERS", "PLAINTEXT://:19092,CONTROLLER://:9093,PLAINTEXT_HOST://:9092")
        .with_env(
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
        )
        .with_env("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        .with_exposed_ports(9092)
        .with_command(
            [
                "bash",
                "-c",
                f"while [ ! -s {_ADVERTISED_FILE} ]; do sleep 0.1; done; "
                f'exec /etc/kafka/docker/run "KAFKA_ADVERTISED_LISTENERS=$(cat {_ADVERTISED_FILE})"',
            ]
        )
    )
    container.start()
    try:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(9092)
        advertised = f"PLAINTEXT://localhost:19092,PLAINTEXT_HOST://{host}:{port}\n"
        container.copy_into_container(advertised.encode(), _ADVERTISED_FILE)
        LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(120).wait_until_ready(container)
        yield f"{host}:{port}"
    finally:
        container.stop()


async def _create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


def _java_partition(key: bytes, partitions: int) -> int:
    """Kafka's Java default for keyed records: toPositive(murmur2(key)) % n (what Kafka Connect uses)."""
    return (int(murmur2(key)) & 0x7FFFFFFF) % partitions


async def test_kafka_outbox_record_round_trip(kafka_bootstrap: str) -> None:
    topic = f"crm.test.{uuid.uuid4().hex[:8]}.v1"
    partitions = 6
    await _create_topic(kafka_bootstrap, topic, partitions)

    event_id = str(uuid.uuid4())
    key = b"customer-0001"
    payload = bytes(range(256))  # protobuf payloads are arbitrary bytes
    headers = [
        ("id", event_id.encode()),
        ("ce_id", event_id.encode()),
        ("ce_type", b"crm.customer.resolved"),
        ("ce_source", b"crm/customer-master"),
        ("ce_time", b"2025-01-01T00:00:00Z"),
        ("ce_specversion", b"1.0"),
        ("content-type", b"application/protobuf"),
        ("ce_correlationid", b"corr-1"),
    ]

    # Produced like crmkit's embedded relay (aiokafka, acks=all).
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        metadata = await producer.send_and_wait(topic, key=key, value=payload, headers=headers)
    finally:
        await producer.stop()
    assert metadata.partition == _java_partition(key, partitions)

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        records: list[Any] = []
        while not records and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            records = [record for batch in batches.values() for record in batch]
    finally:
        await consumer.stop()

    assert len(records) == 1, "expected exactly the one produced record"
    record = records[0]
    assert record.key == key
    assert record.value == payload
    assert record.partition == metadata.partition
    assert list(record.headers) == headers


# ---------------------------------------------------------------------------
# OpenSearch
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def opensearch_url() -> Iterator[str]:
    """A single-node OpenSearch with the security plugin disabled (as in compose)."""
    container = (
        DockerContainer(OPENSEARCH_IMAGE)
        .with_env("discovery.type", "single-node")
        .with_env("DISABLE_SECURITY_PLUGIN", "true")
        .with_env("DISABLE_INSTALL_DEMO_CONFIG", "true")
        .with_env("OPENSEARCH_JAVA_OPTS", "-Xms512m -Xmx512m")
        .with_exposed_ports(9200)
        .waiting_for(
            HttpWaitStrategy(9200, "/_cluster/health?wait_for_status=yellow&timeout=5s")
            .for_status_code(200)
            .with_startup_timeout(180)
        )
    )
    container.start()
    try:
        yield f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9200)}"
    finally:
        container.stop()


def test_opensearch_index_query_round_trip(opensearch_url: str) -> None:
    index = f"customers-{uuid.uuid4().hex[:8]}"
    doc = {"name": "张伟", "company": "上海市第六人民医院", "phone_hash": "a1b2c3"}
    with httpx.Client(base_url=opensearch_url, timeout=30) as client:
        created = client.put(f"/{index}", json={"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
        assert created.status_code == 200, created.text
        indexed = client.put(f"/{index}/_doc/cust-1", params={"refresh": "true"}, json=doc)
        assert indexed.status_code in (200, 201), indexed.text

        found = client.post(f"/{index}/_search", json={"query": {"term": {"phone_hash.keyword": "a1b2c3"}}})
        assert found.status_code == 200, found.text
        hits = found.json()["hits"]["hits"]
        assert [hit["_id"] for hit in hits] == ["cust-1"]
        assert hits[0]["_source"] == doc

        matched = client.post(f"/{index}/_search", json={"query": {"match": {"company": "上海"}}})
        assert [hit["_id"] for hit in matched.json()["hits"]["hits"]] == ["cust-1"]
