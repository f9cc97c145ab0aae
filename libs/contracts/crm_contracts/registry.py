"""The topic registry (registry.yaml): topics, keys, producers, consumers and schemas.

Every producer and consumer looks its topics and types up here, so a type that is not in
the registry cannot be produced by the runtime nor accepted by a consumer.
"""

from __future__ import annotations

import builtins
import importlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format
from google.protobuf.message import Message

HERE = Path(__file__).resolve().parent
SCHEMA_MODULES = (
    "crm.events.touchpoint.v1.touchpoint_pb2",
    "crm.events.customer.v1.customer_pb2",
    "crm.events.lead.v1.lead_pb2",
    "crm.events.scoring.v1.scoring_pb2",
    "crm.events.contract.v1.contract_pb2",
    "crm.events.notify.v1.notify_pb2",
    "crm.events.org.v1.org_pb2",
)


@dataclass(frozen=True)
class EventSpec:
    """One CloudEvents type: its schema, the fields it must carry, its examples."""

    type: str
    schema: str
    message_class: builtins.type[Message]
    required: tuple[str, ...]
    required_one_of: tuple[str, ...]
    examples: tuple[Path, ...]

    def example_messages(self) -> list[Message]:
        """The example payloads parsed with the proto3 JSON mapping."""
        return [json_format.Parse(path.read_text(encoding="utf-8"), self.message_class()) for path in self.examples]


@dataclass(frozen=True)
class TopicSpec:
    """One topic: partitions, what its key is, who produces, who consumes, which types."""

    name: str
    partitions: int
    key: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    events: dict[str, EventSpec]

    @property
    def dlq(self) -> str:
        """The dead-letter topic for this topic's consumers."""
        return f"{self.name}.dlq"


@dataclass(frozen=True)
class Registry:
    """All topics, by name."""

    topics: dict[str, TopicSpec]

    def topic(self, name: str) -> TopicSpec:
        """The topic called ``name``; KeyError naming the known topics otherwise."""
        try:
            return self.topics[name]
        except KeyError:
            raise KeyError(f"unknown topic {name!r}; known: {', '.join(sorted(self.topics))}") from None

    def event(self, topic: str, event_type: str) -> EventSpec | None:
        """The spec of ``event_type`` on ``topic``, or None when the topic does not carry it."""
        return self.topic(topic).events.get(event_type)

    def topic_of(self, event_type: str) -> TopicSpec:
        """The topic that carries ``event_type`` (each type lives on exactly one topic)."""
        for spec in self.topics.values():
            if event_type in spec.events:
                return spec
        raise KeyError(f"event type {event_type!r} is not in the registry")

    def consumed_by(self, service: str) -> list[TopicSpec]:
        """The topics that ``service`` consumes."""
        return [spec for spec in self.topics.values() if service in spec.consumers]

    def all_topic_names(self, *, with_dlq: bool = True) -> dict[str, int]:
        """Every topic name with its partition count, dead-letter topics (1 partition) included."""
        names = {spec.name: spec.partitions for spec in self.topics.values()}
        if with_dlq:
            names.update({spec.dlq: 1 for spec in self.topics.values()})
        return names


def _message_class(full_name: str) -> builtins.type[Message]:
    for module_name in SCHEMA_MODULES:
        module = importlib.import_module(module_name)
        descriptor = module.DESCRIPTOR
        package = descriptor.package
        if full_name.startswith(package + "."):
            cls = getattr(module, full_name.removeprefix(package + "."), None)
            if cls is not None:
                return cls  # type: ignore[no-any-return]
    raise ValueError(f"schema {full_name!r} is not a generated message in {SCHEMA_MODULES}")


def _event(raw: dict[str, Any]) -> EventSpec:
    return EventSpec(
        type=raw["type"],
        schema=raw["schema"],
        message_class=_message_class(raw["schema"]),
        required=tuple(raw.get("required", ())),
        required_one_of=tuple(raw.get("required_one_of", ())),
        examples=tuple(HERE / "examples" / name for name in raw.get("examples", ())),
    )


@cache
def load_registry(path: Path | None = None) -> Registry:
    """Load and check the registry: every type unique, every schema importable."""
    raw = yaml.safe_load((path or HERE / "registry.yaml").read_text(encoding="utf-8"))
    topics: dict[str, TopicSpec] = {}
    seen_types: set[str] = set()
    for entry in raw["topics"]:
        events = {e["type"]: _event(e) for e in entry["events"]}
        duplicated = seen_types & events.keys()
        if duplicated:
            raise ValueError(f"event types on more than one topic: {sorted(duplicated)}")
        seen_types |= events.keys()
        topics[entry["name"]] = TopicSpec(
            name=entry["name"],
            partitions=int(entry["partitions"]),
            key=entry["key"],
            producers=tuple(entry["producers"]),
            consumers=tuple(entry["consumers"]),
            events=events,
        )
    return Registry(topics=topics)


def example_json(path: Path) -> dict[str, Any]:
    """An example payload as a JSON object."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
