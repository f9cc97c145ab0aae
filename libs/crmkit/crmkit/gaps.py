"""Fetches that skip offsets are read again before a consumer accepts the gap.

Tansu (the embedded broker) advances a partition's high watermark before it stores the
batch, so a fetch that races a producer can return a later batch while an earlier one is
still being written; a consumer that took it would move past the earlier batch for good
(measured with three producers racing on one partition: a live reader missed 7–41 of
33,000–66,000 acknowledged records; a reader started afterwards saw them all). Apache
Kafka leaves gaps only where compaction or transaction markers took offsets; there a
re-read returns the same later batch and the gap is accepted after a few tries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from crmkit import metrics

log = logging.getLogger(__name__)


class GapGuard:
    """Per partition, the offset after the last record handed on, and how often a gap was read again."""

    def __init__(self, *, rereads: int, service: str = "") -> None:
        self._rereads = rereads
        self._service = service
        self._next: dict[TopicPartition, int] = {}
        self._tries: dict[TopicPartition, tuple[int, int]] = {}  # partition → (gap start, re-reads so far)

    def admit(self, tp: TopicPartition, offsets: Sequence[int]) -> tuple[int, int | None]:
        """How many of a fetch's records (offsets in order) to hand on, and where to read again from, if anywhere.

        Records stop at the first one that skips past the expected offset, unless that gap has
        already been read again ``rereads`` times: then it is accepted (and logged). The first
        fetch of a partition and redeliveries (offsets behind the expected one) always pass.
        """
        if not offsets:
            return 0, None
        expected = self._next.get(tp)
        if offsets[-1] - offsets[0] == len(offsets) - 1 and (expected is None or offsets[0] <= expected):
            self._next[tp] = offsets[-1] + 1  # one unbroken run from where we are: the usual fetch
            if tp in self._tries and offsets[-1] >= self._tries[tp][0]:
                del self._tries[tp]
            return len(offsets), None
        for index, offset in enumerate(offsets):
            if expected is not None and offset > expected:
                gap_start, tries = self._tries.get(tp, (expected, 0))
                if gap_start != expected:
                    tries = 0
                if tries < self._rereads:
                    self._tries[tp] = (expected, tries + 1)
                    self._next[tp] = expected
                    metrics.OFFSET_GAPS.labels(self._service, "reread").inc()
                    return index, expected
                metrics.OFFSET_GAPS.labels(self._service, "accepted").inc()
                log.warning(
                    "%s[%d]: offsets %d..%d absent after %d re-reads; going on",
                    tp.topic,
                    tp.partition,
                    expected,
                    offset - 1,
                    tries,
                )
                self._tries.pop(tp, None)
            elif tp in self._tries and offset >= self._tries[tp][0]:
                self._tries.pop(tp)  # the re-read found what was missing
            expected = offset + 1
        self._next[tp] = offsets[-1] + 1
        return len(offsets), None

    def retain(self, assigned: set[TopicPartition]) -> None:
        """Forget partitions no longer assigned: another member may move them on before they come back."""
        for tp in [tp for tp in self._next if tp not in assigned]:
            del self._next[tp]
            self._tries.pop(tp, None)

    def tries(self, tp: TopicPartition) -> int:
        """How often the current gap on ``tp`` has been read again (0 when there is none)."""
        return self._tries.get(tp, (0, 0))[1]


async def poll_contiguous(
    consumer: AIOKafkaConsumer, guard: GapGuard, *, max_records: int, timeout_ms: int = 200
) -> list[ConsumerRecord[bytes, bytes]]:
    """Up to ``max_records`` records, grouped by partition in offset order, none past an unread gap.

    A partition whose fetch skips offsets is sought back to the first missing one and left out
    of this poll; the next poll reads it again (after a short pause that grows with each try).
    """
    batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
    guard.retain(consumer.assignment())
    records: list[ConsumerRecord[bytes, bytes]] = []
    pause = 0.0
    for tp, part in batches.items():
        take, reread_from = guard.admit(tp, [record.offset for record in part])
        records.extend(part[:take] if take < len(part) else part)
        if reread_from is not None:
            consumer.seek(tp, reread_from)
            pause = max(pause, 0.005 * guard.tries(tp))
    if pause and not records:
        await asyncio.sleep(pause)
    return records
