"""Customer merges and unmerges in event time: who is whom at a given instant.

``customer.merged`` (absorbed_id → survivor_id) makes the absorbed customer's behaviour
count for the survivor from the merge's own time; ``customer.unmerged`` with the same pair
splits them back. Each event keeps its original ``customer_id``, so an unmerge gives every
customer back exactly its own behaviour, including what arrived while merged.
"""

from __future__ import annotations

from collections.abc import Iterable

from behavior_scoring.domain.events import MERGED, Event
from behavior_scoring.domain.instants import Instant


class Groups:
    """The merge lineage as of one instant: ``root`` of a customer, ``members`` of a root."""

    def __init__(self, parent: dict[str, str]) -> None:
        self.parent = parent
        self._children: dict[str, list[str]] | None = None

    def root(self, customer_id: str) -> str:
        """The surviving customer that ``customer_id`` belongs to (itself if never merged)."""
        parent = self.parent
        while customer_id in parent:
            customer_id = parent[customer_id]
        return customer_id

    def descends_from(self, customer_id: str, ancestor: str) -> bool:
        """True when ``customer_id`` is ``ancestor`` or was merged into it, directly or not."""
        parent = self.parent
        while customer_id != ancestor and customer_id in parent:
            customer_id = parent[customer_id]
        return customer_id == ancestor

    def is_root(self, customer_id: str) -> bool:
        """True when the customer has not been merged into another."""
        return customer_id not in self.parent

    def members(self, root: str) -> list[str]:
        """``root`` and everyone merged into it, directly or through others."""
        if not self.parent:
            return [root]
        if self._children is None:
            children: dict[str, list[str]] = {}
            for child, parent in self.parent.items():
                children.setdefault(parent, []).append(child)
            self._children = children
        out, todo = [root], [root]
        while todo:
            for child in self._children.get(todo.pop(), ()):
                out.append(child)
                todo.append(child)
        return out


def resolve_groups(merges: Iterable[Event], at: Instant) -> Groups:
    """Apply the merge and unmerge events at or before ``at`` in event-time order."""
    parent: dict[str, str] = {}
    groups = Groups(parent)
    for event in sorted(e for e in merges if e.at <= at):
        absorbed = str(event.fields["absorbed_id"])
        survivor = str(event.fields["survivor_id"])
        if event.type == MERGED:
            if not groups.descends_from(survivor, absorbed):  # never a cycle
                parent[absorbed] = survivor
        elif parent.get(absorbed) == survivor:
            del parent[absorbed]
    return groups
