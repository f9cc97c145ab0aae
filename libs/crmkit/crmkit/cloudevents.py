"""CloudEvents over Kafka, binary content mode: attributes in ``ce_*`` headers, data in the value.

Payloads are protobuf (``application/protobuf``) or the proto3 JSON mapping
(``application/json``), so an upstream team can produce with a JSON file.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from crm_contracts import EventSpec, Registry
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from crmkit.entropy import random_hex
from crmkit.errors import PoisonMessage
from crmkit.timeutil import parse_rfc3339, to_rfc3339, utcnow

SPECVERSION = "1.0"
PROTOBUF = "application/protobuf"
JSON = "application/json"
_PROTOBUF_ALIASES = {PROTOBUF, "application/x-protobuf", "application/vnd.google.protobuf"}
REQUIRED_HEADERS = ("ce_id", "ce_source", "ce_specversion", "ce_type")

M = TypeVar("M", bound=Message)
Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """A decoded event: its CloudEvents attributes, typed data and where it came from."""

    id: str
    source: str
    type: str
    time: datetime
    data: Message
    correlation_id: str = ""
    topic: str = ""
    partition: int = -1
    offset: int = -1
    key: bytes | None = None
    extensions: dict[str, str] = field(default_factory=dict)

    def data_as(self, cls: builtins.type[M]) -> M:
        """The data as ``cls``; PoisonMessage if the registry mapped it to another schema."""
        if not isinstance(self.data, cls):
            raise PoisonMessage(
                f"{self.type} carries {builtins.type(self.data).__name__}, handler expects {cls.__name__}"
            )
        return self.data

    @property
    def dedupe_key(self) -> str:
        """What makes an event unique under CloudEvents: source plus id."""
        return f"{self.source}#{self.id}"


def new_event_id() -> str:
    """A fresh event id: a random (version 4) UUID as ``str(uuid.uuid4())`` gives it, without the UUID object."""
    digits = random_hex(16)
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def encode_headers(
    *,
    event_id: str,
    source: str,
    event_type: str,
    time: datetime | None = None,
    content_type: str = PROTOBUF,
    correlation_id: str = "",
) -> list[tuple[str, bytes]]:
    """The binary-mode headers for one event, including ``id`` as Debezium's outbox router sets it."""
    headers = [
        ("id", event_id.encode()),
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_specversion", SPECVERSION.encode()),
        ("ce_type", event_type.encode()),
        ("ce_time", to_rfc3339(time or utcnow()).encode()),
        ("content-type", content_type.encode()),
    ]
    if correlation_id:
        headers.append(("ce_correlationid", correlation_id.encode()))
    return headers


def encode_data(message: Message, content_type: str) -> bytes:
    """Serialise data for ``content_type`` (protobuf binary or proto3 JSON)."""
    if content_type == JSON:
        return json_format.MessageToJson(message, indent=None, ensure_ascii=False).encode()
    return message.SerializeToString()


def header_map(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Headers as text, last value wins; undecodable values raise PoisonMessage."""
    result: dict[str, str] = {}
    for name, value in headers or ():
        try:
            result[name] = (value or b"").decode()
        except UnicodeDecodeError:
            raise PoisonMessage(f"header {name!r} is not UTF-8") from None
    return result


def _content_type(headers: dict[str, str], value: bytes) -> str:
    declared = headers.get("content-type", "").split(";")[0].strip().lower()
    if declared:
        if declared in _PROTOBUF_ALIASES:
            return PROTOBUF
        if declared == JSON or declared.endswith("+json"):
            return JSON
        raise PoisonMessage(f"unsupported content-type {declared!r}; use {PROTOBUF} or {JSON}")
    return JSON if value.lstrip()[:1] == b"{" else PROTOBUF


def _parse_data(spec: EventSpec, value: bytes, content_type: str) -> Message:
    message: Message = spec.message_class()
    try:
        if content_type == JSON:
            json_format.Parse(value.decode("utf-8"), message)
        else:
            message.ParseFromString(value)
    except (json_format.ParseError, UnicodeDecodeError, DecodeError) as exc:
        raise PoisonMessage(f"{spec.type}: payload is not valid {content_type} for {spec.schema}: {exc}") from None
    return message


def _field_value(message: Message, path: str) -> object:
    value: object = message
    for part in path.split("."):
        value = getattr(value, part)
    return value


def check_required(spec: EventSpec, message: Message) -> None:
    """Raise PoisonMessage naming the field when a required field is empty."""
    missing = [path for path in spec.required if not _field_value(message, path)]
    if missing:
        raise PoisonMessage(f"{spec.type}: required field(s) missing: {', '.join(missing)}")
    if spec.required_one_of and not any(_field_value(message, path) for path in spec.required_one_of):
        raise PoisonMessage(f"{spec.type}: needs at least one of: {', '.join(spec.required_one_of)}")


def decode(
    *,
    registry: Registry,
    topic: str,
    value: bytes | None,
    headers: Iterable[tuple[str, bytes | None]] | None,
    key: bytes | None = None,
    partition: int = -1,
    offset: int = -1,
) -> CloudEvent:
    """Decode and validate one Kafka record; PoisonMessage says exactly what is wrong."""
    attrs = header_map(headers)
    missing = [name for name in REQUIRED_HEADERS if not attrs.get(name)]
    if missing:
        raise PoisonMessage(f"missing CloudEvents header(s): {', '.join(missing)}")
    if attrs["ce_specversion"] != SPECVERSION:
        raise PoisonMessage(f"unsupported ce_specversion {attrs['ce_specversion']!r}; expected {SPECVERSION}")
    spec = registry.event(topic, attrs["ce_type"])
    if spec is None:
        known = ", ".join(sorted(registry.topic(topic).events))
        raise PoisonMessage(f"unknown event type {attrs['ce_type']!r} on {topic}; known: {known}")
    try:
        time = parse_rfc3339(attrs["ce_time"]) if attrs.get("ce_time") else utcnow()
    except ValueError as exc:
        raise PoisonMessage(f"ce_time is not an RFC 3339 time: {exc}") from None
    if value is None:
        raise PoisonMessage(f"{spec.type}: empty message value")
    data = _parse_data(spec, value, _content_type(attrs, value))
    check_required(spec, data)
    extensions = {k[3:]: v for k, v in attrs.items() if k.startswith("ce_") and k not in REQUIRED_HEADERS}
    return CloudEvent(
        id=attrs["ce_id"],
        source=attrs["ce_source"],
        type=spec.type,
        time=time,
        data=data,
        correlation_id=attrs.get("ce_correlationid", ""),
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        extensions=extensions,
    )
