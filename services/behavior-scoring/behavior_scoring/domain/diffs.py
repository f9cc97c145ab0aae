"""What changed between two views of one customer, with reasons and the events behind them."""

from __future__ import annotations

from behavior_scoring.domain.views import Change, CustomerView, Diff, Ended, TagState


def _removed(
    kind: str, old: TagState, ended: dict[tuple[str, str], Ended], trigger: str | None, hint: str | None
) -> Change:
    """Why a present tag or pool is gone: its own end (expired, cleared, …) or a recomputation."""
    end = ended.get((kind, old.name))
    if hint is None and end is not None and end.set_at == old.set_at:
        return Change(old.name, old.weight, end.cause, end.event_ids, old.set_at, old.expires_at)
    reason = hint or "recomputed"
    ids = (trigger,) if trigger is not None else old.because
    return Change(old.name, old.weight, reason, ids, old.set_at, old.expires_at)


def _compare(
    kind: str,
    before: tuple[TagState, ...],
    after: tuple[TagState, ...],
    ended: dict[tuple[str, str], Ended],
    trigger: str | None,
    hint: str | None,
) -> tuple[tuple[Change, ...], tuple[Change, ...], tuple[Change, ...]]:
    """Added, removed and refreshed entries between two lists of tags (or pools)."""
    old = {t.name: t for t in before}
    new = {t.name: t for t in after}
    added = tuple(
        Change(t.name, t.weight, f"rule:{t.rule}", t.because, t.set_at, t.expires_at)
        for name, t in new.items()
        if name not in old
    )
    removed = tuple(_removed(kind, t, ended, trigger, hint) for name, t in old.items() if name not in new)
    refreshed = tuple(
        Change(t.name, t.weight, f"rule:{t.rule}", t.because, t.set_at, t.expires_at)
        for name, t in new.items()
        if name in old
        and (old[name].set_at, old[name].expires_at, old[name].because) != (t.set_at, t.expires_at, t.because)
    )
    return added, removed, refreshed


def diff_views(
    before: CustomerView,
    after: CustomerView,
    ended: dict[tuple[str, str], Ended],
    *,
    trigger: str | None = None,
    hint: str | None = None,
) -> Diff:
    """The :class:`Diff` from ``before`` to ``after``.

    ``ended`` (from the evaluation of ``after``) names why a tag stopped; ``trigger`` is the
    event being applied (None for the clock); ``hint`` (``merged``, ``unmerged``,
    ``rules_changed``) overrides the removal reason when the cause is not the tag's own end.
    """
    if after.merged_into is not None:
        hint = "merged"
    tags_added, tags_removed, tags_refreshed = _compare("tag", before.tags, after.tags, ended, trigger, hint)
    pools_added, pools_removed, _ = _compare("pool", before.pools, after.pools, ended, trigger, hint)
    return Diff(
        customer_id=after.customer_id,
        at=after.at,
        trigger=trigger,
        before=before,
        after=after,
        tags_added=tags_added,
        tags_removed=tags_removed,
        tags_refreshed=tags_refreshed,
        pools_added=pools_added,
        pools_removed=pools_removed,
    )
