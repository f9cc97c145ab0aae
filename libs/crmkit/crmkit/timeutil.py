"""Time helpers: aware UTC datetimes, RFC 3339 text and protobuf Timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_contracts.timestamps import timestamp_of
from google.protobuf.timestamp_pb2 import Timestamp


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 / ISO-8601 time with an offset; ValueError if it has none."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return value.astimezone(UTC)


def to_rfc3339(value: datetime) -> str:
    """An aware datetime as RFC 3339 text in UTC with a Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_timestamp(value: datetime) -> Timestamp:
    """An aware datetime as a protobuf Timestamp."""
    return timestamp_of(value)


def from_timestamp(stamp: Timestamp) -> datetime:
    """A protobuf Timestamp as an aware UTC datetime."""
    return stamp.ToDatetime(tzinfo=UTC)
