"""The hand-rolled hot-path helpers equal what they replace: event ids are UUID4 text, timestamps FromDatetime's."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta, timezone

from crm_contracts.timestamps import timestamp_of
from crmkit.cloudevents import new_event_id
from crmkit.entropy import random_bytes, random_hex
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


def test_pooled_random_bytes_are_never_handed_out_twice_even_to_a_forked_child() -> None:
    taken = [random_bytes(12) for _ in range(1000)]  # ~3 pages of the pool
    assert len(set(taken)) == len(taken) and all(len(b) == 12 for b in taken)
    assert len(random_hex(16)) == 32
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child's first bytes must not be the parent's next ones
        os.write(writer, random_bytes(16))
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(reader, 16) != random_bytes(16)


@given(value=st.datetimes(timezones=st.none() | ZONES))
def test_timestamps_equal_from_datetime(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp_of(value) == expected
    if value.tzinfo is None:
        assert timestamp_of(value) == timestamp_of(value.replace(tzinfo=UTC))  # naive is UTC
