"""Small runtime parts: the breaker, PII helpers, subscriptions, and service isolation."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from crm_contracts import load_registry
from crmkit.breaker import FailureBreaker
from crmkit.handlers import Subscription
from crmkit.pii import RedactPhones, phone_key, redact

ROOT = Path(__file__).resolve().parents[2]
SERVICE_MODULES = {"customer_master", "behavior_scoring", "lead_router", "contract", "notify", "search_sync"}


def test_breaker_ignores_a_single_failure_and_trips_on_most() -> None:
    breaker = FailureBreaker(window=20, min_events=10, ratio=0.5)
    breaker.record(failed=False, count=9)
    breaker.record(failed=True)
    assert not breaker.tripped
    breaker.record(failed=True, count=10)
    assert breaker.tripped


def test_phone_key_is_keyed_and_not_the_phone() -> None:
    key = phone_key("+8613812345678", secret="s1")
    assert "13812345678" not in key and key != phone_key("+8613812345678", secret="s2")


def test_logs_never_carry_a_phone(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("pii-test")
    logger.addFilter(RedactPhones())
    with caplog.at_level(logging.INFO):
        logger.info("customer %s called", "+86 138-1234-5678")
    assert "1234" not in caplog.text and "<phone>" in caplog.text
    assert redact("call 13812345678 now") == "call <phone> now"


def test_subscription_must_decide_on_every_type_of_its_topics() -> None:
    undecided = Subscription(group="g", topics=("crm.lead.v1",), handlers={"crm.lead.created": lambda c, e: None})
    with pytest.raises(ValueError, match="neither handled nor ignored"):
        undecided.check_against(load_registry())


@pytest.mark.parametrize("service_dir", sorted(p for p in (ROOT / "services").iterdir() if p.is_dir()))
def test_no_service_imports_another(service_dir: Path) -> None:
    own = service_dir.name.replace("-", "_")
    for path in service_dir.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            for name in names:
                top = name.split(".")[0]
                assert top == own or top not in SERVICE_MODULES, f"{path} imports {name}"
