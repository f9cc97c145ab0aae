"""Instants and durations as integer microseconds since the Unix epoch (UTC).

The engine works on plain integers: they compare, add and serialise fast and exactly.
``to_instant``/``to_datetime`` convert at the edges; text is ISO-8601 with an offset in,
RFC 3339 with ``Z`` out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

Instant = int
"""Microseconds since 1970-01-01T00:00:00Z."""

Duration = int
"""Microseconds."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND: Duration = 1_000_000
MINUTE: Duration = 60 * SECOND
HOUR: Duration = 60 * MINUTE
DAY: Duration = 24 * HOUR
_ONE_US = timedelta(microseconds=1)
_UNITS = {"s": SECOND, "m": MINUTE, "h": HOUR, "d": DAY}
_DURATION = re.compile(r"^([0-9]+)\s*([smhd])$")


def to_instant(value: datetime) -> Instant:
    """An aware datetime as an instant; ValueError for a naive one."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time {value.isoformat()} has no UTC offset")
    return (value - EPOCH) // _ONE_US


def to_datetime(value: Instant) -> datetime:
    """An instant as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=value)


def parse_instant(text: str) -> Instant:
    """ISO-8601 text with a UTC offset (or ``Z``) as an instant; ValueError otherwise."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"unparseable time {text!r} (expected ISO-8601 with an offset)") from None
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return (value - EPOCH) // _ONE_US


def format_instant(value: Instant) -> str:
    """An instant as RFC 3339 text in UTC with a ``Z`` (microseconds only when non-zero)."""
    return to_datetime(value).isoformat().replace("+00:00", "Z")


def parse_duration(text: str) -> Duration:
    """``30m``, ``72h``, ``7d``, ``45s`` as a duration; ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"bad duration {text!r} (expected a whole number and s, m, h or d, e.g. 72h)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_duration(value: Duration) -> str:
    """A duration as the largest exact unit, e.g. ``72h`` → ``3d``."""
    for unit, size in (("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return f"{value}us"
