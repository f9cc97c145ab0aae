"""Following customer-master's merges: an absorbed customer's leads (and owner) are the survivor's.

Existing-owner routing looks a customer up with every id merged into it, so a lead of the survivor
goes to the rep who owns either; an unmerge gives the restored id (and what was merged into it) back.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlmodel import Session, col

from lead_router.models import CustomerAlias

_ALIAS = CustomerAlias.__table__  # type: ignore[attr-defined]
_SURVIVORS_OF = select(_ALIAS.c.absorbed_id, _ALIAS.c.survivor_id).where(
    col(_ALIAS.c.absorbed_id).in_(bindparam("b_ids", expanding=True))
)
_ABSORBED_INTO = select(_ALIAS.c.absorbed_id, _ALIAS.c.survivor_id).where(
    col(_ALIAS.c.survivor_id).in_(bindparam("b_ids", expanding=True))
)
_FAMILY = select(_ALIAS.c.absorbed_id, _ALIAS.c.merged_into).where(_ALIAS.c.survivor_id == bindparam("b_survivor"))


def families(connection: Connection, customers: Iterable[str]) -> dict[str, str]:
    """Every id merged into the survivors of ``customers`` (and those ids themselves) → its survivor."""
    ids = sorted(set(customers))
    if not ids:
        return {}
    survivor = {str(a): str(s) for a, s in connection.execute(_SURVIVORS_OF, {"b_ids": ids})}
    roots = sorted({survivor.get(c, c) for c in ids})
    survivor.update({str(a): str(s) for a, s in connection.execute(_ABSORBED_INTO, {"b_ids": roots})})
    return survivor


def follow_merge(session: Session, *, survivor_id: str, absorbed_id: str) -> None:
    """``absorbed_id`` now belongs to ``survivor_id``, and so does everything merged into it."""
    if not survivor_id or not absorbed_id or survivor_id == absorbed_id:
        return
    root = session.get(CustomerAlias, survivor_id)
    final = root.survivor_id if root is not None else survivor_id
    connection = session.connection()
    connection.execute(update(_ALIAS).where(_ALIAS.c.survivor_id == absorbed_id).values(survivor_id=final))
    alias = session.get(CustomerAlias, absorbed_id)
    if alias is None:
        alias = CustomerAlias(absorbed_id=absorbed_id, merged_into=survivor_id, survivor_id=final)
    alias.merged_into, alias.survivor_id = survivor_id, final
    session.add(alias)
    session.flush()


def follow_unmerge(session: Session, *, survivor_id: str, restored_id: str) -> None:
    """``restored_id`` is its own customer again, with what had been merged into it."""
    connection = session.connection()
    connection.execute(delete(_ALIAS).where(_ALIAS.c.absorbed_id == restored_id))
    family = {str(a): str(m) for a, m in connection.execute(_FAMILY, {"b_survivor": survivor_id})}
    for absorbed, merged_into in family.items():
        root, seen = merged_into, {absorbed}
        while root in family and root not in seen:  # a chain back to the restored id or the survivor
            seen.add(root)
            root = family[root]
        if root != survivor_id:
            connection.execute(update(_ALIAS).where(_ALIAS.c.absorbed_id == absorbed).values(survivor_id=root))
