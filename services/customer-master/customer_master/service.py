"""customer-master's use cases, shared by the consumers and the REST API (keyword-only)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from crm.events.customer.v1.customer_pb2 import CustomerProfile, CustomerResolved, CustomerUpdated
from crm.events.lead.v1.lead_pb2 import LeadCreated
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from crm_contracts.touchpoints import touchpoint_identity, wrap_touchpoint
from crmkit.outbox import Outbox
from crmkit.timeutil import to_timestamp, utcnow
from google.protobuf.message import Message
from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from customer_master.domain.identity import IdentityKey, choose_customer, identity_keys
from customer_master.domain.normalise import email_domain, nfkc, normalise_email, normalise_phone, normalise_region
from customer_master.models import Base, Customer, IdentityKeyRow, LeadRow

_ID_NAMESPACE = uuid.UUID("6f1c1d3e-9a43-4f57-8d0e-8d6b0c2f7a10")


@dataclass(frozen=True)
class Resolution:
    """Which customer a touchpoint belongs to, and why."""

    customer: Customer
    created: bool
    matched_on: str


def new_customer_id() -> str:
    """An opaque, stable customer id."""
    return f"cus_{uuid.uuid4().hex[:24]}"


def lead_id_for(event_key: str) -> str:
    """The lead id for a form touchpoint: deterministic, so a replay opens no second lead."""
    return f"lead_{uuid.uuid5(_ID_NAMESPACE, event_key).hex[:24]}"


def _profile(customer: Customer) -> CustomerProfile:
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


_KEYS_BY_VALUE = select(IdentityKeyRow.kind, IdentityKeyRow.value, IdentityKeyRow.customer_id).where(
    col(IdentityKeyRow.value).in_(bindparam("values", expanding=True))
)


def _find(session: Session, keys: list[IdentityKey]) -> dict[IdentityKey, str]:
    if not keys:
        return {}
    wanted = set(keys)
    rows = session.connection().execute(_KEYS_BY_VALUE, {"values": sorted({key.value for key in keys})})
    return {
        IdentityKey(kind, value): customer_id for kind, value, customer_id in rows if IdentityKey(kind, value) in wanted
    }


def resolve_identity(*, session: Session, keys: list[IdentityKey], now: datetime) -> Resolution:
    """Find the customer these keys belong to, or create one; bind keys not yet bound."""
    matches = _find(session, keys)
    chosen = choose_customer(matches)
    if chosen is None:
        customer = Customer(id=new_customer_id(), created_at=now, updated_at=now)
        session.add(customer)
        created, matched_on = True, "new"
    else:
        found = session.get(Customer, chosen[0])
        if found is None:
            raise LookupError(f"identity key points at missing customer {chosen[0]}")
        customer, created, matched_on = found, False, chosen[1]
    for key in keys:
        if key not in matches:
            session.add(IdentityKeyRow(kind=key.kind, value=key.value, customer_id=customer.id, created_at=now))
    return Resolution(customer=customer, created=created, matched_on=matched_on)


def _apply_profile(customer: Customer, fields: dict[str, str]) -> list[str]:
    """Fill or refresh golden-record fields from a touchpoint; returns what changed."""
    changed = []
    for name, value in fields.items():
        if value and getattr(customer, name) != value:
            setattr(customer, name, value)
            changed.append(name)
    return changed


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


def _identity_fields(body: Message) -> dict[str, str]:
    identity = touchpoint_identity(body)
    phone = normalise_phone(identity.phone)
    return {"phone_e164": phone.e164 if phone and phone.is_mobile else "", "email": normalise_email(identity.email)}


def resolve_touchpoint(
    *,
    session: Session,
    outbox: Outbox,
    event_id: str,
    event_key: str,
    event_type: str,
    source: str,
    occurred_at: datetime,
    body: Message,
) -> Resolution:
    """Attribute one touchpoint to a customer; emit resolved, updated and (forms) lead-created."""
    now = utcnow()
    form = body if isinstance(body, LeadFormSubmitted) else None
    keys = identity_keys(
        touchpoint_identity(body), extra_phone=form.phone if form else "", extra_email=form.email if form else ""
    )
    resolution = resolve_identity(session=session, keys=keys, now=now)
    customer = resolution.customer
    changed = _apply_profile(customer, _form_fields(form) if form else _identity_fields(body))
    if changed and not resolution.created:
        customer.version += 1
    if changed or resolution.created:
        customer.updated_at = now
    session.flush()
    touchpoint = wrap_touchpoint(
        event_id=event_id, event_type=event_type, source=source, occurred_at=occurred_at, body=body
    )
    outbox.emit(
        event_type="crm.customer.resolved",
        key=customer.id,
        correlation_id=event_id,
        data=CustomerResolved(
            touchpoint=touchpoint,
            customer_id=customer.id,
            created=resolution.created,
            matched_on=resolution.matched_on,
        ),
    )
    if changed or resolution.created:
        outbox.emit(
            event_type="crm.customer.updated",
            key=customer.id,
            correlation_id=event_id,
            data=CustomerUpdated(profile=_profile(customer), changed_fields=changed),
        )
    if form is not None:
        _open_lead(
            session=session,
            outbox=outbox,
            customer=customer,
            form=form,
            event_id=event_id,
            event_key=event_key,
            occurred_at=occurred_at,
            now=now,
        )
    return resolution


def _open_lead(
    *,
    session: Session,
    outbox: Outbox,
    customer: Customer,
    form: LeadFormSubmitted,
    event_id: str,
    event_key: str,
    occurred_at: datetime,
    now: datetime,
) -> None:
    lead_id = lead_id_for(event_key)
    session.add(LeadRow(id=lead_id, customer_id=customer.id, source_event_id=event_id, created_at=now))
    outbox.emit(
        event_type="crm.lead.created",
        key=customer.id,
        correlation_id=event_id,
        data=LeadCreated(
            lead_id=lead_id,
            customer_id=customer.id,
            source_event_id=event_id,
            region_code=normalise_region(form.region),
            industry=nfkc(form.industry),
            product_interest=nfkc(form.product_interest),
            company=nfkc(form.company),
            email_domain=email_domain(normalise_email(form.email)),
            dwell_seconds=form.dwell_seconds,
            submitted_at=to_timestamp(occurred_at),
        ),
    )


def get_customer(*, session: Session, customer_id: str) -> Customer | None:
    """One customer's golden record."""
    return session.get(Customer, customer_id)


def stats(*, session: Session) -> dict[str, int]:
    """Counts for the demo and for operators."""

    def count(model: type[Base]) -> int:
        return session.exec(select(func.count()).select_from(model)).one()

    return {"customers": count(Customer), "identity_keys": count(IdentityKeyRow), "leads": count(LeadRow)}
