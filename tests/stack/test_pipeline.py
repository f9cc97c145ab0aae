"""The whole embedded stack as processes: the demo path, and SIGKILL of every service mid-stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted, OrderPaid
from crm_cli.demo import Expected, _run, accounted, is_complete
from crm_cli.loadgen import TouchpointProducer, produce_at_rate, touchpoints
from crm_cli.observe import Observer
from crm_cli.stack import SERVICES, Stack, start_stack

pytestmark = [pytest.mark.kafka, pytest.mark.stack, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Broker + six service processes with their own SQLite files."""
    running = start_stack(var=tmp_path_factory.mktemp("stack"), extra_env={"CRM_CONSUMER_SESSION_TIMEOUT_MS": "4000"})
    yield running
    running.stop()


def stats(stack: Stack) -> dict[str, dict[str, int]]:
    """Every service's /stats."""
    return {name: httpx.get(f"{stack.url(name)}/stats", timeout=5).json() for name in stack.ports}


def test_demo_accounts_for_every_touchpoint(stack: Stack) -> None:
    summary = _run(stack, count=800, quiet=True, timeout=120, seed=11)
    assert summary["ok"], summary
    assert summary["leads_assigned"] == summary["notifications_delivered"] > 0
    assert summary["leads_pooled"] > 0 and set(summary["pooled_reasons"]) <= {"no_rule_matched", "no_eligible_rep"}
    assert summary["search"]["hits"] >= 1


def test_sigkill_of_each_service_mid_stream_loses_nothing_and_applies_nothing_twice(stack: Stack) -> None:
    before = stats(stack)
    touches = list(touchpoints(1500, seed=23))
    forms = {t.event_id for t in touches if isinstance(t.data, LeadFormSubmitted)}
    paid = sum(isinstance(t.data, OrderPaid) for t in touches)
    expected = Expected(touch_ids={t.event_id for t in touches}, form_ids=forms)
    observer = Observer(stack.bootstrap)
    producer = TouchpointProducer(stack.bootstrap)
    sending = threading.Thread(target=produce_at_rate, args=(producer, touches), kwargs={"rate": 300.0})
    sending.start()
    for spec in SERVICES:  # kill -9 each service in turn while touchpoints flow, then start it again
        time.sleep(0.6)
        stack.kill_service(spec.name)
        stack.start_service(spec)
    sending.join()
    deadline = time.monotonic() + 150
    while not is_complete(accounted(observer.snapshot(), expected), expected) and time.monotonic() < deadline:
        time.sleep(0.2)
    progress = accounted(observer.snapshot(), expected)
    observer.close()
    assert is_complete(progress, expected), progress
    stack.wait_healthy(timeout=60)
    after = stats(stack)

    def delta(service: str, figure: str) -> int:
        return after[service].get(figure, 0) - before[service].get(figure, 0)

    assert delta("customer-master", "leads") == len(forms)
    assert delta("behavior-scoring", "behaviours") == len(touches)
    assert delta("lead-router", "assigned") + delta("lead-router", "pooled") == len(forms)
    assert delta("notify", "delivered") == delta("lead-router", "assigned") == progress["assigned"]
    assert delta("contract", "payments") == paid
