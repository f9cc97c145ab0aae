"""Resolve touchpoints to customers in memory, in order: the rules, with no I/O.

The service loads the identity keys and customers a batch can touch (one query each),
hands them to a :class:`Resolver`, feeds it one :class:`Observation` per touchpoint in
arrival order, and writes back what the resolver created or changed. One touchpoint is
a batch of one, so the streaming and batch paths share every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from customer_master.domain.identity import IdentityKey, choose_customer
from customer_master.domain.survivorship import Candidate, better

PROFILE_FIELDS = ("name", "phone_e164", "email", "company", "region_code", "industry")
_NEVER = datetime.min.replace(tzinfo=UTC)


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone (naive values are UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    account_id: str = ""
    merged_into: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> CustomerRecord:
        """A shallow copy (the state at this point; provenance is replaced, never changed in place)."""
        twin = object.__new__(CustomerRecord)
        twin.__dict__.update(self.__dict__)
        return twin

    def as_row(self) -> dict[str, object]:
        """The record as a column → value mapping."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def candidate(self, name: str) -> Candidate | None:
        """The current golden value of field ``name`` as a survivorship candidate (None when empty)."""
        value = getattr(self, name)
        if not value:
            return None
        origin = self.provenance.get(name)
        if origin is None:  # a value kept from before provenance: any source record beats it
            return Candidate(value=value, record_id="", event_type="", observed_at=_NEVER)
        return Candidate(
            value=value,
            record_id=origin["record_id"],
            event_type=origin["type"],
            observed_at=datetime.fromisoformat(origin["observed_at"]),
        )

    def offer(self, name: str, candidate: Candidate, *, source: str) -> bool:
        """Let ``candidate`` compete for field ``name``; True when it won (value or provenance changed)."""
        won = better(self.candidate(name), candidate)
        if won is None:
            return False
        setattr(self, name, candidate.value)
        self.provenance = {
            **self.provenance,
            name: {
                "record_id": candidate.record_id,
                "type": candidate.event_type,
                "source": source,
                "observed_at": candidate.observed_at.isoformat(),
                "rule": won[1],
            },
        }
        return True


RECORD_FIELDS = tuple(f.name for f in fields(CustomerRecord))
"""The fields of :class:`CustomerRecord`, in order: the customers table's columns."""


@dataclass(frozen=True)
class SourceMeta:
    """Where an observation comes from: its source record id (the event id), type, source and time."""

    record_id: str
    event_type: str
    source: str
    observed_at: datetime


@dataclass(frozen=True)
class Observation:
    """What one touchpoint says about identity: its exact keys and profile fields.

    ``junk``: why the touchpoint is a test or placeholder record (() for a real one).
    ``replay_of``: for a touchpoint seen before (``record`` is None), its source record id.
    ``credit_code``: the valid unified social credit code of the company it names ("" for none): an
    account's exact key, not a customer's field.
    """

    keys: tuple[IdentityKey, ...]
    profile: Mapping[str, str] = field(default_factory=dict)
    record: SourceMeta | None = None
    junk: tuple[str, ...] = ()
    replay_of: str = ""
    credit_code: str = ""


@dataclass(frozen=True)
class Outcome:
    """Which customer an observation resolved to, why, and what changed."""

    customer: CustomerRecord
    created: bool
    matched_on: str
    changed: tuple[str, ...]


class Resolver:
    """Applies observations in order against the keys and customers it was given.

    A junk observation (a test or placeholder record) becomes a junk customer of its own: it
    matches nobody by its keys and binds none, so junk never shares a customer with a real
    record (as in the batch engine, :mod:`customer_master.domain.dedupe`). A replayed
    observation is attributed to the customer holding its source record.
    """

    def __init__(
        self,
        *,
        key_owners: Mapping[IdentityKey, str],
        customers: Mapping[str, CustomerRecord],
        new_id: Callable[[], str],
        record_holders: Mapping[str, str] | None = None,
    ) -> None:
        self._owners = dict(key_owners)
        self._customers = dict(customers)
        self._new_id = new_id
        self._holders = dict(record_holders or {})
        self.created: dict[str, CustomerRecord] = {}
        self.changed: dict[str, CustomerRecord] = {}
        self.new_keys: dict[IdentityKey, str] = {}

    def resolve(self, observation: Observation, *, now: datetime) -> Outcome:
        """Find (or create) the customer of ``observation``, bind its new keys, refresh the profile."""
        holder = self._holders.get(observation.replay_of) if observation.record is None else None
        if holder is not None:
            return Outcome(customer=self._customers[holder].copy(), created=False, matched_on="replay", changed=())
        matches = {} if observation.junk else {k: self._owners[k] for k in observation.keys if k in self._owners}
        chosen = choose_customer(matches)
        if chosen is None:
            customer = CustomerRecord(id=self._new_id(), created_at=now, updated_at=now, junk=bool(observation.junk))
            self._customers[customer.id] = self.created[customer.id] = customer
            created, matched_on = True, "junk" if observation.junk else "new"
        else:
            customer, created, matched_on = self._customers[chosen[0]], False, chosen[1]
        for key in () if observation.junk else observation.keys:
            if key not in matches:
                self._owners[key] = self.new_keys[key] = customer.id
        if observation.record is not None:
            self._holders[observation.record.record_id] = customer.id
        changed, touched = self._survive(customer, observation)
        if changed or created:
            customer.updated_at = now
        if changed and not created:
            customer.version += 1
        if touched:
            self._mark(customer)
        return Outcome(customer=customer.copy(), created=created, matched_on=matched_on, changed=changed)

    def current(self, customer_id: str) -> CustomerRecord:
        """A customer as the observations so far left it."""
        return self._customers[customer_id]

    def assign_account(self, customer_id: str, account_id: str) -> None:
        """Point a customer at its account (the service decides which, after resolving)."""
        customer = self._customers[customer_id]
        if customer.account_id != account_id:
            customer.account_id = account_id
            self._mark(customer)

    def _mark(self, customer: CustomerRecord) -> None:
        if customer.id not in self.created:
            self.changed[customer.id] = customer

    @staticmethod
    def _survive(customer: CustomerRecord, observation: Observation) -> tuple[tuple[str, ...], bool]:
        """Offer each observed field to survivorship: (fields whose value changed, whether anything did)."""
        record = observation.record
        if record is None:
            return (), False
        changed: list[str] = []
        touched = False
        observed_at = aware(record.observed_at)
        for name, value in observation.profile.items():
            if not value:
                continue
            before = getattr(customer, name)
            candidate = Candidate(value, record.record_id, record.event_type, observed_at)
            if customer.offer(name, candidate, source=record.source):
                touched = True
                if value != before:
                    changed.append(name)
        return tuple(changed), touched
