"""The whole embedded stack as processes: the demo path, and SIGKILL of every service mid-stream."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from crm_cli.demo import _run
from crm_cli.stack import SERVICES, Stack, start_stack

pytestmark = [pytest.mark.kafka, pytest.mark.stack, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Broker + six service processes with their own SQLite files."""
    running = start_stack(var=tmp_path_factory.mktemp("stack"), extra_env={"CRM_CONSUMER_SESSION_TIMEOUT_MS": "4000"})
    yield running
    running.stop()


def test_demo_accounts_for_every_touchpoint(stack: Stack) -> None:
    summary = _run(stack, count=800, quiet=True, timeout=120, seed=11)
    assert summary["ok"], summary
    assert summary["leads_assigned"] == summary["notifications_delivered"] > 0
    assert summary["leads_pooled"] > 0 and set(summary["pooled_reasons"]) <= {"no_rule_matched", "no_eligible_rep"}
    assert summary["search"]["hits"] >= 1


def test_sigkill_of_each_service_during_the_pipeline_bench_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path,
) -> None:
    """bench/pipeline.py's chaos phase: kill -9 each service in turn while touchpoints flow, restart it, audit."""
    bench = [sys.executable, str(ROOT / "bench" / "pipeline.py"), "--phases", "chaos"]
    completed = subprocess.run(
        [*bench, "--burst", "2000", "--rate", "400", "--var", str(tmp_path / "bench")],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    chaos = json.loads(completed.stdout)["chaos"]
    assert chaos["killed_and_restarted"] == [spec.name for spec in SERVICES]
    assert chaos["complete"], chaos  # nothing lost: every touchpoint reached its end
    assert chaos["exactly_once"]["ok"], chaos["exactly_once"]  # nothing applied twice
