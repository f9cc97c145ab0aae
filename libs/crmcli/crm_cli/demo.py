"""`crm demo`: push synthetic touchpoints through the running pipeline and account for every one."""

from __future__ import annotations

import shutil
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crm_cli.loadgen import Touch, TouchpointProducer, produce_at_rate, touchpoints
from crm_cli.observe import Observed, Observer
from crm_cli.stack import Stack, start_stack


@dataclass(frozen=True)
class Expected:
    """What the produced touchpoints must lead to."""

    touch_ids: set[str]
    form_ids: set[str]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[min(98, max(0, int(q) - 1))]


def accounted(seen: Observed, expected: Expected) -> dict[str, int]:
    """How far each stage has got for this run's touchpoints."""
    leads = {lead for lead, origin in seen.leads.items() if origin in expected.form_ids}
    assigned = leads & seen.assigned
    return {
        "resolved": len(expected.touch_ids & seen.resolved),
        "leads": len(leads),
        "assigned": len(assigned),
        "pooled": len(leads & seen.pooled.keys()),
        "notified": len({seen.leads[lead] for lead in assigned} & seen.delivered),
    }


def progress_of(observer: Observer, expected: Expected) -> dict[str, int]:
    """:func:`accounted` on the observer's figures so far (read under its lock)."""
    return observer.read(lambda seen: accounted(seen, expected))


def is_complete(progress: dict[str, int], expected: Expected) -> bool:
    """Every touchpoint resolved, every lead decided, every assignment notified."""
    return (
        progress["resolved"] == len(expected.touch_ids)
        and progress["leads"] == len(expected.form_ids)
        and progress["assigned"] + progress["pooled"] == progress["leads"]
        and progress["notified"] == progress["assigned"]
    )


def _search_hit(stack: Stack, touches: list[Touch], *, timeout: float) -> dict[str, Any]:
    form = next(t.data for t in reversed(touches) if isinstance(t.data, LeadFormSubmitted))
    assert isinstance(form, LeadFormSubmitted)
    query = f"{form.name} {form.company[:2]}"
    deadline = time.monotonic() + timeout
    hits: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        response = httpx.get(f"{stack.url('customer-master')}/customers/search", params={"q": query}, timeout=5)
        hits = response.json().get("hits", [])
        if hits:
            break
        time.sleep(0.2)
    return {"query": query, "hits": len(hits), "top": hits[0] if hits else None}


def run_demo(*, count: int, var: Path, quiet: bool, timeout: float = 180.0, seed: int | None = None) -> dict[str, Any]:
    """Run the demo; returns the summary (``ok`` is False when anything is unaccounted for)."""
    stack = Stack.load(var)
    started_here = stack is None
    if stack is None:
        demo_var = var / "demo"
        shutil.rmtree(demo_var, ignore_errors=True)
        stack = start_stack(var=demo_var)
    try:
        return _run(stack, count=count, quiet=quiet, timeout=timeout, seed=seed or time.time_ns() % 1_000_000)
    finally:
        if started_here:
            stack.stop()


def _run(stack: Stack, *, count: int, quiet: bool, timeout: float, seed: int) -> dict[str, Any]:
    touches = list(touchpoints(count, seed=seed))
    expected = Expected(
        touch_ids={t.event_id for t in touches},
        form_ids={t.event_id for t in touches if isinstance(t.data, LeadFormSubmitted)},
    )
    observer = Observer(stack.bootstrap)
    producer = TouchpointProducer(stack.bootstrap)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=quiet,
        transient=False,
    ) as bar:
        produced = bar.add_task("produced  ", total=count)
        resolved = bar.add_task("resolved  ", total=count)
        notified = bar.add_task("leads done", total=len(expected.form_ids))
        began = time.time()
        produce_at_rate(producer, touches, rate=None, on_progress=lambda n: bar.update(produced, completed=n))
        deadline = time.monotonic() + timeout
        progress = progress_of(observer, expected)
        while not is_complete(progress, expected) and time.monotonic() < deadline:
            time.sleep(0.1)
            progress = progress_of(observer, expected)
            bar.update(resolved, completed=progress["resolved"])
            bar.update(notified, completed=progress["assigned"] + progress["pooled"])
    seen = observer.snapshot()
    search = _search_hit(stack, touches, timeout=10)
    observer.close()
    latencies = [
        (seen.delivered_at[t] - producer.sent_at[t]) * 1000 for t in expected.form_ids if t in seen.delivered_at
    ]
    elapsed = max(seen.last_resolved_at - began, 1e-9)
    pooled_reasons = Counter(
        seen.pooled[lead] for lead, origin in seen.leads.items() if origin in expected.form_ids and lead in seen.pooled
    )
    ok = is_complete(progress, expected) and search["hits"] > 0
    return {
        "ok": ok,
        "touchpoints_produced": count,
        "by_type": dict(Counter(t.event_type for t in touches)),
        "resolved": progress["resolved"],
        "customers_created": len(seen.customers_created),
        "leads_created": progress["leads"],
        "leads_assigned": progress["assigned"],
        "leads_pooled": progress["pooled"],
        "pooled_reasons": dict(pooled_reasons),
        "notifications_delivered": progress["notified"],
        "score_changes": seen.scores,
        "payments": seen.payments,
        "duplicate_events_seen": seen.duplicates,
        "search": search,
        "events_per_second": round(count / elapsed, 1),
        "form_to_notification_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p99": round(percentile(latencies, 99), 1),
        },
        "seed": seed,
    }
