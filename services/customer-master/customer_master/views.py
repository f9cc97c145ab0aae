"""customer-master's read side for the REST API: customer detail, accounts, suggestions, data quality."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from crmkit.timeutil import utcnow
from prometheus_client import Gauge
from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from customer_master.domain.resolution import PROFILE_FIELDS
from customer_master.models import (
    AccountMergeRow,
    AccountRow,
    Base,
    Customer,
    IdentityKeyRow,
    LeadRow,
    MergeRow,
    MergeSuggestionRow,
    SourceRecordRow,
)

# Red lines (seeds 002/003): fields ≥ 95% filled, ≤ 5% duplicates, data touched within 72 h.
COMPLETENESS_MIN = 0.95
DUPLICATE_MAX = 0.05
FRESH_WITHIN = timedelta(hours=72)
FRESH_MIN = 0.95

COMPLETENESS = Gauge("crm_customer_field_completeness", "Share of live customers with the field filled", ["field"])
DUPLICATE_RATE = Gauge("crm_customer_duplicate_rate", "(open merge suggestions + merges) / live customers")
FRESH_SHARE = Gauge("crm_customer_fresh_share", "Share of live customers updated within 72 h")


def customer_detail(*, session: Session, customer_id: str) -> dict[str, Any] | None:
    """Golden record, per-field provenance and source records; for an absorbed customer, its survivor."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    if customer.merged_into:
        survivor = customer.merged_into
        return {"id": customer.id, "merged_into": survivor, "location": f"/customers/{survivor}"}
    records = session.execute(
        select(SourceRecordRow)
        .where(col(SourceRecordRow.customer_id) == customer_id)
        .order_by(col(SourceRecordRow.observed_at), col(SourceRecordRow.id))
    ).scalars()
    body = customer.model_dump(mode="json", exclude={"provenance", "merged_into"})
    body["provenance"] = customer.provenance
    body["source_records"] = [record.model_dump(mode="json") for record in records]
    return body


def account_detail(*, session: Session, account_id: str) -> dict[str, Any] | None:
    """One account, the ids of its (live) customers and the account merges it took part in, with their
    evidence; for an absorbed account, its survivor."""
    account = session.get(AccountRow, account_id)
    if account is None:
        return None
    merges = session.execute(
        select(AccountMergeRow)
        .where((col(AccountMergeRow.survivor_id) == account_id) | (col(AccountMergeRow.absorbed_id) == account_id))
        .order_by(col(AccountMergeRow.merged_at), col(AccountMergeRow.id))
    ).scalars()
    history = [merge.model_dump(mode="json") for merge in merges]
    if account.merged_into:
        survivor = account.merged_into
        return {"id": account.id, "merged_into": survivor, "location": f"/accounts/{survivor}", "merges": history}
    members = session.execute(
        select(col(Customer.id))
        .where(col(Customer.account_id) == account_id, col(Customer.merged_into) == "")
        .order_by(col(Customer.id))
    ).scalars()
    body = account.model_dump(mode="json", exclude={"block", "merged_into"})
    return {**body, "customer_ids": list(members), "merges": history}


def suggestions(*, session: Session, status: str, limit: int) -> list[dict[str, Any]]:
    """Merge suggestions with the given status, most confident first."""
    rows = session.execute(
        select(MergeSuggestionRow)
        .where(col(MergeSuggestionRow.status) == status)
        .order_by(col(MergeSuggestionRow.confidence).desc(), col(MergeSuggestionRow.id))
        .limit(limit)
    ).scalars()
    return [row.model_dump(mode="json") for row in rows]


@dataclass(frozen=True)
class Check:
    """One data-quality figure against its red line."""

    value: float
    red_line: float
    passed: bool


def data_quality(*, session: Session) -> dict[str, Any]:
    """Field completeness, duplicate rate and freshness of live real customers, each against its red line;
    junk customers (test and placeholder records) are counted apart, as they are never merged or routed.

    Also sets the prometheus gauges, so a scrape after a request shows the same figures.
    """
    unmerged = col(Customer.merged_into) == ""
    live = and_(unmerged, col(Customer.junk).is_(False))
    junk = _count(session, select(func.count()).select_from(Customer).where(unmerged, col(Customer.junk).is_(True)))
    since = utcnow() - FRESH_WITHIN
    filled = [func.sum(case((col(getattr(Customer, name)) != "", 1), else_=0)) for name in PROFILE_FIELDS]
    fresh = func.sum(case((col(Customer.updated_at) >= since, 1), else_=0))
    row = session.execute(select(func.count(), fresh, *filled).select_from(Customer).where(live)).one()
    total = int(row[0])
    open_suggestions = _count(session, select(func.count()).where(col(MergeSuggestionRow.status) == "open"))
    merges = _count(session, select(func.count()).where(col(MergeRow.unmerged_at).is_(None)))

    def share(count: Any) -> float:
        return round(int(count or 0) / total, 4) if total else 1.0

    completeness = {
        name: Check(share(count), COMPLETENESS_MIN, share(count) >= COMPLETENESS_MIN)
        for name, count in zip(PROFILE_FIELDS, row[2:], strict=True)
    }
    duplicates = round((open_suggestions + merges) / total, 4) if total else 0.0
    fresh_share = share(row[1])
    for name, check in completeness.items():
        COMPLETENESS.labels(field=name).set(check.value)
    DUPLICATE_RATE.set(duplicates)
    FRESH_SHARE.set(fresh_share)
    checks = {
        "duplicate_rate": Check(duplicates, DUPLICATE_MAX, duplicates <= DUPLICATE_MAX),
        "fresh_share_72h": Check(fresh_share, FRESH_MIN, fresh_share >= FRESH_MIN),
    }
    return {
        "customers": total,
        "junk_customers": junk,
        "open_suggestions": open_suggestions,
        "merges": merges,
        "completeness": {name: vars(check) for name, check in completeness.items()},
        **{name: vars(check) for name, check in checks.items()},
        "passed": all(c.passed for c in (*completeness.values(), *checks.values())),
    }


def _count(session: Session, statement: Any) -> int:
    return int(session.execute(statement).scalar_one())


def stats(*, session: Session) -> dict[str, int]:
    """Counts for the demo and for operators."""

    def count(model: type[Base]) -> int:
        return _count(session, select(func.count()).select_from(model))

    return {
        "customers": count(Customer),
        "identity_keys": count(IdentityKeyRow),
        "leads": count(LeadRow),
        "source_records": count(SourceRecordRow),
        "accounts": count(AccountRow),
        "merges": count(MergeRow),
    }
