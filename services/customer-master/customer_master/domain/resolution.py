"""Resolve touchpoints to customers in memory, in order: the rules, with no I/O.

The service loads the identity keys and customers a batch can touch (one query each),
hands them to a :class:`Resolver`, feeds it one :class:`Observation` per touchpoint in
arrival order, and writes back what the resolver created or changed. One touchpoint is
a batch of one, so the streaming and batch paths share every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

from customer_master.domain.identity import IdentityKey, choose_customer

PROFILE_FIELDS = ("name", "phone_e164", "email", "company", "region_code", "industry")


@dataclass
class CustomerRecord:
    """The golden record of one customer as the resolver sees it."""

    id: str
    created_at: datetime
    updated_at: datetime
    name: str = ""
    phone_e164: str = ""
    email: str = ""
    company: str = ""
    region_code: str = ""
    industry: str = ""
    junk: bool = False
    version: int = 1

    def as_row(self) -> dict[str, object]:
        """The record as a column → value mapping."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Observation:
    """What one touchpoint says about identity: its exact keys and profile fields."""

    keys: tuple[IdentityKey, ...]
    profile: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Which customer an observation resolved to, why, and what changed."""

    customer: CustomerRecord
    created: bool
    matched_on: str
    changed: tuple[str, ...]


class Resolver:
    """Applies observations in order against the keys and customers it was given."""

    def __init__(
        self,
        *,
        key_owners: Mapping[IdentityKey, str],
        customers: Mapping[str, CustomerRecord],
        new_id: Callable[[], str],
    ) -> None:
        self._owners = dict(key_owners)
        self._customers = dict(customers)
        self._new_id = new_id
        self.created: dict[str, CustomerRecord] = {}
        self.changed: dict[str, CustomerRecord] = {}
        self.new_keys: dict[IdentityKey, str] = {}

    def resolve(self, observation: Observation, *, now: datetime) -> Outcome:
        """Find (or create) the customer of ``observation``, bind its new keys, refresh the profile."""
        matches = {key: self._owners[key] for key in observation.keys if key in self._owners}
        chosen = choose_customer(matches)
        if chosen is None:
            customer = CustomerRecord(id=self._new_id(), created_at=now, updated_at=now)
            self._customers[customer.id] = self.created[customer.id] = customer
            created, matched_on = True, "new"
        else:
            customer, created, matched_on = self._customers[chosen[0]], False, chosen[1]
        for key in observation.keys:
            if key not in matches:
                self._owners[key] = self.new_keys[key] = customer.id
        changed = tuple(
            name for name, value in observation.profile.items() if value and getattr(customer, name) != value
        )
        for name in changed:
            setattr(customer, name, observation.profile[name])
        if changed or created:
            customer.updated_at = now
        if changed and not created:
            customer.version += 1
            if customer.id not in self.created:
                self.changed[customer.id] = customer
        return Outcome(customer=replace(customer), created=created, matched_on=matched_on, changed=changed)
