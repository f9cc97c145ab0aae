"""search-sync's use cases: apply customer changes to the search view (versioned, so replays are safe)."""

from __future__ import annotations

from collections.abc import Sequence

from crm.events.customer.v1.customer_pb2 import CustomerProfile
from crmkit.search import SearchDoc, SearchIndex

REGION_NAMES = {
    "110000": "北京",
    "120000": "天津",
    "310000": "上海",
    "320000": "江苏",
    "330000": "浙江",
    "440000": "广东",
    "500000": "重庆",
    "510000": "四川",
    "420000": "湖北",
    "370000": "山东",
}


def customer_document(profile: CustomerProfile) -> dict[str, str]:
    """The searchable fields of a customer; the phone is indexed so reps can search by it."""
    return {
        "name": profile.name,
        "company": profile.company,
        "region_code": profile.region_code,
        "region": REGION_NAMES.get(profile.region_code[:2] + "0000", "") if profile.region_code else "",
        "industry": profile.industry,
        "email": profile.email,
        "phone": profile.phone_e164.removeprefix("+86"),
    }


def index_customer(*, index: SearchIndex, profile: CustomerProfile) -> bool:
    """Upsert one customer; False when the view already holds a newer version."""
    return index.upsert(
        doc_id=profile.customer_id, kind="customer", fields=customer_document(profile), version=profile.version
    )


def apply_changes(*, index: SearchIndex, changes: Sequence[CustomerProfile | str]) -> None:
    """Apply profiles (upserts) and absorbed ids (deletes) in order; runs of upserts go in one write."""
    pending: list[SearchDoc] = []
    for change in changes:
        if isinstance(change, CustomerProfile):
            pending.append(
                SearchDoc(
                    doc_id=change.customer_id, kind="customer", fields=customer_document(change), version=change.version
                )
            )
            continue
        if pending:
            index.upsert_many(pending)
            pending = []
        index.delete(doc_id=change)
    if pending:
        index.upsert_many(pending)


def remove_customer(*, index: SearchIndex, customer_id: str) -> None:
    """Drop a customer absorbed by a merge."""
    index.delete(doc_id=customer_id)
