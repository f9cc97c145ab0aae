"""Duplicates: blocking + scoring of new customers, merge suggestions, merge and unmerge with history.

A merge keeps the survivor's id, moves the absorbed customer's identity keys and source
records to it, recomputes the golden record by survivorship, and stores a snapshot of both
customers (and of what moved) in ``merges``, so that an unmerge restores both exactly.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerProfile, CustomerUnmerged, CustomerUpdated
from crmkit.outbox import Outbox
from crmkit.rawsql import RawSql
from crmkit.timeutil import to_timestamp
from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from customer_master.domain.blocking import block_keys
from customer_master.domain.matching import Decision, FlatRecord, decide, prepare_flat, score, score_flat, unflatten
from customer_master.domain.resolution import PROFILE_FIELDS, RECORD_FIELDS, CustomerRecord
from customer_master.models import (
    Base,
    BlockKeyRow,
    Customer,
    IdentityKeyRow,
    MergeRow,
    MergeSuggestionRow,
    SourceRecordRow,
)

_NAMESPACE = uuid.UUID("0b5f7d52-35a4-4d0e-9c1e-5d1f3f7b2a61")
_CUSTOMERS = Base.metadata.tables[Customer.__tablename__]
_KEYS = Base.metadata.tables[IdentityKeyRow.__tablename__]
_BLOCKS = Base.metadata.tables[BlockKeyRow.__tablename__]
_SOURCES = Base.metadata.tables[SourceRecordRow.__tablename__]
_SUGGESTIONS = Base.metadata.tables[MergeSuggestionRow.__tablename__]
_MERGES = Base.metadata.tables[MergeRow.__tablename__]
_DATES = ("created_at", "updated_at")
MAX_BLOCK = 50
"""A key more customers share than this (a common name at a big employer) is indexed but not compared on."""
# Lookups by (kind, value) read the primary key index alone: (kind, value, customer_id) covers them.
_BLOCK_SIZES = "SELECT kind, value, COUNT(*) FROM block_keys WHERE kind = ? AND value IN ({}) GROUP BY kind, value"
_HOLDERS = "SELECT kind, value, customer_id FROM block_keys WHERE kind = ? AND value IN ({})"
_HELD = "SELECT kind, value, customer_id FROM block_keys WHERE customer_id IN ({})"
_RECORD = tuple(_CUSTOMERS.c[name] for name in RECORD_FIELDS)
_RECORDS = f"SELECT {', '.join(RECORD_FIELDS)} FROM customers WHERE id IN ({{}})"
_SAVED = tuple(name for name in RECORD_FIELDS if name != "id")
_BLOCKS_OF = "SELECT kind, value FROM block_keys WHERE customer_id = ?"
_SUGGESTIONS_OF = (  # by each side's index: a lookup by status would read every open suggestion
    "SELECT id, status FROM merge_suggestions WHERE customer_id = ?"
    " UNION ALL SELECT id, status FROM merge_suggestions WHERE candidate_id = ?"
)
_MATCHED_ON = ("id", "created_at", "merged_into", "name", "phone_e164", "email", "company", "region_code", "account_id")
_MATCHED_COLUMNS = tuple(_CUSTOMERS.c[name] for name in _MATCHED_ON)
_MATCHING_VIEW = f"SELECT {', '.join(_MATCHED_ON)} FROM customers WHERE id IN ({{}})"
_SUGGESTION_STATUS = "SELECT id, status FROM merge_suggestions WHERE id IN ({})"
_SOURCE_FORMS = "SELECT customer_id, fields FROM source_records WHERE customer_id IN ({})"
_SOURCE_FORM_COLUMNS = (_SOURCES.c.customer_id, _SOURCES.c.fields)
_SUGGESTION_COLUMNS = (
    "id",
    "customer_id",
    "candidate_id",
    "confidence",
    "evidence",
    "status",
    "created_at",
    "decided_at",
    "note",
)


class MergeConflict(Exception):
    """The merge or unmerge contradicts the current state (already merged, already undone, ...)."""


def suggestion_id(a: str, b: str) -> str:
    """The id of the suggestion for a pair: one per pair, whatever the order."""
    return f"sug_{uuid.uuid5(_NAMESPACE, '|'.join(sorted((a, b)))).hex[:24]}"


def load_records(connection: Connection, ids: Iterable[str]) -> dict[str, CustomerRecord]:
    """Customers by id, as resolver records."""
    return records_of(RawSql(connection), ids)


def records_of(sql: RawSql, ids: Iterable[str]) -> dict[str, CustomerRecord]:
    """Customers by id, as resolver records (one query)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row[0]: CustomerRecord(*row) for row in sql.select_in(_RECORDS, wanted, _RECORD)}


def _matching_view(sql: RawSql, ids: set[str]) -> dict[str, CustomerRecord]:
    """Customers by id with only what scoring and survivor choice read (no provenance to decode)."""
    if not ids:
        return {}
    return {
        row[0]: CustomerRecord(**dict(zip(_MATCHED_ON, row, strict=True)), updated_at=row[1])
        for row in sql.select_in(_MATCHING_VIEW, sorted(ids), _MATCHED_COLUMNS)
    }


def _prepared(customer: CustomerRecord) -> FlatRecord:
    return _prepare(customer.name, customer.phone_e164, customer.email, customer.company, customer.region_code)


@functools.lru_cache(maxsize=1 << 14)
def _prepare(name: str, phone: str, email: str, company: str, region: str) -> FlatRecord:
    """A customer's fields normalised for scoring; cached: a key's holders are compared again with each newcomer."""
    return prepare_flat(name=name, phone=phone, email=email, company=company, region=region)


Form = tuple[str, str, str, str, str]
"""What one source record says for matching: (name, phone_e164, email, company, region_code)."""
FORM_FIELDS = ("name", "phone_e164", "email", "company", "region_code")


def form_of(fields: Mapping[str, Any]) -> Form:
    """The matching form of a source record's (normalised) fields."""
    name, phone, email, company, region = (str(fields.get(field) or "") for field in FORM_FIELDS)
    return name, phone, email, company, region


def find_duplicates(
    *,
    connection: Connection,
    outbox: Outbox,
    customers: Sequence[CustomerRecord],
    forms: Mapping[str, Sequence[Form]] | None = None,
    now: datetime,
) -> list[tuple[CustomerRecord, CustomerRecord]]:
    """Index ``customers`` under the blocking keys of their golden record and of their new source records
    (``forms``), score them against customers sharing a key, merge pairs above the auto-merge threshold
    and open a suggestion for the review band. Returns the merged pairs (survivor, absorbed) as they were.

    A pair is scored on its best pair of source records, as ``crm dedupe`` compares records: a person
    first seen by a nickname and a mobile and later by a full name at a firm is found by another
    customer with that name at that firm. Only keys a customer did not hold yet
    bring comparisons: a pair already sharing a key was scored when the second of them took it.
    Junk customers take no keys: junk is never compared with (or merged into) a real customer.
    """
    forms = forms or {}
    keys_of = {
        c.id: keys
        for c in customers
        if not c.merged_into and not c.junk and (keys := _keys(c).union(*map(_form_keys, forms.get(c.id, ()))))
    }
    if not keys_of:
        return []
    sql = RawSql(connection)
    held = set(sql.rows_in(_HELD, sorted(keys_of)))
    taken = {key for customer_id, keys in keys_of.items() for key in keys if (*key, customer_id) not in held}
    sizes = _block_sizes(sql, taken)  # a key its customer holds already brings nothing: not looked up
    oversized = {key for key, size in sizes.items() if size > MAX_BLOCK}
    holders = _holders(sql, [key for key in sizes if key not in oversized])
    new_rows = []
    pairs: set[tuple[str, str]] = set()
    for customer_id, keys in keys_of.items():
        for key in sorted(keys):
            owners = holders.setdefault(key, set())
            if customer_id in owners or (*key, customer_id) in held:
                continue  # compared with every holder of this key when the later of the two took it
            if key not in oversized and len(owners) <= MAX_BLOCK:
                pairs.update((customer_id, other) for other in owners)
            owners.add(customer_id)
            new_rows.append((*key, customer_id))
    sql.insert(_BLOCKS, ("kind", "value", "customer_id"), new_rows)
    return _triage(sql, outbox, pairs, known={c.id: c for c in customers}, now=now) if pairs else []


def brings_keys(customer: CustomerRecord, form: Form) -> bool:
    """Whether a source record has blocking keys its customer's golden record does not."""
    return not _form_keys(form) <= _keys(customer)


def _form_keys(form: Form) -> frozenset[tuple[str, str]]:
    name, phone, email, company, _region = form
    return block_keys(name=name, company=company, email=email, phone_e164=phone)


def _by_kind(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Key values grouped by kind, sorted."""
    grouped: dict[str, list[str]] = {}
    for kind, value in sorted(keys):
        grouped.setdefault(kind, []).append(value)
    return grouped


def _block_sizes(sql: RawSql, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How many customers hold each of ``keys`` (keys nobody holds are left out)."""
    return {(kind, value): size for kind, value, size in sql.rows_in_each(_BLOCK_SIZES, _by_kind(keys))}


def _holders(sql: RawSql, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
    """The customers holding each of ``keys``."""
    holders: dict[tuple[str, str], set[str]] = {}
    for kind, value, holder in sql.rows_in_each(_HOLDERS, _by_kind(keys)):
        holders.setdefault((kind, value), set()).add(holder)
    return holders


def _keys(customer: CustomerRecord) -> frozenset[tuple[str, str]]:
    return block_keys(
        name=customer.name, company=customer.company, email=customer.email, phone_e164=customer.phone_e164
    )


def _triage(
    sql: RawSql,
    outbox: Outbox,
    pairs: set[tuple[str, str]],
    *,
    known: dict[str, CustomerRecord],
    now: datetime,
) -> list[tuple[CustomerRecord, CustomerRecord]]:
    """Score each pair (each customer prepared once); merge, suggest or let be; returns the merged pairs.

    Most pairs score as distinct: they are scored without their evidence text, and only a pair
    that may merge or be suggested gets its suggestion id looked up and its evidence written out.
    """
    involved = {c for pair in pairs for c in pair}
    records = {**_matching_view(sql, involved - set(known)), **known}
    prepared = _forms(sql, records, involved)
    likely: dict[tuple[str, str], Decision] = {}
    best: dict[tuple[str, str], tuple[FlatRecord, FlatRecord]] = {}
    for a_id, b_id in sorted(pairs):
        a, b = records.get(a_id), records.get(b_id)
        if a is None or b is None or a.merged_into or b.merged_into:
            continue
        found, x, y = max(
            ((score_flat(x, y), x, y) for x in prepared[a_id] for y in prepared[b_id]), key=lambda t: t[0]
        )
        decision = decide(found)
        if decision != "distinct":
            likely[a_id, b_id] = decision
            best[a_id, b_id] = (x, y)
    ids = {pair: suggestion_id(*pair) for pair in likely}
    existing: dict[str, str] = dict(sql.rows_in(_SUGGESTION_STATUS, sorted(set(ids.values()))))
    merged: set[str] = set()
    merges = []
    suggestions = []
    for (a_id, b_id), decision in likely.items():
        sid = ids[a_id, b_id]
        if merged & {a_id, b_id} or existing.get(sid) == "rejected":
            continue  # one of them is gone; or a reviewer said two people: no score overrides that
        if decision == "review" and sid in existing:
            continue  # suggested already
        form_a, form_b = best[a_id, b_id]
        match = score(unflatten(form_a), unflatten(form_b))
        survivor, absorbed = sorted((records[a_id], records[b_id]), key=lambda c: (c.created_at, c.id))
        if match.decision == "auto_merge":
            reason = "auto: " + ", ".join(item.rule for item in match.evidence if item.weight > 0)
            _merge(sql, outbox, survivor.id, absorbed.id, reason=reason, confidence=match.score, now=now)
            merged.add(absorbed.id)
            merges.append((survivor, absorbed))
        elif match.decision == "review":
            existing[sid] = "open"
            evidence = [{"rule": e.rule, "weight": e.weight, "detail": e.detail} for e in match.evidence]
            suggestions.append((sid, survivor.id, absorbed.id, match.score, evidence, "open", now, None, ""))
    sql.insert(_SUGGESTIONS, _SUGGESTION_COLUMNS, suggestions)
    return merges


def _forms(sql: RawSql, records: Mapping[str, CustomerRecord], ids: set[str]) -> dict[str, list[FlatRecord]]:
    """Each customer's distinct prepared forms: its source records' (one query), as ``crm dedupe`` compares
    records; the golden record's only for a customer without any (its fields mix several records)."""
    forms: dict[str, set[FlatRecord]] = {c: set() for c in ids if c in records}
    for customer_id, fields in sql.select_in(_SOURCE_FORMS, sorted(forms), _SOURCE_FORM_COLUMNS):
        forms[customer_id].add(_prepare(*form_of(fields)))
    return {c: sorted(found) if found else [_prepared(records[c])] for c, found in forms.items()}


def reject_suggestion(*, connection: Connection, suggestion_id: str, reason: str, now: datetime) -> None:
    """Close an open suggestion as two different people; the pair is never suggested again.

    Raises LookupError for an unknown suggestion and :class:`MergeConflict` when it was decided already.
    """
    row = connection.execute(select(_SUGGESTIONS.c.status).where(_SUGGESTIONS.c.id == suggestion_id)).first()
    if row is None:
        raise LookupError(f"no merge suggestion {suggestion_id}")
    if row.status != "open":
        raise MergeConflict(f"merge suggestion {suggestion_id} is already {row.status}")
    connection.execute(
        update(_SUGGESTIONS)
        .where(_SUGGESTIONS.c.id == suggestion_id)
        .values(status="rejected", decided_at=now, note=reason)
    )


def _to_json(customer: CustomerRecord) -> dict[str, Any]:
    row = customer.as_row()
    return {k: v.isoformat() if k in _DATES and isinstance(v, datetime) else v for k, v in row.items()}


def _from_json(row: dict[str, Any]) -> CustomerRecord:
    values: dict[str, Any] = {k: datetime.fromisoformat(v) if k in _DATES else v for k, v in row.items()}
    return CustomerRecord(**values)


def _save(sql: RawSql, customer: CustomerRecord) -> None:
    """Write every column of a customer's row."""
    sql.update(_CUSTOMERS, _SAVED, [(*(getattr(customer, name) for name in _SAVED), customer.id)])


def profile_of(customer: CustomerRecord) -> CustomerProfile:
    """The golden record as other services see it."""
    return CustomerProfile(
        customer_id=customer.id,
        account_id=customer.account_id,
        name=customer.name,
        phone_e164=customer.phone_e164,
        email=customer.email,
        company=customer.company,
        region_code=customer.region_code,
        industry=customer.industry,
        junk=customer.junk,
        updated_at=to_timestamp(customer.updated_at),
        version=customer.version,
    )


def _emit_updated(outbox: Outbox, before: CustomerRecord, after: CustomerRecord, correlation_id: str) -> None:
    changed = [name for name in (*PROFILE_FIELDS, "account_id") if getattr(before, name) != getattr(after, name)]
    outbox.emit(
        event_type="crm.customer.updated",
        key=after.id,
        correlation_id=correlation_id,
        data=CustomerUpdated(profile=profile_of(after), changed_fields=changed),
    )


def _pairs(rows: Iterable[Any]) -> list[list[str]]:
    return sorted([str(a), str(b)] for a, b in rows)


def merge_customers(
    *,
    connection: Connection,
    outbox: Outbox,
    survivor_id: str,
    absorbed_id: str,
    reason: str,
    confidence: float = 1.0,
    now: datetime,
) -> str:
    """Merge ``absorbed_id`` into ``survivor_id``; returns the merge id.

    Raises ValueError for a pair of one customer, LookupError for an unknown customer and
    :class:`MergeConflict` when either customer was already merged away.
    """
    return _merge(RawSql(connection), outbox, survivor_id, absorbed_id, reason=reason, confidence=confidence, now=now)


def _merge(
    sql: RawSql, outbox: Outbox, survivor_id: str, absorbed_id: str, *, reason: str, confidence: float, now: datetime
) -> str:
    """:func:`merge_customers` on the transaction's cursor."""
    if survivor_id == absorbed_id:
        raise ValueError(f"survivor_id and absorbed_id are both {survivor_id}")
    found = records_of(sql, (survivor_id, absorbed_id))
    for customer_id in (survivor_id, absorbed_id):
        if customer_id not in found:
            raise LookupError(f"no customer {customer_id}")
        if found[customer_id].merged_into:
            raise MergeConflict(f"customer {customer_id} was already merged into {found[customer_id].merged_into}")
    survivor, absorbed = found[survivor_id], found[absorbed_id]
    keys = _pairs(sql.rows("SELECT kind, value FROM identity_keys WHERE customer_id = ?", absorbed_id))
    records = sorted(row[0] for row in sql.rows("SELECT id FROM source_records WHERE customer_id = ?", absorbed_id))
    absorbed_blocks = _pairs(sql.rows(_BLOCKS_OF, absorbed_id))
    survivor_blocks = _pairs(sql.rows(_BLOCKS_OF, survivor_id))
    added_blocks = [b for b in absorbed_blocks if b not in survivor_blocks]
    merged = replace(survivor, version=survivor.version + 1, updated_at=now)
    for name in PROFILE_FIELDS:
        candidate = absorbed.candidate(name)
        if candidate is not None:
            merged.offer(name, candidate, source=absorbed.provenance.get(name, {}).get("source", ""))
    merged.account_id = survivor.account_id or absorbed.account_id
    gone = replace(absorbed, merged_into=survivor_id, version=absorbed.version + 1, updated_at=now)
    _save(sql, merged)
    _save(sql, gone)
    sql.execute("UPDATE identity_keys SET customer_id = ? WHERE customer_id = ?", survivor_id, absorbed_id)
    sql.execute("UPDATE source_records SET customer_id = ? WHERE customer_id = ?", survivor_id, absorbed_id)
    sql.execute("DELETE FROM block_keys WHERE customer_id = ?", absorbed_id)
    sql.insert(_BLOCKS, ("kind", "value", "customer_id"), [(k, v, survivor_id) for k, v in added_blocks])
    _close_suggestions(sql, survivor_id, absorbed_id, now=now)
    merge_id = f"mrg_{uuid.uuid4().hex[:24]}"
    snapshot = {
        "survivor": _to_json(survivor),
        "absorbed": _to_json(absorbed),
        "identity_keys": keys,
        "source_records": records,
        "block_keys": absorbed_blocks,
        "added_block_keys": added_blocks,
    }
    sql.insert(
        _MERGES,
        ("id", "survivor_id", "absorbed_id", "reason", "confidence", "snapshot", "merged_at", "unmerged_at"),
        [(merge_id, survivor_id, absorbed_id, reason, confidence, snapshot, now, None)],
    )
    outbox.emit(
        event_type="crm.customer.merged",
        key=survivor_id,
        correlation_id=merge_id,
        data=CustomerMerged(survivor_id=survivor_id, absorbed_id=absorbed_id, reason=reason, confidence=confidence),
    )
    _emit_updated(outbox, survivor, merged, merge_id)
    return merge_id


def _close_suggestions(sql: RawSql, survivor_id: str, absorbed_id: str, *, now: datetime) -> None:
    """Accept the pair's open suggestion; the absorbed id's other open ones are moot: superseded."""
    pair = suggestion_id(survivor_id, absorbed_id)
    still_open = [sid for sid, status in sql.rows(_SUGGESTIONS_OF, absorbed_id, absorbed_id) if status == "open"]
    sql.update(_SUGGESTIONS, ("status", "decided_at"), [("accepted", now, sid) for sid in still_open if sid == pair])
    note = f"{absorbed_id} merged into {survivor_id}"
    sql.update(
        _SUGGESTIONS,
        ("status", "decided_at", "note"),
        [("superseded", now, note, sid) for sid in still_open if sid != pair],
    )


def unmerge(*, connection: Connection, outbox: Outbox, merge_id: str, reason: str, now: datetime) -> None:
    """Undo a merge: both customers, their identity keys, source records and accounts as before it.

    Every field comes back as the snapshot holds it except ``version``, which increases so
    that views keeping the highest version take the restored records. Raises LookupError for
    an unknown merge, :class:`MergeConflict` when it was undone already or its survivor has
    since been merged away.
    """
    row = connection.execute(select(_MERGES).where(_MERGES.c.id == merge_id)).mappings().first()
    if row is None:
        raise LookupError(f"no merge {merge_id}")
    if row["unmerged_at"] is not None:
        raise MergeConflict(f"merge {merge_id} was already undone")
    survivor_id, absorbed_id = row["survivor_id"], row["absorbed_id"]
    current = load_records(connection, (survivor_id, absorbed_id))
    if current[survivor_id].merged_into:
        raise MergeConflict(
            f"survivor {survivor_id} was since merged into {current[survivor_id].merged_into}: undo that merge first"
        )
    snapshot = row["snapshot"]
    restored = {
        customer_id: replace(_from_json(snapshot[role]), version=current[customer_id].version + 1)
        for role, customer_id in (("survivor", survivor_id), ("absorbed", absorbed_id))
    }
    for customer in restored.values():
        _save(RawSql(connection), customer)
    if snapshot["identity_keys"]:
        connection.execute(
            update(_KEYS)
            .where(_KEYS.c.kind == bindparam("k"), _KEYS.c.value == bindparam("v"))
            .values(customer_id=absorbed_id),
            [{"k": k, "v": v} for k, v in snapshot["identity_keys"]],
        )
    if snapshot["source_records"]:
        connection.execute(
            update(_SOURCES).where(_SOURCES.c.id.in_(snapshot["source_records"])).values(customer_id=absorbed_id)
        )
    if snapshot["added_block_keys"]:
        connection.execute(
            delete(_BLOCKS).where(
                _BLOCKS.c.customer_id == survivor_id,
                or_(*(and_(_BLOCKS.c.kind == k, _BLOCKS.c.value == v) for k, v in snapshot["added_block_keys"])),
            )
        )
    if snapshot["block_keys"]:
        connection.execute(
            insert(_BLOCKS), [{"kind": k, "value": v, "customer_id": absorbed_id} for k, v in snapshot["block_keys"]]
        )
    connection.execute(update(_MERGES).where(_MERGES.c.id == merge_id).values(unmerged_at=now))
    outbox.emit(
        event_type="crm.customer.unmerged",
        key=survivor_id,
        correlation_id=merge_id,
        data=CustomerUnmerged(survivor_id=survivor_id, restored_id=absorbed_id, merge_id=merge_id, reason=reason),
    )
    for customer_id, customer in restored.items():
        _emit_updated(outbox, current[customer_id], customer, merge_id)
