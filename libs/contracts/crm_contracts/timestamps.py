"""Datetimes as protobuf Timestamps, without ``Timestamp.FromDatetime``'s calendar round trip (~3x faster)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def set_timestamp(stamp: Timestamp, value: datetime) -> None:
    """Set ``stamp`` to ``value`` (a naive value is UTC), exactly as ``stamp.FromDatetime(value)`` would."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds, micros = divmod((value - _EPOCH) // _MICROSECOND, 1_000_000)
    stamp.seconds = seconds
    stamp.nanos = micros * 1000


def timestamp_of(value: datetime) -> Timestamp:
    """``value`` as a new protobuf Timestamp."""
    stamp = Timestamp()
    set_timestamp(stamp, value)
    return stamp
