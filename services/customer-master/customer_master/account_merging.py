"""Account merges: two accounts that one customer's records name become one, as ``crm dedupe`` joins them.

The streaming engine places a company the moment it is first seen: a name typed by ear ('祥广' for
'祥光'), a rendering or a name without its region may found an account of its own before the
organisation's usual spelling arrives. The evidence that the two are one comes later, when one
customer's records name both (or two customers naming them are merged), and it is weighed as the
batch engine's ``join_within`` weighs it: the two spellings are scored as accounts of one
customer (:func:`~customer_master.domain.matching.score`, ``same_customer``) and joined only
above the auto-merge threshold, never across two credit codes or two regions that cannot be one
place (branches and subsidiaries stay apart; an account whose name says nowhere is where its credit
code was registered).

The older account survives. The absorbed one keeps its row with ``merged_into`` (every lookup that
finds it answers with the survivor), its live customers move with a ``crm.customer.updated`` each,
and ``crm.customer.account_merged`` maps the absorbed id to the survivor; ``account_merges`` keeps
the evidence and the customers moved.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from crm.events.customer.v1.customer_pb2 import AccountMerged, AccountUnmerged, CustomerUpdated
from crmkit.outbox import Outbox
from crmkit.rawsql import RawSql
from sqlalchemy import Connection

from customer_master import merging
from customer_master.domain.credit_codes import registered_region
from customer_master.domain.dedupe import account_flat
from customer_master.domain.matching import Match, prepare_flat, score, unflatten
from customer_master.domain.regions import region_compatible
from customer_master.domain.resolution import CustomerRecord
from customer_master.models import AccountMergeRow, AccountRow, Base

_ACCOUNT_MERGES = Base.metadata.tables[AccountMergeRow.__tablename__]
_ACCOUNT_ROWS = Base.metadata.tables[AccountRow.__tablename__]
_ACCOUNTS = "SELECT id, merged_into, credit_code, region_code, created_at, name FROM accounts WHERE id IN ({})"
_MERGE_COLUMNS = (
    "id",
    "survivor_id",
    "absorbed_id",
    "customer_id",
    "confidence",
    "evidence",
    "moved_customer_ids",
    "repointed_account_ids",
    "learned",
    "merged_at",
    "unmerged_at",
    "unmerge_reason",
)
_UNDONE = (
    "SELECT id FROM account_merges WHERE unmerged_at IS NOT NULL"
    " AND ((survivor_id = ? AND absorbed_id = ?) OR (survivor_id = ? AND absorbed_id = ?))"
)
_STILL_THERE = "SELECT id FROM customers WHERE account_id = ? AND id IN ({})"


@dataclass(frozen=True)
class Tie:
    """One customer naming two accounts: a record naming another account than its own, its golden
    company moving it from one account to another, or two customers of two accounts merged."""

    customer_id: str
    account_id: str
    other_id: str
    spellings: tuple[Spelling, Spelling] | None = None
    """The customer's own two spellings (company, region) that lead to the two accounts, when known."""


Spelling = tuple[str, str]
"""A company name as a customer typed it, and the region it was typed in."""


def join_accounts(*, sql: RawSql, outbox: Outbox, ties: Sequence[Tie], now: datetime) -> list[str]:
    """Merge the two accounts of each tie whose names agree given one customer (the accounts' own names,
    or the customer's two spellings: the better of the two scores); returns the merge ids."""
    merge_ids = []
    weighed: set[tuple[str, str, Spelling | None, Spelling | None]] = set()
    for tie in ties:
        found = {row[0]: _Account(*row) for row in sql.rows_in(_ACCOUNTS, sorted({tie.account_id, tie.other_id}))}
        live = sorted({_live(found, tie.account_id), _live(found, tie.other_id)})
        spellings = tie.spellings or (None, None)
        if len(live) != 2 or "" in live or (*live, *spellings) in weighed:
            continue  # one account already, one unknown, or weighed already in this batch
        weighed.add((*live, *spellings))
        if missing := [account for account in live if account not in found]:  # survivors of earlier merges
            found.update((row[0], _Account(*row)) for row in sql.rows_in(_ACCOUNTS, missing))
        older, newer = sorted((found[account] for account in live), key=lambda a: (a.created, a.id))
        if not _may_be_one(older, newer):
            continue  # registered apart
        names = ((older.name, older.region), (newer.name, newer.region))
        match = max((account_match(*pair) for pair in (names, tie.spellings) if pair), key=lambda m: m.score)
        if match.decision == "auto_merge" and not _undone(sql, older.id, newer.id):  # a person said two: never again
            merge_ids.append(_merge(sql, outbox, older, newer, tie, match, now=now))
    return merge_ids


class _Account(NamedTuple):
    """What a merge decision reads of an account (a row of ``_ACCOUNTS``)."""

    id: str
    merged_into: str
    credit_code: str
    region: str
    created: datetime  # text on SQLite: ordered the same way
    name: str


def account_match(one: Spelling, other: Spelling) -> Match:
    """How two company names (each in its region) score as the organisations one customer named."""
    a, b = (account_flat(prepare_flat(name="", phone="", email="", company=c, region=r)) for c, r in (one, other))
    return score(unflatten(a), unflatten(b), "account", same_customer=True)


def _live(accounts: dict[str, _Account], account_id: str) -> str:
    """The account an id stands for now (its survivor once merged); "" when unknown."""
    account = accounts.get(account_id)
    return "" if account is None else account.merged_into or account.id


def _may_be_one(a: _Account, b: _Account) -> bool:
    """Two accounts that no credit code or region keeps apart; an account its name placed nowhere is where its
    credit code was registered (a group's bare name stated with its code is not its subsidiary elsewhere)."""
    if a.credit_code and b.credit_code and a.credit_code != b.credit_code:
        return False
    here, there = (account.region or registered_region(account.credit_code) for account in (a, b))
    return not here or not there or region_compatible(here, there)


def _merge(
    sql: RawSql, outbox: Outbox, kept: _Account, gone: _Account, tie: Tie, match: Match, *, now: datetime
) -> str:
    """Point the absorbed account (``gone``) and its customers at the survivor; record and announce it."""
    merge_id = f"amg_{uuid.uuid4().hex[:24]}"
    survivor, absorbed = kept.id, gone.id
    repointed = sorted(str(row[0]) for row in sql.rows("SELECT id FROM accounts WHERE merged_into = ?", absorbed))
    pairs = (("credit_code", kept.credit_code, gone.credit_code), ("region_code", kept.region, gone.region))
    learned = {column: new for column, old, new in pairs if not old and new}
    sql.execute("UPDATE accounts SET merged_into = ? WHERE id = ? OR merged_into = ?", survivor, absorbed, absorbed)
    for column, value in learned.items():  # the survivor learns what only the absorbed one knew
        sql.execute(f"UPDATE accounts SET {column} = ? WHERE id = ?", value, survivor)
    moved = sorted(str(row[0]) for row in sql.rows("SELECT id FROM customers WHERE account_id = ?", absorbed))
    sql.execute(
        "UPDATE customers SET account_id = ?, version = version + 1, updated_at = ? WHERE account_id = ?",
        survivor,
        now,
        absorbed,
    )
    customers = [c for c in merging.records_of(sql, moved).values() if not c.merged_into]
    reason = "auto: " + ", ".join(item.rule for item in match.evidence if item.weight > 0)
    evidence = [{"rule": e.rule, "weight": e.weight, "detail": e.detail} for e in match.evidence]
    live_ids = [c.id for c in customers]
    sql.insert(
        _ACCOUNT_MERGES,
        _MERGE_COLUMNS,
        [
            (
                merge_id,
                survivor,
                absorbed,
                tie.customer_id,
                match.score,
                evidence,
                moved,
                repointed,
                learned,
                now,
                None,
                "",
            )
        ],
    )
    outbox.emit(
        event_type="crm.customer.account_merged",
        key=tie.customer_id,
        correlation_id=merge_id,
        data=AccountMerged(
            survivor_id=survivor,
            absorbed_id=absorbed,
            reason=reason,
            confidence=match.score,
            customer_id=tie.customer_id,
            moved_customer_ids=live_ids,
        ),
    )
    emit_moved(outbox, customers, merge_id)
    return merge_id


def emit_moved(outbox: Outbox, customers: Sequence[CustomerRecord], correlation_id: str) -> None:
    """``crm.customer.updated`` for each customer whose account changed."""
    for customer in customers:
        outbox.emit(
            event_type="crm.customer.updated",
            key=customer.id,
            correlation_id=correlation_id,
            data=CustomerUpdated(profile=merging.profile_of(customer), changed_fields=["account_id"]),
        )


def _undone(sql: RawSql, a: str, b: str) -> bool:
    """Whether a merge of these two accounts (either way round) was undone."""
    return bool(sql.rows(_UNDONE, a, b, b, a))


def unmerge_accounts(*, connection: Connection, outbox: Outbox, merge_id: str, reason: str, now: datetime) -> None:
    """Undo an account merge: the absorbed account lives again with the accounts it had absorbed and the
    customers it lost (those that have not moved on since), the survivor forgets what it learnt from it; the
    pair is never merged automatically again. Emits ``crm.customer.account_unmerged`` and an update per
    customer moved back. Raises LookupError for an unknown merge, :class:`~customer_master.merging.MergeConflict`
    when it was undone already or the survivor has since been merged away."""
    sql = RawSql(connection)
    found = sql.rows(
        "SELECT survivor_id, absorbed_id, moved_customer_ids, repointed_account_ids, learned, unmerged_at"
        " FROM account_merges WHERE id = ?",
        merge_id,
    )
    if not found:
        raise LookupError(f"no account merge {merge_id}")
    survivor, absorbed, moved, repointed, learned, unmerged_at = found[0]
    if unmerged_at is not None:
        raise merging.MergeConflict(f"account merge {merge_id} was already undone")
    (later,) = sql.rows("SELECT merged_into FROM accounts WHERE id = ?", survivor)
    if later[0]:
        raise merging.MergeConflict(f"account {survivor} was since merged into {later[0]}: undo that merge first")
    moved, repointed, learned = (_json(value) for value in (moved, repointed, learned))
    sql.execute("UPDATE accounts SET merged_into = '' WHERE id = ?", absorbed)
    sql.update(_ACCOUNT_ROWS, ("merged_into",), [(absorbed, account) for account in repointed])
    for column in learned:
        sql.execute(f"UPDATE accounts SET {column} = '' WHERE id = ?", survivor)
    back = [str(row[0]) for row in sql.rows_in(_STILL_THERE, moved, survivor)]  # not moved on since
    for customer_id in back:
        sql.execute(
            "UPDATE customers SET account_id = ?, version = version + 1, updated_at = ? WHERE id = ?",
            absorbed,
            now,
            customer_id,
        )
    sql.execute("UPDATE account_merges SET unmerged_at = ?, unmerge_reason = ? WHERE id = ?", now, reason, merge_id)
    outbox.emit(
        event_type="crm.customer.account_unmerged",
        key=survivor,
        correlation_id=merge_id,
        data=AccountUnmerged(survivor_id=survivor, restored_id=absorbed, merge_id=merge_id, reason=reason),
    )
    emit_moved(outbox, [c for c in merging.records_of(sql, back).values() if not c.merged_into], merge_id)


def _json(value: object) -> Any:
    """A JSON column as the driver returns it (text on SQLite, decoded on PostgreSQL)."""
    return json.loads(value) if isinstance(value, str) else value
