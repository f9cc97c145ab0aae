"""customer-master's use cases, shared by the consumers and the REST API (keyword-only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from crm.events.customer.v1.customer_pb2 import CustomerResolved, CustomerUpdated
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crm.events.touchpoint.v1.touchpoint_pb2 import CustomerRecordImported, LeadFormSubmitted
from crm_contracts.touchpoints import touchpoint_identity, wrap_touchpoint
from crmkit.entropy import random_hex
from crmkit.outbox import Outbox
from crmkit.rawsql import RawSql
from crmkit.timeutil import to_timestamp, utcnow
from google.protobuf.message import Message
from sqlalchemy import Connection

from customer_master import account_merging, merging
from customer_master.domain.credit_codes import normalise_credit_code
from customer_master.domain.identity import IdentityKey, identity_keys
from customer_master.domain.junk import junk_reasons
from customer_master.domain.normalise import email_domain, nfkc, normalise_email, normalise_phone, normalise_region
from customer_master.domain.resolution import (
    PROFILE_FIELDS,
    RECORD_FIELDS,
    CustomerRecord,
    Observation,
    Outcome,
    Resolver,
    SourceMeta,
)
from customer_master.models import Base, Customer, IdentityKeyRow, LeadRow, SourceRecordRow
from customer_master.placing import Accounts, Placing, merged_tie, recount

_ID_NAMESPACE = uuid.UUID("6f1c1d3e-9a43-4f57-8d0e-8d6b0c2f7a10")


@dataclass(frozen=True)
class Touchpoint:
    """One decoded touchpoint, as the consumer hands it over."""

    event_id: str
    event_key: str
    event_type: str
    source: str
    occurred_at: datetime
    body: Message


def new_customer_id() -> str:
    """An opaque, stable customer id."""
    return f"cus_{random_hex(12)}"


def lead_id_for(event_key: str) -> str:
    """The lead id for a form touchpoint: deterministic, so a replay opens no second lead."""
    return f"lead_{uuid.uuid5(_ID_NAMESPACE, event_key).hex[:24]}"


def observe(body: Message) -> Observation:
    """The identity keys, profile fields and junk reasons one touchpoint carries."""
    identity = touchpoint_identity(body)
    if isinstance(body, LeadFormSubmitted):
        keys = identity_keys(identity, extra_phone=body.phone, extra_email=body.email)
        junk = junk_reasons(name=body.name, company=body.company, phone=body.phone or identity.phone, email=body.email)
        return Observation(keys=tuple(keys), profile=_form_fields(body), junk=junk)
    if isinstance(body, CustomerRecordImported):  # a row of a customer sheet (`crm import`): no lead
        junk = junk_reasons(name=body.name, company=body.company, phone=identity.phone, email=identity.email)
        code = normalise_credit_code(body.credit_code) if body.credit_code and body.company else ""
        return Observation(
            keys=tuple(identity_keys(identity)), profile=_imported_fields(body), junk=junk, credit_code=code
        )
    phone = normalise_phone(identity.phone)
    profile = {"phone_e164": phone.e164 if phone and phone.is_mobile else "", "email": normalise_email(identity.email)}
    junk = junk_reasons(phone=identity.phone, email=identity.email)
    return Observation(keys=tuple(identity_keys(identity)), profile=profile, junk=junk)


def _form_fields(form: LeadFormSubmitted) -> dict[str, str]:
    return _profile(form.name, form.phone, form.email, form.company, form.region, form.industry)


def _imported_fields(row: CustomerRecordImported) -> dict[str, str]:
    identity = row.identity
    return _profile(row.name, identity.phone, identity.email, row.company, row.region, row.industry)


def _profile(name: str, phone: str, email: str, company: str, region: str, industry: str) -> dict[str, str]:
    """The profile fields a form or a sheet row states outright (a landline included), normalised."""
    number = normalise_phone(phone)
    return {
        "name": nfkc(name),
        "phone_e164": number.e164 if number else "",
        "email": normalise_email(email),
        "company": nfkc(company),
        "region_code": normalise_region(region),
        "industry": nfkc(industry),
    }


_KEYS = Base.metadata.tables[IdentityKeyRow.__tablename__]
_LEADS = Base.metadata.tables[LeadRow.__tablename__]
_SOURCES = Base.metadata.tables[SourceRecordRow.__tablename__]
_CUSTOMERS = Base.metadata.tables[Customer.__tablename__]
_IDENTIFYING = frozenset({"name", "company", "email", "phone_e164"})
_WRITTEN = (*PROFILE_FIELDS, "account_id", "provenance", "version", "updated_at")
_ACCOUNT = _WRITTEN.index("account_id")
_WRITTEN_BUT_ACCOUNT = tuple(name for name in _WRITTEN if name != "account_id")
_SEEN = "SELECT id, customer_id FROM source_records WHERE id IN ({})"
# By the primary key (kind, value): a lookup by value alone would need a second index on every key written.
_KEYS_BY_VALUE = "SELECT kind, value, customer_id FROM identity_keys WHERE kind = ? AND value IN ({})"


def _load(
    sql: RawSql, keys: set[IdentityKey], holders: Iterable[str]
) -> tuple[dict[IdentityKey, str], dict[str, CustomerRecord]]:
    """The owners of ``keys``, and those customers' and ``holders``' records: two queries for the whole batch."""
    values_of: dict[str, list[str]] = {}
    for key in sorted(keys):
        values_of.setdefault(key.kind, []).append(key.value)
    owners = {IdentityKey(kind, value): owner for kind, value, owner in sql.rows_in_each(_KEYS_BY_VALUE, values_of)}
    wanted = {*owners.values(), *holders}
    customers = merging.records_of(sql, wanted)
    missing = wanted - set(customers)
    if missing:
        raise LookupError(f"identity keys or source records point at missing customers {sorted(missing)}")
    return owners, customers


def stored_source_records(*, connection: Connection, record_ids: Iterable[str]) -> set[str]:
    """Which of ``record_ids`` (touchpoint event ids) are stored source records: touchpoints already resolved."""
    return set(_stored_sources(RawSql(connection), record_ids))


def _stored_sources(sql: RawSql, record_ids: Iterable[str]) -> dict[str, str]:
    """The customer holding each of ``record_ids`` that is a stored source record."""
    return dict(sql.rows_in(_SEEN, sorted(set(record_ids))))


def resolve_touchpoints(
    *, connection: Connection, outbox: Outbox, touchpoints: Sequence[Touchpoint], unseen: bool = False
) -> list[Outcome]:
    """Attribute touchpoints to customers in order; emit resolved, updated and (forms) lead-created.

    ``unseen``: the caller has already left out touchpoints stored as source records (the
    consumer does, through :func:`stored_source_records`), so they are not looked up again.
    A junk touchpoint (test or placeholder values, :mod:`customer_master.domain.junk`) becomes a
    junk customer of its own that no key leads to and no duplicate check compares.

    Loads every key, customer, already-stored source record and account the batch can touch
    (one query each), resolves and runs survivorship in memory, then writes customers, keys,
    source records, accounts and leads with one executemany each (changed customers with two:
    with and without their account). A replayed touchpoint (its source record exists) is
    attributed to the customer holding that record, and changes, emits and opens nothing. Customers
    that are new, renamed or observed again are then checked for duplicates through the blocking keys
    of their golden record and of each new observation (:mod:`customer_master.merging`).
    """
    now = utcnow()
    sql = RawSql(connection)
    holders = {} if unseen else _stored_sources(sql, [t.event_id for t in touchpoints])
    seen = set(holders)
    observations = []
    for touchpoint in touchpoints:
        observation = observe(touchpoint.body)
        if touchpoint.event_id in seen:
            observation = Observation(keys=observation.keys, junk=observation.junk, replay_of=touchpoint.event_id)
        else:
            seen.add(touchpoint.event_id)
            meta = SourceMeta(touchpoint.event_id, touchpoint.event_type, touchpoint.source, touchpoint.occurred_at)
            observation = replace(observation, record=meta)
        observations.append(observation)
    keys = {key for observation in observations if not observation.junk for key in observation.keys}
    owners, customers = _load(sql, keys, holders.values())
    stored = {customer_id: _values(customer, _WRITTEN) for customer_id, customer in customers.items()}
    resolver = Resolver(key_owners=owners, customers=customers, new_id=new_customer_id, record_holders=holders)
    outcomes = [resolver.resolve(observation, now=now) for observation in observations]
    placing = Placing(sql, observations, outcomes, now=now)
    leads: list[tuple[object, ...]] = []
    for touchpoint, observation, outcome in zip(touchpoints, observations, outcomes, strict=True):
        placing.place(outcome.customer, observation)
        resolver.assign_account(outcome.customer.id, outcome.customer.account_id)
        if observation.record is None:
            continue  # a replay: attributed again, but it emits and opens nothing twice
        _emit(outbox, touchpoint, outcome)
        if isinstance(touchpoint.body, LeadFormSubmitted):
            leads.append(_open_lead(outbox, touchpoint, touchpoint.body, outcome.customer.id, observation.junk))
    _write(sql, resolver, placing.accounts, stored, now=now)
    _write_sources(sql, touchpoints, observations, outcomes, placing.votes_cast)
    sql.insert(_LEADS, ("id", "customer_id", "source_event_id", "created_at"), [(*lead, now) for lead in leads])
    renamed = {o.customer.id for o in outcomes if _IDENTIFYING.intersection(o.changed)}
    forms: dict[str, list[merging.Form]] = {}
    for observation, outcome in zip(observations, outcomes, strict=True):
        if observation.record is None or observation.junk:
            continue  # a replay brings no record; junk is compared with nobody
        form = merging.form_of(observation.profile)
        # A record whose keys the golden record holds (indexed when it was created or renamed) brings nothing.
        if merging.brings_keys(resolver.current(outcome.customer.id), form):
            forms.setdefault(outcome.customer.id, []).append(form)
    checked = sorted({*resolver.created, *renamed, *forms})
    merged = merging.find_duplicates(
        connection=connection, outbox=outbox, customers=[resolver.current(c) for c in checked], forms=forms, now=now
    )
    ties = [*placing.ties, *(tie for survivor, absorbed in merged if (tie := merged_tie(survivor, absorbed)))]
    account_merging.join_accounts(sql=sql, outbox=outbox, ties=ties, now=now)
    recount(sql=sql, outbox=outbox, customer_ids=[survivor.id for survivor, _ in merged], now=now)
    return outcomes


def _write(
    sql: RawSql,
    resolver: Resolver,
    accounts: Accounts,
    stored: dict[str, tuple[object, ...]],
    *,
    now: datetime,
) -> None:
    """Write new and changed accounts, insert new customers, update changed ones, bind new keys."""
    accounts.write(sql)
    sql.insert(_CUSTOMERS, RECORD_FIELDS, [_values(c, RECORD_FIELDS) for c in resolver.created.values()])
    _update_customers(sql, resolver.changed.values(), stored)
    sql.insert(
        _KEYS,
        ("kind", "value", "customer_id", "created_at"),
        [(key.kind, key.value, owner, now) for key, owner in resolver.new_keys.items()],
    )


def _update_customers(sql: RawSql, changed: Iterable[CustomerRecord], stored: dict[str, tuple[object, ...]]) -> None:
    """Write the changed customers: at most two executemany, with and without the (indexed) account column.

    An unchanged account costs no index write, and a batch's rows share few statements.
    """
    with_account: list[tuple[object, ...]] = []
    without_account: list[tuple[object, ...]] = []
    for customer in changed:
        values = _values(customer, _WRITTEN)
        before = stored[customer.id]
        if values == before:
            continue
        if values[_ACCOUNT] != before[_ACCOUNT]:
            with_account.append((*values, customer.id))
        else:
            without_account.append((*values[:_ACCOUNT], *values[_ACCOUNT + 1 :], customer.id))
    sql.update(_CUSTOMERS, _WRITTEN, with_account)
    sql.update(_CUSTOMERS, _WRITTEN_BUT_ACCOUNT, without_account)


def _values(customer: CustomerRecord, names: Sequence[str]) -> tuple[object, ...]:
    return tuple(getattr(customer, name) for name in names)


def _write_sources(
    sql: RawSql,
    touchpoints: Sequence[Touchpoint],
    observations: Sequence[Observation],
    outcomes: Sequence[Outcome],
    voted: Sequence[str],
) -> None:
    """Keep what each (first-seen) touchpoint observed as its source record, with the account it named."""
    sql.insert(
        _SOURCES,
        ("id", "customer_id", "source", "type", "observed_at", "fields", "account_id"),
        [
            (
                touchpoint.event_id,
                outcome.customer.id,
                touchpoint.source,
                touchpoint.event_type,
                touchpoint.occurred_at,
                _record_fields(observation),
                account_id,
            )
            for touchpoint, observation, outcome, account_id in zip(
                touchpoints, observations, outcomes, voted, strict=True
            )
            if observation.record is not None
        ],
    )


def _record_fields(observation: Observation) -> dict[str, str]:
    """What a source record keeps: the profile fields it observed, and the credit code it stated."""
    fields = {name: value for name, value in observation.profile.items() if value}
    if observation.credit_code:
        fields["credit_code"] = observation.credit_code
    return fields


def _emit(outbox: Outbox, touchpoint: Touchpoint, outcome: Outcome) -> None:
    customer = outcome.customer
    wrapped = wrap_touchpoint(
        event_id=touchpoint.event_id,
        event_type=touchpoint.event_type,
        source=touchpoint.source,
        occurred_at=touchpoint.occurred_at,
        body=touchpoint.body,
    )
    outbox.emit(
        event_type="crm.customer.resolved",
        key=customer.id,
        correlation_id=touchpoint.event_id,
        data=CustomerResolved(
            touchpoint=wrapped,
            customer_id=customer.id,
            account_id=customer.account_id,
            created=outcome.created,
            matched_on=outcome.matched_on,
        ),
    )
    if outcome.changed or outcome.created:
        outbox.emit(
            event_type="crm.customer.updated",
            key=customer.id,
            correlation_id=touchpoint.event_id,
            data=CustomerUpdated(profile=merging.profile_of(customer), changed_fields=list(outcome.changed)),
        )


def _open_lead(
    outbox: Outbox, touchpoint: Touchpoint, form: LeadFormSubmitted, customer_id: str, junk: Sequence[str]
) -> tuple[str, str, str]:
    """Emit lead-created for a form touchpoint (with why it is junk, if it is); returns the lead's id, customer
    and source event."""
    lead_id = lead_id_for(touchpoint.event_key)
    outbox.emit(
        event_type="crm.lead.created",
        key=customer_id,
        correlation_id=touchpoint.event_id,
        data=LeadCreated(
            lead_id=lead_id,
            customer_id=customer_id,
            source_event_id=touchpoint.event_id,
            region_code=normalise_region(form.region),
            industry=nfkc(form.industry),
            product_interest=nfkc(form.product_interest),
            company=nfkc(form.company),
            email_domain=email_domain(normalise_email(form.email)),
            dwell_seconds=form.dwell_seconds,
            submitted_at=to_timestamp(touchpoint.occurred_at),
            source="form",
            phone=phone.e164 if (phone := normalise_phone(form.phone)) else "",
            junk_reasons=list(junk),
        ),
    )
    return lead_id, customer_id, touchpoint.event_id
