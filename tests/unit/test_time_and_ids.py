"""The hand-rolled hot-path helpers equal what they replace: event ids are UUID4 text, timestamps FromDatetime's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from crm_contracts.timestamps import timestamp_of
from crmkit.cloudevents import new_event_id
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

ZONES = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


def test_event_ids_are_random_version_4_uuids() -> None:
    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


@given(value=st.datetimes(timezones=st.none() | ZONES))
def test_timestamps_equal_from_datetime(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp_of(value) == expected
    if value.tzinfo is None:
        assert timestamp_of(value) == timestamp_of(value.replace(tzinfo=UTC))  # naive is UTC
