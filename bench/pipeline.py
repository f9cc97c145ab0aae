"""Pipeline benchmark on the embedded stack (a script, not a test).

Phase 1 (stage) measures customer-master's capacity: the downstream services are paused
(SIGSTOP, as if they lagged), a burst is pushed as fast as the producer can, and the rate
is first produced → last `customer.resolved` seen; then they resume and the whole burst
must drain. Phase 2 (concurrent) pushes a burst with every service running on the same
cores. Phase 3 (steady) produces at a fixed rate on the drained stack and reports
end-to-end latency, form touchpoint produced → notification delivered, p50/p95/p99.
Phase 4 (chaos) produces at that rate while SIGKILLing each service in turn and starting
it again, then audits every service's database figures: nothing lost, nothing applied twice.
Every phase checks that every touchpoint is accounted for.
Run: `.venv/bin/python bench/pipeline.py [--burst N] [--rate R --seconds S] [--phases ...] [--kill ...]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from crm_cli.audit import exactly_once, report, service_stats
from crm_cli.demo import Expected, accounted, is_complete, percentile, progress_of
from crm_cli.loadgen import Touch, TouchpointProducer, produce_at_rate, touchpoints
from crm_cli.observe import Observer
from crm_cli.stack import SERVICES, Stack, start_stack

# The events on a form's way to a notification, in order (each observed on the broker).
HOPS = (
    "crm.customer.resolved",
    "crm.lead.created",
    "crm.lead.assigned",
    "crm.notify.requested",
    "crm.notify.delivered",
)
DOWNSTREAM = ("behavior-scoring", "lead-router", "contract", "notify", "search-sync")


def _expected(touches: list[Touch]) -> Expected:
    return Expected(
        touch_ids={t.event_id for t in touches},
        form_ids={t.event_id for t in touches if isinstance(t.data, LeadFormSubmitted)},
    )


def _wait(condition: Callable[[], bool], *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes(stack: Stack) -> dict[str, int]:
    broker = {"broker": stack.broker.pid} if stack.broker is not None else {}
    return {**broker, **stack.pids}


def burst(stack: Stack, count: int, seed: int, *, pause_downstream: bool, linger_ms: int) -> dict[str, object]:
    """Push ``count`` touchpoints at once; sustained touchpoints/s through customer-master, then drain."""
    touches = list(touchpoints(count, seed=seed))
    expected = _expected(touches)
    observer = Observer(stack.bootstrap)
    producer = TouchpointProducer(stack.bootstrap, linger_ms=linger_ms)
    paused = [stack.pids[name] for name in DOWNSTREAM] if pause_downstream else []
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        began = time.time()
        produce_seconds = produce_at_rate(producer, touches, rate=None)
        _wait(lambda: progress_of(observer, expected)["resolved"] >= count, timeout=600)
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)
    resolved_at = observer.read(lambda seen: seen.last_resolved_at)
    complete = _wait(lambda: is_complete(progress_of(observer, expected), expected), timeout=600)
    drained_at = time.time()
    resolved = progress_of(observer, expected)["resolved"]
    observer.close()
    return {
        "touchpoints": count,
        "resolved": resolved,
        "produce_s": round(produce_seconds, 2),
        "resolved_s": round(resolved_at - began, 2),
        "touchpoints_per_s": round(resolved / max(resolved_at - began, 1e-9), 1),
        "all_drained_s": round(drained_at - began, 2),
        "complete": complete,
    }


def chaos(stack: Stack, count: int, seed: int, *, rate: float, victims: list[str], linger_ms: int) -> dict[str, object]:
    """Produce at ``rate`` while SIGKILLing each victim in turn and starting it again; then audit.

    Nothing lost: the observer sees every touchpoint through to its end. Nothing applied
    twice: every service's own database figures moved by exactly what was produced.
    """
    specs = {spec.name: spec for spec in SERVICES}
    before = service_stats(stack)
    touches = list(touchpoints(count, seed=seed))
    expected = _expected(touches)
    observer = Observer(stack.bootstrap)
    producer = TouchpointProducer(stack.bootstrap, linger_ms=linger_ms)
    sending = threading.Thread(target=produce_at_rate, args=(producer, touches), kwargs={"rate": rate})
    sending.start()
    interval = count / rate / (len(victims) + 1)
    for name in victims:
        time.sleep(interval)
        stack.kill_service(name)
        stack.start_service(specs[name])
    sending.join()
    complete = _wait(lambda: is_complete(progress_of(observer, expected), expected), timeout=300)
    progress = progress_of(observer, expected)
    duplicates = observer.read(lambda seen: seen.duplicates)
    observer.close()
    stack.wait_healthy(timeout=90)
    checks = exactly_once(before, service_stats(stack), touches=touches, assigned_seen=progress["assigned"])
    return {
        "touchpoints": count,
        "rate_per_s": rate,
        "killed_and_restarted": victims,
        "complete": complete,
        "redelivered_events_seen_on_broker": duplicates,
        "exactly_once": report(checks),
    }


def steady(stack: Stack, rate: float, seconds: float, seed: int, *, linger_ms: int) -> dict[str, object]:
    """Steady phase: fixed rate; form produced → notification delivered latency."""
    touches = list(touchpoints(int(rate * seconds), seed=seed))
    expected = _expected(touches)
    observer = Observer(stack.bootstrap)
    producer = TouchpointProducer(stack.bootstrap, linger_ms=linger_ms)
    processes = _processes(stack)
    cpu_before = {name: _cpu_seconds(pid) for name, pid in processes.items()}
    began = time.monotonic()
    produce_at_rate(producer, touches, rate=rate)
    _wait(lambda: is_complete(progress_of(observer, expected), expected), timeout=300)
    elapsed = time.monotonic() - began
    cores = {name: round((_cpu_seconds(pid) - cpu_before[name]) / elapsed, 2) for name, pid in processes.items()}
    observer.close()
    seen = observer.snapshot()
    latencies = sorted(
        (seen.delivered_at[t] - producer.sent_at[t]) * 1000 for t in expected.form_ids if t in seen.delivered_at
    )
    hops = {}
    for event_type in HOPS:
        at = seen.first_seen.get(event_type, {})
        waits = sorted((at[t] - producer.sent_at[t]) * 1000 for t in expected.form_ids if t in at)
        hops[event_type] = {"p50_ms": round(percentile(waits, 50), 1), "p99_ms": round(percentile(waits, 99), 1)}
    return {
        "rate_per_s": rate,
        "touchpoints": len(touches),
        "forms": len(expected.form_ids),
        "notified": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "complete": is_complete(accounted(seen, expected), expected),
        "form_produced_to": hops,
        "cores_used": cores,
    }


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=10_000, help="touchpoints in each burst phase")
    parser.add_argument("--rate", type=float, default=500.0, help="touchpoints/s in the steady phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the steady phase")
    parser.add_argument("--phases", default="stage,concurrent,steady,chaos", help="which phases to run, in order")
    everyone = ",".join(spec.name for spec in SERVICES)
    parser.add_argument("--kill", default=everyone, help="services the chaos phase kills, in order")
    parser.add_argument(
        "--var",
        type=Path,
        default=Path("var/bench/pipeline"),
        help="emptied first: its own folder, not var/bench, which other benches keep caches in",
    )
    parser.add_argument(
        "--linger-ms", type=int, default=50, help="the touchpoint producer's linger (upstream batching)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="CRM_NAME=VALUE",
        help="a service setting for this run (repeatable), e.g. CRM_CONSUMER_FETCH_MAX_WAIT_MS=100",
    )
    args = parser.parse_args()
    phases: dict[str, Callable[[Stack], dict[str, object]]] = {
        "stage": lambda stack: burst(stack, args.burst, seed=101, pause_downstream=True, linger_ms=linger),
        "concurrent": lambda stack: burst(stack, args.burst, seed=303, pause_downstream=False, linger_ms=linger),
        "steady": lambda stack: steady(stack, args.rate, args.seconds, seed=202, linger_ms=linger),
        "chaos": lambda stack: chaos(stack, args.burst, seed=404, rate=args.rate, victims=victims, linger_ms=linger),
    }
    linger = args.linger_ms
    victims = [name.strip() for name in args.kill.split(",") if name.strip()]
    if set(victims) - {spec.name for spec in SERVICES}:
        parser.error(f"--kill names unknown services; choose from {[spec.name for spec in SERVICES]}")
    chosen = [name.strip() for name in args.phases.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(phases))
    if unknown:
        parser.error(f"unknown phase(s) {unknown}; choose from {sorted(phases)}")
    settings = dict(item.split("=", 1) for item in args.set if "=" in item)
    if len(settings) != len(args.set) or any(not name.startswith("CRM_") for name in settings):
        parser.error("--set takes CRM_NAME=VALUE")
    shutil.rmtree(args.var, ignore_errors=True)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so `finally` stops the stack on kill too
    stack = start_stack(var=args.var, extra_env=settings)
    try:
        result: dict[str, object] = {
            "machine": f"{platform.machine()} cores={os.cpu_count()} python={platform.python_version()}"
        }
        for name in chosen:
            lags = stack.wait_drained()  # each phase starts on a stack with no backlog
            if any(lags.values()):
                print(f"warning: {name} starts with backlog {lags}", flush=True)
            result[name] = phases[name](stack)
    finally:
        stack.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
