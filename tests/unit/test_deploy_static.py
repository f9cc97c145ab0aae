"""Static checks of everything under deploy/.

This machine has a docker *client* but no engine, so the compose stack and the
Kubernetes manifests cannot be started here. These tests parse the files and
check the contracts the rest of the system relies on: pinned images, the
services' environment, the exact topic/partition list, the Debezium outbox
router producing the same topic/key/headers as the embedded relay, the
Prometheus scrape targets, the Grafana queries and the k8s probes.
Pure and fast: no network, no containers.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from crm_contracts import load_registry

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
DEBEZIUM_DIR = DEPLOY / "debezium"
PROMETHEUS_FILE = DEPLOY / "prometheus" / "prometheus.yml"
GRAFANA_DIR = DEPLOY / "grafana"
DASHBOARD_FILE = GRAFANA_DIR / "dashboards" / "crm-overview.json"
K8S_DIR = DEPLOY / "k8s"

# service name -> (python module, HTTP port)
SERVICES: dict[str, tuple[str, int]] = {
    "customer-master": ("customer_master", 8001),
    "behavior-scoring": ("behavior_scoring", 8002),
    "lead-router": ("lead_router", 8003),
    "contract": ("contract", 8004),
    "notify": ("notify", 8005),
    "search-sync": ("search_sync", 8006),
}

INFRA_SERVICES = (
    "kafka",
    "topic-init",
    "postgres",
    "connect",
    "connect-register",
    "opensearch",
    "kafka-ui",
    "prometheus",
    "grafana",
)

REQUIRED_ENV = (
    "CRM_KAFKA_BOOTSTRAP",
    "CRM_DATABASE_URL",
    "CRM_SEARCH_URL",
    "CRM_HTTP_PORT",
    "CRM_OUTBOX_RELAY",
    "CRM_PII_KEY",
)

# Expected topics -> partitions: the topic registry's (each topic and its 1-partition DLQ).
EXPECTED_TOPICS: dict[str, int] = load_registry().all_topic_names()

# Outbox column -> Kafka header, exactly what the embedded relay sets (the `id`
# header itself is added by the EventRouter from table.field.event.id).
EXPECTED_HEADER_PLACEMENT: dict[str, str] = {
    "id": "ce_id",
    "type": "ce_type",
    "ce_source": "ce_source",
    "ce_time": "ce_time",
    "ce_specversion": "ce_specversion",
    "content_type": "content-type",
    "correlation_id": "ce_correlationid",
}

# Metric names the dashboard may reference (a histogram also exposes
# _bucket/_sum/_count series).
DASHBOARD_METRICS = frozenset(
    {
        "crm_events_handled_total",
        "crm_events_failed_total",
        "crm_events_dead_lettered_total",
        "crm_consumer_lag",
        "crm_handler_seconds",
        "crm_outbox_pending",
        "crm_breaker_open",
    }
)
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@functools.cache
def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "compose file is not a mapping"
    return data


def compose_services() -> dict[str, dict[str, Any]]:
    services = load_compose().get("services")
    assert isinstance(services, dict), "compose file has no services mapping"
    return services


def service_env(service: dict[str, Any]) -> dict[str, str]:
    """A compose `environment` (mapping or KEY=VALUE list) as a dict of str."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {key: value for key, value in pairs}
    assert isinstance(env, dict)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none."""
    name = image.split("@", 1)[0]
    last_segment = name.rsplit("/", 1)[-1]
    if ":" not in last_segment:
        return None
    return last_segment.rsplit(":", 1)[1]


def parse_topic_spec(spec: str) -> dict[str, int]:
    """Parse the topic-init list: one `name:partitions` per line."""
    topics: dict[str, int] = {}
    for raw_line in spec.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        name, _, partitions = line.rpartition(":")
        assert name, f"bad topic line {raw_line!r}"
        assert name not in topics, f"topic {name} listed twice"
        topics[name] = int(partitions)
    return topics


def parse_additional_placement(value: str) -> dict[str, str]:
    """Parse EventRouter `table.fields.additional.placement` (header entries only)."""
    mapping: dict[str, str] = {}
    for entry in value.split(","):
        parts = entry.split(":")
        assert len(parts) == 3, f"expected column:header:alias, got {entry!r}"
        column, placement, alias = parts
        assert placement == "header", f"{entry!r} is not a header placement"
        assert column not in mapping, f"column {column} mapped twice"
        mapping[column] = alias
    return mapping


def load_connectors() -> dict[str, dict[str, Any]]:
    """service name -> parsed connector document, from deploy/debezium/<service>-outbox.json."""
    documents: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        path = DEBEZIUM_DIR / f"{service}-outbox.json"
        assert path.is_file(), f"missing {path.relative_to(REPO_ROOT)}"
        documents[service] = json.loads(path.read_text(encoding="utf-8"))
    return documents


_PROMQL_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}
)


def promql_metric_names(expr: str) -> set[str]:
    """Metric names referenced by a PromQL expression.

    Small lexer, sufficient for dashboard queries: drop string literals, label
    matchers `{...}`, range/subquery selectors `[...]` and grouping clauses
    `by (...)`; what remains that is an identifier, not followed by `(` (a
    function or aggregation) and not a keyword, is a metric name.
    """
    text = re.sub(r'"(?:\\.|[^"\\])*"', " ", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names: set[str] = set()
    for match in re.finditer(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name in _PROMQL_KEYWORDS:
            continue
        names.add(name)
    return names


def template_query_metric_names(query: str) -> set[str]:
    """Metric names in a Grafana Prometheus variable query.

    `label_values(<selector>, <label>)` is Grafana syntax, not PromQL: only its
    selector is PromQL (the label argument is not a metric).
    """
    match = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", query, flags=re.DOTALL)
    if match:
        return promql_metric_names(match.group(1))
    match = re.fullmatch(r"\s*query_result\((.*)\)\s*", query, flags=re.DOTALL)
    return promql_metric_names(match.group(1) if match else query)


def base_metric(name: str) -> str:
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in DASHBOARD_METRICS:
            return name[: -len(suffix)]
    return name


def iter_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """All panels, including those nested in (collapsed) rows."""
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def load_k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    documents: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                assert isinstance(doc, dict), f"{path.name}: document is not a mapping"
                documents.append((path, doc))
    return documents


# ---------------------------------------------------------------------------
# Helper self-checks (the parsers above decide what the real tests see)
# ---------------------------------------------------------------------------


def test_promql_metric_names_lexer() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (service, le) "
        '(rate(crm_handler_seconds_bucket{service=~"$service", x="a}b"}[$__rate_interval])))'
    )
    assert promql_metric_names(expr) == {"crm_handler_seconds_bucket"}
    assert promql_metric_names("sum(up) / on (job) group_left max(other_metric offset 5m)") == {
        "up",
        "other_metric",
    }


def test_template_query_lexer() -> None:
    assert template_query_metric_names("label_values(crm_events_handled_total, service)") == {
        "crm_events_handled_total"
    }
    assert template_query_metric_names('label_values(up{job="x"}, instance)') == {"up"}


def test_image_tag_parsing() -> None:
    assert image_tag("apache/kafka:3.9.0") == "3.9.0"
    assert image_tag("localhost:5000/crm/app") is None
    assert image_tag("quay.io/debezium/connect:3.0.4.Final") == "3.0.4.Final"
    assert image_tag("postgres") is None


# ---------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------


def test_compose_has_all_services() -> None:
    services = compose_services()
    missing = [name for name in (*INFRA_SERVICES, *SERVICES) if name not in services]
    assert not missing, f"compose services missing: {missing}"


@pytest.mark.parametrize("name", sorted(compose_services()))
def test_every_image_is_pinned(name: str) -> None:
    service = compose_services()[name]
    image = service.get("image")
    assert isinstance(image, str) and image, f"{name}: no image"
    tag = image_tag(image)
    assert tag, f"{name}: image {image!r} has no tag"
    assert tag != "latest", f"{name}: image {image!r} uses :latest"
    assert "$" not in image, f"{name}: image {image!r} is interpolated, not pinned"


def test_third_party_images() -> None:
    services = compose_services()
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["connect"]["image"].startswith("quay.io/debezium/connect:")
    assert services["kafka-ui"]["image"].startswith("provectuslabs/kafka-ui:")
    assert re.fullmatch(r"postgres:16(\.\d+)*(-\S+)?", services["postgres"]["image"])


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_crm_service_definition(name: str) -> None:
    module, port = SERVICES[name]
    service = compose_services()[name]
    env = service_env(service)

    missing = [key for key in REQUIRED_ENV if not env.get(key)]
    assert not missing, f"{name}: env vars missing or empty: {missing}"
    assert env["CRM_OUTBOX_RELAY"] == "debezium"
    assert env["CRM_HTTP_PORT"] == str(port)
    # The settings default (127.0.0.1) would make /metrics unreachable for Prometheus.
    assert env.get("CRM_HTTP_HOST") == "0.0.0.0"
    assert env["CRM_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["CRM_SEARCH_URL"].startswith("http://opensearch:9200/")
    database = module  # one database per service, named after the module
    assert re.fullmatch(
        rf"postgresql\+psycopg://{database}:[^@]+@postgres:5432/{database}",
        env["CRM_DATABASE_URL"],
    ), f"{name}: unexpected CRM_DATABASE_URL {env['CRM_DATABASE_URL']!r}"

    build = service.get("build")
    assert isinstance(build, dict), f"{name}: must be built from deploy/Dockerfile"
    assert build.get("dockerfile") == "deploy/Dockerfile"
    assert (COMPOSE_FILE.parent / build["context"]).resolve() == REPO_ROOT
    assert build.get("args", {}).get("SERVICE_MODULE") == module
    assert (build.get("args", {}).get("SERVICE_DIR")) == name

    healthcheck = service.get("healthcheck") or {}
    test_cmd = " ".join(healthcheck.get("test", []))
    assert f"127.0.0.1:{port}/health" in test_cmd, f"{name}: healthcheck does not probe /health on {port}"

    depends_on = service.get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on must use conditions"
    for infra in ("kafka", "postgres", "opensearch"):
        assert depends_on.get(infra, {}).get("condition") == "service_healthy", f"{name}: {infra} not healthy-gated"
    for one_shot in ("topic-init", "connect-register"):
        assert depends_on.get(one_shot, {}).get("condition") == "service_completed_successfully"


def test_pii_key_is_not_a_bare_literal() -> None:
    # The fallback must be visibly dev-only and overridable from the shell.
    for name in SERVICES:
        value = service_env(compose_services()[name])["CRM_PII_KEY"]
        assert value.startswith("${CRM_PII_KEY"), f"{name}: CRM_PII_KEY is not taken from the environment"


def test_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    from_lines = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert from_lines and all(re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", image) for image in from_lines)
    user_lines = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert user_lines, "Dockerfile never switches to a non-root user"
    assert user_lines[-1].split(":")[0] not in {"root", "0"}
    assert "-c requirements/constraints.txt" in text
    for package in ("libs/contracts", "libs/crmkit", "services/${SERVICE_DIR}"):
        assert f"-e {package}" in text or f'-e "{package}"' in text, f"{package} not installed"


def test_topic_init_creates_exactly_the_expected_topics() -> None:
    service = compose_services()["topic-init"]
    topics = parse_topic_spec(service_env(service)["CRM_TOPICS"])
    assert topics == EXPECTED_TOPICS
    script = " ".join(service.get("command", []))
    assert "kafka-topics.sh" in script and "--create" in script
    assert '--partitions "$$partitions"' in script and "$$CRM_TOPICS" in script
    assert service.get("depends_on", {}).get("kafka", {}).get("condition") == "service_healthy"


def test_kafka_is_kraft_without_auto_topic_creation() -> None:
    env = service_env(compose_services()["kafka"])
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "broker" in env["KAFKA_PROCESS_ROLES"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env


def test_postgres_logical_decoding_and_databases() -> None:
    service = compose_services()["postgres"]
    assert "wal_level=logical" in service.get("command", [])
    volumes = service.get("volumes", [])
    assert "./postgres/init.sql:/docker-entrypoint-initdb.d/init.sql:ro" in volumes
    init_sql = (DEPLOY / "postgres" / "init.sql").read_text(encoding="utf-8")
    for module, _ in SERVICES.values():
        assert re.search(rf"^CREATE DATABASE {module}\s+OWNER {module};", init_sql, flags=re.MULTILINE)
        assert f"\\connect {module}\n" in init_sql
    assert re.search(r"^CREATE ROLE debezium LOGIN REPLICATION", init_sql, flags=re.MULTILINE)
    publications = re.findall(r"^CREATE PUBLICATION crm_outbox\b.*$", init_sql, flags=re.MULTILINE)
    assert len(publications) == len(SERVICES)
    assert all("publish = 'insert'" in line for line in publications)


def test_connect_and_registration() -> None:
    services = compose_services()
    env = service_env(services["connect"])
    assert env["CONNECT_CONFIG_PROVIDERS"] == "env"
    assert env["CONNECT_CONFIG_PROVIDERS_ENV_CLASS"] == "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
    assert env.get("CRM_DEBEZIUM_DB_PASSWORD")
    register = services["connect-register"]
    assert "./debezium:/connectors:ro" in register.get("volumes", [])
    assert register.get("depends_on", {}).get("connect", {}).get("condition") == "service_healthy"
    assert (DEBEZIUM_DIR / "register_connectors.py").is_file()


def test_opensearch_single_node_security_disabled() -> None:
    env = service_env(compose_services()["opensearch"])
    assert env["discovery.type"] == "single-node"
    assert env["DISABLE_SECURITY_PLUGIN"] == "true"


def test_grafana_and_prometheus_mounts() -> None:
    services = compose_services()
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in services["prometheus"]["volumes"]
    grafana_volumes = services["grafana"]["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in grafana_volumes
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana_volumes


# ---------------------------------------------------------------------------
# Debezium connectors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_debezium_connector(name: str) -> None:
    module, _ = SERVICES[name]
    document = load_connectors()[name]
    assert document["name"] == f"{name}-outbox"
    config: dict[str, Any] = document["config"]
    assert all(isinstance(value, str) for value in config.values()), "Connect config values must be strings"

    # Source: this service's database, its outbox table only, pgoutput.
    assert config["connector.class"] == "io.debezium.connector.postgresql.PostgresConnector"
    assert config["plugin.name"] == "pgoutput"
    assert config["database.dbname"] == module
    assert config["table.include.list"] == "public.outbox"
    assert config["slot.name"] == f"crm_{module}_outbox"
    assert re.fullmatch(r"[a-z0-9_]+", config["slot.name"]), "PostgreSQL slot names: lower-case, digits, _"
    assert config["publication.autocreate.mode"] == "disabled"
    assert config["snapshot.mode"] == "no_data"
    assert config["tombstones.on.delete"] == "false"
    assert config["database.password"].startswith("${env:"), "password must not be stored in the file"

    # Converters: key as a plain string, payload bytes passed through as-is.
    assert config["key.converter"] == "org.apache.kafka.connect.storage.StringConverter"
    assert config["value.converter"] == "io.debezium.converters.BinaryDataConverter"
    assert config["header.converter"] == "org.apache.kafka.connect.storage.SimpleHeaderConverter"

    # Outbox event router: same topic, key and headers as the embedded relay.
    transforms = [t.strip() for t in config["transforms"].split(",")]
    router = [
        t for t in transforms if config.get(f"transforms.{t}.type") == "io.debezium.transforms.outbox.EventRouter"
    ]
    assert len(router) == 1, "exactly one EventRouter transform expected"
    prefix = f"transforms.{router[0]}."
    assert config[prefix + "route.by.field"] == "aggregatetype"
    assert config[prefix + "route.topic.replacement"] == "${routedByValue}"
    assert config.get(prefix + "route.topic.regex", "(?<routedByValue>.*)") == "(?<routedByValue>.*)"
    assert config.get(prefix + "table.field.event.id", "id") == "id"
    assert config[prefix + "table.field.event.key"] == "aggregateid"
    assert config[prefix + "table.field.event.payload"] == "payload"
    assert config[prefix + "table.expand.json.payload"] == "false"
    placement = config[prefix + "table.fields.additional.placement"]
    assert not re.search(r"\s", placement), "Debezium does not trim placement entries: no whitespace"
    assert parse_additional_placement(placement) == EXPECTED_HEADER_PLACEMENT


# Kafka's own murmur2 vectors (Java client, UtilsTest.testMurmur2), signed ints.
JAVA_MURMUR2_VECTORS: dict[bytes, int] = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def test_embedded_relay_partitions_keys_like_kafka_connect() -> None:
    """Same key -> same partition whether the embedded relay or Debezium publishes.

    Kafka Connect's Java producer uses toPositive(murmur2(key)) % partitions on the
    StringConverter bytes of aggregateid (UTF-8, like the relay's key). aiokafka's
    partitioner reproduces it here; the relay (librdkafka, ``murmur2_random``) is checked
    against it on the real broker in tests/integration/test_consumer_runtime.py.
    """
    partitioner = pytest.importorskip("aiokafka.partitioner")
    partitions = list(range(6))
    for key, java_hash in JAVA_MURMUR2_VECTORS.items():
        assert partitioner.murmur2(key) & 0xFFFFFFFF == java_hash & 0xFFFFFFFF
        chosen = partitioner.DefaultPartitioner()(key, partitions, partitions)
        assert chosen == (java_hash & 0x7FFFFFFF) % len(partitions)


def test_debezium_slots_and_prefixes_are_unique() -> None:
    configs = [document["config"] for document in load_connectors().values()]
    for key in ("slot.name", "topic.prefix", "database.dbname"):
        values = [config[key] for config in configs]
        assert len(set(values)) == len(values), f"{key} must be unique per connector: {values}"


def test_no_stray_connector_files() -> None:
    expected = {f"{service}-outbox.json" for service in SERVICES}
    assert {path.name for path in DEBEZIUM_DIR.glob("*.json")} == expected


# ---------------------------------------------------------------------------
# Prometheus and Grafana
# ---------------------------------------------------------------------------


def test_prometheus_scrapes_all_services() -> None:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    scraped: set[str] = set()
    for job in config["scrape_configs"]:
        if job.get("metrics_path", "/metrics") != "/metrics":
            continue
        for static in job.get("static_configs", []):
            scraped.update(static.get("targets", []))
    expected = {f"{name}:{port}" for name, (_, port) in SERVICES.items()}
    assert expected <= scraped, f"not scraped: {sorted(expected - scraped)}"


def test_grafana_datasource_provisioned() -> None:
    files = sorted((GRAFANA_DIR / "provisioning" / "datasources").glob("*.y*ml"))
    assert files, "no provisioned datasource"
    datasources = [ds for path in files for ds in yaml.safe_load(path.read_text(encoding="utf-8"))["datasources"]]
    prometheus = [ds for ds in datasources if ds["type"] == "prometheus"]
    assert len(prometheus) == 1
    assert prometheus[0]["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "crm.yml").read_text(encoding="utf-8"))
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_grafana_dashboard_queries_use_only_known_metrics() -> None:
    dashboard = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    datasource_files = (GRAFANA_DIR / "provisioning" / "datasources").glob("*.y*ml")
    datasource_uids = {
        ds["uid"] for path in datasource_files for ds in yaml.safe_load(path.read_text(encoding="utf-8"))["datasources"]
    }

    # (query text, metric names it references)
    queries: list[tuple[str, set[str]]] = []
    panel_exprs: list[str] = []
    for panel in iter_panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            panel_exprs.append(target["expr"])
            queries.append((target["expr"], promql_metric_names(target["expr"])))
            assert target["datasource"]["uid"] in datasource_uids
    for variable in dashboard.get("templating", {}).get("list", []):
        raw = variable.get("query")
        query = str(raw["query"] if isinstance(raw, dict) else raw)
        queries.append((query, template_query_metric_names(query)))
    assert panel_exprs, "dashboard has no panel queries"

    referenced: set[str] = set()
    for query, metric_names in queries:
        names = {base_metric(name) for name in metric_names}
        unknown = names - DASHBOARD_METRICS
        assert not unknown, f"unknown metric(s) {sorted(unknown)} in {query!r}"
        referenced |= names
    assert referenced == DASHBOARD_METRICS, f"metrics without a panel: {sorted(DASHBOARD_METRICS - referenced)}"

    all_exprs = "\n".join(panel_exprs)
    assert "histogram_quantile(0.99" in all_exprs and "crm_handler_seconds_bucket" in all_exprs
    assert re.search(r"by \(service, topic, partition\)", all_exprs), "no per-partition lag panel"


# ---------------------------------------------------------------------------
# Kubernetes manifests
# ---------------------------------------------------------------------------


def test_k8s_manifests() -> None:
    documents = load_k8s_documents()
    kinds = [doc["kind"] for _, doc in documents]
    assert kinds.count("Namespace") == 1
    namespace = next(doc for _, doc in documents if doc["kind"] == "Namespace")["metadata"]["name"]
    for path, doc in documents:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace, f"{path.name}: {doc['kind']} outside {namespace}"

    configmaps = {doc["metadata"]["name"]: doc for _, doc in documents if doc["kind"] == "ConfigMap"}
    secrets = {doc["metadata"]["name"]: doc for _, doc in documents if doc["kind"] == "Secret"}
    deployments = {doc["metadata"]["name"]: doc for _, doc in documents if doc["kind"] == "Deployment"}
    k8s_services = {doc["metadata"]["name"]: doc for _, doc in documents if doc["kind"] == "Service"}
    assert set(deployments) == set(SERVICES)
    assert set(k8s_services) == set(SERVICES)
    for configmap in configmaps.values():
        assert "CRM_PII_KEY" not in configmap.get("data", {}), "CRM_PII_KEY belongs in a Secret"

    for name, deployment in deployments.items():
        _, port = SERVICES[name]
        pod = deployment["spec"]["template"]
        annotations = pod["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/scrape") == "true"
        assert annotations.get("prometheus.io/port") == str(port)
        assert annotations.get("prometheus.io/path") == "/metrics"
        (container,) = pod["spec"]["containers"]
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/health", f"{name}: {probe} not on /health"
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == list(configmaps)

        env = {item["name"]: item for item in container["env"]}
        pii = env["CRM_PII_KEY"]["valueFrom"]["secretKeyRef"]
        assert pii["name"] in secrets and pii["key"] in secrets[pii["name"]]["stringData"]
        db = env["CRM_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert db["key"] in secrets[db["name"]]["stringData"]
        assert env["CRM_HTTP_PORT"]["value"] == str(port)
        http_hosts = {configmap["data"].get("CRM_HTTP_HOST") for configmap in configmaps.values()} - {None}
        assert http_hosts == {"0.0.0.0"}, f"{name}: CRM_HTTP_HOST must be 0.0.0.0 for probes and scraping"
        provided = set(env) | {key for configmap in configmaps.values() for key in configmap["data"]}
        assert set(REQUIRED_ENV) <= provided, f"{name}: missing {sorted(set(REQUIRED_ENV) - provided)}"

        selector = k8s_services[name]["spec"]["selector"]
        assert all(pod["metadata"]["labels"].get(k) == v for k, v in selector.items())


# ---------------------------------------------------------------------------
# Optional: validation by the real compose implementation
# ---------------------------------------------------------------------------


def _docker_compose_unavailable_reason() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "docker client not installed"
    try:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker compose version` could not run: {exc}"
    if probe.returncode != 0:
        output = (probe.stderr or probe.stdout).strip().splitlines()
        return f"`docker compose` is not available: {output[0] if output else f'exit {probe.returncode}'}"
    return None


def test_docker_compose_config_validates() -> None:
    reason = _docker_compose_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    # `config` only parses, interpolates and validates; it needs no engine.
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
