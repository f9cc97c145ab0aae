"""Every consumer runs on every example payload of every topic it consumes (the registry is the contract)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from behavior_scoring.consumers import subscription as scoring_subscription
from behavior_scoring.models import Base as ScoringBase
from contract.consumers import subscription as contract_subscription
from contract.models import Base as ContractBase
from crm_contracts import load_registry
from crmkit.applier import EventApplier
from crmkit.cloudevents import JSON, PROTOBUF, decode, encode_data, encode_headers
from crmkit.db import Database
from crmkit.handlers import Subscription
from crmkit.search import SqliteSearchIndex
from customer_master.consumers import subscription as customer_subscription
from customer_master.models import Base as CustomerBase
from lead_router.consumers import merge_subscription as router_merge_subscription
from lead_router.consumers import org_subscription as router_org_subscription
from lead_router.consumers import subscription as router_subscription
from lead_router.domain.routing import load_routing
from lead_router.models import Base as RouterBase
from lead_router.settings import DEFAULT_ROUTING
from notify.channels import ConsoleChannel
from notify.consumers import subscription as notify_subscription
from notify.models import Base as NotifyBase
from search_sync.consumers import subscription as search_subscription
from search_sync.models import Base as SearchBase
from sqlalchemy import MetaData

REGISTRY = load_registry()


def consumers(tmp: Path) -> dict[str, tuple[Callable[[], list[Subscription]], MetaData]]:
    """Each service's subscriptions (a factory) and metadata, as its __main__ wires them."""
    return {
        "customer-master": (lambda: [customer_subscription()], CustomerBase.metadata),
        "behavior-scoring": (lambda: [scoring_subscription()], ScoringBase.metadata),
        "lead-router": (
            lambda: [
                router_subscription(config=load_routing(DEFAULT_ROUTING), channel="console"),
                router_merge_subscription(),
                router_org_subscription(config=load_routing(DEFAULT_ROUTING), channel="console"),
            ],
            RouterBase.metadata,
        ),
        "contract": (lambda: [contract_subscription()], ContractBase.metadata),
        "notify": (
            lambda: [notify_subscription(channels={"console": ConsoleChannel(), "file": ConsoleChannel()})],
            NotifyBase.metadata,
        ),
        "search-sync": (
            lambda: [search_subscription(index=SqliteSearchIndex(tmp / "search.db"))],
            SearchBase.metadata,
        ),
    }


CASES = [
    (service, topic.name, event.type, example)
    for topic in REGISTRY.topics.values()
    for service in topic.consumers
    for event in topic.events.values()
    for example in event.examples
]


def test_every_registered_consumer_is_a_service_and_every_type_has_an_example() -> None:
    services = set(consumers(Path("/nonexistent")))
    for topic in REGISTRY.topics.values():
        assert set(topic.consumers) <= services, topic.name
        for event in topic.events.values():
            assert event.examples, f"{event.type} has no example"
            for message in event.example_messages():
                assert message.ByteSize() > 0


@pytest.mark.parametrize("service", sorted(consumers(Path("/nonexistent"))))
def test_subscription_agrees_with_the_registry(service: str, tmp_path: Path) -> None:
    factory, _ = consumers(tmp_path)[service]
    subscriptions = factory()
    for subscription in subscriptions:
        subscription.check_against(REGISTRY)
    consumed = {topic.name for topic in REGISTRY.consumed_by(service)}
    topics = [topic for subscription in subscriptions for topic in subscription.topics]
    assert sorted(topics) == sorted(consumed)  # each topic read by exactly one of the service's groups


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize(
    ("service", "topic", "event_type", "example"), CASES, ids=[f"{c[0]}:{c[3].parent.name}/{c[3].name}" for c in CASES]
)
def test_consumer_handles_example(
    service: str, topic: str, event_type: str, example: Path, content_type: str, tmp_path: Path
) -> None:
    factory, metadata = consumers(tmp_path)[service]
    subscription = next(s for s in factory() if topic in s.topics)
    spec = REGISTRY.event(topic, event_type)
    assert spec is not None
    message = next(m for p, m in zip(spec.examples, spec.example_messages(), strict=True) if p == example)
    event = decode(
        registry=REGISTRY,
        topic=topic,
        value=encode_data(message, content_type),
        headers=encode_headers(
            event_id=f"example-{example.stem}",
            source="/contract-test",
            event_type=event_type,
            content_type=content_type,
        ),
    )
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}", metadata)
    db.create_all()
    applier = EventApplier(
        db=db, registry=REGISTRY, subscription=subscription, source=f"/{service}", content_type=PROTOBUF
    )
    if event_type in subscription.ignored:
        assert event_type not in subscription.handlers
        return
    result = applier.apply([event, event])  # the second copy is a redelivery
    assert result.error is None, f"{service} failed on {example.name}: {result.error!r}"
    assert (result.applied.total(), result.duplicates.total()) == (1, 1)
    db.dispose()
