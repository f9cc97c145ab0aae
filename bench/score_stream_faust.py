"""bench/score_stream.py's workload and figures, with the service side a faust-streaming worker (issue 6).

    .venv/bin/python bench/score_stream_faust.py [--burst 30000] [--rate 1000] [--seconds 20]
    environment: SCORE_FAUST_WITHIN_S=0.02 (how long take_events waits to fill a batch),
    SCORE_FAUST_FETCH_MAX_WAIT_MS=50 (the shared runtime's value; empty: faust's fixed 1500)

Starts a Tansu broker and ONE faust worker (``bench/faust_scoring_app.py``: one agent,
concurrency 1, ``take_events(500, within)`` batches, behavior-scoring's own batch handler
through ``EventApplier`` — ledger + state + outbox in one SQLite transaction — and
``OutboxRelay.relay_once`` after each transaction), with the CRM_* environment ``crm up``
gives the service. Prints the time from process start to the group's first completed
rebalance (faust's ``/health``), then exactly score_stream.py's burst and latency figures
(same producer, same ``Outputs`` reader, same arithmetic; ``/stats`` is faust's web server
answering with ``behavior_scoring.service.stats``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from crm_cli.stack import create_topics, free_port, service_env, start_broker

if not __package__:  # run as a script (python bench/score_stream_faust.py): make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.score_stream import SPEC, arguments, behaviours, measure, start_logged, stop_process, wait_healthy

APP = Path(__file__).with_name("faust_scoring_app.py")


def main() -> None:
    args = arguments(__doc__.split("\n", 1)[0])
    var = Path(tempfile.mkdtemp(prefix="score-stream-faust-"))
    broker_port, http_port = free_port(), free_port()
    bootstrap = f"127.0.0.1:{broker_port}"
    broker = start_broker(port=broker_port, log_path=var / "log" / "broker.log")
    worker: subprocess.Popen[bytes] | None = None
    log_path = var / "log" / "behavior-scoring-faust.log"
    try:
        create_topics(bootstrap)
        env = service_env(
            SPEC,
            bootstrap=bootstrap,
            var=var,
            port=http_port,
            extra={"CRM_LOG_LEVEL": "WARNING", "SCORE_FAUST_VAR": str(var)},
        )
        env["SCORE_FAUST_WITHIN_S"] = os.environ.get("SCORE_FAUST_WITHIN_S", "0.02")
        env["SCORE_FAUST_FETCH_MAX_WAIT_MS"] = os.environ.get("SCORE_FAUST_FETCH_MAX_WAIT_MS", "50")
        started = time.monotonic()
        worker = start_logged(
            [sys.executable, str(APP), "worker", "--loglevel", "warn"], env=env, log_path=log_path, cwd=var
        )
        url = f"http://127.0.0.1:{http_port}"
        client = httpx.Client(timeout=5)
        wait_healthy(worker, client, url, what="the faust worker", log_path=log_path, timeout=120)
        ready_s = time.monotonic() - started
        health = client.get(f"{url}/health").json()
        print(
            f"join: faust worker in its group {ready_s:.2f} s after the process started "
            f"(first rebalance complete {health['joined_after_s']:.2f} s after the app was built; "
            f"broker_session_timeout=2.0, take_events(500, within={health['within_s']}), "
            f"fetch_max_wait_ms={health['fetch_max_wait_ms']})",
            flush=True,
        )
        measure(
            bootstrap=bootstrap,
            recorded=lambda: behaviours(client, url),
            burst=args.burst,
            rate=args.rate,
            seconds=args.seconds,
        )
    finally:
        stop_process(worker, 20)
        stop_process(broker, 10)
        print(f"(logs and database in {var})")


if __name__ == "__main__":
    main()
