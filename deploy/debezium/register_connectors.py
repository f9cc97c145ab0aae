"""Register the Debezium outbox connectors with Kafka Connect and wait for them.

Run by the `connect-register` one-shot service in deploy/docker-compose.yml
(python:3.11-slim, standard library only). For every `*-outbox.json` in
CONNECTOR_DIR (files of the form {"name": ..., "config": {...}}):

1. PUT /connectors/<name>/config  -- creates or updates, so re-running is safe;
2. poll /connectors/<name>/status until the connector and its task are RUNNING.

A RUNNING PostgreSQL task has created (or re-attached to) its replication
slot, so once this exits 0 no outbox row written afterwards can be missed.
Exits non-zero if a connector FAILS or does not start within the timeout,
which keeps the CRM services (depends_on: service_completed_successfully)
from starting against a broken pipeline.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

CONNECT_URL = os.environ.get("CONNECT_URL", "http://connect:8083").rstrip("/")
CONNECTOR_DIR = Path(os.environ.get("CONNECTOR_DIR", "/connectors"))
TIMEOUT_S = float(os.environ.get("REGISTER_TIMEOUT_S", "180"))
POLL_S = 2.0


def _request(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(
        f"{CONNECT_URL}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def _put_config(name: str, config: dict[str, str], deadline: float) -> None:
    while True:
        try:
            _request("PUT", f"/connectors/{name}/config", config)
        except urllib.error.HTTPError as exc:
            # 409: the Connect cluster is rebalancing (typical right after it
            # starts); 5xx: transient. 4xx otherwise = invalid config, give up.
            if exc.code != 409 and exc.code < 500:
                detail = exc.read().decode("utf-8", "replace")
                raise RuntimeError(f"{name}: HTTP {exc.code} on PUT: {detail}") from exc
            reason = f"HTTP {exc.code}"
        except urllib.error.URLError as exc:
            reason = str(exc.reason)
        else:
            print(f"[register] {name}: config submitted", flush=True)
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{name}: could not submit config ({reason})")
        time.sleep(POLL_S)


def _states(status: dict[str, Any]) -> tuple[str, list[str]]:
    connector_state = str(status.get("connector", {}).get("state", "UNKNOWN"))
    task_states = [str(task.get("state", "UNKNOWN")) for task in status.get("tasks", [])]
    return connector_state, task_states


def _wait_running(name: str, deadline: float) -> None:
    last = "no status yet"
    while time.monotonic() < deadline:
        try:
            status = _request("GET", f"/connectors/{name}/status")
        except urllib.error.HTTPError as exc:
            # 404 right after the PUT until the herder has processed it.
            last = f"HTTP {exc.code}"
        else:
            connector_state, task_states = _states(status)
            last = f"connector={connector_state} tasks={task_states}"
            if "FAILED" in (connector_state, *task_states):
                traces = [t.get("trace", "") for t in status.get("tasks", []) if t.get("state") == "FAILED"]
                raise RuntimeError(f"{name} FAILED: {last}\n" + "\n".join(traces))
            if connector_state == "RUNNING" and task_states and all(s == "RUNNING" for s in task_states):
                print(f"[register] {name}: RUNNING", flush=True)
                return
        time.sleep(POLL_S)
    raise TimeoutError(f"{name} not RUNNING after {TIMEOUT_S:.0f}s ({last})")


def main() -> int:
    files = sorted(CONNECTOR_DIR.glob("*-outbox.json"))
    if not files:
        print(f"[register] no *-outbox.json in {CONNECTOR_DIR}", file=sys.stderr)
        return 1
    connectors: list[tuple[str, dict[str, str]]] = []
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        connectors.append((str(doc["name"]), dict(doc["config"])))
    deadline = time.monotonic() + TIMEOUT_S
    try:
        for name, config in connectors:
            _put_config(name, config, deadline)
        for name, _ in connectors:
            _wait_running(name, deadline)
    except (RuntimeError, TimeoutError) as exc:
        print(f"[register] {exc}", file=sys.stderr)
        return 1
    print(f"[register] {len(connectors)} connectors RUNNING", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
