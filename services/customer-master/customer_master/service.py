"""customer-master's use cases, shared by the consumers and the REST API (keyword-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from crm.events.customer.v1.customer_pb2 import CustomerProfile, CustomerResolved, CustomerUpdated
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from crm_contracts.touchpoints import touchpoint_identity, wrap_touchpoint
from crmkit.outbox import Outbox
from crmkit.timeutil import to_timestamp, utcnow
from google.protobuf.message import Message
from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlmodel import Session

from customer_master.domain.identity import IdentityKey, identity_keys
from customer_master.domain.normalise import email_domain, nfkc, normalise_email, normalise_phone, normalise_region
from customer_master.domain.resolution import PROFILE_FIELDS, CustomerRecord, Observation, Outcome, Resolver
from customer_master.models import Base, Customer, IdentityKeyRow, LeadRow

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
    return f"cus_{uuid.uuid4().hex[:24]}"


def lead_id_for(event_key: str) -> str:
    """The lead id for a form touchpoint: deterministic, so a replay opens no second lead."""
    return f"lead_{uuid.uuid5(_ID_NAMESPACE, event_key).hex[:24]}"


def observe(body: Message) -> Observation:
    """The identity keys and profile fields one touchpoint carries."""
    identity = touchpoint_identity(body)
    if isinstance(body, LeadFormSubmitted):
        keys = identity_keys(identity, extra_phone=body.phone, extra_email=body.email)
        return Observation(keys=tuple(keys), profile=_form_fields(body))
    phone = normalise_phone(identity.phone)
    profile = {"phone_e164": phone.e164 if phone and phone.is_mobile else "", "email": normalise_email(identity.email)}
    return Observation(keys=tuple(identity_keys(identity)), profile=profile)


def _form_fields(form: LeadFormSubmitted) -> dict[str, str]:
    phone = normalise_phone(form.phone)
    return {
        "name": nfkc(form.name),
        "phone_e164": phone.e164 if phone else "",
        "email": normalise_email(form.email),
        "company": nfkc(form.company),
        "region_code": normalise_region(form.region),
        "industry": nfkc(form.industry),
    }


def _profile(customer: CustomerRecord) -> CustomerProfile:
    return CustomerProfile(
        customer_id=customer.id,
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


_CUSTOMERS = Base.metadata.tables[Customer.__tablename__]
_KEYS = Base.metadata.tables[IdentityKeyRow.__tablename__]
_LEADS = Base.metadata.tables[LeadRow.__tablename__]
_KEYS_BY_VALUE = select(_KEYS.c.kind, _KEYS.c.value, _KEYS.c.customer_id).where(
    _KEYS.c.value.in_(bindparam("values", expanding=True))
)
_CUSTOMERS_BY_ID = select(_CUSTOMERS).where(_CUSTOMERS.c.id.in_(bindparam("ids", expanding=True)))
_UPDATE_CUSTOMER = (
    update(_CUSTOMERS)
    .where(_CUSTOMERS.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in (*PROFILE_FIELDS, "version", "updated_at")})
)


def _load(connection: Connection, keys: set[IdentityKey]) -> tuple[dict[IdentityKey, str], dict[str, CustomerRecord]]:
    """The owners of ``keys`` and those customers' records: two queries for the whole batch."""
    if not keys:
        return {}, {}
    rows = connection.execute(_KEYS_BY_VALUE, {"values": sorted({key.value for key in keys})})
    owners = {IdentityKey(kind, value): owner for kind, value, owner in rows if IdentityKey(kind, value) in keys}
    if not owners:
        return owners, {}
    found = connection.execute(_CUSTOMERS_BY_ID, {"ids": sorted(set(owners.values()))}).mappings()
    customers = {row["id"]: CustomerRecord(**row) for row in found}
    missing = set(owners.values()) - set(customers)
    if missing:
        raise LookupError(f"identity keys point at missing customers {sorted(missing)}")
    return owners, customers


def resolve_touchpoints(*, session: Session, outbox: Outbox, touchpoints: Sequence[Touchpoint]) -> list[Outcome]:
    """Attribute touchpoints to customers in order; emit resolved, updated and (forms) lead-created.

    Loads every key and customer the batch can touch in two queries, resolves in memory,
    then writes new customers, changed customers, new keys and leads with one executemany each.
    """
    now = utcnow()
    observations = [observe(touchpoint.body) for touchpoint in touchpoints]
    connection = session.connection()
    owners, customers = _load(connection, {key for observation in observations for key in observation.keys})
    resolver = Resolver(key_owners=owners, customers=customers, new_id=new_customer_id)
    outcomes = []
    leads: list[dict[str, object]] = []
    for touchpoint, observation in zip(touchpoints, observations, strict=True):
        outcome = resolver.resolve(observation, now=now)
        outcomes.append(outcome)
        _emit(outbox, touchpoint, outcome)
        if isinstance(touchpoint.body, LeadFormSubmitted):
            leads.append(_open_lead(outbox, touchpoint, touchpoint.body, outcome.customer.id, now=now))
    if resolver.created:
        connection.execute(insert(_CUSTOMERS), [c.as_row() for c in resolver.created.values()])
    if resolver.changed:
        connection.execute(_UPDATE_CUSTOMER, [_update_params(c) for c in resolver.changed.values()])
    if resolver.new_keys:
        connection.execute(
            insert(_KEYS),
            [
                {"kind": key.kind, "value": key.value, "customer_id": owner, "created_at": now}
                for key, owner in resolver.new_keys.items()
            ],
        )
    if leads:
        connection.execute(insert(_LEADS), leads)
    return outcomes


def _update_params(customer: CustomerRecord) -> dict[str, object]:
    params = {name: getattr(customer, name) for name in (*PROFILE_FIELDS, "version", "updated_at")}
    params["b_id"] = customer.id
    return params


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
            touchpoint=wrapped, customer_id=customer.id, created=outcome.created, matched_on=outcome.matched_on
        ),
    )
    if outcome.changed or outcome.created:
        outbox.emit(
            event_type="crm.customer.updated",
            key=customer.id,
            correlation_id=touchpoint.event_id,
            data=CustomerUpdated(profile=_profile(customer), changed_fields=list(outcome.changed)),
        )


def _open_lead(
    outbox: Outbox, touchpoint: Touchpoint, form: LeadFormSubmitted, customer_id: str, *, now: datetime
) -> dict[str, object]:
    """Emit lead-created for a form touchpoint; returns the lead row to insert."""
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
        ),
    )
    return {"id": lead_id, "customer_id": customer_id, "source_event_id": touchpoint.event_id, "created_at": now}


def get_customer(*, session: Session, customer_id: str) -> Customer | None:
    """One customer's golden record."""
    return session.get(Customer, customer_id)


def stats(*, session: Session) -> dict[str, int]:
    """Counts for the demo and for operators."""

    def count(model: type[Base]) -> int:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    return {"customers": count(Customer), "identity_keys": count(IdentityKeyRow), "leads": count(LeadRow)}
