"""bench/identity_unseen.py: the independent labelled generator is deterministic and its labels are consistent."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
FIELDS = {
    "record_id", "source", "name", "phone", "email", "company", "credit_code", "unionid",
    "wecom_external_userid", "region", "industry", "address", "observed_at",
}  # fmt: skip


@pytest.fixture(scope="module")
def unseen() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("identity_unseen")
    finally:
        sys.path.remove(str(BENCH))


def test_same_seed_same_records(unseen: ModuleType) -> None:
    first, again = unseen.generate(600, 7), unseen.generate(600, 7)
    assert [(r.row, r.person, r.account, r.junk) for r in first] == [
        (r.row, r.person, r.account, r.junk) for r in again
    ]
    assert [r.row for r in unseen.generate(600, 8)] != [r.row for r in first]


def test_labels_are_consistent(unseen: ModuleType) -> None:
    records = unseen.generate(800, 3)
    assert len(records) == 800
    assert len({r.row["record_id"] for r in records}) == 800
    junk = [r for r in records if r.junk]
    assert 0 < len(junk) < len(records) // 10
    for r in records:
        assert r.person, "every record has a person id"
        assert set(r.row) <= FIELDS
        assert r.row["source"] in unseen.SOURCES
        if "wecom_external_userid" in r.row:
            assert r.row["source"] == "wecom"
        if "unionid" in r.row and not r.junk:
            assert r.row["source"] in {"miniprogram", "wecom"}
    # junk rows: no account, each its own person, never sharing a person id with a real record
    assert all(r.account is None for r in junk)
    assert len({r.person for r in junk}) == len(junk)
    assert not {r.person for r in junk} & {r.person for r in records if not r.junk}
    # a person belongs to one organisation (or none) across all of their records
    accounts: dict[str, set[str | None]] = {}
    for r in records:
        accounts.setdefault(r.person, set()).add(r.account)
    assert all(len(found) == 1 for found in accounts.values())
    # each person has 1-6 records and B2B people show their company at least once
    by_person: dict[str, list[object]] = {}
    for r in records:
        if not r.junk:
            by_person.setdefault(r.person, []).append(r)
    assert max(len(rows) for rows in by_person.values()) <= 6
    for r in records:
        if r.account is not None:
            assert any("company" in other.evidence for other in by_person[r.person])  # type: ignore[attr-defined]


def test_credit_codes_carry_valid_check_digits(unseen: ModuleType) -> None:
    alphabet, weights = unseen.CREDIT_ALPHABET, unseen.CREDIT_WEIGHTS
    codes = {r.row["credit_code"].upper() for r in unseen.generate(3000, 5) if "credit_code" in r.row}
    assert codes
    for code in codes:
        assert re.fullmatch(r"91\d{6}[0-9A-Z]{10}", code)
        weighted = sum(alphabet.index(c) * w for c, w in zip(code[:17], weights, strict=True))
        assert alphabet[(31 - weighted % 31) % 31] == code[17]
