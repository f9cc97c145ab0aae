"""GapGuard: a fetch that skips offsets is read again a few times before the gap is accepted."""

from __future__ import annotations

from aiokafka import TopicPartition
from crmkit.gaps import GapGuard
from hypothesis import given
from hypothesis import strategies as st

TP = TopicPartition("t", 0)


def test_contiguous_and_first_fetches_pass() -> None:
    guard = GapGuard(rereads=3)
    assert guard.admit(TP, [40, 41, 42]) == (3, None)  # nothing expected yet: wherever the group starts
    assert guard.admit(TP, [43]) == (1, None)
    assert guard.admit(TopicPartition("t", 1), [7, 8, 9]) == (3, None)  # partitions are apart


def test_a_gap_is_read_again_then_filled() -> None:
    guard = GapGuard(rereads=3)
    guard.admit(TP, range(0, 10))
    assert guard.admit(TP, [14, 15]) == (0, 10)  # 10..13 missing: read again from 10
    assert guard.tries(TP) == 1
    assert guard.admit(TP, [10, 11, 12, 13, 14, 15]) == (6, None)  # the re-read found the batch
    assert guard.tries(TP) == 0
    assert guard.admit(TP, [16]) == (1, None)


def test_a_gap_inside_one_fetch_stops_the_records_at_it() -> None:
    guard = GapGuard(rereads=3)
    guard.admit(TP, range(0, 10))
    assert guard.admit(TP, [10, 11, 15, 16]) == (2, 12)  # a fetch of two batches with one missing between
    assert guard.admit(TP, [12, 13, 14, 15, 16]) == (5, None)


def test_a_lasting_gap_is_accepted_after_the_last_reread() -> None:
    guard = GapGuard(rereads=2)
    guard.admit(TP, range(0, 10))
    assert guard.admit(TP, [14, 15]) == (0, 10)
    assert guard.admit(TP, [14, 15]) == (0, 10)
    assert guard.admit(TP, [14, 15]) == (2, None)  # compaction or a failed produce left it: go on
    assert guard.admit(TP, [16, 17]) == (2, None)


def test_redelivery_is_not_a_gap() -> None:
    guard = GapGuard(rereads=3)
    guard.admit(TP, range(0, 10))
    assert guard.admit(TP, [5, 6, 7]) == (3, None)  # after a rebalance or restart, from the committed offset
    assert guard.admit(TP, [8]) == (1, None)


def test_a_partition_given_back_after_a_rebalance_starts_afresh() -> None:
    guard = GapGuard(rereads=3)
    guard.admit(TP, range(0, 10))
    guard.retain(set())  # revoked; another member handles 10..49 and commits
    assert guard.admit(TP, [50, 51]) == (2, None)


def test_zero_rereads_turns_the_guard_off() -> None:
    guard = GapGuard(rereads=0)
    guard.admit(TP, range(0, 10))
    assert guard.admit(TP, [50, 51]) == (2, None)


@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=6), min_size=1, max_size=30), st.integers(0, 3))
def test_no_record_is_handed_on_past_a_gap_before_its_rereads(fetches: list[list[int]], rereads: int) -> None:
    """Whatever the broker returns, records are handed on in order and past a gap only after ``rereads`` re-reads.

    Each fetch is a list of skips: 0 is the next offset, n > 0 leaves n offsets out before it.
    """
    guard = GapGuard(rereads=rereads)
    position, handed, seen_gaps = 0, [], {}
    for skips in fetches:
        offsets, at = [], position
        for skip in skips:
            at += skip
            offsets.append(at)
            at += 1
        take, reread_from = guard.admit(TP, offsets)
        handed.extend(offsets[:take])
        if reread_from is not None:
            seen_gaps[reread_from] = seen_gaps.get(reread_from, 0) + 1
            assert seen_gaps[reread_from] <= rereads
            position = reread_from
        else:
            assert take == len(offsets)
            position = offsets[-1] + 1
    assert handed == sorted(set(handed)), "records handed on out of order or twice"
